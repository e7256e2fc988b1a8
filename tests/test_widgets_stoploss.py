"""StopLossWidget: the guide's BTC long with and without a stop-loss (docs/formulas.md §10).

Numbers are checked against direct engine calls with the same inputs: ``replay`` of
``guide_account(mode)`` along the hand-drawn path, ``simulate_paths`` / ``summarize``
over the model's random paths. Hand-worked, on the 200-step steady decline to -30 %
(mark_k = 60,000 × (1 − 0.3·k/199)): a stop at 57,000 is reached at step 34 and fills at
the mark there, 56,924.62 (a loss of 1/3 × 3,075.38 = 1,025.13); isolated without a stop
is liquidated at step 64 (LP 54,216.87), a loss of its 2,000.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from marginlab.charts import find_trace
from marginlab.charts.outcomes import STRATEGIES
from marginlab.engine import replay, simulate_paths, summarize, teaching_path
from marginlab.scenarios import guide_account
from marginlab.widgets.stoploss import MODELS, PATHS, STOP_GRID, StopLossWidget, path_label

TOL_USDT = 0.005


def path_replay(mode: str, stop: float | None, path: str = "steady_decline", trigger="last"):
    spec = PATHS[path]
    marks, lasts = (
        teaching_path(
            spec.name, start_price=60_000, n_steps=200, depth_rate=spec.depth_rate, price=p
        )
        for p in ("mark", "last")
    )
    stops = None if stop is None else {"BTCUSDT": stop}
    return replay(
        guide_account(mode),
        {"BTCUSDT": marks},
        last_prices={"BTCUSDT": lasts},
        stops=stops,
        stop_trigger=trigger,
    )


def monte_carlo(mode: str, stop: float | None, model: str = "driftless") -> dict[str, float]:
    prices = {"BTCUSDT": MODELS[model].paths(60_000.0)}
    stops = None if stop is None else {"BTCUSDT": stop}
    return summarize(simulate_paths(guide_account(mode), prices, stops=stops), 10_000.0)


@pytest.fixture(scope="module")
def default_widget() -> StopLossWidget:
    """Read-only: tests that move controls build their own."""
    return StopLossWidget()


def test_stop_loss_default_stop_exits_before_liquidation(default_widget):
    widget = default_widget
    assert widget.stop_exit_step == path_replay("isolated", 57_000).stopped_at["BTCUSDT"] == 34
    assert abs(widget.stop_fill_price - 56_924.62) < TOL_USDT
    assert widget.liquidation_step == 64
    assert abs(widget.loss_with_stop - 1_025.13) < TOL_USDT
    assert abs(widget.loss_without_stop - 2_000.0) < TOL_USDT
    assert widget.message == ""
    assert widget.summary.startswith(
        "On the path hand-drawn: a steady fall of 30%, a stop at 57,000.00 (watching the last "
        "price) closes the isolated position at step 34 (fill 56,924.62), a loss of 1,025.13 "
        "USDT; without a stop it is liquidated at step 64, a loss of 2,000.00 USDT;"
    )


@pytest.mark.parametrize("stop", [57_000.0, None])
def test_stop_loss_charts_hold_the_engines_replays(default_widget, stop):
    figure = default_widget.figures[0 if stop else 1]
    for mode in ("cross", "isolated"):
        timeline = path_replay(mode, stop).timeline
        drawn = np.asarray(find_trace(figure, f"equity-{mode}").y, dtype=float)
        assert np.max(np.abs(drawn - timeline["equity_usdt"].to_numpy())) <= 0.004  # float32
    if stop:
        assert list(find_trace(figure, "stops").x) == [34, 34]
    else:
        assert list(find_trace(figure, "liquidations").x) == [None, 64]  # cross, isolated


def test_stop_loss_monte_carlo_matches_simulate_paths_on_driftless_paths(default_widget):
    with_stop, without = monte_carlo("isolated", 57_000), monte_carlo("isolated", None)
    assert default_widget.probability_liquidated == with_stop["liquidation_probability"]
    assert default_widget.probability_stopped == with_stop["stop_probability"]
    assert default_widget.expected_loss == pytest.approx(with_stop["mean_loss_usdt"], abs=1e-9)
    assert (
        default_widget.risk.loc["isolated", "liquidation_probability"]
        == (without["liquidation_probability"])
    )
    assert MODELS["driftless"].mean_growth_rate == 0.0


def test_stop_loss_model_is_named_on_screen(default_widget):
    text = MODELS["driftless"].describe().removesuffix(".")
    assert text in default_widget.summary
    said = "no drift: the mean price stays where it started (so an expected loss compares the "
    assert said + "strategies, not a trend)" in default_widget.summary
    assert text in default_widget.table_area.value
    assert default_widget.model is MODELS["driftless"]


def test_stop_loss_crash_model_says_the_point_is_a_crash():
    widget = StopLossWidget()
    widget.controls["model"].value = "crashes"
    assert "crashes 6 a year" in widget.summary
    assert "the mean price falls" in widget.summary
    assert "(the point here is a crash, not a fair bet)" in widget.summary
    odds = monte_carlo("isolated", 57_000, "crashes")
    assert widget.probability_liquidated == odds["liquidation_probability"]


@pytest.mark.parametrize("label", [path_label(p) for p in PATHS])
def test_stop_loss_every_path_names_its_shape(label):
    assert label.startswith("Hand-drawn: ")


def test_stop_loss_last_price_wick_fires_a_stop_the_mark_never_reaches():
    widget = StopLossWidget()
    widget.controls["path"].value = "last_price_wick"
    expected = path_replay("isolated", 57_000, "last_price_wick")
    assert widget.stop_exit_step == expected.stopped_at["BTCUSDT"] == 100
    assert widget.stop_fill_price == 55_200.0  # filled at the wick: 1/3 × 4,800 lost
    assert abs(widget.loss_with_stop - 1_600.0) < TOL_USDT
    assert widget.liquidation_step is None and abs(widget.loss_without_stop) < TOL_USDT
    # The mark at step 100: 60,000 × (1 − 0.02 × (1 − 1/199)) = 58,806.03.
    assert "it fired on the last price (55,200.00) while the mark stood at 58,806.03" in (
        widget.summary
    )
    widget.controls["trigger"].value = "mark"  # the mark dips only 2 %: not reached
    assert widget.stop_exit_step is None
    assert path_replay("isolated", 57_000, "last_price_wick", "mark").stopped_at["BTCUSDT"] == -1
    assert "is not reached" in widget.summary


@pytest.mark.parametrize("mode", ["cross", "isolated"])
def test_stop_loss_locks_in_a_loss_on_a_dip_that_recovers(mode):
    widget = StopLossWidget(path="shallow_dip", mode=mode)
    # A 7 % dip and back: the stop fires on the way down; without it nothing is lost.
    assert widget.stop_exit_step == path_replay(mode, 57_000, "shallow_dip").stopped_at["BTCUSDT"]
    assert widget.loss_with_stop > 1_000.0 and abs(widget.loss_without_stop) < TOL_USDT
    assert "locked in on a move the position gets over without the stop" in widget.summary


def test_stop_loss_stop_past_the_liquidation_price_never_fires():
    widget = StopLossWidget()
    widget.controls["stop"].value = 50_000.0  # below isolated liquidation at 54,216.87
    assert widget.stop_exit_step is None
    assert widget.liquidation_step_with_stop == 64
    assert widget.probability_stopped == 0.0
    assert "a stop at 50,000.00 never fires: the isolated position is liquidated first" in (
        widget.summary
    )


def test_stop_loss_stop_slider_follows_the_drag_and_updates_in_place():
    widget = StopLossWidget()
    figures = widget.figures
    assert widget.controls["stop"].continuous_update is True
    for stop in (58_000.0, 55_000.0, 54_300.0):
        widget.controls["stop"].value = stop
        expected = path_replay("isolated", stop)
        assert widget.stop_exit_step == expected.stopped_at["BTCUSDT"]
        assert widget.figures is figures


def drawn(fig, key: str) -> bool:
    """Whether the outcomes chart draws strategy ``key``: bars, and its label."""
    labels = list(find_trace(fig, "labels").text)
    heights = np.array(find_trace(fig, f"hist-{key}").y, dtype=float)
    return float(np.nansum(heights)) > 0 and STRATEGIES[key][0] in labels


def test_stop_loss_switched_off_shows_no_stop():
    widget = StopLossWidget()
    widget.controls["use_stop"].value = False
    assert widget.stop_price is None and widget.controls["stop"].disabled
    assert widget.loss_with_stop == widget.loss_without_stop
    assert list(widget.risk.index) == ["cross", "isolated"]
    assert not drawn(widget.figures[2], "isolated_stop")
    assert "the isolated position has no stop-loss" in widget.summary


def test_stop_loss_cross_mode_shows_the_cross_stop_histogram():
    widget = StopLossWidget(mode="cross")
    assert drawn(widget.figures[2], "cross_stop")
    assert not drawn(widget.figures[2], "isolated_stop")
    assert widget.expected_loss == pytest.approx(
        monte_carlo("cross", 57_000)["mean_loss_usdt"], abs=1e-9
    )


def test_stop_loss_nan_or_off_grid_stop_keeps_the_last_good_state():
    widget = StopLossWidget()
    summary = widget.summary
    for bad in (math.nan, 57_050.0):
        widget.controls["stop"].value = bad
        assert "stop_price" in widget.message and widget.message.endswith(
            "(kept the last good values)"
        )
        assert widget.controls["stop"].value == 57_000.0
        assert widget.summary == summary
    assert len(STOP_GRID) == 300


def test_stop_loss_static_is_a_plain_figure_with_the_widget_summary(default_widget):
    chart = default_widget.static()
    assert chart.summary == default_widget.summary
    assert list(find_trace(chart.figure, "stops").x) == [34, 34]


@pytest.mark.parametrize(
    ("kwargs", "reason"),
    [
        ({"path": "crash"}, "path must be one of steady_decline, "),
        ({"model": "bull"}, "model must be one of driftless, crashes"),
        ({"trigger": "index"}, "trigger must be one of last, mark"),
        ({"mode": "portfolio"}, "mode must be 'cross' or 'isolated'"),
        ({"stop_price": 60_500.0}, "stop_price must be between 30,000 and 59,900 USDT"),
        ({"stop_price": math.nan}, "stop_price must be between 30,000 and 59,900 USDT"),
    ],
    ids=["path", "model", "trigger", "mode", "stop-above-entry", "stop-nan"],
)
def test_stop_loss_bad_constructor_arguments_name_the_parameter(kwargs, reason):
    with pytest.raises(ValueError, match=reason):
        StopLossWidget(**kwargs)


def test_stop_loss_widgets_share_their_stop_grids(default_widget):
    # A lesson's widget and its check cell's probe: one set of grids per kernel.
    other = StopLossWidget(path="whipsaw")
    for path_id in PATHS:
        assert other._paths[path_id] is default_widget._paths[path_id]
    for model_id in MODELS:
        assert other._models[model_id] is default_widget._models[model_id]
    # Another length of the hand-drawn paths is a grid of its own.
    shorter = StopLossWidget(n_steps=50)
    assert shorter._paths["steady_decline"] is not default_widget._paths["steady_decline"]
