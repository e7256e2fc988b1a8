"""Equity and margin ratio along a path: the engine's replay of the guide's account."""

import json

import numpy as np
import plotly.graph_objects as go
import pytest

from marginlab.charts import (
    EquityPaths,
    ModePath,
    equity_path_figure,
    find_trace,
    update_equity_path,
)
from marginlab.engine import replay
from marginlab.engine.paths import teaching_path
from marginlab.scenarios import guide_account
from marginlab.widgets import make_figure_widget
from marginlab.widgets._plotly import FIGURE_UPDATE, SharedFigureWidget


def _paths(inputs: dict) -> EquityPaths:
    """The chart's input from the per-mode arrays and events of the tests below."""
    return EquityPaths(
        inputs["steps"],
        {
            mode: ModePath(
                inputs[f"{mode}_equity_usdt"],
                inputs[f"{mode}_margin_ratio"],
                inputs.get(f"{mode}_liquidated_at"),
                inputs.get(f"{mode}_stopped_at"),
            )
            for mode in ("cross", "isolated")
        },
    )


def figure(step_range=None, x_title: str = "step", **inputs):
    return equity_path_figure(_paths(inputs), step_range=step_range, x_title=x_title)


def update(fig, **inputs) -> str:
    return update_equity_path(fig, _paths(inputs))


CURVES = ("equity-cross", "equity-isolated", "ratio-cross", "ratio-isolated")
PATH = teaching_path("steady_decline", start_price=60_000, n_steps=101)


def _inputs(stop_price: float | None = None, end: int | None = None) -> dict:
    """Chart inputs from replays of the guide's long in each mode (first ``end`` steps)."""
    stops = None if stop_price is None else {"BTCUSDT": stop_price}
    runs = {
        mode: replay(guide_account(mode), {"BTCUSDT": PATH}, stops=stops)
        for mode in ("cross", "isolated")
    }
    inputs: dict = {"steps": runs["cross"].timeline.index.to_numpy()[:end]}
    for mode, run in runs.items():
        inputs[f"{mode}_equity_usdt"] = run.timeline["equity_usdt"].to_numpy()[:end]
        inputs[f"{mode}_margin_ratio"] = run.timeline["BTCUSDT.margin_ratio"].to_numpy()[:end]
        inputs[f"{mode}_liquidated_at"] = run.liquidated_at["BTCUSDT"]
        inputs[f"{mode}_stopped_at"] = run.stopped_at["BTCUSDT"]
    return inputs


def test_equity_path_steady_decline_isolated_liquidated_at_step_33():
    inputs = _inputs()
    chart = figure(**inputs)
    # Marks fall 180 USDT a step: step 33 is 54,060 < 54,216.87, so isolated goes there,
    # keeping 8,000; cross ends at 42,000 with 10,000 − 18,000/3 = 4,000 USDT.
    # Isolated peaks at 100 % when it is liquidated (drawn there, see the next test);
    # cross at the last step: 56/4,000 = 1.40 %.
    assert chart.summary == (
        "Over 101 steps, isolated is liquidated at step 33, ending at 8,000.00 USDT "
        "(peak margin ratio 100.00%); cross is not liquidated, ending at 4,000.00 USDT "
        "(peak margin ratio 1.40%)."
    )
    # A point per mode (cross, isolated), empty where that mode has no such event.
    marker = find_trace(chart.figure, "liquidations")
    assert (list(marker.x), list(marker.y), list(marker.text)) == (
        [None, 33],
        [None, 8_000.0],
        ["", "Isolated liquidated"],
    )
    stops = find_trace(chart.figure, "stops")
    assert (list(stops.x), list(stops.y), list(stops.text)) == (
        [None, None],
        [None, None],
        ["", ""],
    )


def test_equity_path_traces_hold_timeline_in_percent():
    inputs = _inputs()
    fig = figure(**inputs).figure
    equity = find_trace(fig, "equity-cross")
    # Steps 0, 1, ... 100 travel as x0 = 0, dx = 1; equity as float32 (4,000..10,000 USDT
    # is within 2**-10 of the float64 value, far under a cent).
    assert (equity.x, equity.x0, equity.dx) == (None, 0, 1)
    assert equity.y.dtype == np.float32
    assert np.max(np.abs(equity.y - inputs["cross_equity_usdt"])) <= 2**-10
    ratio = np.asarray(find_trace(fig, "ratio-isolated").y, dtype=float)
    # Step 32 (mark 54,240): maintenance 72.32 / margin balance 80 = 90.40 %, the highest
    # the timeline records: step 33 is recorded after the liquidation (NaN: closed).
    peak = guide_account("isolated").state({"BTCUSDT": PATH[32]}).positions[0].margin_ratio
    assert f"{100 * peak:.2f}%" == "90.40%"
    assert np.isnan(inputs["isolated_margin_ratio"][33])
    assert abs(ratio[32] - 90.4) <= 1e-4  # float32
    assert ratio[33] == 100.0  # the liquidation step: drawn at the threshold
    assert np.isnan(ratio[34:]).all()  # closed: no ratio, a gap in the line
    limit = find_trace(fig, "ratio-limit")
    assert (list(limit.x), list(limit.y)) == ([0, 100], [100.0, 100.0])


def test_equity_path_stop_loss_exit_marked_before_liquidation():
    chart = figure(**_inputs(stop_price=57_000))
    # 60,000 − 180·17 = 56,940 is the first mark at or below the 57,000 stop: both modes
    # exit at step 17, filled there (the worse of stop and price), and keep
    # 10,000 − 3,060/3 = 8,980 USDT.
    stops = find_trace(chart.figure, "stops")
    assert list(stops.x) == [17, 17]
    assert list(stops.y) == [8_980.0, 8_980.0]
    assert list(find_trace(chart.figure, "liquidations").y) == [None, None]
    assert "isolated is stopped out at step 17, ending at 8,980.00 USDT" in chart.summary


def test_update_equity_path_replay_prefix_hides_events_not_reached():
    chart = figure(**_inputs(end=1), step_range=(0, 100))
    summary = update(chart.figure, **_inputs(end=30))
    assert list(find_trace(chart.figure, "liquidations").x) == [None, None]  # 33 not reached
    assert len(find_trace(chart.figure, "equity-isolated").y) == 30
    assert summary.startswith("Over 30 steps, isolated is not liquidated")
    update(chart.figure, **_inputs(end=40))
    assert list(find_trace(chart.figure, "liquidations").x) == [None, 33]
    assert list(chart.figure.layout.xaxis2.range) == [0, 100]


def test_update_equity_path_on_figure_widget_moves_markers():
    widget = go.FigureWidget(figure(**_inputs()).figure)
    update(widget, **_inputs(stop_price=57_000))
    assert list(find_trace(widget, "stops").x) == [17, 17]
    assert list(find_trace(widget, "liquidations").x) == [None, None]


def test_equity_path_datetime_steps_named_by_time():
    steps = np.array(["2024-03-01T00:00", "2024-03-01T01:00", "2024-03-01T02:00"], "datetime64[m]")
    chart = figure(
        steps=steps,
        cross_equity_usdt=[10_000, 9_000, 8_000],
        isolated_equity_usdt=[10_000, 9_000, 8_000],
        cross_margin_ratio=[0.01, 0.01, 0.02],
        isolated_margin_ratio=[0.1, 0.5, 1.0],
        isolated_liquidated_at=2,
    )
    assert "isolated is liquidated at 2024-03-01T02:00," in chart.summary


@pytest.mark.parametrize(
    ("change", "error", "message"),
    [
        ({"cross_equity_usdt": [1.0, 2.0]}, ValueError, "same length"),
        ({"isolated_liquidated_at": -2}, ValueError, "liquidated_at must be -1"),
        ({"cross_stopped_at": 1.5}, TypeError, "stopped_at must be an int"),
        ({"steps": ["a", "b"]}, TypeError, "steps must be an array of numbers or datetimes"),
    ],
    ids=["length", "index-below-minus-one", "float-index", "text-steps"],
)
def test_equity_path_bad_input_raises(change, error, message):
    with pytest.raises(error, match=message):
        figure(**_inputs() | change)


def _widget_updates(widget: SharedFigureWidget) -> list[tuple[dict, list]]:
    """Capture the updates the widget sends to the page: (message, binary buffers)."""
    sent: list[tuple[dict, list]] = []
    widget.send = lambda content, buffers=None: sent.append((content, list(buffers or [])))
    return sent


def _long_path(n_steps: int) -> dict:
    """A 720-step hourly path like the when-to-use scenarios (values need not be real)."""
    steps = np.arange(n_steps, dtype=np.int32)
    equity = 10_000.0 + 1_000.0 * np.sin(steps / 50.0)
    return {
        "steps": steps,
        "cross_equity_usdt": equity,
        "isolated_equity_usdt": equity - 500.0,
        "cross_margin_ratio": 80.0 / equity,
        "isolated_margin_ratio": 80.0 / (equity - 5_000.0),
    }


def test_update_equity_path_play_tick_on_720_steps_sends_no_x_and_under_20_kb():
    full = _long_path(720)
    widget = make_figure_widget(
        figure(**{k: v[:719] for k, v in full.items()}, step_range=(0, 719)).figure
    )
    sent = _widget_updates(widget)

    update(widget, **full)  # the last play tick: one more step

    # Four curves of 720 float32 values: 4 · 720 · 4 = 11,520 bytes of buffers, no x.
    [(message, buffers)] = sent
    assert message["type"] == FIGURE_UPDATE and message["layout"] == {}
    changed = dict(message["traces"])
    curves = [i for i, trace in enumerate(widget.data) if trace.meta in CURVES]
    assert len(curves) == 4
    assert all(set(changed[i]) == {"y"} and changed[i]["y"]["dtype"] == "float32" for i in curves)
    binary = sum(len(buffer) for buffer in buffers)
    assert binary == 11_520 and binary + len(json.dumps(message)) <= 20_000
    assert [len(find_trace(widget, key).y) for key in ("equity-cross", "ratio-isolated")] == [
        720,
        720,
    ]


@pytest.mark.parametrize(
    ("steps", "x", "x0", "dx"),
    [
        ([3, 5, 7], None, 3, 2),
        ([0.0, 0.5, 1.0], None, 0.0, 0.5),
        ([0, 1, 3], [0, 1, 3], None, None),
        ([7], None, 7, 1),
    ],
    ids=["even-ints", "even-floats", "uneven", "one-step"],
)
def test_equity_path_even_steps_travel_as_x0_dx_others_as_x(steps, x, x0, dx):
    n = len(steps)
    chart = figure(
        steps=steps,
        cross_equity_usdt=[10_000.0] * n,
        isolated_equity_usdt=[10_000.0] * n,
        cross_margin_ratio=[0.01] * n,
        isolated_margin_ratio=[0.02] * n,
    )
    for key in CURVES:
        trace = find_trace(chart.figure, key)
        assert (None if trace.x is None else list(trace.x), trace.x0, trace.dx) == (x, x0, dx)


def test_update_equity_path_uneven_then_even_steps_clears_the_other_form():
    even = _long_path(30)
    uneven = even | {"steps": np.concatenate([np.arange(29), [40]]).astype(np.int64)}
    fig = figure(**even).figure

    update(fig, **uneven)
    trace = find_trace(fig, "ratio-cross")
    # int64 steps that fit travel as int32 binary; x0 and dx are cleared.
    assert (trace.x.dtype, trace.x[-1], trace.x0, trace.dx) == (np.int32, 40, None, None)

    update(fig, **even)
    trace = find_trace(fig, "ratio-cross")
    assert (trace.x, trace.x0, trace.dx) == (None, 0, 1)


def test_equity_path_equity_above_2_pow_17_usdt_stays_float64():
    inputs = _long_path(30)
    inputs["cross_equity_usdt"] = inputs["cross_equity_usdt"] + 200_000.0  # 210,000 USDT
    fig = figure(**inputs).figure
    # float32 steps are 2**-6 = 0.016 USDT apart at 210,000: cents would be lost.
    assert find_trace(fig, "equity-cross").y.dtype == np.float64
    assert find_trace(fig, "equity-isolated").y.dtype == np.float32


def test_equity_path_both_modes_stopped_at_same_step_labels_above_and_below():
    chart = figure(**_inputs(stop_price=57_000))
    stops = find_trace(chart.figure, "stops")
    # Both modes exit at step 17 with 9,000 USDT: equal heights, cross's label goes above.
    assert list(stops.text) == ["Cross stopped out", "Isolated stopped out"]
    assert list(stops.textposition) == ["top center", "bottom center"]


def test_equity_path_two_liquidations_higher_marker_labelled_above():
    inputs = _long_path(10) | {"cross_liquidated_at": 5, "isolated_liquidated_at": 5}
    chart = figure(**inputs)
    marks = find_trace(chart.figure, "liquidations")
    # Isolated equity is the cross curve − 500 USDT: cross is higher, labelled above.
    assert list(marks.y) == [inputs["cross_equity_usdt"][5], inputs["isolated_equity_usdt"][5]]
    assert list(marks.textposition) == ["top center", "bottom center"]
    inputs |= {"isolated_equity_usdt": inputs["cross_equity_usdt"] + 500.0}
    update(chart.figure, **inputs)
    assert list(find_trace(chart.figure, "liquidations").textposition) == [
        "bottom center",
        "top center",
    ]


def test_equity_path_one_event_labelled_above():
    chart = figure(**_inputs())
    marks = find_trace(chart.figure, "liquidations")
    assert (list(marks.text), list(marks.textposition)) == (
        ["", "Isolated liquidated"],
        ["top center", "top center"],
    )


def test_equity_path_limit_label_sits_below_the_100_percent_line():
    limit = find_trace(figure(**_inputs()).figure, "ratio-limit")
    # The ratio axis runs from 0 to at least 100: under the line is inside the panel
    # (above it was clipped when no curve went past 100 %).
    assert (limit.textposition, limit.cliponaxis) == ("bottom right", False)
    assert list(limit.text) == ["liquidation at 100%", ""]


def test_equity_path_cross_liquidation_ratio_drawn_at_100_percent_input_untouched():
    inputs = {
        "steps": [0, 1, 2, 3],
        "cross_equity_usdt": [10_000.0, 6_000.0, 0.0, 0.0],
        "isolated_equity_usdt": [10_000.0, 9_000.0, 8_000.0, 8_000.0],
        "cross_margin_ratio": np.array([0.01, 0.6, np.nan, np.nan]),  # recorded after events
        "isolated_margin_ratio": np.array([0.04, 0.5, 1.3, np.nan]),
        "cross_liquidated_at": 2,
        "isolated_liquidated_at": 2,  # recorded 130 %: above the threshold, kept
    }
    chart = figure(**inputs)
    assert list(find_trace(chart.figure, "ratio-cross").y) == [1.0, 60.0, 100.0, None]
    assert list(find_trace(chart.figure, "ratio-isolated").y) == [4.0, 50.0, 130.0, None]
    assert np.isnan(inputs["cross_margin_ratio"][2])  # the caller's array is not changed
    assert "(peak margin ratio 100.00%)" in chart.summary
    assert "(peak margin ratio 130.00%)" in chart.summary


def test_equity_path_liquidation_not_reached_ratio_not_raised():
    inputs = _inputs(end=33)  # steps 0..32; the liquidation at 33 is not reached
    ratio = np.asarray(find_trace(figure(**inputs).figure, "ratio-isolated").y)
    assert abs(ratio.max() - 90.4) <= 1e-4


def test_equity_path_replay_with_whole_path_keeps_its_value_axes():
    whole = _paths(_inputs())
    chart = equity_path_figure(whole.upto(0), step_range=(0, 100), whole=whole)
    fig = chart.figure
    # Equity runs from 10,000 (start) down to 4,000 (cross at the end): span 6,000, 5 %
    # (300 USDT) of padding each side. The ratio axis starts at 0 and holds the 100 % line
    # (isolated drawn at 100 % when liquidated): 0 .. 105 %.
    assert list(fig.layout.yaxis.range) == [3_700.0, 10_300.0]
    assert list(fig.layout.yaxis2.range) == [0.0, 105.0]
    assert (fig.layout.yaxis.autorange, fig.layout.yaxis2.autorange) == (False, False)
    widget = go.FigureWidget(fig)
    for end in (30, 60, 100):
        update_equity_path(widget, whole.upto(end), whole=whole)
        assert list(widget.layout.yaxis.range) == [3_700.0, 10_300.0]
    equity = find_trace(widget, "equity-cross").y
    assert 3_700.0 < np.nanmin(equity) and np.nanmax(equity) < 10_300.0


def test_equity_path_without_whole_path_leaves_value_axes_to_plotly():
    fig = figure(**_inputs()).figure
    assert (fig.layout.yaxis.range, fig.layout.yaxis2.range) == (None, None)


def test_update_equity_path_writes_value_ranges_only_when_they_move(monkeypatch):
    """A replay step keeps the y ranges of the whole path: nothing is written to the layout
    (plotly would validate each write); another whole path moves them."""
    from plotly.basedatatypes import BasePlotlyType

    from marginlab.charts.path import value_ranges

    whole = _paths(_inputs())
    chart = equity_path_figure(_paths(_inputs(end=10)), whole=whole)
    written = []
    store = BasePlotlyType.__setitem__
    monkeypatch.setattr(
        BasePlotlyType, "__setitem__", lambda obj, p, v: written.append(p) or store(obj, p, v)
    )

    update_equity_path(chart.figure, _paths(_inputs(end=20)), whole=whole)
    assert len(find_trace(chart.figure, "equity-cross").y) == 20  # the curves moved (were 10)
    assert not {"range", "autorange"} & set(written)  # and nothing else

    other = _paths(_inputs(stop_price=57_000))
    assert value_ranges(other) != value_ranges(whole)
    update_equity_path(chart.figure, _paths(_inputs(end=20)), whole=other)
    assert "range" in written
    for axis, span in value_ranges(other).items():
        assert list(chart.figure.layout[axis].range) == span
        assert chart.figure.layout[axis].autorange is False
