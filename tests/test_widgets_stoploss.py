"""StopLossWidget: the guide's BTC long with and without a stop-loss (docs/formulas.md §10).

Numbers are checked against direct engine calls with the same inputs: ``replay`` of
``guide_account(mode)`` along ``teaching_path(...)`` and ``simulate_paths`` /
``summarize`` over ``gbm_paths(60,000, **MONTE_CARLO)``.

Hand-worked, the guide's position (10,000 USDT account, 2,000 margin, 10x, 1/3 BTC from
60,000) on the 200-step steady decline to -30 % (mark_k = 60,000 × (1 − 0.3·k/199)):
* a stop at 57,000 (-5 %) is reached at k >= 33.17, step 34, and fills at 57,000:
  a loss of 1/3 × 3,000 = 1,000 USDT in either mode;
* isolated, liquidation at 54,216.87 (-9.64 %) comes at k >= 63.94, step 64: lose 2,000;
* cross is liquidated only at 30,120.48 (-49.8 %), past the end: at -30 % the loss is
  1/3 × 18,000 = 6,000 USDT.
"""

from __future__ import annotations

import math
from functools import cache

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest

from marginlab.charts import equity_path_figure, find_trace
from marginlab.engine import gbm_paths, replay, simulate_paths, summarize, teaching_path
from marginlab.scenarios import guide_account
from marginlab.widgets.stoploss import MONTE_CARLO, StopLossWidget

TOL_USDT = 0.005
MODES = ("cross", "isolated")


@cache  # a ReplayResult is immutable; tests share them
def path_replay(mode: str, stop: float | None, path: str = "steady_decline"):
    prices = teaching_path(path, start_price=60_000, n_steps=200)
    stops = None if stop is None else {"BTCUSDT": stop}
    return replay(guide_account(mode), {"BTCUSDT": prices}, stops=stops)


@pytest.fixture(scope="module")
def monte_carlo_prices() -> np.ndarray:
    return gbm_paths(60_000.0, **MONTE_CARLO)


def monte_carlo(mode: str, stop: float | None, prices: np.ndarray) -> dict[str, float]:
    stops = None if stop is None else {"BTCUSDT": stop}
    result = simulate_paths(guide_account(mode), {"BTCUSDT": prices}, stops=stops)
    return summarize(result, 10_000.0)


def first(result, kind: str) -> int | None:
    step = result.first_step(kind)
    return None if step < 0 else step


def expected_chart(stop: float | None, path: str = "steady_decline"):
    runs = {m: path_replay(m, stop, path) for m in MODES}
    inputs = {"steps": runs["cross"].timeline.index.to_numpy()}
    for mode, result in runs.items():
        inputs[f"{mode}_equity_usdt"] = result.timeline["equity_usdt"].to_numpy()
        inputs[f"{mode}_margin_ratio"] = result.timeline["BTCUSDT.margin_ratio"].to_numpy()
        inputs[f"{mode}_liquidated_at"] = first(result, "liquidation")
        inputs[f"{mode}_stopped_at"] = first(result, "stop")
    return equity_path_figure(**inputs)


def assert_same_traces(figure: go.Figure, expected: go.Figure) -> None:
    for key in ("equity-cross", "equity-isolated", "ratio-cross", "ratio-isolated", "stops"):
        got, want = find_trace(figure, key), find_trace(expected, key)
        for axis in ("x", "y"):
            np.testing.assert_array_equal(
                np.asarray(got[axis], dtype=float), np.asarray(want[axis], dtype=float)
            )
    assert list(find_trace(figure, "liquidations").x) == list(
        find_trace(expected, "liquidations").x
    )


@pytest.fixture(scope="module")
def default_widget() -> StopLossWidget:
    """Read-only: tests that move controls build their own."""
    return StopLossWidget()


def test_stop_loss_default_isolated_stop_exits_before_liquidation(default_widget):
    widget = default_widget
    with_stop, without = path_replay("isolated", 57_000), path_replay("isolated", None)

    assert widget.stop_exit_step == first(with_stop, "stop") == 34
    # the first price at or below 57,000, where a stop-market order fills:
    # 60,000 × (1 − 0.3 × 34/199) = 56,924.62
    assert abs(widget.stop_fill_price - 56_924.62) < TOL_USDT
    assert widget.liquidation_step == first(without, "liquidation") == 64
    assert widget.liquidation_step_with_stop is None
    assert abs(widget.loss_with_stop - (10_000 - with_stop.final_equity_usdt)) < TOL_USDT
    assert abs(widget.loss_with_stop - 1_025.13) < TOL_USDT  # 1/3 BTC x 3,075.38
    assert abs(widget.loss_without_stop - 2_000.0) < TOL_USDT  # the isolated margin
    assert widget.message == ""


def test_stop_loss_charts_hold_the_engine_replays_with_and_without_the_stop(default_widget):
    with_figure, without_figure, _ = default_widget.figures

    assert_same_traces(with_figure, expected_chart(57_000).figure)
    assert_same_traces(without_figure, expected_chart(None).figure)
    assert list(find_trace(with_figure, "stops").x) == [34, 34]  # both modes stop at 34
    assert list(find_trace(without_figure, "liquidations").x) == [64]  # isolated only


def test_stop_loss_monte_carlo_matches_simulate_paths(default_widget, monte_carlo_prices):
    with_stop = monte_carlo("isolated", 57_000, monte_carlo_prices)
    without = monte_carlo("isolated", None, monte_carlo_prices)

    assert default_widget.probability_liquidated == with_stop["liquidation_probability"]
    assert default_widget.probability_stopped == with_stop["stop_probability"]
    assert default_widget.expected_loss == pytest.approx(with_stop["mean_loss_usdt"], abs=1e-9)
    # a stop 5 % below entry turns most liquidations into small stop exits
    assert default_widget.probability_liquidated < without["liquidation_probability"]
    pd.testing.assert_series_equal(
        default_widget.risk.loc["isolated"],
        pd.Series(without, name="isolated"),
        check_names=False,
    )


def test_stop_loss_summary_gives_the_stop_the_liquidation_and_the_odds(
    default_widget, monte_carlo_prices
):
    odds = monte_carlo("isolated", 57_000, monte_carlo_prices)
    summary = default_widget.summary

    assert summary.startswith(
        "On the steady decline, a stop at 57,000.00 closes the isolated position at step 34 "
        "(fill 56,924.62), a loss of 1,025.13 USDT; without a stop it is liquidated at step 64 "
        "(mark 54,211.06), a loss of 2,000.00 USDT; over 2,000 random paths the stop closes it "
        f"on {100 * odds['stop_probability']:.2f}% and liquidation comes first on "
        f"{100 * odds['liquidation_probability']:.2f}%"
    )
    assert summary.endswith(").")


def test_stop_loss_cross_mode_loses_more_without_the_stop():
    widget = StopLossWidget()

    widget.controls["mode"].value = "cross"

    without = path_replay("cross", None)
    assert widget.mode == "cross"
    assert widget.liquidation_step is None  # 30,120.48 is never reached on a -30 % path
    assert abs(widget.loss_without_stop - (10_000 - without.final_equity_usdt)) < TOL_USDT
    assert abs(widget.loss_without_stop - 6_000.0) < TOL_USDT  # 1/3 BTC x 18,000
    assert abs(widget.loss_with_stop - 1_025.13) < TOL_USDT
    assert widget.stop_exit_step == 34
    assert "ends with a loss of 6,000.00 USDT" in widget.summary


def test_stop_loss_stop_past_the_liquidation_price_never_fires(monte_carlo_prices):
    widget = StopLossWidget()

    widget.controls["stop"].value = 50_000.0  # below isolated liquidation at 54,216.87

    with_stop = path_replay("isolated", 50_000)
    assert widget.stop_exit_step is None
    assert widget.liquidation_step_with_stop == first(with_stop, "liquidation") == 64
    assert abs(widget.loss_with_stop - 2_000.0) < TOL_USDT
    assert widget.probability_stopped == 0.0
    assert (
        widget.probability_liquidated
        == monte_carlo("isolated", 50_000, monte_carlo_prices)["liquidation_probability"]
    )
    assert "a stop at 50,000.00 never fires" in widget.summary
    assert list(find_trace(widget.figures[0], "liquidations").x) == [64]


def test_stop_loss_stop_moves_update_the_same_figures_in_place():
    widget = StopLossWidget()
    figures = widget.figures

    widget.controls["stop"].value = 55_000.0

    assert widget.figures is figures
    assert_same_traces(figures[0], expected_chart(55_000).figure)
    assert widget.stop_exit_step == first(path_replay("isolated", 55_000), "stop")


def test_stop_loss_switched_off_shows_no_stop():
    widget = StopLossWidget()

    widget.controls["use_stop"].value = False

    assert widget.stop_price is None
    assert widget.controls["stop"].disabled
    assert widget.stop_exit_step is None
    assert widget.loss_with_stop == widget.loss_without_stop
    assert widget.probability_stopped == 0.0
    assert list(widget.risk.index) == ["cross", "isolated"]
    assert find_trace(widget.figures[2], "hist-isolated_stop").visible is False
    assert "the isolated position has no stop-loss" in widget.summary


def test_stop_loss_other_teaching_path_replays_it():
    widget = StopLossWidget()

    widget.controls["path"].value = "v_dip_recovery"

    with_stop = path_replay("isolated", 57_000, "v_dip_recovery")
    without = path_replay("isolated", None, "v_dip_recovery")
    assert widget.stop_exit_step == first(with_stop, "stop")
    assert widget.liquidation_step == first(without, "liquidation")
    assert abs(widget.loss_with_stop - (10_000 - with_stop.final_equity_usdt)) < TOL_USDT
    assert_same_traces(widget.figures[1], expected_chart(None, "v_dip_recovery").figure)
    assert widget.summary.startswith("On the v dip recovery, ")


def test_stop_loss_nan_stop_keeps_the_last_good_state():
    widget = StopLossWidget()
    summary = widget.summary

    widget.controls["stop"].value = math.nan  # a FloatSlider lets NaN through

    assert widget.message.startswith("stops['BTCUSDT'] must be a finite number, got nan")
    assert widget.message.endswith("(kept the last good values)")
    assert widget.controls["stop"].value == 57_000.0
    assert widget.summary == summary
    assert widget.stop_exit_step == 34


def test_stop_loss_static_is_a_plain_figure_with_the_widget_summary(default_widget):
    chart = default_widget.static()

    assert type(chart.figure) is go.Figure
    assert chart.summary == default_widget.summary
    assert_same_traces(chart.figure, expected_chart(57_000).figure)


@pytest.mark.parametrize(
    ("kwargs", "reason"),
    [
        ({"path": "crash"}, "path must be one of steady_decline, "),
        ({"mode": "portfolio"}, "mode must be one of cross, isolated"),
        ({"stop_price": 60_500.0}, "stop_price must be between 30,000 and 59,900 USDT"),
        ({"stop_price": math.nan}, "stop_price must be between 30,000 and 59,900 USDT"),
    ],
    ids=["path", "mode", "stop-above-entry", "stop-nan"],
)
def test_stop_loss_bad_constructor_arguments_name_the_parameter(kwargs, reason):
    with pytest.raises(ValueError, match=reason):
        StopLossWidget(**kwargs)
