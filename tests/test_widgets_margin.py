"""AddingMarginWidget: isolated top-ups and removals move the liquidation price, cross needs
neither, and a new order takes its margin from the available balance in both modes (§7).

The account is the guide's: 10,000 USDT, a 1/3 BTC long at 10x from 60,000, 2,000 USDT
assigned when isolated. Bracket 1 (MMR 0.004, no maintenance amount), so
isolated LP = (M − 20,000) / (1/3 × (0.004 − 1)) with M the assigned margin.
"""

from __future__ import annotations

import pytest

from marginlab.charts import Chart, find_trace
from marginlab.engine import Account
from marginlab.scenarios import guide_account
from marginlab.widgets.margin import AddingMarginWidget
from marginlab.widgets.trade import ladder_of

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
    assert widget.summary.startswith("Isolated margin 2,000.00 USDT (nothing moved yet);")


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


def test_ladder_of_cross_with_a_neighbour_uses_its_pnl_for_bankruptcy():
    # Cross BTC long beside an ETH long (10 at 3,000) marked at 2,100: down 9,000 USDT.
    cross = Account(wallet_balance=10_000).open(
        "ETHUSDT", side="long", price=3_000, leverage=10, quantity=10
    )
    cross = cross.open("BTCUSDT", side="long", price=60_000, leverage=10, margin=2_000)
    marks = {"ETHUSDT": 2_100.0}

    ladder = ladder_of({"cross": cross, "isolated": guide_account("isolated")}, "BTCUSDT", marks)

    # BP = 60,000 − (10,000 − 9,000) / (1/3) = 57,000; LP from docs/formulas.md §12.2: 57,481.93
    assert abs(ladder.levels["cross"].bankruptcy_price - 57_000.0) < TOL_USDT
    assert abs(ladder.levels["cross"].liquidation_price - 57_481.93) < TOL_USDT
    assert abs(ladder.levels["isolated"].liquidation_price - LP_2000) < TOL_USDT
    assert ladder.mark_price == 60_000.0  # BTC not in marks: its entry


def test_ladder_of_wrong_mode_account_raises_naming_it():
    accounts = {"cross": guide_account("isolated"), "isolated": guide_account()}

    with pytest.raises(ValueError, match=r"accounts\['cross'\]: its BTCUSDT position is isolated"):
        ladder_of(accounts, "BTCUSDT")


def test_ladder_of_missing_position_raises_naming_the_symbol():
    accounts = {mode: guide_account(mode) for mode in ("cross", "isolated")}

    with pytest.raises(ValueError, match="there is no open ETHUSDT position"):
        ladder_of(accounts, "ETHUSDT")


def test_ladder_of_missing_mode_is_not_available():
    ladder = ladder_of({"isolated": guide_account("isolated")}, "BTCUSDT")

    assert "cross" not in ladder.levels
    assert ladder.note("cross") == "not available"


# ----------------------------------------------------------------- removing margin
def test_adding_margin_remove_moves_isolated_liquidation_toward_entry():
    widget = AddingMarginWidget()
    widget.add_margin(2_000)  # 4,000 assigned: LP 48,192.77

    widget.remove_margin(1_000)  # back to 3,000: LP 51,204.82

    assert widget.removals == (1_000.0,) and widget.top_ups == (2_000.0,)
    assert widget.at_risk == 3_000.0
    assert abs(widget.isolated_liquidation_price - LP_3000) < TOL_USDT
    expected = guide_account("isolated").add_margin("BTCUSDT", 2_000)
    assert widget.account == expected.remove_margin("BTCUSDT", 1_000)
    assert "(after 1 top-up and 1 removal)" in widget.summary


def test_adding_margin_remove_more_than_the_position_can_spare_is_refused():
    widget = AddingMarginWidget()
    # At entry the 2,000 is all initial margin: nothing can leave (max_removable 0).
    assert widget.removable == guide_account("isolated").max_removable_margin("BTCUSDT") == 0.0

    widget.remove_margin(500)

    assert "margin must be at most 0.00 USDT (removable from BTCUSDT)" in widget.message
    assert widget.account == guide_account("isolated")


def test_adding_margin_removable_grows_with_a_profit_at_the_mark():
    widget = AddingMarginWidget()
    widget.controls["price"].value = 63_000  # up 1,000: the margin plus PnL beats the IM

    marks = {"BTCUSDT": 63_000}
    assert widget.removable == guide_account("isolated").max_removable_margin("BTCUSDT", marks)
    assert widget.removable > 0
    widget.remove_margin(widget.removable)
    assert widget.message == "" and widget.at_risk < 2_000.0


# -------------------------------------------------------------------- a new order
def test_adding_margin_new_order_shrinks_the_available_balance_in_both_modes():
    widget = AddingMarginWidget()
    assert widget.available == {"cross": 8_000.0, "isolated": 8_000.0}

    widget.controls["new_order"].value = 3_000

    # A 10x ETH long with 3,000 of margin: 5,000 free in either mode; isolated can add no
    # more than that to BTC now.
    assert widget.available == {"cross": 5_000.0, "isolated": 5_000.0}
    assert widget.addable == 5_000.0
    split = find_trace(widget.figures[2], "free-isolated")
    assert list(split.x) == [5_000.0]
    assert "ETH 3,000.00 assigned" in widget.summary and "ETH 3,000.00 in use" in widget.summary
    # Cross: the ETH position's maintenance margin (30,000 × 0.4 % = 120) comes off BTC's
    # backing: (60,000 − (10,000 − 120)·3)/0.996 = 30,481.93.
    assert abs(widget.cross_liquidation_price - 30_481.93) < TOL_USDT
    assert abs(widget.isolated_liquidation_price - LP_2000) < TOL_USDT  # isolated: untouched


def test_adding_margin_new_order_larger_than_the_available_balance_is_refused():
    widget = AddingMarginWidget()
    widget.add_margin(5_000)  # 3,000 free left

    widget.controls["new_order"].value = 4_000

    assert (
        "margin: the initial margin 4,000.00 USDT exceeds the available balance 3,000.00 USDT"
        in widget.message
    )
    assert widget.controls["new_order"].value == 0
    assert widget.at_risk == 7_000.0
