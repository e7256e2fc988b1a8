"""LiquidationThresholdWidget: the same position, isolated vs cross (the guide's comparison 1).

Hand numbers: a long of Q BTC from EP = 60,000 in bracket 1 (MMR 0.004) liquidates at
LP = (WB − Q·EP) / (Q·(0.004 − 1)), WB = the margin (isolated) or the wallet (cross);
a short at LP = (WB + Q·EP) / (Q·(0.004 + 1)). The bankruptcy price is EP ∓ WB/Q.
"""

from __future__ import annotations

import math

import numpy as np
import plotly.graph_objects as go
import pytest

from marginlab.charts import Chart, find_trace
from marginlab.engine import Account
from marginlab.widgets.threshold import LEVERAGE_GRID, LiquidationThresholdWidget

TOL_USDT = 0.005
TOL_RATE = 1e-9


def engine_liquidation_price(mode: str, *, leverage=10, margin=2_000, balance=10_000, side="long"):
    """The engine's price for the widget's position, built independently of the widget."""
    account = Account(wallet_balance=balance).set_margin_mode("BTCUSDT", mode)
    account = account.open("BTCUSDT", side=side, price=60_000, leverage=leverage, margin=margin)
    return account.liquidation_price("BTCUSDT")


@pytest.fixture
def widget() -> LiquidationThresholdWidget:
    return LiquidationThresholdWidget()


def test_threshold_defaults_guide_example_both_prices_in_summary(widget):
    # Q = 20,000 / 60,000 = 1/3. Isolated: (2,000 − 20,000) / (−0.332) = 54,216.87;
    # cross: (10,000 − 20,000) / (−0.332) = 30,120.48.
    assert "54,216.87" in widget.summary and "30,120.48" in widget.summary
    assert abs(widget.isolated_liquidation_price - 54_216.87) <= TOL_USDT
    assert abs(widget.cross_liquidation_price - 30_120.48) <= TOL_USDT
    # Distances: 5,783.13 / 60,000 = 0.0963855; 29,879.52 / 60,000 = 0.4979920.
    assert abs(widget.isolated_distance - 0.0963855) <= 1e-7
    assert abs(widget.cross_distance - 0.4979920) <= 1e-7
    assert widget.summary.startswith("10x long with 2,000.00 USDT margin in a 10,000.00 USDT")
    assert widget.message == ""


def test_threshold_ladder_traces_hold_engine_prices(widget):
    ladder = widget.figures[0]
    for mode in ("cross", "isolated"):
        y = find_trace(ladder, f"liquidation-{mode}").y
        assert list(y) == [engine_liquidation_price(mode)] * 2
    # Bankruptcy: 60,000 − 2,000·3 = 54,000 isolated; 60,000 − 10,000·3 = 30,000 cross.
    assert abs(find_trace(ladder, "bankruptcy-isolated").y[0] - 54_000) <= TOL_USDT
    assert abs(find_trace(ladder, "bankruptcy-cross").y[0] - 30_000) <= TOL_USDT
    assert list(find_trace(ladder, "mark").y) == [60_000, 60_000]


def test_threshold_distance_curves_match_engine_at_each_leverage(widget):
    distance = widget.figures[1]
    curve_iso = np.asarray(find_trace(distance, "curve-isolated").y)
    curve_cross = np.asarray(find_trace(distance, "curve-cross").y)
    assert list(find_trace(distance, "curve-isolated").x) == list(LEVERAGE_GRID)
    for leverage in (2, 10, 20, 125):
        iso = abs(engine_liquidation_price("isolated", leverage=leverage) - 60_000) / 60_000
        assert abs(curve_iso[leverage - 1] - 100 * iso) <= 1e-9
    for leverage in (6, 10, 20, 125):  # up to 5x (notional <= the wallet) cross has no price
        cross = abs(engine_liquidation_price("cross", leverage=leverage) - 60_000) / 60_000
        assert abs(curve_cross[leverage - 1] - 100 * cross) <= 1e-9
    assert np.isnan(curve_cross[:5]).all()
    # 20x isolated by hand: 1 − (1 − 1/20) / 0.996 = 0.0461847 -> 4.61847 %.
    assert abs(curve_iso[19] - 4.61847) <= 1e-5
    # A 1x long has no positive liquidation price in either mode: a gap.
    assert math.isnan(curve_iso[0]) and math.isnan(curve_cross[0])
    marker = find_trace(distance, "now-isolated")
    assert list(marker.x) == [10] and abs(marker.y[0] - 9.63855) <= 1e-5


def test_threshold_leverage_20_moves_both_prices_closer(widget):
    widget.controls["leverage"].value = 20
    # Q = 2/3: isolated (2,000 − 40,000) / (−0.664) = 57,228.92;
    # cross (10,000 − 40,000) / (−0.664) = 45,180.72.
    assert abs(widget.isolated_liquidation_price - 57_228.92) <= TOL_USDT
    assert abs(widget.cross_liquidation_price - 45_180.72) <= TOL_USDT
    assert "57,228.92" in widget.summary and "45,180.72" in widget.summary
    assert list(find_trace(widget.figures[1], "now-cross").x) == [20]


def test_threshold_short_liquidates_above_entry(widget):
    widget.controls["side"].value = "short"
    # Isolated (2,000 + 20,000) / (1/3 · 1.004) = 65,737.05; cross (10,000 + 20,000) / same.
    assert abs(widget.isolated_liquidation_price - 65_737.05) <= TOL_USDT
    assert abs(widget.cross_liquidation_price - 89_641.43) <= TOL_USDT
    assert widget.account("cross").position("BTCUSDT").side == "short"
    assert "above entry" in widget.summary


def test_threshold_larger_wallet_moves_cross_only(widget):
    widget.controls["balance"].value = 20_000
    # Cross: (20,000 − 20,000) / (−0.332) = 0: no positive price liquidates it.
    assert math.isnan(widget.cross_liquidation_price)
    assert math.isnan(widget.cross_distance)
    assert abs(widget.isolated_liquidation_price - 54_216.87) <= TOL_USDT
    assert "cross cannot be liquidated by price" in widget.summary
    assert widget.account("isolated").cross_wallet_balance == 18_000


def test_threshold_margin_above_balance_refused_keeps_last_state(widget):
    before = widget.summary
    widget.controls["margin"].value = 15_000
    assert "margin" in widget.message and "10,000.00" in widget.message
    assert widget.controls["margin"].value == 2_000
    assert widget.summary == before
    assert abs(widget.isolated_liquidation_price - 54_216.87) <= TOL_USDT


def test_threshold_leverage_above_bracket_refused_and_curve_gapped(widget):
    widget.controls["balance"].value = 20_000
    widget.controls["margin"].value = 10_000
    curve = np.asarray(find_trace(widget.figures[1], "curve-isolated").y)
    # 10,000 × 79 = 790,000 is bracket 2 (max 100x); 10,000 × 80 = 800,000 is bracket 3
    # (max 75x): leverages 80..125 are not allowed for this margin (1x: no price at all).
    assert np.isfinite(curve[1:79]).all()
    assert np.isnan(curve[79:]).all()
    widget.controls["leverage"].value = 125
    assert "leverage must be at most 75x" in widget.message
    assert widget.controls["leverage"].value == 10


def test_threshold_nan_margin_refused(widget):
    widget.controls["margin"].value = float("nan")
    assert "margin" in widget.message
    assert widget.controls["margin"].value == 2_000
    assert (
        widget.controls["margin"].value == widget.account("isolated").positions[0].isolated_margin
    )


def test_threshold_static_is_plain_figure_with_same_summary(widget):
    widget.controls["leverage"].value = 25
    chart = widget.static()
    assert isinstance(chart, Chart) and type(chart.figure) is go.Figure
    assert chart.summary == widget.summary
    iso = find_trace(chart.figure, "liquidation-isolated").y[0]
    assert iso == widget.isolated_liquidation_price


def test_threshold_account_rejects_unknown_mode(widget):
    with pytest.raises(ValueError, match="mode must be 'cross' or 'isolated'"):
        widget.account("hedge")
