"""SwitchingModesWidget: the mode of a pair switches only while it has no position (§6).

The sandbox starts at 10,000 USDT with no position; "Open position" places a long at 10x
with 2,000 USDT of margin at the scenario price (BTC 60,000, ETH 3,000) and "Close
position" closes at the same price (no PnL).
"""

from __future__ import annotations

import pytest

from marginlab.charts import Chart, find_trace
from marginlab.engine import Account, MarginMode
from marginlab.widgets.switching import SwitchingModesWidget

TOL_USDT = 0.005
# Bracket 1 (MMR 0.004): LP = (backing − 20,000) / (1/3 × (0.004 − 1)) for the BTC order.
LP_BTC_ISOLATED = 54_216.87  # backing 2,000
LP_BTC_CROSS = 30_120.48  # backing 10,000


def level(widget: SwitchingModesWidget, key: str) -> float:
    y = find_trace(widget.figures[0], key).y
    assert y[0] == y[1]
    return float(y[0])


def btc_long(account: Account) -> Account:
    return account.open("BTCUSDT", side="long", price=60_000, leverage=10, margin=2_000)


def test_switching_starts_empty_and_previews_the_default_order():
    widget = SwitchingModesWidget()

    assert widget.account == Account(wallet_balance=10_000)
    assert widget.controls["mode"].value == "cross"
    assert abs(level(widget, "liquidation-isolated") - LP_BTC_ISOLATED) < TOL_USDT
    assert abs(level(widget, "liquidation-cross") - LP_BTC_CROSS) < TOL_USDT
    assert widget.summary.startswith("BTCUSDT is in cross mode with no position, so you may")
    assert "Isolated liquidates at 54,216.87" in widget.summary


def test_switching_without_a_position_is_allowed():
    widget = SwitchingModesWidget()

    message = widget.switch_mode("isolated")

    assert message.startswith("Switched BTCUSDT from cross to isolated")
    assert widget.account.margin_mode("BTCUSDT") is MarginMode.ISOLATED
    assert widget.controls["mode"].value == "isolated"
    assert widget.message == ""


def test_switching_with_an_open_position_is_refused_and_changes_nothing():
    widget = SwitchingModesWidget()
    widget.switch_mode("isolated")
    widget.open_position()
    before = widget.account

    message = widget.switch_mode("cross")

    assert "cannot switch" in message
    assert message == widget.message
    assert "close it, switch, then open again" in message
    assert widget.account == before
    assert widget.controls["mode"].value == "isolated"
    assert widget.history[-1].startswith("Refused: You cannot switch BTCUSDT to cross")


def test_switching_mode_toggle_click_with_position_is_refused_and_restored():
    widget = SwitchingModesWidget()
    widget.open_position()  # BTC long in cross
    before = widget.account

    widget.controls["mode"].value = "isolated"

    assert "cannot switch BTCUSDT to isolated" in widget.message
    assert widget.controls["mode"].value == "cross"
    assert widget.account == before


def test_switching_close_switch_reopen_follows_the_rule():
    widget = SwitchingModesWidget()
    widget.open_position()

    closed = widget.close_position()
    switched = widget.switch_mode("isolated")
    opened = widget.open_position()

    assert closed.startswith("Closed the BTCUSDT long at 60,000.00")
    assert switched.startswith("Switched BTCUSDT from cross to isolated")
    assert opened.startswith("Opened BTCUSDT: a long in isolated mode")
    expected = btc_long(Account(wallet_balance=10_000).set_margin_mode("BTCUSDT", "isolated"))
    assert widget.account == expected
    assert widget.account.cross_wallet_balance == 8_000.0  # 2,000 left the pool


def test_switching_other_pair_while_one_is_open_is_allowed():
    widget = SwitchingModesWidget()
    widget.open_position("BTCUSDT")  # cross

    message = widget.switch_mode("isolated", "ETHUSDT")

    assert message.startswith("Switched ETHUSDT from cross to isolated")
    assert widget.account.margin_mode("ETHUSDT") is MarginMode.ISOLATED
    assert widget.account.margin_mode("BTCUSDT") is MarginMode.CROSS
    assert widget.controls["symbol"].value == "ETHUSDT"


def test_switching_selecting_a_pair_shows_its_own_mode():
    widget = SwitchingModesWidget()
    widget.switch_mode("isolated", "ETHUSDT")

    widget.controls["symbol"].value = "BTCUSDT"

    assert widget.controls["mode"].value == "cross"
    assert widget.account.margin_mode("ETHUSDT") is MarginMode.ISOLATED  # not switched back
    widget.controls["symbol"].value = "ETHUSDT"
    assert widget.controls["mode"].value == "isolated"


def test_switching_same_mode_is_a_no_op_message():
    widget = SwitchingModesWidget()

    message = widget.switch_mode("cross")

    assert message == "BTCUSDT is already in cross mode; nothing to switch."
    assert widget.account == Account(wallet_balance=10_000)


def test_switching_open_position_ladder_is_the_engines_price():
    widget = SwitchingModesWidget()
    widget.switch_mode("isolated")

    widget.open_position()

    assert widget.account.liquidation_price("BTCUSDT") == level(widget, "liquidation-isolated")
    assert abs(level(widget, "liquidation-isolated") - LP_BTC_ISOLATED) < TOL_USDT
    # the cross column: the same long, had it been opened in cross with 10,000 behind it
    assert abs(level(widget, "liquidation-cross") - LP_BTC_CROSS) < TOL_USDT
    assert "mode is locked" in widget.summary


def test_switching_cross_preview_reflects_an_isolated_neighbour():
    widget = SwitchingModesWidget()
    widget.switch_mode("isolated")
    widget.open_position()  # 2,000 USDT of the wallet now backs only BTC

    widget.controls["symbol"].value = "ETHUSDT"

    preview = Account(wallet_balance=10_000).set_margin_mode("BTCUSDT", "isolated")
    preview = btc_long(preview).open("ETHUSDT", side="long", price=3_000, leverage=10, margin=2_000)
    expected = preview.liquidation_price("ETHUSDT")
    assert abs(expected - 1_807.23) < TOL_USDT  # (8,000 − 20,000) / (20/3 × −0.996)
    assert level(widget, "liquidation-cross") == expected


def test_switching_table_lists_modes_and_whether_each_pair_may_switch():
    widget = SwitchingModesWidget()
    widget.switch_mode("isolated")
    widget.open_position()

    table = widget.table_area.value

    assert "<td>BTCUSDT</td><td>isolated</td><td>long 0.3333 at 60,000.00, 10x</td>" in table
    assert "<td>2,000.00</td><td>54,216.87</td><td>no: close it first</td>" in table
    assert "<td>ETHUSDT</td><td>cross</td><td>none</td><td></td><td></td><td>yes</td>" in table
    assert "cross wallet 8,000.00 USDT" in table


def test_switching_close_without_position_is_refused_in_plain_words():
    widget = SwitchingModesWidget()

    message = widget.close_position()

    assert message.startswith("There is no BTCUSDT position to close.")
    assert widget.account == Account(wallet_balance=10_000)


def test_switching_open_beyond_the_balance_is_refused_with_the_available_amount():
    widget = SwitchingModesWidget()
    for _ in range(5):  # 5 × 2,000 USDT: the whole wallet
        widget.open_position()
    before = widget.account
    assert before.available_balance() == 0.0

    message = widget.open_position("ETHUSDT")

    assert message.startswith("Not enough available balance to open ETHUSDT")
    assert "0.00 USDT is available" in message
    assert widget.account == before
    assert "nothing to draw" in widget.summary  # ETH preview cannot be opened either


def test_switching_unknown_symbol_and_mode_give_messages_not_tracebacks():
    widget = SwitchingModesWidget()

    assert widget.open_position("DOGEUSDT").startswith("symbol must be one of BTCUSDT, ETHUSDT")
    assert widget.switch_mode("hedge").startswith("mode must be")
    assert widget.account == Account(wallet_balance=10_000)


@pytest.mark.parametrize("symbol", ["BTCUSDT", "ETHUSDT"])
def test_switching_static_is_a_fresh_ladder_with_the_same_summary(symbol):
    widget = SwitchingModesWidget()
    widget.open_position(symbol)

    chart = widget.static()

    assert isinstance(chart, Chart)
    assert chart.summary == widget.summary
    expected = widget.account.liquidation_price(symbol)
    assert find_trace(chart.figure, "liquidation-cross").y[0] == expected
