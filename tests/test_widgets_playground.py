"""PlaygroundWidget: up to three orders, mark sliders, every quantity of the state.

Default orders (losing_neighbour_account("isolated"), BTC first): the guide's BTC long,
isolated, 2,000 USDT at 10x from 60,000 (1/3 BTC); an ETH long in cross, 3,000 USDT at
10x from 3,000 (10 ETH). Wallet 10,000 USDT, so the cross wallet is 8,000.
"""

from __future__ import annotations

import math

import pytest

from marginlab.charts import Chart, find_trace
from marginlab.engine import Account
from marginlab.widgets.playground import PlaygroundWidget, Row

TOL_USDT = 0.005
MARKS = {"BTCUSDT": 60_000.0, "ETHUSDT": 3_000.0}


def default_account(wallet: float = 10_000.0) -> Account:
    account = Account(wallet_balance=wallet).set_margin_mode("BTCUSDT", "isolated")
    account = account.open("BTCUSDT", side="long", price=60_000, leverage=10, margin=2_000)
    account = account.set_margin_mode("ETHUSDT", "cross")  # each order sets its pair's mode
    return account.open("ETHUSDT", side="long", price=3_000, leverage=10, margin=3_000)


def level(widget: PlaygroundWidget, key: str) -> float:
    y = find_trace(widget.figures[0], key).y
    if y[0] is None:  # the figure holds NaN (no such price) as None
        assert y[1] is None
        return math.nan
    assert y[0] == y[1]
    return float(y[0])


def test_playground_default_state_is_the_engines():
    widget = PlaygroundWidget()

    assert widget.rows == 2
    assert widget.account == default_account()
    assert widget.state == default_account().state(MARKS)
    assert widget.state.cross_wallet_balance == 8_000.0
    assert widget.state.available_balance == 5_000.0  # 8,000 − 3,000 ETH initial margin
    assert widget.outcome.happened is False
    assert widget.message == ""
    assert widget.summary.startswith(
        "Wallet 10,000.00 USDT (cross wallet 8,000.00 USDT), margin balance 10,000.00 USDT, "
        "available 5,000.00 USDT, cross margin ratio 1.50%."  # MM 120 / 8,000
    )


def test_playground_table_shows_every_quantity_of_the_state():
    widget = PlaygroundWidget()

    table = widget.table_area.value

    for label in ("Wallet", "Cross wallet", "Margin balance", "Available balance"):
        assert f"<th style='text-align:left'>{label}</th>" in table
    assert "Cross margin ratio</th><td>1.50%</td>" in table  # MM 120 / cross wallet 8,000
    # BTC: 20,000 notional, IM 2,000, MM 80 (0.4 %), no PnL, LP 54,216.87
    assert (
        "<td>BTCUSDT</td><td>long</td><td>isolated</td><td>0.3333</td><td>60,000.00</td>"
        "<td>60,000.00</td><td>20,000.00</td><td>2,000.00</td><td>80.00</td><td>0.00</td>"
        "<td>0.00%</td><td>4.00%</td><td>54,216.87</td>"
    ) in table


def test_playground_eth_falls_to_2100_cross_eth_is_liquidated_btc_isolated_survives():
    widget = PlaygroundWidget()

    widget.controls["eth_price"].value = 2_100

    # ETH cross LP = (8,000 − 30,000) / (10 × (0.004 − 1)) = 2,208.84 > 2,100
    marks = {**MARKS, "ETHUSDT": 2_100.0}
    expected = default_account().liquidate(marks)
    assert widget.outcome == expected
    assert [p.symbol for p in expected.liquidated] == ["ETHUSDT"]
    assert expected.loss_usdt == 8_000.0
    assert "liquidation closes ETHUSDT long (cross): the wallet loses 8,000.00 USDT" in (
        widget.liquidation_area.value
    )
    assert abs(level(widget, "liquidation-isolated") - 54_216.87) < TOL_USDT


def test_playground_ladder_other_column_is_the_same_orders_with_btc_in_cross():
    widget = PlaygroundWidget()

    widget.controls["eth_price"].value = 2_100

    # the guide's losing neighbour (docs/formulas.md §12.2): (10,000 − 84 − 9,000 − 20,000)
    # / (1/3 × (0.004 − 1)) = 57,481.93
    assert abs(level(widget, "liquidation-cross") - 57_481.93) < TOL_USDT
    assert "First position (BTCUSDT long, isolated)" in widget.summary


def test_playground_btc_mark_moves_the_ladder_mark_and_the_pnl():
    widget = PlaygroundWidget()

    widget.controls["btc_price"].value = 57_000

    assert level(widget, "mark") == 57_000
    btc = widget.state.positions[0]
    assert abs(btc.unrealized_pnl + 1_000.0) < TOL_USDT  # 1/3 × (57,000 − 60,000)
    assert abs(btc.roe + 0.5) < 1e-12


def test_playground_add_row_adds_to_the_btc_position_one_way():
    widget = PlaygroundWidget()

    widget.add_row()  # BTC long, isolated, 1,000 USDT at 10x from 57,000

    expected = default_account().open(
        "BTCUSDT", side="long", price=57_000, leverage=10, margin=1_000
    )
    assert widget.rows == 3
    assert widget.account == expected
    btc = widget.account.position("BTCUSDT")
    assert btc.isolated_margin == 3_000.0
    # (20,000 + 10,000) / (1/3 + 10,000 / 57,000) = 58,965.52
    assert abs(btc.entry_price - 58_965.52) < TOL_USDT
    assert widget.row_boxes[2].layout.display == ""


def test_playground_hedge_mode_third_row_short_is_a_third_position():
    widget = PlaygroundWidget()
    widget.controls["hedge"].value = True
    widget.controls["side_3"].value = "short"

    widget.add_row()

    assert len(widget.account.positions) == 3
    assert [(p.symbol, p.side.value) for p in widget.account.positions] == [
        ("BTCUSDT", "long"),
        ("ETHUSDT", "long"),
        ("BTCUSDT", "short"),
    ]


def test_playground_rows_stop_at_three_and_at_one():
    widget = PlaygroundWidget()
    widget.add_row()

    widget.add_row()
    assert "1 to 3 orders, got 4" in widget.message
    assert widget.rows == 3

    widget.remove_row()
    widget.remove_row()
    assert widget.rows == 1
    assert widget.row_boxes[1].layout.display == "none"
    widget.remove_row()
    assert "1 to 3 orders, got 0" in widget.message
    assert widget.rows == 1


def test_playground_add_row_the_engine_refuses_keeps_two_rows():
    widget = PlaygroundWidget()
    widget.controls["margin_3"].value = 6_000  # hidden row: no effect yet

    widget.add_row()  # 6,000 USDT but only 5,000 available

    assert "order 3: margin: the initial margin 6,000.00 USDT exceeds the available" in (
        widget.message
    )
    assert widget.rows == 2
    assert widget.account == default_account()


def test_playground_too_much_margin_is_refused_with_the_order_number():
    widget = PlaygroundWidget()

    widget.controls["margin_2"].value = 9_000

    assert widget.message.startswith(
        "order 2: margin: the initial margin 9,000.00 USDT exceeds the available balance "
        "8,000.00 USDT"
    )
    assert widget.controls["margin_2"].value == 3_000
    assert widget.account == default_account()


def test_playground_leverage_above_the_bracket_is_refused():
    widget = PlaygroundWidget()
    widget.controls["margin_1"].value = 3_000

    widget.controls["leverage_1"].value = 125  # 375,000 USDT notional: bracket 2, 100x

    assert "order 1: leverage must be at most 100x" in widget.message
    assert widget.controls["leverage_1"].value == 10
    assert widget.account.position("BTCUSDT").isolated_margin == 3_000.0


def test_playground_mode_switch_with_a_position_open_is_refused():
    widget = PlaygroundWidget()
    widget.add_row()

    widget.controls["mode_3"].value = "cross"  # row 1 holds BTC in isolated

    assert "order 3: mode: cannot switch BTCUSDT to cross" in widget.message
    assert widget.controls["mode_3"].value == "isolated"
    assert widget.rows == 3


def test_playground_nan_entry_keeps_the_last_good_state():
    widget = PlaygroundWidget()

    widget.controls["entry_1"].value = float("nan")

    assert "order 1: price must be a finite number" in widget.message
    assert widget.controls["entry_1"].value == 60_000
    assert widget.account == default_account()


def test_playground_balance_rebuilds_the_account():
    widget = PlaygroundWidget()
    widget.controls["btc_price"].value = 59_000  # a mark move reuses the opened orders

    widget.controls["balance"].value = 20_000

    assert widget.account == default_account(20_000)
    assert widget.state == default_account(20_000).state({**MARKS, "BTCUSDT": 59_000.0})


def test_playground_orders_that_cancel_out_draw_no_liquidation():
    rows = (
        Row("BTCUSDT", "long", "cross", 10, 2_000, 60_000),
        Row("BTCUSDT", "short", "cross", 10, 2_000, 60_000),
    )

    widget = PlaygroundWidget(rows=rows)

    assert widget.account.positions == ()
    assert math.isnan(level(widget, "liquidation-cross"))
    assert widget.summary.endswith("No position is open: the orders cancel out.")


def test_playground_static_is_a_fresh_ladder_with_the_same_summary():
    widget = PlaygroundWidget()
    widget.controls["eth_price"].value = 2_500

    chart = widget.static()

    assert isinstance(chart, Chart)
    assert chart.summary == widget.summary
    assert find_trace(chart.figure, "liquidation-cross").y[0] == level(widget, "liquidation-cross")


@pytest.mark.parametrize(
    ("kwargs", "reason"),
    [({"rows": ()}, "rows must hold 1 to 3 orders"), ({"shown": 4}, "shown must be between")],
    ids=["no-rows", "too-many-shown"],
)
def test_playground_bad_constructor_arguments_raise(kwargs, reason):
    with pytest.raises(ValueError, match=reason):
        PlaygroundWidget(**kwargs)
