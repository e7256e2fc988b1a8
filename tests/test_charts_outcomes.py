"""Monte Carlo outcomes: final-equity histograms from the engine's simulate_paths."""

import numpy as np
import plotly.graph_objects as go
import pytest

from marginlab.charts import Outcomes, find_trace, outcomes_figure, palette, update_outcomes
from marginlab.engine import simulate_paths
from marginlab.scenarios import guide_account


def _outcomes(inputs: dict) -> Outcomes:
    """The chart's input from the per-strategy keywords of the tests below."""
    keys = [
        k
        for k in ("cross", "isolated", "isolated_stop", "cross_stop")
        if f"{k}_final_equity_usdt" in inputs
    ]
    return Outcomes(
        {k: inputs[f"{k}_final_equity_usdt"] for k in keys},
        {
            k: inputs[f"{k}_liquidation_probability"]
            for k in keys
            if inputs.get(f"{k}_liquidation_probability") is not None
        },
        initial_equity_usdt=inputs.get("initial_equity_usdt"),
        bins=inputs.get("bins", 40),
    )


def figure(title=None, **inputs):
    return outcomes_figure(_outcomes(inputs), **({} if title is None else {"title": title}))


def update(fig, **inputs) -> str:
    return update_outcomes(fig, _outcomes(inputs))


# Four hand-made paths of the guide's long (60,000 entry; isolated LP 54,216.87, cross
# LP 30,120.48): a dip to 54,000, a rise, a crash to 30,000, a slow slide to 56,000.
PATHS = np.array(
    [
        [60_000, 55_000, 54_000, 61_000],
        [60_000, 59_000, 62_000, 63_000],
        [60_000, 40_000, 30_000, 35_000],
        [60_000, 58_000, 57_000, 56_000],
    ],
    dtype=float,
)


def _inputs(bins: int = 11, with_stop: bool = True) -> dict:
    runs = {
        "cross": simulate_paths(guide_account("cross"), {"BTCUSDT": PATHS}),
        "isolated": simulate_paths(guide_account("isolated"), {"BTCUSDT": PATHS}),
    }
    if with_stop:
        runs["isolated_stop"] = simulate_paths(
            guide_account("isolated"), {"BTCUSDT": PATHS}, stops={"BTCUSDT": 57_000}
        )
    inputs: dict = {"bins": bins, "initial_equity_usdt": runs["cross"].start_equity_usdt}
    for key, run in runs.items():
        inputs[f"{key}_final_equity_usdt"] = run.final_equity_usdt
        inputs[f"{key}_liquidation_probability"] = float(np.mean(run.liquidated_at["BTCUSDT"] >= 0))
    return inputs


def test_outcomes_four_paths_summary_gives_probabilities_medians_worst():
    chart = figure(**_inputs())
    # Isolated ends [8,000, 11,000, 8,000, 8,666.67]: 2 of 4 liquidated, median 8,333.33.
    # Cross ends [10,333.33, 11,000, 0, 8,666.67]: 1 of 4, median 9,500.
    # With a 57,000 stop, filled where the market is: 55,000 → 8,333.33; 11,000; the crash
    # passes the stop first and fills at 40,000, a loss capped at the 2,000 margin → 8,000;
    # 57,000 → 9,000. No path liquidates; median (8,333.33 + 9,000) / 2 = 8,666.67.
    assert chart.summary == (
        "Over 4 paths, isolated is liquidated on 50.00% of them (median final equity "
        "8,333.33 USDT, worst 8,000.00 USDT); cross on 25.00% (median 9,500.00 USDT, "
        "worst 0.00 USDT); isolated with a stop on 0.00% (median 8,666.67 USDT, "
        "worst 8,000.00 USDT)."
    )


def test_outcomes_histograms_share_bins_in_percent_of_paths():
    fig = figure(**_inputs(bins=11)).figure
    # 11 bins over [0, 11,000]: 1,000 USDT wide, centres 500, 1,500, ..., 10,500.
    # Step areas: each bin's share at its centre, the outer edges at the outer bins' shares.
    isolated, cross = find_trace(fig, "hist-isolated"), find_trace(fig, "hist-cross")
    x = np.array(isolated.x, dtype=float)
    np.testing.assert_allclose(x, [0.0, *np.arange(500.0, 11_000.0, 1_000.0), 11_000.0])
    assert isolated.line.shape == "hvh" and isolated.fill == "tozeroy"
    expected_isolated = np.zeros(13)
    expected_isolated[9], expected_isolated[11:] = 75.0, 25.0  # 8,000, 8,000, 8,666.67 | 11,000
    expected_cross = np.zeros(13)
    expected_cross[[0, 1, 9, 11, 12]] = [
        25.0,
        25.0,
        25.0,
        50.0,
        50.0,
    ]  # 0 | 8,666.67 | 10,333.33, 11,000
    np.testing.assert_allclose(isolated.y, expected_isolated)
    np.testing.assert_allclose(cross.y, expected_cross)
    start = find_trace(fig, "start")
    # The start line's label sits above the three strategies' labels.
    assert list(start.x) == [10_000.0, 10_000.0] and list(start.y) == [0.0, 75.0 * 1.28]


def shown(fig, key: str) -> bool:
    """Whether strategy ``key`` is drawn: bars of some height, and its label."""
    labels = find_trace(fig, "labels").text
    index = ["cross", "isolated", "isolated_stop", "cross_stop"].index(key)
    height = float(np.nansum(np.array(find_trace(fig, f"hist-{key}").y, dtype=float)))
    assert (height > 0) == (labels[index] != ""), (key, labels)
    return height > 0


def test_outcome_labels_that_would_touch_are_stacked():
    from marginlab.charts.outcomes import LABEL_ROOM, _labels

    # Cross and isolated peak in the same bin at 40 % and 41 % of the paths: isolated's
    # label goes one label height above cross's; the stop strategies are absent.
    labels = _labels({"cross": (100.0, 40.0), "isolated": (100.0, 41.0)}, span=1_000.0, top=41.0)
    assert labels["y"][:2] == [40.0, 40.0 + LABEL_ROOM * 41.0]
    assert labels["text"] == ["Cross", "Isolated", "", ""]


def test_outcomes_without_stop_strategy_hides_its_histogram():
    inputs = _inputs(with_stop=False)
    chart = figure(**inputs)
    assert shown(chart.figure, "cross") and shown(chart.figure, "isolated")
    assert not shown(chart.figure, "isolated_stop")
    assert "stop" not in chart.summary


def test_outcomes_name_each_strategy_over_its_tallest_bar_in_its_colour():
    fig = figure(**_inputs(bins=11)).figure
    labels = find_trace(fig, "labels")
    assert list(labels.text) == ["Cross", "Isolated", "Isolated + stop", ""]
    assert list(labels.textfont.color[:3]) == [palette.CROSS, palette.ISOLATED, palette.STOP]
    assert not any(trace.showlegend for trace in fig.data)  # the labels name them
    # Isolated: 75 % in the 8,000-9,000 bin; cross: 50 % at 10,000-11,000; isolated with
    # the stop: 50 % at 8,000-9,000, under isolated's label, so it goes above it.
    x, y = list(labels.x), list(labels.y)
    assert (x[1], y[1]) == (8_500.0, 75.0) and (x[0], y[0]) == (10_500.0, 50.0)
    assert x[2] == 8_500.0 and y[2] == 50.0  # 25 points below isolated's: room enough


def test_update_outcomes_on_figure_widget_shows_stop_strategy():
    widget = go.FigureWidget(figure(**_inputs(with_stop=False)).figure)
    summary = update(widget, **_inputs())
    stop = find_trace(widget, "hist-isolated_stop")
    assert shown(widget, "isolated_stop")
    assert stop.y[10] == 25.0 and stop.y[9] == 50.0  # 9,000 | 8,000 and 8,333.33
    assert summary.endswith(
        "isolated with a stop on 0.00% (median 8,666.67 USDT, worst 8,000.00 USDT)."
    )


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {"cross_liquidation_probability": 1.5},
            r"liquidation_probability\[.cross.\] must be a fraction",
        ),
        ({"isolated_stop_liquidation_probability": None}, "give both for each strategy"),
        ({"isolated_final_equity_usdt": [1.0, 2.0]}, "one value per path"),
        ({"cross_final_equity_usdt": [0.0, np.nan, 1.0, 2.0]}, "must hold finite values"),
        ({"bins": 0}, "bins must be an int between 1 and 500"),
    ],
    ids=["probability-above-1", "stop-half-given", "path-count", "nan-equity", "zero-bins"],
)
def test_outcomes_bad_input_raises(change, message):
    with pytest.raises(ValueError, match=message):
        figure(**_inputs() | change)
