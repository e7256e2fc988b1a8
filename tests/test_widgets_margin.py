"""AddingMarginWidget: isolated top-ups move the liquidation price, cross needs none (§7).

The account is the guide's: 10,000 USDT, a 1/3 BTC long at 10x from 60,000, 2,000 USDT
assigned when isolated. Bracket 1 (MMR 0.004, no maintenance amount), so
isolated LP = (M − 20,000) / (1/3 × (0.004 − 1)) with M the assigned margin.
"""

from __future__ import annotations

import math

import pytest

from marginlab.charts import Chart, find_trace
from marginlab.engine import Account
from marginlab.scenarios import guide_account
from marginlab.widgets.margin import AddingMarginWidget, ladder_inputs

TOL_USDT = 0.005
LP_2000 = 54_216.87  # (2,000 − 20,000) / −0.332
LP_3000 = 51_204.82  # (3,000 − 20,000) / −0.332
LP_4000 = 48_192.77  # (4,000 − 20,000) / −0.332
LP_CROSS = 30_120.48  # (10,000 − 20,000) / −0.332


def level(widget: AddingMarginWidget, key: str) -> float:
    """The price of a 2-point level line of the ladder."""
    y = find_trace(widget.figures[0], key).y
    assert y[0] == y[1]
    return float(y[0])


def bar(widget: AddingMarginWidget, key: str) -> float:
    return float(find_trace(widget.figures[1], key).x[0])


def test_adding_margin_initial_state_is_the_guides_numbers():
    widget = AddingMarginWidget()

    assert abs(widget.isolated_liquidation_price - LP_2000) < TOL_USDT
    assert abs(widget.cross_liquidation_price - LP_CROSS) < TOL_USDT
    assert abs(level(widget, "liquidation-isolated") - LP_2000) < TOL_USDT
    assert level(widget, "bankruptcy-isolated") == 54_000.0  # 60,000 − 2,000 / (1/3)
    assert widget.at_risk == 2_000.0
    assert widget.account == guide_account("isolated")
    assert widget.lost == {"cross": 0.0, "isolated": 0.0}
    assert widget.message == ""
    assert widget.summary.startswith("Isolated margin 2,000.00 USDT (no top-up yet).")


def test_adding_margin_add_1000_moves_isolated_liquidation_to_51204():
    widget = AddingMarginWidget()

    widget.add_margin()  # the amount control's default, 1,000 USDT

    expected = guide_account("isolated").add_margin("BTCUSDT", 1_000)
    assert widget.account == expected
    assert abs(widget.isolated_liquidation_price - LP_3000) < TOL_USDT
    assert abs(level(widget, "liquidation-isolated") - LP_3000) < TOL_USDT
    assert abs(widget.cross_liquidation_price - LP_CROSS) < TOL_USDT  # cross: no button
    assert widget.at_risk == 3_000.0
    assert widget.top_ups == (1_000.0,)
    assert "Isolated liquidates at 51,204.82 (14.66% below entry)" in widget.summary


def test_adding_margin_explicit_amount_ignores_the_slider():
    widget = AddingMarginWidget()

    widget.add_margin(2_000)

    assert widget.at_risk == 4_000.0
    assert abs(widget.isolated_liquidation_price - LP_4000) < TOL_USDT
    assert widget.controls["amount"].value == 1_000


def test_adding_margin_amount_slider_max_is_the_engines_max_addable():
    widget = AddingMarginWidget()

    assert widget.controls["amount"].max == guide_account("isolated").max_addable_margin()
    assert widget.controls["amount"].max == 8_000.0  # the cross pool: 10,000 − 2,000


def test_adding_margin_all_8000_makes_isolated_liquidate_where_cross_does():
    widget = AddingMarginWidget()

    widget.add_margin(8_000)

    assert abs(widget.isolated_liquidation_price - widget.cross_liquidation_price) < TOL_USDT


@pytest.mark.parametrize(
    ("amount", "reason"),
    [
        (0.0, "margin must be greater than 0 USDT"),
        (-100.0, "margin must be greater than 0 USDT"),
        (float("nan"), "margin must be a finite number"),
        (9_000.0, "margin must be at most 7,000.00 USDT"),  # 8,000 − the 1,000 added
    ],
    ids=["zero", "negative", "nan", "more-than-available"],
)
def test_adding_margin_refused_amount_shows_message_and_keeps_account(amount, reason):
    widget = AddingMarginWidget()
    widget.add_margin(1_000)
    before = widget.account

    widget.add_margin(amount)

    assert reason in widget.message
    assert widget.account == before
    assert widget.top_ups == (1_000.0,)
    assert abs(level(widget, "liquidation-isolated") - LP_3000) < TOL_USDT


def test_adding_margin_zero_on_the_slider_is_refused_on_press():
    widget = AddingMarginWidget()
    widget.controls["amount"].value = 0

    widget.add_margin()

    assert "margin must be greater than 0 USDT" in widget.message
    assert widget.account == guide_account("isolated")


def test_adding_margin_wrong_direction_loss_grows_with_each_top_up():
    widget = AddingMarginWidget()
    widget.controls["price"].value = 55_000  # above 54,216.87: still open
    widget.add_margin(1_000)  # LP 51,204.82
    widget.controls["price"].value = 52_000  # above 51,204.82: still open
    widget.add_margin(1_000)  # LP 48,192.77

    widget.controls["price"].value = 47_000  # below 48,192.77: liquidated

    assert abs(widget.isolated_liquidation_price - LP_4000) < TOL_USDT
    assert widget.liquidated == {"cross": False, "isolated": True}
    assert widget.lost["isolated"] == 4_000.0  # all assigned margin, top-ups included
    assert widget.kept["isolated"] == 6_000.0
    assert bar(widget, "lost-isolated") == 4_000.0
    assert bar(widget, "kept-isolated") == 6_000.0
    assert "would have cost 2,000.00 USDT" in widget.summary


def test_adding_margin_running_loss_before_liquidation_is_the_engines_pnl():
    widget = AddingMarginWidget()

    widget.controls["price"].value = 57_000

    pnl = guide_account("isolated").position_state("BTCUSDT", {"BTCUSDT": 57_000}).unrealized_pnl
    assert abs(pnl + 1_000.0) < TOL_USDT  # 1/3 × (57,000 − 60,000)
    for mode in ("cross", "isolated"):
        assert widget.liquidated[mode] is False
        assert abs(widget.lost[mode] + pnl) < TOL_USDT
        assert abs(bar(widget, f"kept-{mode}") - (10_000 + pnl)) < TOL_USDT


def test_adding_margin_below_cross_liquidation_cross_loses_the_wallet():
    widget = AddingMarginWidget()

    widget.controls["price"].value = 25_000

    outcome = guide_account("cross").liquidate({"BTCUSDT": 25_000})
    assert outcome.loss_usdt == 10_000.0
    assert widget.lost == {"cross": 10_000.0, "isolated": 2_000.0}
    assert widget.kept == {"cross": 0.0, "isolated": 8_000.0}
    assert "cross liquidation loses 10,000.00 USDT and keeps 0.00 USDT" in widget.summary


def test_adding_margin_to_a_liquidated_position_is_refused():
    widget = AddingMarginWidget()
    widget.controls["price"].value = 50_000  # below 54,216.87

    widget.add_margin(1_000)

    assert "already liquidated" in widget.message
    assert widget.account == guide_account("isolated")
    assert widget.at_risk == 2_000.0


def test_adding_margin_reset_goes_back_to_the_guides_account():
    widget = AddingMarginWidget()
    widget.add_margin(1_000)
    widget.add_margin(500)

    widget.reset()

    assert widget.account == guide_account("isolated")
    assert widget.top_ups == ()
    assert abs(level(widget, "liquidation-isolated") - LP_2000) < TOL_USDT


def test_adding_margin_nan_price_keeps_last_good_state():
    widget = AddingMarginWidget()
    widget.controls["price"].value = 58_000

    widget.controls["price"].value = float("nan")

    assert "must be a finite number" in widget.message
    assert widget.controls["price"].value == 58_000
    assert level(widget, "mark") == 58_000


def test_adding_margin_mark_line_follows_the_price_slider():
    widget = AddingMarginWidget()

    widget.controls["price"].value = 56_500

    assert level(widget, "mark") == 56_500
    assert "the mark price is 56,500.00" in widget.summary


def test_adding_margin_static_is_a_fresh_ladder_with_the_same_summary():
    widget = AddingMarginWidget()
    widget.add_margin(1_000)

    chart = widget.static()

    assert isinstance(chart, Chart)
    assert chart.summary == widget.summary
    y = find_trace(chart.figure, "liquidation-isolated").y
    assert abs(y[0] - LP_3000) < TOL_USDT
    assert chart.figure is not widget.figures[0]


def test_ladder_inputs_cross_with_a_neighbour_uses_its_pnl_for_bankruptcy():
    # Cross BTC long beside an ETH long (10 at 3,000) marked at 2,100: down 9,000 USDT.
    cross = Account(wallet_balance=10_000).open(
        "ETHUSDT", side="long", price=3_000, leverage=10, quantity=10
    )
    cross = cross.open("BTCUSDT", side="long", price=60_000, leverage=10, margin=2_000)
    isolated = Account(wallet_balance=10_000).set_margin_mode("BTCUSDT", "isolated")
    isolated = isolated.open("BTCUSDT", side="long", price=60_000, leverage=10, margin=2_000)
    marks = {"ETHUSDT": 2_100.0}

    inputs = ladder_inputs({"cross": cross, "isolated": isolated}, "BTCUSDT", marks)

    # BP = 60,000 − (10,000 − 9,000) / (1/3) = 57,000; LP from docs/formulas.md §12.2: 57,481.93
    assert abs(inputs["cross_bankruptcy_price"] - 57_000.0) < TOL_USDT
    assert abs(inputs["cross_liquidation_price"] - 57_481.93) < TOL_USDT
    assert abs(inputs["isolated_liquidation_price"] - LP_2000) < TOL_USDT
    assert inputs["mark_price"] == 60_000.0  # BTC not in marks: its entry


def test_ladder_inputs_wrong_mode_account_raises_naming_it():
    accounts = {"cross": guide_account("isolated"), "isolated": guide_account()}

    with pytest.raises(ValueError, match=r"accounts\['cross'\].*isolated, expected cross"):
        ladder_inputs(accounts, "BTCUSDT")


def test_ladder_inputs_missing_position_raises_naming_the_symbol():
    accounts = {mode: guide_account(mode) for mode in ("cross", "isolated")}

    with pytest.raises(ValueError, match="there is no open ETHUSDT position"):
        ladder_inputs(accounts, "ETHUSDT")


def test_ladder_inputs_no_liquidation_price_is_nan():
    # 1x long with the whole wallet behind it: no positive price liquidates it in cross.
    cross = Account(wallet_balance=10_000).open(
        "BTCUSDT", side="long", price=60_000, leverage=1, margin=5_000
    )
    isolated = Account(wallet_balance=10_000).set_margin_mode("BTCUSDT", "isolated")
    isolated = isolated.open("BTCUSDT", side="long", price=60_000, leverage=1, margin=5_000)

    inputs = ladder_inputs({"cross": cross, "isolated": isolated}, "BTCUSDT")

    assert math.isnan(inputs["cross_liquidation_price"])


def test_ladder_inputs_missing_mode_draws_nan_for_it():
    inputs = ladder_inputs({"isolated": guide_account("isolated")}, "BTCUSDT")

    assert math.isnan(inputs["cross_liquidation_price"])
    assert math.isnan(inputs["cross_bankruptcy_price"])
    assert abs(inputs["isolated_liquidation_price"] - LP_2000) < TOL_USDT
    assert inputs["entry_price"] == 60_000.0


def test_ladder_inputs_no_mode_at_all_raises():
    with pytest.raises(ValueError, match="accounts must hold 'cross' or 'isolated'"):
        ladder_inputs({}, "BTCUSDT")
