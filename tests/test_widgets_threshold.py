"""LiquidationThresholdWidget: one trade, isolated vs cross (the guide's comparison 1).

The widget is an order form: size (notional, USDT), leverage, wallet, side; the margin
follows as notional / leverage. Hand numbers, bracket 1 (MMR 0.004), Q = N / 60,000:
isolated long LP = 60,000·(1 − 1/L)/0.996 (only the leverage matters), cross long LP =
(60,000 − W/Q)/0.996 (only the wallet and the size matter). Shorts mirror with 1.004.
"""

from __future__ import annotations

import math

import numpy as np
import plotly.graph_objects as go
import pytest

from marginlab.charts import Chart, find_trace
from marginlab.scenarios import Trade
from marginlab.widgets.threshold import LEVERAGE_GRID, LiquidationThresholdWidget

TOL_USDT = 0.005


def engine_price(mode: str, **trade) -> float:
    """The engine's price for the widget's order, built without the widget."""
    return Trade(**trade).account(mode).liquidation_price("BTCUSDT")


@pytest.fixture
def widget() -> LiquidationThresholdWidget:
    return LiquidationThresholdWidget()


def test_threshold_defaults_are_the_guides_trade_and_say_what_is_held(widget):
    assert abs(widget.isolated_liquidation_price - 54_216.87) <= TOL_USDT
    assert abs(widget.cross_liquidation_price - 30_120.48) <= TOL_USDT
    assert abs(widget.isolated_distance - 0.0963855) <= 1e-7
    assert abs(widget.cross_distance - 0.4979920) <= 1e-7
    assert widget.summary.startswith(
        "20,000.00 USDT long position, 10x (margin 2,000.00 USDT), from a 10,000.00 USDT "
        "wallet: Isolated liquidates at 54,216.87 (9.64% below entry); cross at 30,120.48"
    )
    assert widget.message == "" and widget.refusal == ""


@pytest.mark.parametrize("side", ["long", "short"])
def test_threshold_same_notional_leverage_moves_isolated_only(widget, side):
    widget.controls["side"].value = side
    cross_prices, isolated_distance = set(), []
    for leverage in (2, 5, 10, 20, 50, 100, 125):
        widget.controls["leverage"].value = leverage
        cross_prices.add(round(widget.cross_liquidation_price, 6))
        isolated_distance.append(widget.isolated_distance)
        assert widget.isolated_liquidation_price == engine_price(
            "isolated", leverage=leverage, side=side
        )
        assert f"20,000.00 USDT {side} position, {leverage}x" in widget.summary
    assert len(cross_prices) == 1  # the cross price does not move with leverage
    assert isolated_distance == sorted(isolated_distance, reverse=True)  # toward entry


def test_threshold_leverage_20_isolated_by_hand_cross_unchanged(widget):
    widget.controls["leverage"].value = 20
    # Isolated 60,000 × 0.95 / 0.996 = 57,228.92; cross still (60,000 − 30,000)/0.996.
    assert abs(widget.isolated_liquidation_price - 57_228.92) <= TOL_USDT
    assert abs(widget.cross_liquidation_price - 30_120.48) <= TOL_USDT
    assert "(margin 1,000.00 USDT)" in widget.summary
    assert list(find_trace(widget.figures[1], "now-cross").x) == [20]


def test_threshold_ladder_traces_hold_engine_prices(widget):
    ladder = widget.figures[0]
    for mode in ("cross", "isolated"):
        assert list(find_trace(ladder, f"liquidation-{mode}").y) == [engine_price(mode)] * 2
    assert abs(find_trace(ladder, "bankruptcy-isolated").y[0] - 54_000) <= TOL_USDT
    assert abs(find_trace(ladder, "bankruptcy-cross").y[0] - 30_000) <= TOL_USDT


def test_threshold_distance_curves_match_the_engine_at_each_leverage(widget):
    distance = widget.figures[1]
    isolated = np.asarray(find_trace(distance, "curve-isolated").y, dtype=float)
    cross = np.asarray(find_trace(distance, "curve-cross").y, dtype=float)
    assert list(find_trace(distance, "curve-isolated").x) == list(LEVERAGE_GRID)
    for leverage in (2, 10, 20, 125):
        iso = abs(engine_price("isolated", leverage=leverage) - 60_000) / 60_000
        assert abs(isolated[leverage - 1] - 100 * iso) <= 1e-9
        assert abs(cross[leverage - 1] - 100 * 0.4979919678714859) <= 1e-9
    assert np.isnan(isolated[0]) and np.isnan(cross[0])  # 1x: 20,000 of margin is refused
    assert list(find_trace(distance, "refused").x) == [1.0]


def test_threshold_larger_wallet_cross_covers_a_fall_to_zero_and_says_so(widget):
    widget.controls["balance"].value = 20_000
    assert math.isnan(widget.cross_liquidation_price)
    assert abs(widget.isolated_liquidation_price - 54_216.87) <= TOL_USDT
    assert (
        "cross: no liquidation price: the 20,000.00 USDT wallet behind it covers a fall to zero"
        in (widget.summary)
    )
    notes = list(find_trace(widget.figures[0], "notes").text)
    assert notes[0].startswith("no liquidation price:")


def test_threshold_leverage_1_refused_order_drawn_and_explained(widget):
    widget.controls["leverage"].value = 1
    assert widget.controls["leverage"].value == 1  # the state is drawn, not undone
    assert widget.message == ""
    assert "order refused: its margin is more than the available balance" in widget.summary
    assert "The exchange refuses this order: margin: the initial margin 20,000.00 USDT" in (
        widget.summary
    )
    assert math.isnan(widget.isolated_liquidation_price)
    notes = find_trace(widget.figures[0], "notes").text
    assert all(text.startswith("order refused:") for text in notes)
    assert list(find_trace(widget.figures[1], "now-isolated").text) == ["refused"]
    with pytest.raises(ValueError, match="no isolated account: The exchange refuses"):
        widget.account("isolated")


def test_threshold_bracket_refusal_drawn_with_its_reason(widget):
    widget.controls["balance"].value = 50_000
    widget.controls["notional"].value = 500_000  # bracket 2: at most 100x
    widget.controls["leverage"].value = 125
    assert "the leverage is above its bracket's maximum" in widget.summary
    assert "leverage must be at most 100x" in widget.refusal


def test_threshold_nan_notional_refused_keeps_last_state(widget):
    before = widget.summary
    widget.controls["notional"].value = float("nan")
    assert "notional" in widget.message
    assert widget.controls["notional"].value == 20_000
    assert widget.summary == before


def test_threshold_static_is_plain_figure_with_same_summary(widget):
    widget.controls["leverage"].value = 25
    chart = widget.static()
    assert isinstance(chart, Chart) and type(chart.figure) is go.Figure
    assert chart.summary == widget.summary
    assert (
        find_trace(chart.figure, "liquidation-isolated").y[0] == widget.isolated_liquidation_price
    )


def test_threshold_account_rejects_unknown_mode(widget):
    with pytest.raises(ValueError, match="mode must be 'cross' or 'isolated'"):
        widget.account("hedge")
