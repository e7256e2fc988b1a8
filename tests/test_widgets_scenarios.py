"""WhenToUseWidget: the guide's "when to use" scenarios (§4-5), replayed in both modes.

Every number is checked against direct engine calls with the same inputs: the scenario
from ``when_to_use(name)``, ``replay`` of its account in each mode along the path shown,
and ``WhenToUse.compare`` / ``simulate`` over all of its paths. The fast scenarios
(a 24-step day trade, a 168-step week) keep the file quick; the widget's default (the
hedge) is built once.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest

from marginlab.charts import (
    Chart,
    EquityPaths,
    ModePath,
    Outcomes,
    equity_path_figure,
    find_trace,
    outcomes_figure,
)
from marginlab.engine import MODES, replay
from marginlab.scenarios import WHEN_TO_USE, when_to_use
from marginlab.widgets.scenarios import WhenToUseWidget

DAY_TRADE = "high_leverage_short_term"  # 24 hourly steps, favours isolated
WEEK_TEST = "strategy_with_limited_capital"  # 168 hourly steps, favours isolated


def engine_replays(name: str, path: int, **options) -> dict:
    scenario = when_to_use(name, **options)
    prices = {symbol: paths[path] for symbol, paths in scenario.prices.items()}
    stops = dict(scenario.stops) or None
    return {m: replay(scenario.account(m), prices, stops=stops) for m in MODES}


def clearest_path(name: str) -> int:
    """The path on which the favoured mode's final equity beats the other's by the most."""
    scenario = when_to_use(name)
    other = next(m for m in MODES if m != scenario.favours)
    lead = (
        scenario.simulate(scenario.favours).final_equity_usdt
        - scenario.simulate(other).final_equity_usdt
    )
    return int(np.argmax(lead))


def first(result, kind: str) -> int | None:
    step = result.first_step(kind)
    return None if step < 0 else step


def expected_path_chart(replays: dict, step: int) -> Chart:
    """The equity-path chart built straight from the engine's replays, up to ``step``."""
    end = step + 1
    modes = {}
    for mode, result in replays.items():
        timeline = result.timeline
        ratios = timeline[[f"{k}.margin_ratio" for k in result.keys]].to_numpy()
        modes[mode] = ModePath(
            timeline["equity_usdt"].to_numpy()[:end],
            np.fmax.reduce(ratios, axis=1)[:end],
            first(result, "liquidation"),
            first(result, "stop"),
        )
    return equity_path_figure(EquityPaths(replays["cross"].timeline.index.to_numpy()[:end], modes))


def assert_same_traces(figure: go.Figure, expected: go.Figure, keys: tuple[str, ...]) -> None:
    for key in keys:
        got, want = find_trace(figure, key), find_trace(expected, key)
        for axis in ("x", "y"):
            np.testing.assert_array_equal(
                np.asarray(got[axis], dtype=float), np.asarray(want[axis], dtype=float)
            )


PATH_KEYS = ("equity-cross", "equity-isolated", "ratio-cross", "ratio-isolated")
EVENT_KEYS = ("liquidations", "stops")


@pytest.fixture(scope="module")
def hedge_widget() -> WhenToUseWidget:
    return WhenToUseWidget()


@pytest.fixture(scope="module")
def day_trade_widget() -> WhenToUseWidget:
    """Read-only: tests that move controls build their own."""
    return WhenToUseWidget(DAY_TRADE)


def test_when_to_use_default_is_the_hedge_on_its_clearest_path_shown_whole(hedge_widget):
    widget = hedge_widget
    path = clearest_path("hedge")
    replays = engine_replays("hedge", path)

    assert widget.scenario.name == "hedge"
    assert widget.path == path
    assert widget.step == len(replays["cross"].timeline) - 1 == 335  # 14 days x 24 h - 1
    assert widget.equity == {m: replays[m].final_equity_usdt for m in MODES}
    assert widget.liquidated_at == {m: first(replays[m], "liquidation") for m in MODES}
    assert widget.liquidated_at["cross"] is None  # the claim: the hedged pair survives
    assert widget.liquidated_at["isolated"] is not None  # ... the same legs isolated do not
    assert widget.summary == expected_path_chart(replays, widget.step).summary
    assert widget.message == ""


def test_when_to_use_risk_equals_scenario_compare(hedge_widget):
    pd.testing.assert_frame_equal(hedge_widget.risk, when_to_use("hedge").compare())


def test_when_to_use_claim_and_risk_table_are_shown(hedge_widget):
    scenario = when_to_use("hedge")
    table = scenario.compare()

    assert scenario.claim in hedge_widget.claim_area.value
    assert scenario.caveat in hedge_widget.claim_area.value
    # isolated liquidates on most of the hedge's paths, cross on (almost) none
    assert f"{100 * table.loc['isolated', 'liquidation_probability']:.2f}%" in (
        hedge_widget.risk_area.value
    )
    assert f"{100 * table.loc['cross', 'liquidation_probability']:.2f}%" in (
        hedge_widget.risk_area.value
    )


def test_when_to_use_outcomes_chart_holds_the_engine_distributions(hedge_widget):
    scenario = when_to_use("hedge")
    table = scenario.compare()
    expected = outcomes_figure(
        Outcomes(
            {m: scenario.simulate(m).final_equity_usdt for m in MODES},
            {m: table.loc[m, "liquidation_probability"] for m in MODES},
            initial_equity_usdt=scenario.wallet_balance,
        )
    ).figure

    assert_same_traces(hedge_widget.figures[1], expected, ("hist-cross", "hist-isolated"))


def test_when_to_use_step_shows_the_path_up_to_that_step():
    widget = WhenToUseWidget(DAY_TRADE, path=0)
    replays = engine_replays(DAY_TRADE, 0)

    widget.controls["step"].value = 5

    figure = widget.figures[0]
    assert len(find_trace(figure, "equity-cross").y) == 6  # steps 0..5
    assert_same_traces(figure, expected_path_chart(replays, 5).figure, PATH_KEYS + EVENT_KEYS)
    assert widget.step == 5
    assert widget.equity == {m: float(replays[m].timeline["equity_usdt"].iloc[5]) for m in MODES}
    assert widget.summary == expected_path_chart(replays, 5).summary
    assert widget.summary.startswith("Over 6 steps, ")


def test_when_to_use_liquidation_is_marked_once_the_play_reaches_it():
    path = clearest_path(DAY_TRADE)
    replays = engine_replays(DAY_TRADE, path)
    liquidated = first(replays["isolated"], "liquidation")
    assert liquidated is not None and liquidated > 0  # isolated at 50x: a 1.6 % move
    widget = WhenToUseWidget(DAY_TRADE, step=liquidated - 1)
    marks = find_trace(widget.figures[0], "liquidations")
    assert list(marks.x) == [None, None]  # a point per mode (cross, isolated), empty

    widget.controls["step"].value = liquidated

    marks = find_trace(widget.figures[0], "liquidations")
    assert list(marks.x) == [None, liquidated]
    assert list(marks.y) == [None, replays["isolated"].timeline["equity_usdt"].iloc[liquidated]]
    assert widget.liquidated_at["isolated"] == liquidated  # the whole path, reached or not


def test_when_to_use_new_scenario_updates_the_same_figures_in_place():
    widget = WhenToUseWidget(DAY_TRADE)
    figures = widget.figures
    path = clearest_path(WEEK_TEST)
    replays = engine_replays(WEEK_TEST, path)

    widget.controls["scenario"].value = WEEK_TEST

    assert widget.figures is figures  # never rebuilt
    assert widget.scenario.name == WEEK_TEST
    assert widget.path == path == widget.controls["path"].value
    assert widget.step == 167 == widget.controls["step"].value  # a week of hours, shown whole
    assert widget.controls["step"].max == widget.play.max == 167
    assert tuple(figures[0].layout.xaxis2.range) == (0, 167)
    assert len(find_trace(figures[0], "equity-isolated").y) == 168
    assert_same_traces(figures[0], expected_path_chart(replays, 167).figure, PATH_KEYS)
    assert widget.summary == expected_path_chart(replays, 167).summary
    pd.testing.assert_frame_equal(widget.risk, when_to_use(WEEK_TEST).compare())
    assert when_to_use(WEEK_TEST).claim in widget.claim_area.value


def test_when_to_use_back_to_a_shorter_scenario_shrinks_the_step_range():
    widget = WhenToUseWidget(WEEK_TEST)

    widget.controls["scenario"].value = DAY_TRADE

    assert widget.controls["step"].max == widget.play.max == 23
    assert widget.step == 23
    assert len(find_trace(widget.figures[0], "equity-cross").y) == 24
    assert tuple(widget.figures[0].layout.xaxis2.range) == (0, 23)


def test_when_to_use_new_scenario_is_computed_once_and_its_controls_count_as_drawn(
    monkeypatch,
):
    widget = WhenToUseWidget(DAY_TRADE, path=0, step=5)
    computed = []
    real = WhenToUseWidget._compute

    def compute(self, values):
        computed.append(dict(values))
        return real(self, values)

    monkeypatch.setattr(WhenToUseWidget, "_compute", compute)
    widget.controls["scenario"].value = WEEK_TEST
    # The path and step it set show the new state: no second tick for them.
    assert computed == [{"scenario": WEEK_TEST, "path": 0, "step": 5}]
    assert (widget.path, widget.step) == (clearest_path(WEEK_TEST), 167)

    # Back to the path and step of the first scenario's values: drawn, not skipped.
    widget.controls["path"].value = 0
    widget.controls["step"].value = 5
    assert (widget.path, widget.step) == (0, 5)
    replays = engine_replays(WEEK_TEST, 0)
    assert widget.equity == {m: float(replays[m].timeline["equity_usdt"].iloc[5]) for m in MODES}


def test_when_to_use_path_slider_replays_that_path():
    widget = WhenToUseWidget(DAY_TRADE, path=0)
    replays = engine_replays(DAY_TRADE, 7)

    widget.controls["path"].value = 7

    assert widget.path == 7
    assert widget.equity == {m: replays[m].final_equity_usdt for m in MODES}
    assert widget.liquidated_at == {m: first(replays[m], "liquidation") for m in MODES}
    assert_same_traces(widget.figures[0], expected_path_chart(replays, 23).figure, PATH_KEYS)


def test_when_to_use_play_frame_moves_the_step_slider_and_a_slider_move_moves_play():
    widget = WhenToUseWidget(DAY_TRADE, path=0)
    replays = engine_replays(DAY_TRADE, 0)
    step, ticks = widget.controls["step"], []
    widget.observe(lambda change: ticks.append(change["new"]), names="summary")

    widget.play.value = 5  # a frame of the play button, as the browser sends it
    assert step.value == widget.step == 5
    assert_same_traces(widget.figures[0], expected_path_chart(replays, 5).figure, PATH_KEYS)
    assert ticks == [expected_path_chart(replays, 5).summary]  # one tick per frame

    step.value = 9  # the learner's slider: play resumes from the step shown
    assert widget.play.value == widget.step == 9
    assert len(ticks) == 2
    assert (widget.play.min, widget.play.max) == (0, 23)
    assert "play" not in widget.controls  # a frame ticks once, through the slider


def test_when_to_use_static_is_a_plain_figure_of_the_current_state():
    widget = WhenToUseWidget(DAY_TRADE, step=10)

    chart = widget.static()

    assert type(chart.figure) is go.Figure
    assert chart.summary == widget.summary
    assert len(find_trace(chart.figure, "equity-cross").y) == 11


def test_when_to_use_bad_scenario_options_are_refused_when_built():
    # correlation 5 is refused by the hedge's path model: every scenario is built up front
    with pytest.raises(ValueError, match="correlation must be between -1 and 1"):
        WhenToUseWidget(DAY_TRADE, options={"hedge": {"correlation": 5.0}})


def test_when_to_use_names_each_scenarios_model_on_screen():
    widget = WhenToUseWidget(DAY_TRADE)
    for name in WHEN_TO_USE:
        widget.controls["scenario"].value = name
        scenario = when_to_use(name)
        assert scenario.model in widget.claim_area.value.replace("&#x27;", "'")
    assert "the point is the worst day: a crash" in when_to_use(DAY_TRADE).model
    assert "the mean price stays where it started" in when_to_use("hedge").model
    assert when_to_use("trend_trade_through_drawdown").model.startswith("Hand-drawn: ")
    assert "built to go against the trade" in when_to_use(WEEK_TEST).model


def test_when_to_use_every_path_is_a_row_of_one_simulation_equal_to_replay():
    widget = WhenToUseWidget(WEEK_TEST, path=0)
    assert widget.controls["path"].continuous_update is True  # a row, not a replay
    for path in (3, 150, 399):
        widget.controls["path"].value = path
        replays = engine_replays(WEEK_TEST, path)
        assert widget.equity == {m: replays[m].final_equity_usdt for m in MODES}
        assert widget.liquidated_at == {m: first(replays[m], "liquidation") for m in MODES}
        assert widget.summary == expected_path_chart(replays, 167).summary


@pytest.mark.parametrize(
    ("kwargs", "error", "reason"),
    [
        ({"scenario": "beginner"}, ValueError, "scenario must be one of hedge, "),
        ({"scenario": DAY_TRADE, "path": 400}, ValueError, "path must be between 0 and 399"),
        ({"scenario": DAY_TRADE, "step": 24}, ValueError, "step must be between 0 and 23"),
        ({"scenario": DAY_TRADE, "step": 1.5}, TypeError, "step must be a whole number"),
        ({"options": {"hedges": {}}}, ValueError, "options: unknown scenario 'hedges'"),
    ],
    ids=["unknown-scenario", "path-past-end", "step-past-end", "fractional-step", "options"],
)
def test_when_to_use_bad_constructor_arguments_name_the_parameter(kwargs, error, reason):
    with pytest.raises(error, match=reason):
        WhenToUseWidget(**kwargs)


def test_when_to_use_offers_the_six_named_scenarios_in_the_guides_order(day_trade_widget):
    options = day_trade_widget.controls["scenario"].options

    assert [name for _, name in options] == list(WHEN_TO_USE)
    assert len(options) == 6


def test_when_to_use_widgets_share_the_default_simulations_read_only(
    hedge_widget, day_trade_widget
):
    # A lesson's widget and its check cell's probe: one simulation per kernel, not two.
    for name in WHEN_TO_USE:
        assert hedge_widget._risks[name] is day_trade_widget._risks[name]
    equity = hedge_widget._risks[DAY_TRADE].equity_usdt
    for array in equity.values():
        with pytest.raises(ValueError, match="read-only"):
            array[0, 0] = 0.0
    # Other options are that widget's own simulation.
    own = WhenToUseWidget(DAY_TRADE, options={"hedge": {"correlation": 0.0}})
    assert own._risks["hedge"] is not hedge_widget._risks["hedge"]
    assert own._risks[DAY_TRADE] is hedge_widget._risks[DAY_TRADE]
