"""When to use Cross, when Isolated (the guide's §4-5, lesson 08): the named scenarios, replayed.

The learner picks one of the guide's "when to use" cases
(:mod:`marginlab.scenarios.when_to_use`), reads its claim and the model of its paths
(drift, volatility, jumps, or the hand-drawn shape: ``WhenToUse.model``), and plays the
same account in both margin modes along one of the scenario's seeded price paths: equity
and margin ratio grow step by step, liquidations and stop-loss exits are marked. Under
the chart, the risk over all of the scenario's paths: probability of liquidation,
expected and worst loss per mode, and the distribution of final equity.

Speed: every scenario is simulated once, when the widget is built, on all of its paths
at once (:meth:`~marginlab.scenarios.WhenToUse.simulate`), and every path's timeline
comes from that one run (:func:`~marginlab.engine.simulated_timelines`): choosing a
scenario, a path or a step only picks rows and slices them. The path shown first is the
one on which the mode the guide favours beats the other by the most (the claim at its
clearest); the ``path`` slider shows any other.
"""

from __future__ import annotations

import functools
import html
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import ipywidgets
import numpy as np

from marginlab.charts import (
    Chart,
    EquityPaths,
    ModePath,
    Outcomes,
    equity_path_figure,
    outcomes_figure,
    update_equity_path,
    update_outcomes,
)
from marginlab.charts import format as fmt
from marginlab.engine import (
    MODES,
    MarginMode,
    ReplayResult,
    SimulationResult,
    simulated_timelines,
    summarize,
)
from marginlab.engine.errors import MarginError
from marginlab.scenarios import WHEN_TO_USE, WhenToUse, when_to_use
from marginlab.widgets._plotly import make_figure_widget
from marginlab.widgets.base import LessonWidget, shown
from marginlab.widgets.controls import dropdown, int_slider

if TYPE_CHECKING:  # pandas loads where a table is built: most lessons never need it
    import pandas as pd

__all__ = ["WhenToUseWidget"]

PLAY_SECONDS = 8.0  # a whole path plays in about this long, whatever its length
PLAY_INTERVAL_MS = (20, 250)  # bounds of the time between two frames
STEP_AXIS = "hour (step)"  # the scenarios' paths are hourly steps


@dataclass(frozen=True, eq=False)
class _Risk:
    """A scenario, its simulation in each mode over all of its paths, and every path's
    timeline from that one run (rows of ``(n_paths, n_steps)`` arrays)."""

    scenario: WhenToUse
    simulations: dict[MarginMode, SimulationResult]
    equity_usdt: dict[MarginMode, np.ndarray]
    margin_ratio: dict[MarginMode, np.ndarray]  # the mode's riskiest open scope; NaN flat
    table: pd.DataFrame  # index mode; the columns of marginlab.engine.summarize
    showcase_path: int  # where the favoured mode beats the other by the most

    def path(self, path: int) -> EquityPaths:
        """One path in both modes, from the rows of the simulation."""
        steps = np.arange(self.scenario.n_steps, dtype=np.int32)  # 4 bytes a step
        modes = {}
        for mode in MODES:
            result = self.simulations[mode]
            modes[mode] = ModePath(
                self.equity_usdt[mode][path],
                self.margin_ratio[mode][path],
                _first(result.liquidated_at, path),
                _first(result.stopped_at, path),
            )
        return EquityPaths(steps, modes)

    @functools.cached_property
    def outcomes(self) -> Outcomes:
        """Final equity over all paths per mode, as the outcomes chart takes it (built
        once: a scenario switch reads it)."""
        sims, table = self.simulations, self.table
        return Outcomes(
            {m.value: sims[m].final_equity_usdt for m in MODES},
            {m.value: float(table.loc[m.value, "liquidation_probability"]) for m in MODES},
            initial_equity_usdt=self.scenario.wallet_balance,
        )

    @functools.cached_property
    def table_html(self) -> str:
        """The risk table as the widget shows it (built once: a scenario switch reads it)."""
        return _risk_html(self)


def _label(name: str) -> str:
    """ "trend_trade_through_drawdown" -> "Trend trade through drawdown"."""
    return name.replace("_", " ").capitalize()


def _first(steps_by_key: Mapping[str, np.ndarray], path: int) -> int | None:
    """The first step of an event on ``path`` over all positions (None: never)."""
    steps = [int(s[path]) for s in steps_by_key.values() if s[path] >= 0]
    return min(steps) if steps else None


def _risk(scenario: WhenToUse) -> _Risk:
    """Both modes on every path, once; the table is :meth:`WhenToUse.compare`'s."""
    import pandas as pd

    simulations, equity, ratio = {}, {}, {}
    for mode in MODES:
        result = scenario.simulate(mode)
        lines = simulated_timelines(scenario.account(mode), scenario.prices, result)
        simulations[mode] = result
        equity[mode] = lines["equity_usdt"]
        ratios = np.stack([lines[f"{key}.margin_ratio"] for key in result.keys])
        ratio[mode] = np.fmax.reduce(ratios, axis=0)  # fmax skips NaN (a closed position)
    table = pd.DataFrame.from_dict(
        {m.value: summarize(simulations[m], scenario.wallet_balance) for m in MODES},
        orient="index",
    )
    table.index.name = "mode"
    favoured = MarginMode.parse(scenario.favours)
    other = next(m for m in MODES if m is not favoured)
    lead = simulations[favoured].final_equity_usdt - simulations[other].final_equity_usdt
    return _Risk(scenario, simulations, equity, ratio, table, showcase_path=int(np.argmax(lead)))


@functools.cache
def _default_risk(name: str) -> _Risk:
    """The scenario ``name`` with its default options, simulated once per kernel.

    Every widget built with the defaults shares it (a lesson's widget and its check cell's
    probe: ~45 MB of paths and timelines each otherwise); its arrays are read-only.
    """
    risk = _risk(when_to_use(name))
    for arrays in (risk.equity_usdt, risk.margin_ratio):
        for array in arrays.values():
            array.flags.writeable = False
    return risk


def _risk_html(risk: _Risk) -> str:
    """A small table: probability of liquidation, expected and worst loss per mode."""
    rows = (
        ("Probability of liquidation", "liquidation_probability", fmt.percent),
        ("Expected loss", "mean_loss_usdt", fmt.usdt),
        ("Worst loss", "worst_loss_usdt", fmt.usdt),
    )
    head = "".join(f'<th scope="col">{m.value.capitalize()}</th>' for m in MODES)
    body = "".join(
        f'<tr><th scope="row" style="text-align:left">{label}</th>'
        + "".join(
            f'<td style="text-align:right">{html.escape(show(value))}</td>'
            for value in risk.table.loc[[m.value for m in MODES], column]
        )
        + "</tr>"
        for label, column, show in rows
    )
    caption = (
        f"Over all {risk.scenario.n_paths:,} seeded paths (loss against the "
        f"{fmt.usdt(risk.scenario.wallet_balance)} deposit; negative = a gain)"
    )
    return (
        '<table class="marginlab-risk" style="border-collapse:collapse;min-width:28em">'
        f'<caption style="text-align:left">{html.escape(caption)}</caption>'
        f"<thead><tr><td></td>{head}</tr></thead><tbody>{body}</tbody></table>"
    )


def _claim_html(scenario: WhenToUse) -> str:
    favours = MarginMode.parse(scenario.favours).value.capitalize()
    return (
        f"<p><b>{html.escape(scenario.title)}.</b> {html.escape(scenario.claim)} "
        f"<i>(The guide favours {favours} here.)</i><br>"
        f"<small>Where it stops holding: {html.escape(scenario.caveat)}</small><br>"
        f"<small><b>Paths:</b> {html.escape(scenario.model)}</small></p>"
    )


def _play_interval_ms(n_steps: int) -> int:
    low, high = PLAY_INTERVAL_MS
    return int(min(max(1000.0 * PLAY_SECONDS / n_steps, low), high))


@dataclass(frozen=True, eq=False)
class _State:
    """What one tick draws: a scenario, one of its paths and the step reached."""

    name: str
    risk: _Risk
    path: int
    step: int
    paths: EquityPaths  # the whole path, both modes

    @property
    def shown(self) -> EquityPaths:
        return self.paths.upto(self.step)


class WhenToUseWidget(LessonWidget):
    """The guide's "when to use" scenarios, played step by step in both margin modes.

    Parameters
    ----------
    scenario : name of the scenario shown first (a key of ``marginlab.scenarios.WHEN_TO_USE``).
    path : index of the seeded path to show (default: the one that shows the claim best).
    step : step shown first (default: the last, the whole path).
    options : per scenario name, keyword arguments for its builder (e.g. ``{"hedge":
        {"correlation": 0.0}}`` for the caveat).

    Controls: ``scenario`` (Dropdown), ``path`` (IntSlider, path index, follows the drag),
    ``step`` (IntSlider, the step shown; the ``play`` button, :attr:`play`, moves it).
    """

    def __init__(
        self,
        scenario: str = "hedge",
        *,
        path: int | None = None,
        step: int | None = None,
        options: Mapping[str, Mapping[str, Any]] | None = None,
    ) -> None:
        if scenario not in WHEN_TO_USE:
            raise MarginError(f"scenario must be one of {', '.join(WHEN_TO_USE)}, got {scenario!r}")
        self._options = {name: dict(kwargs) for name, kwargs in (options or {}).items()}
        unknown = sorted(set(self._options) - set(WHEN_TO_USE))
        if unknown:
            raise MarginError(
                f"options: unknown scenario {', '.join(map(repr, unknown))}; "
                f"names are {', '.join(WHEN_TO_USE)}"
            )
        # Every scenario simulated once, now: a choice later only picks rows.
        self._risks = {
            name: _risk(when_to_use(name, **self._options[name]))
            if name in self._options
            else _default_risk(name)
            for name in WHEN_TO_USE
        }
        self._applied: str | None = None  # scenario whose ranges, tables and claim are shown

        risk = self._risks[scenario]
        n_paths, last = risk.scenario.n_paths, risk.scenario.n_steps - 1
        first_path = risk.showcase_path if path is None else path
        first_step = last if step is None else step
        for name, value, high in (("path", first_path, n_paths - 1), ("step", first_step, last)):
            if isinstance(value, bool) or not isinstance(value, int | np.integer):
                raise TypeError(f"{name} must be a whole number, got {value!r}")
            if not 0 <= value <= high:
                raise MarginError(f"{name} must be between 0 and {high}, got {value!r}")

        controls = {
            "scenario": dropdown([(_label(n), n) for n in WHEN_TO_USE], scenario, "Scenario"),
            "path": int_slider(int(first_path), 0, n_paths - 1, "Price path #"),
            "step": int_slider(int(first_step), 0, last, "Hour"),
        }
        self.play = ipywidgets.Play(
            value=int(first_step),
            min=0,
            max=last,
            step=1,
            interval=_play_interval_ms(last + 1),
            description="Play",
            show_repeat=False,
        )
        # Linked here, not in the browser: a frame moves the slider (one tick), and a
        # slider move sets the play's value after the chart (_texts): a browser link
        # (jslink) sent the kernel a second message per slider press, ahead of the step.
        self.play.observe(self._on_play, names="value")
        self.claim_area = ipywidgets.HTML(_claim_html(risk.scenario))
        self.risk_area = ipywidgets.HTML(risk.table_html)
        whole = risk.path(int(first_path))
        path_chart = equity_path_figure(
            whole.upto(int(first_step)), step_range=(0, last), whole=whole, x_title=STEP_AXIS
        )
        figures = [
            make_figure_widget(path_chart.figure),
            make_figure_widget(outcomes_figure(risk.outcomes).figure),
        ]
        controls_box = ipywidgets.VBox(
            [
                controls["scenario"],
                self.claim_area,
                controls["path"],
                ipywidgets.HBox([self.play, controls["step"]]),
            ]
        )
        figures_box = ipywidgets.VBox([figures[0], self.risk_area, figures[1]])
        self._applied = scenario
        super().__init__(controls, figures, controls_box=controls_box, figures_box=figures_box)

    # --- the tick -----------------------------------------------------------------------

    def _compute(self, values: dict[str, Any]) -> _State:
        name = values["scenario"]
        if name not in WHEN_TO_USE:
            raise MarginError(f"scenario must be one of {', '.join(WHEN_TO_USE)}, got {name!r}")
        risk = self._risks[name]
        drawn = self._drawn_result
        last = risk.scenario.n_steps - 1
        if drawn is not None and drawn.name != name:
            # A new scenario starts on its clearest path, shown whole; play restarts it.
            return _State(name, risk, risk.showcase_path, last, risk.path(risk.showcase_path))
        path, step = values["path"], values["step"]
        if not 0 <= path < risk.scenario.n_paths:
            raise MarginError(f"path must be between 0 and {risk.scenario.n_paths - 1}, got {path}")
        if not 0 <= step <= last:
            raise MarginError(f"step must be between 0 and {last}, got {step}")
        paths = (
            drawn.paths if drawn is not None and (drawn.name, drawn.path) == (name, path) else None
        )
        return _State(name, risk, path, step, paths or risk.path(path))

    def _apply(self, state: _State) -> str:
        path_figure, outcomes = self.figures
        if state.name != self._applied:
            update_outcomes(outcomes, state.risk.outcomes)
            self._send_chart(outcomes)  # drawn while the path and the controls are set
            path_figure.layout.xaxis2.range = [0, state.risk.scenario.n_steps - 1]
            self.claim_area.value = _claim_html(state.risk.scenario)
            self.risk_area.value = state.risk.table_html
            self._applied = state.name
        self._show_controls(state)
        return update_equity_path(path_figure, state.shown, whole=state.paths)

    def _show_controls(self, state: _State) -> None:
        """Ranges and values of path, step and play for ``state``: the values it shows, so
        the tick they start finds them drawn."""
        last = state.risk.scenario.n_steps - 1
        path, step, play = self.controls["path"], self.controls["step"], self.play
        with path.hold_sync(), step.hold_sync(), play.hold_sync():  # a message per control
            path.max = state.risk.scenario.n_paths - 1
            path.value = state.path
            for control in (step, play):
                control.max = last  # clamps a value past the new end
            step.value = play.value = state.step  # play resumes from the step shown
            play.interval = _play_interval_ms(last + 1)

    def _on_play(self, change: dict[str, Any]) -> None:
        """A frame of :attr:`play` moves the step slider, which ticks."""
        self.controls["step"].value = change["new"]

    def _texts(self) -> list[ipywidgets.Widget]:
        """The texts, and :attr:`play`: what a tick sets there reaches the page after the
        charts."""
        return [*super()._texts(), self.play]

    # --- what lessons and tests read ----------------------------------------------------

    def static(self) -> Chart:
        """A fresh plain figure of the equity path as shown now (for pages without a kernel)."""
        state: _State = self.drawn
        last = state.risk.scenario.n_steps - 1
        return equity_path_figure(
            state.shown, step_range=(0, last), whole=state.paths, x_title=STEP_AXIS
        )

    scenario = shown(lambda st: st.risk.scenario, "The scenario shown (accounts, paths, model).")
    path = shown(lambda st: st.path, "Index of the seeded path shown.")
    step = shown(lambda st: st.step, "The step shown (0-based index along the path).")
    equity = shown(
        lambda st: {m: float(v.equity_usdt[st.step]) for m, v in st.paths.modes.items()},
        "Equity (wallet + unrealized PnL, USDT) per mode at the step shown.",
    )
    liquidated_at = shown(
        lambda st: {m: _never(v.liquidated_at) for m, v in st.paths.modes.items()},
        "Per mode, the step of the first liquidation on the whole path (None: never).",
    )
    stopped_at = shown(
        lambda st: {m: _never(v.stopped_at) for m, v in st.paths.modes.items()},
        "Per mode, the step of the first stop-loss exit on this path (None: never).",
    )
    risk = shown(lambda st: st.risk.table.copy(), "Risk over all paths, a row per mode.")

    @property
    def replays(self) -> dict[str, ReplayResult]:
        """The engine's replay of the path shown, per mode (run now, for a closer look)."""
        return {m.value: self.scenario.replay(m.value, self.path) for m in MODES}


def _never(step: int) -> int | None:
    """An event's step, None for never (-1)."""
    return None if step < 0 else step
