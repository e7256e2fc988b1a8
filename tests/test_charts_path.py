"""Equity and margin ratio along a path: the engine's replay of the guide's account."""

import numpy as np
import plotly.graph_objects as go
import pytest

from marginlab.charts import equity_path_figure, find_trace, update_equity_path
from marginlab.engine import replay
from marginlab.engine.paths import teaching_path
from marginlab.scenarios import guide_account

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
    chart = equity_path_figure(**inputs)
    # Marks fall 180 USDT a step: step 33 is 54,060 < 54,216.87, so isolated goes there,
    # keeping 8,000; cross ends at 42,000 with 10,000 − 18,000/3 = 4,000 USDT.
    # Isolated ratio peaks at step 32 (mark 54,240): 72.32/80 = 90.40 %; cross at the
    # last step: 56/4,000 = 1.40 %.
    peak = guide_account("isolated").state({"BTCUSDT": PATH[32]}).positions[0].margin_ratio
    assert f"{100 * peak:.2f}%" == "90.40%"
    assert chart.summary == (
        "Over 101 steps, isolated is liquidated at step 33, ending at 8,000.00 USDT "
        "(peak margin ratio 90.40%); cross is not liquidated, ending at 4,000.00 USDT "
        "(peak margin ratio 1.40%)."
    )
    marker = find_trace(chart.figure, "liquidations")
    assert (list(marker.x), list(marker.y), list(marker.text)) == (
        [33],
        [8_000.0],
        ["Isolated liquidated"],
    )
    assert len(find_trace(chart.figure, "stops").x) == 0


def test_equity_path_traces_hold_timeline_in_percent():
    inputs = _inputs()
    fig = equity_path_figure(**inputs).figure
    np.testing.assert_array_equal(find_trace(fig, "equity-cross").y, inputs["cross_equity_usdt"])
    ratio = np.asarray(find_trace(fig, "ratio-isolated").y)
    assert abs(ratio[32] - 90.4) <= 1e-9
    assert np.isnan(ratio[33:]).all()  # closed: no ratio, a gap in the line
    limit = find_trace(fig, "ratio-limit")
    assert (list(limit.x), list(limit.y)) == ([0, 100], [100.0, 100.0])


def test_equity_path_stop_loss_exit_marked_before_liquidation():
    chart = equity_path_figure(**_inputs(stop_price=57_000))
    # 60,000 − 180·17 = 56,940 is the first mark at or below the 57,000 stop: both modes
    # exit at step 17 and keep 10,000 − 3,000/3 = 9,000 USDT.
    stops = find_trace(chart.figure, "stops")
    assert list(stops.x) == [17, 17]
    assert list(stops.y) == [9_000.0, 9_000.0]
    assert len(find_trace(chart.figure, "liquidations").x) == 0
    assert "isolated is stopped out at step 17, ending at 9,000.00 USDT" in chart.summary


def test_update_equity_path_replay_prefix_hides_events_not_reached():
    chart = equity_path_figure(**_inputs(end=1), step_range=(0, 100))
    summary = update_equity_path(chart.figure, **_inputs(end=30))
    assert len(find_trace(chart.figure, "liquidations").x) == 0  # step 33 not reached yet
    assert len(find_trace(chart.figure, "equity-isolated").y) == 30
    assert summary.startswith("Over 30 steps, isolated is not liquidated")
    update_equity_path(chart.figure, **_inputs(end=40))
    assert list(find_trace(chart.figure, "liquidations").x) == [33]
    assert list(chart.figure.layout.xaxis2.range) == [0, 100]


def test_update_equity_path_on_figure_widget_moves_markers():
    widget = go.FigureWidget(equity_path_figure(**_inputs()).figure)
    update_equity_path(widget, **_inputs(stop_price=57_000))
    assert list(find_trace(widget, "stops").x) == [17, 17]
    assert len(find_trace(widget, "liquidations").x) == 0


def test_equity_path_datetime_steps_named_by_time():
    steps = np.array(["2024-03-01T00:00", "2024-03-01T01:00", "2024-03-01T02:00"], "datetime64[m]")
    chart = equity_path_figure(
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
        ({"isolated_liquidated_at": -2}, ValueError, "isolated_liquidated_at must be -1"),
        ({"cross_stopped_at": 1.5}, TypeError, "cross_stopped_at must be an int"),
        ({"steps": ["a", "b"]}, TypeError, "steps must be an array of numbers or datetimes"),
    ],
    ids=["length", "index-below-minus-one", "float-index", "text-steps"],
)
def test_equity_path_bad_input_raises(change, error, message):
    with pytest.raises(error, match=message):
        equity_path_figure(**_inputs() | change)
