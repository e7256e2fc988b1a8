"""LossAtLiquidationWidget: the guide's account driven through liquidation (comparison 2).

The guide's account: 10,000 USDT wallet, 2,000 USDT margin on a 10x BTC long (Q = 1/3)
from 60,000. Isolated liquidates at 54,216.87 (loses the 2,000 margin), cross at
30,120.48 (loses the whole 10,000). Before liquidation the margin balance is
10,000 + Q·(P − 60,000).
"""

from __future__ import annotations

import plotly.graph_objects as go
import pytest

from marginlab.charts import Chart, find_trace
from marginlab.scenarios import guide_account
from marginlab.widgets.loss import LossAtLiquidationWidget

TOL_USDT = 0.005


@pytest.fixture
def widget() -> LossAtLiquidationWidget:
    return LossAtLiquidationWidget()


def bar(widget: LossAtLiquidationWidget, key: str) -> float:
    (value,) = find_trace(widget.figures[0], key).x
    return float(value)


def test_loss_at_entry_nothing_lost(widget):
    assert widget.liquidated == {"cross": False, "isolated": False}
    assert widget.kept == {"cross": 10_000, "isolated": 10_000}
    assert widget.lost == {"cross": 0, "isolated": 0}
    assert bar(widget, "kept-cross") == 10_000 and bar(widget, "lost-cross") == 0
    assert widget.summary.startswith("BTC at 60,000.00: From a 10,000.00 USDT wallet")


def test_loss_at_50000_isolated_liquidated_cross_not(widget):
    widget.controls["price"].value = 50_000
    assert widget.liquidated == {"cross": False, "isolated": True}
    # Isolated loses its 2,000 margin; cross: 10,000 + (50,000 − 60,000)/3 = 6,666.67.
    assert abs(widget.kept["isolated"] - 8_000) <= TOL_USDT
    assert abs(widget.lost["isolated"] - 2_000) <= TOL_USDT
    assert abs(widget.kept["cross"] - 6_666.67) <= TOL_USDT
    assert abs(widget.lost["cross"] - 3_333.33) <= TOL_USDT
    assert abs(bar(widget, "lost-isolated") - 2_000) <= TOL_USDT
    assert abs(bar(widget, "kept-isolated") - 8_000) <= TOL_USDT
    assert abs(bar(widget, "lost-cross") - 3_333.33) <= TOL_USDT
    assert abs(bar(widget, "kept-cross") - 6_666.67) <= TOL_USDT
    assert "isolated liquidation loses 2,000.00 USDT and keeps 8,000.00 USDT" in widget.summary
    assert "cross is not liquidated (down 3,333.33 USDT, 6,666.67 USDT left)" in widget.summary
    # The numbers are the engine's: the same account, liquidated independently.
    outcome = guide_account("isolated").liquidate({"BTCUSDT": 50_000})
    assert widget.kept["isolated"] == outcome.kept_usdt
    state = guide_account("cross").state({"BTCUSDT": 50_000})
    assert widget.kept["cross"] == state.margin_balance


def test_loss_just_above_cross_liquidation_little_left(widget):
    widget.controls["price"].value = 30_200
    # 10,000 + (30,200 − 60,000)/3 = 66.67 USDT left; ratio 40.27 / 66.67 < 100 %.
    assert widget.liquidated["cross"] is False
    assert abs(widget.kept["cross"] - 66.67) <= TOL_USDT


def test_loss_below_cross_liquidation_whole_wallet_lost(widget):
    widget.controls["price"].value = 30_000
    assert widget.liquidated == {"cross": True, "isolated": True}
    assert widget.kept == {"cross": 0, "isolated": 8_000}
    assert widget.lost == {"cross": 10_000, "isolated": 2_000}
    assert bar(widget, "lost-cross") == 10_000 and bar(widget, "kept-cross") == 0
    assert "cross liquidation loses 10,000.00 USDT and keeps 0.00 USDT" in widget.summary


def test_loss_ladder_mark_follows_price_levels_fixed(widget):
    widget.controls["price"].value = 45_500
    ladder = widget.figures[1]
    assert list(find_trace(ladder, "mark").y) == [45_500, 45_500]
    assert abs(find_trace(ladder, "liquidation-isolated").y[0] - 54_216.87) <= TOL_USDT
    assert abs(find_trace(ladder, "liquidation-cross").y[0] - 30_120.48) <= TOL_USDT
    # Bankruptcy: 60,000 − 2,000·3 = 54,000 and 60,000 − 10,000·3 = 30,000.
    assert abs(find_trace(ladder, "bankruptcy-isolated").y[0] - 54_000) <= TOL_USDT
    assert abs(find_trace(ladder, "bankruptcy-cross").y[0] - 30_000) <= TOL_USDT


def test_loss_in_profit_bars_show_wallet_kept_and_gain_past_it(widget):
    widget.controls["price"].value = 70_000
    # 10,000 + (70,000 − 60,000)/3 = 13,333.33 in both modes; the running loss is −3,333.33.
    assert abs(widget.kept["cross"] - 13_333.33) <= TOL_USDT
    assert abs(widget.lost["isolated"] + 3_333.33) <= TOL_USDT
    assert bar(widget, "lost-isolated") == 0
    assert abs(bar(widget, "kept-isolated") - 10_000) <= TOL_USDT
    assert abs(bar(widget, "gain-isolated") - 3_333.33) <= TOL_USDT
    assert "(the position is up 3,333.33 USDT)" in widget.summary


def test_loss_leverage_20_isolated_liquidates_sooner(widget):
    widget.controls["leverage"].value = 20
    widget.controls["price"].value = 56_000
    # Q = 2/3: isolated LP (2,000 − 40,000)/(−0.664) = 57,228.92 > 56,000: liquidated;
    # cross LP 45,180.72: open, 10,000 − (2/3)·4,000 = 7,333.33 left.
    assert widget.liquidated == {"cross": False, "isolated": True}
    assert abs(widget.liquidation_price["isolated"] - 57_228.92) <= TOL_USDT
    assert abs(widget.kept["cross"] - 7_333.33) <= TOL_USDT
    assert widget.account("cross").position("BTCUSDT").leverage == 20


def test_loss_nan_price_refused_keeps_last_state(widget):
    widget.controls["price"].value = 50_000
    before = widget.summary
    widget.controls["price"].value = float("nan")
    assert "marks['BTCUSDT']" in widget.message
    assert widget.controls["price"].value == 50_000
    assert widget.summary == before and widget.liquidated["isolated"] is True


def test_loss_static_is_plain_figure_with_same_summary(widget):
    widget.controls["price"].value = 50_000
    chart = widget.static()
    assert isinstance(chart, Chart) and type(chart.figure) is go.Figure
    assert chart.summary == widget.summary
    assert list(find_trace(chart.figure, "kept-isolated").x) == [8_000]
