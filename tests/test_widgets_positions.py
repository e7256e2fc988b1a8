"""SeveralPositionsWidget: the cross buffer vs isolated independence (comparison 3).

The scenario: a BTC long of Q = 1/3 from 60,000 (2,000 USDT at 10x) and an ETH short of
10/3 ETH from 3,000 (1,000 USDT at 10x) in a 10,000 USDT wallet, bracket 1 (MMR 0.004).
Cross BTC liquidation at ETH mark E: (10,000 − MM_eth + uPnL_eth − 20,000) / (−0.332),
MM_eth = 0.004 · 10/3 · E, uPnL_eth = −10/3 · (E − 3,000). Isolated BTC: 54,216.87,
isolated ETH: (1,000 + 10,000) / (10/3 · 1.004) = 3,286.85.
"""

from __future__ import annotations

import math

import numpy as np
import plotly.graph_objects as go
import pytest

from marginlab.charts import Chart, find_trace
from marginlab.scenarios import two_positions_account
from marginlab.widgets.positions import (
    BTC_GRID,
    ETH_GRID,
    SeveralPositionsWidget,
    cross_ratio_grid,
)

TOL_USDT = 0.005


@pytest.fixture
def widget() -> SeveralPositionsWidget:
    return SeveralPositionsWidget()


def test_positions_defaults_key_numbers(widget):
    # MM (80 + 40) / 10,000 = 1.20 %; cross BTC: (10,000 − 40 − 20,000) / (−0.332) = 30,240.96.
    assert abs(widget.cross_margin_ratio - 0.012) <= 1e-12
    assert abs(widget.cross_liquidation_price - 30_240.96) <= TOL_USDT
    assert abs(widget.isolated_liquidation_price - 54_216.87) <= TOL_USDT
    assert widget.liquidated == {"cross": (), "isolated": ()}
    for text in ("1.20%", "30,240.96", "54,216.87", "3,286.85", "cross none, isolated none"):
        assert text in widget.summary
    assert widget.message == ""


def test_positions_eth_loss_moves_cross_price_not_isolated(widget):
    widget.controls["eth_price"].value = 3_300
    # uPnL_eth = −1,000, MM_eth = 44: (10,000 − 44 − 1,000 − 20,000) / (−0.332) = 33,265.06.
    assert abs(widget.cross_liquidation_price - 33_265.06) <= TOL_USDT
    assert abs(widget.isolated_liquidation_price - 54_216.87) <= TOL_USDT
    # 3,300 > 3,286.85: the isolated ETH short is gone, the cross pool still stands.
    assert widget.liquidated == {"cross": (), "isolated": ("ETHUSDT",)}
    ladder = widget.figures[1]
    assert abs(find_trace(ladder, "liquidation-cross").y[0] - 33_265.06) <= TOL_USDT
    assert abs(find_trace(ladder, "liquidation-isolated").y[0] - 54_216.87) <= TOL_USDT
    # Cross bankruptcy: 60,000 − (10,000 − 1,000)·3 = 33,000.
    assert abs(find_trace(ladder, "bankruptcy-cross").y[0] - 33_000) <= TOL_USDT
    assert "isolated ETHUSDT" in widget.summary


def test_positions_eth_profit_buffers_btc_loss_in_cross(widget):
    widget.controls["btc_price"].value = 40_000
    widget.controls["eth_price"].value = 2_000
    # ETH short gains 10/3 · 1,000 = 3,333.33: cross BTC liquidation moves down to
    # (10,000 − 26.67 + 3,333.33 − 20,000) / (−0.332) = 20,160.64; isolated BTC is gone.
    assert abs(widget.cross_liquidation_price - 20_160.64) <= TOL_USDT
    assert widget.liquidated == {"cross": (), "isolated": ("BTCUSDT",)}
    assert list(find_trace(widget.figures[1], "mark").y) == [40_000, 40_000]


def test_positions_eth_rally_liquidates_whole_cross_pool(widget):
    widget.controls["eth_price"].value = 6_500
    # uPnL_eth = −11,666.67 > the 10,000 pool: ratio inf; everything cross goes.
    assert math.isinf(widget.cross_margin_ratio)
    assert widget.liquidated == {"cross": ("BTCUSDT", "ETHUSDT"), "isolated": ("ETHUSDT",)}
    # (10,000 − 86.67 − 11,666.67 − 20,000) / (−0.332) = 65,522.09 (above the mark).
    assert abs(widget.cross_liquidation_price - 65_522.09) <= TOL_USDT
    assert "cross BTCUSDT and ETHUSDT" in widget.summary


def test_positions_map_grid_equals_engine_state(widget):
    cross = two_positions_account("cross")
    grid = cross_ratio_grid(cross, BTC_GRID, ETH_GRID)
    assert grid.shape == (len(ETH_GRID), len(BTC_GRID))
    for i, j in [(0, 0), (5, 25), (40, 20), (80, 60), (15, 50), (60, 55), (20, 3)]:
        marks = {"BTCUSDT": BTC_GRID[i], "ETHUSDT": ETH_GRID[j]}
        expected = cross.state(marks).cross_margin_ratio
        assert grid[j, i] == expected or abs(grid[j, i] - expected) <= 1e-12
    assert np.isinf(grid).any() and np.isfinite(grid).any()
    # The map travels in column form: one z per cell, rows of the ETH grid.
    z = np.asarray(find_trace(widget.figures[0], "map").z).reshape(grid.shape)
    np.testing.assert_allclose(z, np.minimum(100 * grid, 200), rtol=1e-6, atol=0)


def test_positions_tick_moves_marker_not_map(widget):
    cross_map = widget.figures[0]
    before = np.array(find_trace(cross_map, "map").z)
    widget.controls["btc_price"].value = 52_300
    widget.controls["eth_price"].value = 2_740
    assert list(find_trace(cross_map, "mark").x) == [52_300]
    assert list(find_trace(cross_map, "mark").y) == [2_740]
    np.testing.assert_array_equal(np.asarray(find_trace(cross_map, "map").z), before)
    # The isolated lines stay where they are: 54,216.87 and 3,286.85.
    assert abs(find_trace(cross_map, "isolated-x").x[0] - 54_216.87) <= TOL_USDT
    assert abs(find_trace(cross_map, "isolated-y").y[0] - 3_286.85) <= TOL_USDT


def test_positions_nan_price_refused_keeps_last_state(widget):
    widget.controls["eth_price"].value = 3_300
    before = widget.summary
    widget.controls["btc_price"].value = float("nan")
    assert "marks['BTCUSDT']" in widget.message
    assert widget.controls["btc_price"].value == 60_000
    assert widget.summary == before


def test_positions_state_and_account_are_the_engines(widget):
    widget.controls["btc_price"].value = 50_000
    state = widget.state("isolated")
    assert state == two_positions_account("isolated").state({"BTCUSDT": 50_000, "ETHUSDT": 3_000})
    assert widget.account("cross") == two_positions_account("cross")


def test_positions_static_is_plain_map_with_same_summary(widget):
    widget.controls["eth_price"].value = 3_300
    chart = widget.static()
    assert isinstance(chart, Chart) and type(chart.figure) is go.Figure
    assert chart.summary == widget.summary
    assert list(find_trace(chart.figure, "mark").y) == [3_300]
