"""CalculatorWidget: PnL/ROE, target price, liquidation price, max open, average entry.

Defaults: the guide's 1/3 BTC long at 10x from 60,000 (20,000 USDT notional, 2,000 USDT
initial margin) in a 10,000 USDT wallet.
"""

from __future__ import annotations

import pytest

from marginlab.charts import Chart, find_trace
from marginlab.engine import Account, InsufficientMarginError
from marginlab.scenarios import guide_account
from marginlab.widgets.calculator import CalculatorWidget

TOL_USDT = 0.005


def level(widget: CalculatorWidget, key: str) -> float:
    y = find_trace(widget.figures[0], key).y
    assert y[0] == y[1]
    return float(y[0])


def test_calculator_pnl_tool_default_is_1000_usdt_and_50_percent():
    widget = CalculatorWidget()

    # 1/3 × (63,000 − 60,000) = 1,000 USDT on 2,000 USDT: ROE 50 %
    state = guide_account().position_state("BTCUSDT", {"BTCUSDT": 63_000})
    assert widget.result == {
        "exit_price": 63_000.0,
        "initial_margin_usdt": 2_000.0,
        "pnl_usdt": state.unrealized_pnl,
        "roe": state.roe,
    }
    assert abs(state.unrealized_pnl - 1_000.0) < TOL_USDT
    assert widget.summary == (
        "A long of 0.3333 BTCUSDT at 10x from 60,000.00 to 63,000.00: PnL 1,000.00 USDT on "
        "2,000.00 USDT of initial margin, ROE 50.00%."
    )
    assert level(widget, "mark") == 63_000.0
    assert abs(level(widget, "liquidation-isolated") - 54_216.87) < TOL_USDT


def test_calculator_pnl_short_loses_when_price_rises():
    widget = CalculatorWidget()

    widget.controls["side"].value = "short"

    # −1/3 × (63,000 − 60,000) = −1,000 USDT: ROE −50 %
    assert abs(widget.result["pnl_usdt"] + 1_000.0) < TOL_USDT
    assert abs(widget.result["roe"] + 0.5) < 1e-12


def test_calculator_pnl_past_isolated_liquidation_says_so():
    widget = CalculatorWidget()

    widget.controls["exit_price"].value = 50_000

    assert abs(widget.result["pnl_usdt"] + 3_333.33) < TOL_USDT  # 1/3 × −10,000
    assert "Isolated, it would be liquidated on the way, at 54,216.87." in widget.summary


def test_calculator_target_price_for_50_percent_roe_is_63000():
    widget = CalculatorWidget(tool="target")

    assert widget.tool == "target"
    assert widget.result["target_price"] == 63_000.0  # 60,000 × (1 + 0.5 / 10)
    assert abs(widget.result["roe"] - 0.5) < 1e-12  # the engine's ROE at that price
    assert level(widget, "mark") == 63_000.0
    assert widget.summary.startswith("For an ROE of 50.00%, a long of 0.3333 BTCUSDT")


@pytest.mark.parametrize(
    ("side", "roe_percent", "expected"),
    [("long", -50.0, 57_000.0), ("short", 50.0, 57_000.0), ("short", -100.0, 66_000.0)],
    ids=["long-loss", "short-gain", "short-loss"],
)
def test_calculator_target_price_mirrors_for_sides(side, roe_percent, expected):
    widget = CalculatorWidget(tool="target", side=side, target_roe_percent=roe_percent)

    assert abs(widget.result["target_price"] - expected) < TOL_USDT
    assert abs(widget.result["roe"] - roe_percent / 100) < 1e-12


def test_calculator_target_beyond_zero_price_is_refused():
    widget = CalculatorWidget(tool="target", side="short")

    widget.controls["target_roe"].value = 2_000  # a 10x short gains at most 1,000 %

    assert "cannot reach 2,000.00%" in widget.message
    assert widget.controls["target_roe"].value == 50.0
    assert widget.result["target_price"] == 57_000.0


def test_price_for_roe_roundtrips_through_the_engine():
    account = Account(wallet_balance=10_000).open(
        "ETHUSDT", side="short", price=3_000, leverage=20, quantity=4
    )

    price = account.price_for_roe("ETHUSDT", 0.8)

    assert price == 2_880.0  # 3,000 − 0.8 × 600 / 4
    assert abs(account.position_state("ETHUSDT", {"ETHUSDT": price}).roe - 0.8) < 1e-12


def test_calculator_liquidation_tool_reports_chosen_mode_and_both_on_the_ladder():
    widget = CalculatorWidget(tool="liquidation")

    assert abs(widget.result["liquidation_price"] - 54_216.87) < TOL_USDT
    assert widget.result["bankruptcy_price"] == 54_000.0
    assert abs(widget.result["cross_liquidation_price"] - 30_120.48) < TOL_USDT
    assert abs(level(widget, "liquidation-cross") - 30_120.48) < TOL_USDT
    widget.controls["mode"].value = "cross"
    assert widget.result["liquidation_price"] == guide_account("cross").liquidation_price("BTCUSDT")
    assert widget.summary.startswith("In cross mode a long of 0.3333 BTCUSDT at 10x")


def test_calculator_liquidation_cross_moves_with_the_balance():
    widget = CalculatorWidget(tool="liquidation", mode="cross")

    widget.controls["balance"].value = 5_000

    # (5,000 − 20,000) / (1/3 × (0.004 − 1)) = 45,180.72
    assert abs(widget.result["liquidation_price"] - 45_180.72) < TOL_USDT
    assert abs(widget.result["isolated_liquidation_price"] - 54_216.87) < TOL_USDT


def test_calculator_max_open_by_balance_opens_in_the_engine():
    widget = CalculatorWidget(tool="max_open")

    result = widget.result
    assert result["limited_by"] == "balance"
    assert result["max_notional_usdt"] == 100_000.0  # 10,000 × 10x
    account = Account(wallet_balance=10_000)
    opened = account.open(
        "BTCUSDT", side="long", price=60_000, leverage=10, quantity=result["max_quantity"]
    )
    assert abs(opened.available_balance()) < TOL_USDT
    with pytest.raises(InsufficientMarginError):
        account.open(
            "BTCUSDT",
            side="long",
            price=60_000,
            leverage=10,
            quantity=result["max_quantity"] * 1.001,
        )


def test_calculator_max_open_at_125x_is_capped_by_the_first_bracket():
    widget = CalculatorWidget(tool="max_open")

    widget.controls["leverage"].value = 125

    assert widget.result["limited_by"] == "bracket"
    assert widget.result["bracket_cap_usdt"] == 300_000.0  # bracket 1 ends at 300,000
    assert widget.result["max_quantity"] == 5.0  # 300,000 / 60,000
    account = Account(wallet_balance=10_000)
    account.open("BTCUSDT", side="long", price=60_000, leverage=125, quantity=4.999)
    with pytest.raises(ValueError, match="leverage must be at most 100x"):
        account.open("BTCUSDT", side="long", price=60_000, leverage=125, quantity=5.0)
    assert "stays below 5.0000 BTC (300,000.00 USDT), limited by the bracket" in widget.summary


def test_calculator_max_open_hides_the_ladder_and_the_unused_inputs():
    widget = CalculatorWidget()

    widget.controls["tool"].value = "max_open"

    assert widget.figure_box.layout.visibility == "hidden"
    assert widget.controls["quantity"].layout.display == "none"
    assert widget.controls["balance"].layout.display == ""
    widget.controls["tool"].value = "pnl"
    assert widget.figure_box.layout.visibility == "visible"
    assert widget.controls["exit_price"].layout.display == ""
    assert widget.controls["fill_price"].layout.display == "none"


def test_max_open_leverage_above_every_bracket_is_refused():
    with pytest.raises(ValueError, match="leverage must be between 1 and 150 for BTCUSDT"):
        Account(wallet_balance=1_000).max_open("BTCUSDT", leverage=200, price=60_000)


def test_calculator_average_entry_of_two_fills_is_the_engines():
    widget = CalculatorWidget(tool="average")

    account = guide_account("isolated").open(
        "BTCUSDT", side="long", price=57_000, leverage=10, quantity=1 / 3
    )
    position = account.position("BTCUSDT")
    assert position.entry_price == 58_500.0  # (60,000 + 57,000) / 2 for equal sizes
    assert widget.result["average_entry_price"] == position.entry_price
    assert widget.result["initial_margin_usdt"] == position.initial_margin
    assert abs(position.initial_margin - 3_900.0) < TOL_USDT  # 2/3 × 58,500 / 10
    assert level(widget, "entry") == 58_500.0
    assert level(widget, "mark") == 57_000.0


@pytest.mark.parametrize(
    ("name", "value", "reason"),
    [
        ("quantity", 100.0, "exceeds the available balance 10,000.00 USDT"),
        ("entry_price", float("nan"), "price must be a finite number"),
        ("entry_price", -1.0, "price must be greater than 0"),
        ("balance", -500.0, "wallet_balance must be 0 or more"),
        ("exit_price", 0.0, "must be greater than 0"),
    ],
    ids=["too-large", "nan-entry", "negative-entry", "negative-balance", "zero-exit"],
)
def test_calculator_refused_input_keeps_the_last_good_state(name, value, reason):
    widget = CalculatorWidget()
    before = widget.result
    good = widget.controls[name].value

    widget.controls[name].value = value

    assert reason in widget.message
    assert widget.controls[name].value == good
    assert widget.result == before
    assert level(widget, "mark") == 63_000.0


def test_calculator_leverage_above_the_bracket_is_refused_with_the_engines_reason():
    # 6 BTC at 60,000 is 360,000 USDT: bracket 2, at most 100x (36,000 USDT margin at 10x)
    widget = CalculatorWidget(quantity=6.0, wallet_balance=50_000)

    widget.controls["leverage"].value = 125

    assert "leverage must be at most 100x" in widget.message
    assert widget.controls["leverage"].value == 10


@pytest.mark.parametrize("tool", ["pnl", "target", "liquidation", "max_open", "average"])
def test_calculator_static_has_the_current_summary(tool):
    widget = CalculatorWidget(tool=tool)

    chart = widget.static()

    assert isinstance(chart, Chart)
    assert chart.summary == widget.summary
    assert find_trace(chart.figure, "mark").y[0] == level(widget, "mark")
