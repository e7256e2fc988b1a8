"""Liquidation distance against leverage: engine liquidation prices over a leverage grid."""

import math

import numpy as np
import plotly.graph_objects as go
import pytest

from marginlab.charts import find_trace, liquidation_distance_figure, update_liquidation_distance
from marginlab.engine import load_tiers, tiered_liquidation_price
from marginlab.scenarios import GUIDE, guide_account

TOL_RATE = 1e-12
LEVERAGE = np.array([2.0, 5.0, 10.0, 20.0])


def _distances(margin_usdt: float, wallet_usdt: float, leverage=LEVERAGE) -> dict:
    """Distance to liquidation (fraction of entry) per mode: the guide's long at each leverage."""
    quantity = margin_usdt * leverage / GUIDE.entry_price
    table = load_tiers("BTCUSDT")
    prices = {
        mode: tiered_liquidation_price(
            table, side="long", quantity=quantity, entry_price=60_000, wallet_balance=wallet
        )
        for mode, wallet in (("isolated", margin_usdt), ("cross", wallet_usdt))
    }
    return {mode: (60_000 - price) / 60_000 for mode, price in prices.items()}


def _inputs(margin_usdt: float = 2_000, wallet_usdt: float = 10_000, current: float = 10.0):
    curves = _distances(margin_usdt, wallet_usdt)
    now = _distances(margin_usdt, wallet_usdt, np.array([current]))
    return {
        "leverage": LEVERAGE,
        "cross_distance_rate": curves["cross"],
        "isolated_distance_rate": curves["isolated"],
        "current_leverage": current,
        "current_cross_distance_rate": float(now["cross"][0]),
        "current_isolated_distance_rate": float(now["isolated"][0]),
    }


def test_liquidation_distance_guide_example_marks_10x():
    chart = liquidation_distance_figure(**_inputs())
    # 10x: isolated 1 − 54,216.87/60,000 = 9.64 %; cross 1 − 30,120.48/60,000 = 49.80 %.
    assert (
        chart.summary == "At 10x, isolated liquidates 9.64% from entry and cross 49.80% from entry."
    )
    isolated_now = find_trace(chart.figure, "now-isolated")
    assert list(isolated_now.x) == [10.0]
    engine = 1 - guide_account("isolated").liquidation_price("BTCUSDT") / 60_000
    assert abs(isolated_now.y[0] - 100 * engine) <= 100 * TOL_RATE
    assert list(isolated_now.text) == ["9.64%"]


def test_liquidation_distance_curves_are_percent_of_entry():
    fig = liquidation_distance_figure(**_inputs()).figure
    isolated = np.asarray(find_trace(fig, "curve-isolated").y)
    # Isolated long at L: 1 − (1 − 1/L)/(1 − 0.004); at 5x: 1 − 0.8/0.996 = 19.68 %.
    expected = 100 * (1 - (1 - 1 / LEVERAGE) / 0.996)
    np.testing.assert_allclose(isolated, expected, rtol=0, atol=1e-9)
    np.testing.assert_array_equal(find_trace(fig, "curve-cross").x, LEVERAGE)


def test_liquidation_distance_cross_without_price_draws_gap_and_says_so():
    # 2x and 5x: a 4,000 / 10,000 USDT notional against a 10,000 pool: no positive price.
    chart = liquidation_distance_figure(**_inputs(current=5.0))
    cross = np.asarray(find_trace(chart.figure, "curve-cross").y, dtype=float)
    assert np.isnan(cross[:2]).all() and np.isfinite(cross[2:]).all()
    assert chart.summary == (
        "At 5x, isolated liquidates 19.68% from entry and cross cannot be liquidated by price."
    )
    assert list(find_trace(chart.figure, "now-cross").text) == ["no liquidation"]


def test_update_liquidation_distance_bigger_wallet_moves_cross_curve_only():
    fig = liquidation_distance_figure(**_inputs()).figure
    isolated_before = np.asarray(find_trace(fig, "curve-isolated").y).copy()
    cross_before = np.asarray(find_trace(fig, "curve-cross").y).copy()
    summary = update_liquidation_distance(fig, **_inputs(wallet_usdt=15_000))
    np.testing.assert_array_equal(find_trace(fig, "curve-isolated").y, isolated_before)
    after = np.asarray(find_trace(fig, "curve-cross").y)
    assert after[3] > cross_before[3]  # a larger pool: further from liquidation
    # 10x, 15,000 pool: LP = (60,000 − 45,000)/0.996 = 15,060.24; 1 − LP/60,000 = 74.90 %.
    assert summary.endswith("and cross 74.90% from entry.")


def test_update_liquidation_distance_on_figure_widget_moves_markers():
    widget = go.FigureWidget(liquidation_distance_figure(**_inputs()).figure)
    update_liquidation_distance(widget, **_inputs(current=20.0))
    assert list(find_trace(widget, "now-cross").x) == [20.0]
    # 20x cross: Q = 2/3, LP = (60,000 − 15,000)/0.996 = 45,180.72; 24.70 % from entry.
    assert list(find_trace(widget, "now-cross").text) == ["24.70%"]
    assert not math.isnan(find_trace(widget, "now-isolated").y[0])


@pytest.mark.parametrize(
    ("inputs", "error", "message"),
    [
        ({"leverage": [0.5, 2, 5, 10]}, ValueError, "leverage must hold finite values"),
        ({"cross_distance_rate": [0.1, 0.2]}, ValueError, "same length"),
        ({"current_leverage": 0.0}, ValueError, "current_leverage must be at least 1"),
        ({"leverage": "10x"}, TypeError, "leverage must be an array"),
    ],
    ids=["leverage-below-1", "length-mismatch", "current-below-1", "text"],
)
def test_liquidation_distance_bad_input_raises(inputs, error, message):
    with pytest.raises(error, match=message):
        liquidation_distance_figure(**_inputs() | inputs)
