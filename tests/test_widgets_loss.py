"""LossAtLiquidationWidget: one trade driven through liquidation in each mode (comparison 2).

The guide's trade: a 20,000 USDT BTC long at 10x (2,000 of margin, Q = 1/3) from 60,000
in a 10,000 USDT wallet. Isolated liquidates at 54,216.87 and loses its 2,000; cross at
30,120.48 and loses the whole 10,000. Before liquidation either is down Q·(60,000 − P).
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import pytest

from marginlab.charts import Chart, find_trace
from marginlab.scenarios import Trade, guide_account
from marginlab.widgets.loss import PRICE_GRID, LossAtLiquidationWidget

TOL_USDT = 0.005


@pytest.fixture
def widget() -> LossAtLiquidationWidget:
    return LossAtLiquidationWidget()


def bar(widget: LossAtLiquidationWidget, key: str) -> float:
    (value,) = find_trace(widget.figures[0], key).x
    return float(value)


def test_loss_at_entry_nothing_lost_and_the_trade_is_named(widget):
    assert widget.liquidated == {"cross": False, "isolated": False}
    assert widget.kept == {"cross": 10_000, "isolated": 10_000}
    assert widget.lost == {"cross": 0, "isolated": 0}
    assert widget.summary.startswith(
        "20,000.00 USDT long position, 10x (margin 2,000.00 USDT), from a 10,000.00 USDT "
        "wallet. BTC at 60,000.00: From a 10,000.00 USDT wallet"
    )


def test_loss_at_50000_isolated_liquidated_cross_not(widget):
    widget.controls["price"].value = 50_000
    assert widget.liquidated == {"cross": False, "isolated": True}
    # Isolated loses its 2,000 margin; cross: 10,000 + (50,000 − 60,000)/3 = 6,666.67.
    assert abs(widget.kept["isolated"] - 8_000) <= TOL_USDT
    assert abs(widget.kept["cross"] - 6_666.67) <= TOL_USDT
    assert abs(bar(widget, "lost-isolated") - 2_000) <= TOL_USDT
    assert abs(bar(widget, "lost-cross") - 3_333.33) <= TOL_USDT
    assert "isolated liquidation loses 2,000.00 USDT and keeps 8,000.00 USDT" in widget.summary
    assert "cross is not liquidated (down 3,333.33 USDT, 6,666.67 USDT left)" in widget.summary
    outcome = guide_account("isolated").liquidate({"BTCUSDT": 50_000})
    assert widget.kept["isolated"] == outcome.kept_usdt
    assert widget.kept["cross"] == guide_account("cross").state({"BTCUSDT": 50_000}).margin_balance


def test_loss_below_cross_liquidation_whole_wallet_lost(widget):
    widget.controls["price"].value = 30_000
    assert widget.liquidated == {"cross": True, "isolated": True}
    assert widget.lost == {"cross": 10_000, "isolated": 2_000}
    assert "cross liquidation loses 10,000.00 USDT and keeps 0.00 USDT" in widget.summary


def test_loss_curve_same_above_isolated_liquidation_then_parts(widget):
    curve = widget.loss_curve
    above = PRICE_GRID > widget.liquidation_price["isolated"]
    np.testing.assert_array_equal(curve["cross"][above], curve["isolated"][above])
    assert (curve["isolated"][~above] == 2_000.0).all()
    assert curve["cross"].max() == 10_000.0
    assert (
        "above the isolated liquidation price 54,216.87 the two are down exactly the same; "
        "below it they part" in widget.summary
    )
    # The figure holds the engine's curve (float32 on the wire: within 0.004 USDT).
    drawn = np.asarray(find_trace(widget.figures[1], "curve-cross").y, dtype=float)
    assert np.max(np.abs(drawn - curve["cross"])) <= 0.004


def test_loss_curve_is_the_engines_wallet_loss_for_the_trade(widget):
    widget.controls["leverage"].value = 20
    for mode in ("cross", "isolated"):
        expected = Trade(leverage=20).account(mode).wallet_loss({"BTCUSDT": PRICE_GRID})
        np.testing.assert_array_equal(widget.loss_curve[mode], expected)


def test_loss_same_notional_leverage_20_isolated_sooner_cross_unchanged(widget):
    widget.controls["leverage"].value = 20
    widget.controls["price"].value = 56_000
    # Isolated: 60,000 × 0.95 / 0.996 = 57,228.92 > 56,000: liquidated, its 1,000 lost;
    # cross: 30,120.48 as at 10x, down 1/3 × 4,000 = 1,333.33.
    assert widget.liquidated == {"cross": False, "isolated": True}
    assert abs(widget.liquidation_price["isolated"] - 57_228.92) <= TOL_USDT
    assert abs(widget.liquidation_price["cross"] - 30_120.48) <= TOL_USDT
    assert widget.lost["isolated"] == 1_000.0
    assert abs(widget.lost["cross"] - 1_333.33) <= TOL_USDT


def test_loss_short_parts_above_the_isolated_price(widget):
    widget.controls["side"].value = "short"
    widget.controls["price"].value = 70_000
    # Short isolated LP 66,000/1.004 = 65,737.05 < 70,000: liquidated; cross up to 89,641.43.
    assert widget.liquidated == {"cross": False, "isolated": True}
    assert "below the isolated liquidation price 65,737.05 the two are down exactly" in (
        widget.summary
    )


def test_loss_refused_order_keeps_the_wallet_and_says_why(widget):
    widget.controls["leverage"].value = 1
    assert widget.message == ""
    assert widget.lost == {} and widget.liquidated == {}
    assert "no position (order refused: its margin is more than the available balance)" in (
        widget.summary
    )
    assert find_trace(widget.figures[1], "notes").text[0].startswith("no position:")


def test_loss_in_profit_gain_past_the_wallet(widget):
    widget.controls["price"].value = 70_000
    assert abs(widget.lost["isolated"] + 3_333.33) <= TOL_USDT
    assert abs(bar(widget, "gain-isolated") - 3_333.33) <= TOL_USDT
    assert "(the position is up 3,333.33 USDT)" in widget.summary


def test_loss_nan_price_refused_keeps_last_state(widget):
    widget.controls["price"].value = 50_000
    before = widget.summary
    widget.controls["price"].value = float("nan")
    assert "price must be a finite price" in widget.message
    assert widget.controls["price"].value == 50_000
    assert widget.summary == before


def test_loss_static_is_plain_figure_with_same_summary(widget):
    widget.controls["price"].value = 50_000
    chart = widget.static()
    assert isinstance(chart, Chart) and type(chart.figure) is go.Figure
    assert chart.summary == widget.summary
    assert list(find_trace(chart.figure, "kept-isolated").x) == [8_000]
