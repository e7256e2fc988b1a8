"""Two-symbol cross map: the engine's cross margin ratio over a grid of BTC and ETH marks."""

import numpy as np
import plotly.graph_objects as go
import pytest

from marginlab.charts import CrossMap, cross_map_figure, find_trace, update_cross_map
from marginlab.scenarios import two_positions_account

BTC = np.array([30_000.0, 45_000.0, 60_000.0, 75_000.0])
ETH = np.array([2_000.0, 3_000.0, 4_500.0, 6_000.0, 9_000.0])


def _ratio_grid(account) -> np.ndarray:
    """Cross margin ratio at every (ETH, BTC) grid point, from Account.state."""
    return np.array(
        [[account.state({"BTCUSDT": x, "ETHUSDT": y}).cross_margin_ratio for x in BTC] for y in ETH]
    )


def _map(inputs: dict) -> CrossMap:
    """The chart's input from the keywords of the tests below."""
    isolated = {
        symbol: inputs[f"{axis}_isolated_liquidation_price"]
        for axis, symbol in (("x", "BTCUSDT"), ("y", "ETHUSDT"))
        if inputs.get(f"{axis}_isolated_liquidation_price") is not None
    }
    return CrossMap(
        "BTCUSDT",
        "ETHUSDT",
        inputs["x_price_grid"],
        inputs["y_price_grid"],
        inputs["margin_ratio_grid"],
        inputs["x_mark_price"],
        inputs["y_mark_price"],
        inputs["margin_ratio"],
        isolated,
    )


def figure(**inputs):
    return cross_map_figure(_map(inputs))


def update(fig, **inputs) -> str:
    return update_cross_map(fig, _map(inputs))


def _inputs(btc_mark: float = 60_000.0, eth_mark: float = 3_000.0, isolated: bool = True) -> dict:
    cross = two_positions_account("cross")
    apart = two_positions_account("isolated")
    inputs = {
        "x_price_grid": BTC,
        "y_price_grid": ETH,
        "margin_ratio_grid": _ratio_grid(cross),
        "x_mark_price": btc_mark,
        "y_mark_price": eth_mark,
        "margin_ratio": cross.state({"BTCUSDT": btc_mark, "ETHUSDT": eth_mark}).cross_margin_ratio,
    }
    if isolated:
        inputs["x_isolated_liquidation_price"] = apart.liquidation_price("BTCUSDT")
        inputs["y_isolated_liquidation_price"] = apart.liquidation_price("ETHUSDT")
    return inputs


def test_cross_map_two_positions_summary_gives_ratio_and_liquidated_share():
    chart = figure(**_inputs())
    # Ratio (0.004·20,000 + 0.004·10,000)/10,000 = 1.20 %. The pool is
    # 10,000 + (BTC − 60,000)/3 − (ETH − 3,000)·10/3; it falls below the maintenance
    # margin (≤ 120 USDT here) in 0, 1, 2, 3, 4 cells of the ETH rows 2,000 ... 9,000
    # (e.g. ETH 4,500: pool 5,000 + (BTC − 60,000)/3 ≤ 0 at BTC 30,000 and 45,000):
    # 10 of 20 cells = 50.00 %. Isolated: BTC long (60,000 − 6,000)/0.996 = 54,216.87;
    # ETH short (3,000 + 300)/1.004 = 3,286.85.
    assert chart.summary == (
        "At BTCUSDT 60,000.00 and ETHUSDT 3,000.00 the cross margin ratio is 1.20% "
        "(liquidation at 100%); 50.00% of the map is past the liquidation boundary; "
        "isolated, each liquidates on its own price: BTCUSDT at 54,216.87 and ETHUSDT at 3,286.85."
    )


def test_cross_map_heatmap_is_ratio_in_percent_capped_at_200():
    fig = figure(**_inputs()).figure
    trace = find_trace(fig, "map")
    z = np.asarray(trace.z).reshape(len(ETH), len(BTC))  # column form: one value per cell
    np.testing.assert_array_equal(np.asarray(trace.x).reshape(z.shape)[2], BTC)
    np.testing.assert_array_equal(np.asarray(trace.y).reshape(z.shape)[:, 1], ETH)
    ratio = _ratio_grid(two_positions_account("cross"))
    assert np.asarray(trace.z).dtype == np.float32
    expected = np.minimum(100 * ratio, 200)  # inf (pool used up) shows as the 200 % cap
    np.testing.assert_allclose(z, expected, rtol=1e-6, atol=0)
    assert np.isinf(ratio).any() and np.isfinite(z).all()
    # The boundary is the contour at 100 %, in the Cross colour.
    contours = find_trace(fig, "map").contours
    assert (contours.start, contours.end, contours.coloring) == (100.0, 100.0, "heatmap")


def test_cross_map_isolated_lines_at_engine_prices():
    fig = figure(**_inputs()).figure
    vertical, horizontal = find_trace(fig, "isolated-x"), find_trace(fig, "isolated-y")
    assert abs(vertical.x[0] - 54_216.867469879515) <= 1e-6 and vertical.x[0] == vertical.x[1]
    assert list(vertical.y) == [2_000.0, 9_000.0]  # spans the ETH grid
    assert abs(horizontal.y[0] - 3_286.852589641434) <= 1e-6
    assert list(vertical.text) == ["BTCUSDT 54,216.87", ""]


def test_cross_map_without_isolated_prices_hides_lines():
    chart = figure(**_inputs(isolated=False))
    assert find_trace(chart.figure, "isolated-x").visible is False
    assert find_trace(chart.figure, "isolated-y").visible is False
    assert chart.summary.endswith("past the liquidation boundary.")


def test_update_cross_map_price_tick_moves_marker_and_keeps_map():
    fig = figure(**_inputs()).figure
    z_before = np.asarray(find_trace(fig, "map").z).copy()
    summary = update(fig, **_inputs(btc_mark=45_000.0))
    # BTC at 45,000: pool 10,000 − 5,000 = 5,000; maintenance 60 + 40 = 100 → 2.00 %.
    assert list(find_trace(fig, "mark").x) == [45_000.0]
    np.testing.assert_array_equal(find_trace(fig, "map").z, z_before)
    assert summary.startswith(
        "At BTCUSDT 45,000.00 and ETHUSDT 3,000.00 the cross margin ratio is 2.00%"
    )


def test_update_cross_map_on_figure_widget_past_boundary_says_liquidated():
    widget = go.FigureWidget(figure(**_inputs()).figure)
    summary = update(widget, **_inputs(btc_mark=30_000.0, eth_mark=9_000.0))
    assert list(find_trace(widget, "mark").y) == [9_000.0]
    assert "the cross margin ratio is ∞% (liquidated)" in summary


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"margin_ratio_grid": np.zeros((4, 5))}, r"must have shape .* = \(5, 4\)"),
        ({"x_price_grid": BTC[::-1]}, "x_price_grid must be strictly increasing"),
        ({"y_price_grid": [3_000.0]}, "y_price_grid must hold at least 2"),
        ({"margin_ratio": float("nan")}, "margin_ratio must be finite or inf"),
    ],
    ids=["transposed-grid", "decreasing-grid", "one-point-grid", "nan-ratio"],
)
def test_cross_map_bad_input_raises(change, message):
    with pytest.raises(ValueError, match=message):
        figure(**_inputs() | change)
