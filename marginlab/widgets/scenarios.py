"""When to use Cross, when Isolated (the guide's §4-5, lesson 08): the named scenarios, replayed.

The learner picks one of the guide's "when to use" cases
(:mod:`marginlab.scenarios.when_to_use`), reads its claim, and plays the same account in
both margin modes along one of the scenario's seeded price paths: equity and margin
ratio grow step by step, liquidations and stop-loss exits are marked. Under the chart,
the risk over all of the scenario's paths: probability of liquidation, expected and
worst loss per mode, and the distribution of final equity.

Cost: choosing a scenario (or a path) replays it once per mode with
:meth:`~marginlab.scenarios.WhenToUse.replay` and simulates every path with
:meth:`~marginlab.scenarios.WhenToUse.simulate`; both are cached per scenario (and per
path), so a play tick only slices the cached arrays and swaps trace data. The path
shown first is the one on which the mode the guide favours beats the other by the
most (the claim at its clearest); the ``path`` slider shows any other.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import ipywidgets
import numpy as np

from marginlab.charts import (
    Chart,
    equity_path_figure,
    outcomes_figure,
    update_equity_path,
    update_outcomes,
)
from marginlab.charts import format as fmt
from marginlab.engine import ReplayResult, SimulationResult, summarize
from marginlab.engine.errors import MarginError
from marginlab.scenarios import WHEN_TO_USE, WhenToUse, when_to_use
from marginlab.widgets._plotly import make_figure_widget
from marginlab.widgets.base import LessonWidget

if TYPE_CHECKING:  # pandas loads where a table is built: most lessons never need it
    import pandas as pd

__all__ = ["WhenToUseWidget"]

MODES = ("cross", "isolated")
MODE_NAMES = {"cross": "Cross", "isolated": "Isolated"}
PLAY_SECONDS = 8.0  # a whole path plays in about this long, whatever its length
PLAY_INTERVAL_MS = (20, 250)  # bounds of the time between two frames
REPLAY_CACHE_SIZE = 16  # (scenario, path) replays kept; each is a few hundred KB
STEP_AXIS = "hour (step)"  # the scenarios' paths are hourly steps
CONTROL_STYLE = {"description_width": "initial"}


@dataclass(frozen=True, eq=False)
class _Risk:
    """A scenario and its Monte Carlo outcome in each mode, over all of its paths."""

    scenario: WhenToUse
    simulations: dict[str, SimulationResult]
    table: pd.DataFrame  # index mode; the columns of marginlab.engine.summarize
    showcase_path: int  # where the favoured mode beats the other by the most


@dataclass(frozen=True, eq=False)
class _Replayed:
    """One path of a scenario replayed in both modes: the arrays a play tick slices."""

    path: int
    replays: dict[str, ReplayResult]
    steps: np.ndarray
    equity_usdt: dict[str, np.ndarray]
    margin_ratio: dict[str, np.ndarray]  # the mode's riskiest open scope; NaN when flat
    liquidated_at: dict[str, int | None]
    stopped_at: dict[str, int | None]


@dataclass(frozen=True, eq=False)
class _State:
    """What one tick draws: a scenario, a replayed path and the step reached."""

    name: str
    risk: _Risk
    replayed: _Replayed
    step: int


def _label(name: str) -> str:
    """ "trend_trade_through_drawdown" -> "Trend trade through drawdown"."""
    return name.replace("_", " ").capitalize()


def _first(replayed: ReplayResult, kind: str) -> int | None:
    step = replayed.first_step(kind)
    return None if step < 0 else step


def _mode_margin_ratio(result: ReplayResult) -> np.ndarray:
    """Per step, the highest margin ratio among the open positions (NaN once all are closed).

    Every position of a scenario account is in one mode, so this is the cross pool's
    ratio in cross and the isolated position nearest to liquidation in isolated.
    """
    columns = [f"{key}.margin_ratio" for key in result.keys]
    ratios = result.timeline[columns].to_numpy(dtype=float)
    return np.fmax.reduce(ratios, axis=1)  # fmax skips NaN (a closed position)


def _replay_path(scenario: WhenToUse, path: int) -> _Replayed:
    replays = {mode: scenario.replay(mode, path) for mode in MODES}
    steps = replays["cross"].timeline.index.to_numpy().astype(np.int32)  # 4 bytes a step
    return _Replayed(
        path=path,
        replays=replays,
        steps=steps,
        equity_usdt={
            m: r.timeline["equity_usdt"].to_numpy(dtype=float) for m, r in replays.items()
        },
        margin_ratio={m: _mode_margin_ratio(r) for m, r in replays.items()},
        liquidated_at={m: _first(r, "liquidation") for m, r in replays.items()},
        stopped_at={m: _first(r, "stop") for m, r in replays.items()},
    )


def _risk(scenario: WhenToUse) -> _Risk:
    """Both modes on every path; the table is :meth:`WhenToUse.compare`'s, from one run."""
    import pandas as pd

    simulations = {mode: scenario.simulate(mode) for mode in MODES}
    table = pd.DataFrame.from_dict(
        {m: summarize(simulations[m], scenario.wallet_balance) for m in MODES}, orient="index"
    )
    table.index.name = "mode"
    favoured = scenario.favours
    other = next(m for m in MODES if m != favoured)
    lead = simulations[favoured].final_equity_usdt - simulations[other].final_equity_usdt
    return _Risk(scenario, simulations, table, showcase_path=int(np.argmax(lead)))


def _risk_html(risk: _Risk) -> str:
    """A small table: probability of liquidation, expected and worst loss per mode."""
    rows = (
        ("Probability of liquidation", "liquidation_probability", fmt.percent),
        ("Expected loss", "mean_loss_usdt", fmt.usdt),
        ("Worst loss", "worst_loss_usdt", fmt.usdt),
    )
    head = "".join(f'<th scope="col">{MODE_NAMES[m]}</th>' for m in MODES)
    body = "".join(
        f'<tr><th scope="row" style="text-align:left">{label}</th>'
        + "".join(
            f'<td style="text-align:right">{html.escape(show(risk.table.loc[m, column]))}</td>'
            for m in MODES
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
    return (
        f"<p><b>{html.escape(scenario.title)}.</b> {html.escape(scenario.claim)} "
        f"<i>(The guide favours {MODE_NAMES[scenario.favours]} here.)</i><br>"
        f"<small>Where it stops holding: {html.escape(scenario.caveat)}</small></p>"
    )


def _chart_inputs(replayed: _Replayed, step: int) -> dict[str, Any]:
    """The equity-path chart's inputs for the path up to ``step`` (slices, no copies)."""
    end = step + 1
    return {
        "steps": replayed.steps[:end],
        "cross_equity_usdt": replayed.equity_usdt["cross"][:end],
        "isolated_equity_usdt": replayed.equity_usdt["isolated"][:end],
        "cross_margin_ratio": replayed.margin_ratio["cross"][:end],
        "isolated_margin_ratio": replayed.margin_ratio["isolated"][:end],
        "cross_liquidated_at": replayed.liquidated_at["cross"],
        "isolated_liquidated_at": replayed.liquidated_at["isolated"],
        "cross_stopped_at": replayed.stopped_at["cross"],
        "isolated_stopped_at": replayed.stopped_at["isolated"],
    }


def _outcome_inputs(risk: _Risk) -> dict[str, Any]:
    sims, table = risk.simulations, risk.table
    return {
        "cross_final_equity_usdt": sims["cross"].final_equity_usdt,
        "isolated_final_equity_usdt": sims["isolated"].final_equity_usdt,
        "cross_liquidation_probability": float(table.loc["cross", "liquidation_probability"]),
        "isolated_liquidation_probability": float(table.loc["isolated", "liquidation_probability"]),
        "initial_equity_usdt": risk.scenario.wallet_balance,
    }


def _play_interval_ms(n_steps: int) -> int:
    low, high = PLAY_INTERVAL_MS
    return int(min(max(1000.0 * PLAY_SECONDS / n_steps, low), high))


class WhenToUseWidget(LessonWidget):
    """The guide's "when to use" scenarios, played step by step in both margin modes.

    Parameters
    ----------
    scenario : name of the scenario shown first (a key of ``marginlab.scenarios.WHEN_TO_USE``).
    path : index of the seeded path to replay (default: the one that shows the claim best).
    step : step shown first (default: the last, the whole path).
    options : per scenario name, keyword arguments for its builder (e.g. ``{"hedge":
        {"correlation": 0.0}}`` for the caveat).

    Controls: ``scenario`` (Dropdown), ``path`` (IntSlider, path index), ``step``
    (IntSlider, the step shown; the ``play`` button, :attr:`play`, moves it).
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
        self._risks: dict[str, _Risk] = {}
        self._replays: dict[tuple[str, int], _Replayed] = {}
        self._applied: str | None = None  # scenario whose ranges, tables and claim are shown

        risk = self._risk(scenario)
        n_paths = risk.scenario.n_paths
        first_path = risk.showcase_path if path is None else path
        if isinstance(first_path, bool) or not isinstance(first_path, int | np.integer):
            raise TypeError(f"path must be a whole number, got {path!r}")
        if not 0 <= first_path < n_paths:
            raise MarginError(f"path must be between 0 and {n_paths - 1}, got {path!r}")
        replayed = self._replayed(scenario, int(first_path))
        last = len(replayed.steps) - 1
        first_step = last if step is None else step
        if isinstance(first_step, bool) or not isinstance(first_step, int | np.integer):
            raise TypeError(f"step must be a whole number, got {step!r}")
        if not 0 <= first_step <= last:
            raise MarginError(f"step must be between 0 and {last}, got {step!r}")

        controls = {
            "scenario": ipywidgets.Dropdown(
                options=[(_label(name), name) for name in WHEN_TO_USE],
                value=scenario,
                description="Scenario",
                style=CONTROL_STYLE,
                layout=ipywidgets.Layout(width="32em"),
            ),
            "path": ipywidgets.IntSlider(
                value=int(first_path),
                min=0,
                max=n_paths - 1,
                description="Price path #",
                continuous_update=False,  # a new path is a new replay (about a second)
                style=CONTROL_STYLE,
                layout=ipywidgets.Layout(width="32em"),
            ),
            "step": ipywidgets.IntSlider(
                value=int(first_step),
                min=0,
                max=last,
                description="Hour",
                continuous_update=True,
                style=CONTROL_STYLE,
                layout=ipywidgets.Layout(width="26em"),
            ),
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
        # Linked in the browser: a frame moves the slider, the slider's change ticks once.
        self._play_link = ipywidgets.jslink((self.play, "value"), (controls["step"], "value"))
        self.claim_area = ipywidgets.HTML(_claim_html(risk.scenario))
        self.risk_area = ipywidgets.HTML(_risk_html(risk))
        path_chart = equity_path_figure(
            **_chart_inputs(replayed, int(first_step)),
            step_range=(int(replayed.steps[0]), int(replayed.steps[-1])),
            x_title=STEP_AXIS,
        )
        outcomes_chart = outcomes_figure(**_outcome_inputs(risk))
        figures = [make_figure_widget(path_chart.figure), make_figure_widget(outcomes_chart.figure)]
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

    # --- engine, cached -------------------------------------------------------------

    def _risk(self, name: str) -> _Risk:
        if name not in self._risks:
            self._risks[name] = _risk(when_to_use(name, **self._options.get(name, {})))
        return self._risks[name]

    def _replayed(self, name: str, path: int) -> _Replayed:
        key = (name, path)
        if key not in self._replays:
            if len(self._replays) >= REPLAY_CACHE_SIZE:
                self._replays.pop(next(iter(self._replays)))  # the oldest
            self._replays[key] = _replay_path(self._risk(name).scenario, path)
        return self._replays[key]

    # --- the tick -----------------------------------------------------------------------

    def _compute(self, values: dict[str, Any]) -> _State:
        name = values["scenario"]
        if name not in WHEN_TO_USE:
            raise MarginError(f"scenario must be one of {', '.join(WHEN_TO_USE)}, got {name!r}")
        risk = self._risk(name)
        drawn = self._drawn_result
        if drawn is not None and drawn.name != name:
            # A new scenario starts on its clearest path, shown whole; play restarts it.
            replayed = self._replayed(name, risk.showcase_path)
            return _State(name, risk, replayed, step=len(replayed.steps) - 1)
        path, step = values["path"], values["step"]
        if not 0 <= path < risk.scenario.n_paths:
            raise MarginError(f"path must be between 0 and {risk.scenario.n_paths - 1}, got {path}")
        replayed = self._replayed(name, path)
        if not 0 <= step < len(replayed.steps):
            raise MarginError(f"step must be between 0 and {len(replayed.steps) - 1}, got {step}")
        return _State(name, risk, replayed, step)

    def _apply(self, state: _State) -> str:
        path_figure, outcomes = self.figures
        if state.name != self._applied:
            steps = state.replayed.steps
            path_figure.layout.xaxis2.range = [int(steps[0]), int(steps[-1])]
            update_outcomes(outcomes, **_outcome_inputs(state.risk))
            self.claim_area.value = _claim_html(state.risk.scenario)
            self.risk_area.value = _risk_html(state.risk)
            self._applied = state.name
        self._show_controls(state)
        return update_equity_path(path_figure, **_chart_inputs(state.replayed, state.step))

    def _show_controls(self, state: _State) -> None:
        """Ranges and values of path, step and play for ``state`` (changes tick once more)."""
        last = len(state.replayed.steps) - 1
        path, step, play = self.controls["path"], self.controls["step"], self.play
        path.max = state.risk.scenario.n_paths - 1
        path.value = state.replayed.path
        for control in (step, play):
            control.max = last  # clamps a value past the new end
        step.value = state.step
        play.interval = _play_interval_ms(last + 1)

    # --- what lessons and tests read ----------------------------------------------------

    def static(self) -> Chart:
        """A fresh plain figure of the equity path as shown now (for pages without a kernel)."""
        state: _State = self._drawn_result
        steps = state.replayed.steps
        return equity_path_figure(
            **_chart_inputs(state.replayed, state.step),
            step_range=(int(steps[0]), int(steps[-1])),
            x_title=STEP_AXIS,
        )

    @property
    def scenario(self) -> WhenToUse:
        """The scenario shown (accounts, paths, claim and caveat)."""
        return self._drawn_result.risk.scenario

    @property
    def path(self) -> int:
        """Index of the seeded path being replayed."""
        return self._drawn_result.replayed.path

    @property
    def step(self) -> int:
        """The step shown (0-based index along the path)."""
        return self._drawn_result.step

    @property
    def equity(self) -> dict[str, float]:
        """Equity (wallet + unrealized PnL, USDT) per mode at the step shown."""
        state: _State = self._drawn_result
        return {m: float(state.replayed.equity_usdt[m][state.step]) for m in MODES}

    @property
    def liquidated_at(self) -> dict[str, int | None]:
        """Per mode, the step of the first liquidation on this path (None: never).

        The whole path counts, whether or not the play has reached that step yet.
        """
        return dict(self._drawn_result.replayed.liquidated_at)

    @property
    def stopped_at(self) -> dict[str, int | None]:
        """Per mode, the step of the first stop-loss exit on this path (None: never)."""
        return dict(self._drawn_result.replayed.stopped_at)

    @property
    def replays(self) -> dict[str, ReplayResult]:
        """The engine's replay of the path shown, per mode."""
        return dict(self._drawn_result.replayed.replays)

    @property
    def risk(self) -> pd.DataFrame:
        """Risk over all of the scenario's paths, one row per mode (``WhenToUse.compare``)."""
        return self._drawn_result.risk.table.copy()
