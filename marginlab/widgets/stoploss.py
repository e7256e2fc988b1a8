"""Stop-loss vs liquidation (the guide's §8): "liquidation must never be the exit strategy".

The guide's position (a BTC long, 2,000 USDT of margin at 10x in a 10,000 USDT
account, :func:`~marginlab.scenarios.guide_account`) rides a named teaching path
(:data:`~marginlab.engine.TEACHING_PATHS`; by default the steady decline, where the
position is liquidated in isolated and bleeds on in cross). The learner sets a
stop-loss price and sees, in both margin modes, the equity with the stop (where it
fills and what it costs) next to the equity without it (where liquidation comes and
what it costs). A stop on the far side of the liquidation price never fires: the
position is liquidated first.

Under the charts, the same position over a seeded set of random paths (GBM with
crashes, :func:`~marginlab.engine.simulate_paths`): how often it is liquidated, how
often the stop closes it and the expected loss, with and without the stop. The path
set is fixed; only the runs with a stop are recomputed when the stop moves.
"""

from __future__ import annotations

import html
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
from marginlab.engine import (
    TEACHING_PATHS,
    Account,
    ReplayResult,
    SimulationResult,
    gbm_paths,
    replay,
    simulate_paths,
    summarize,
    teaching_path,
)
from marginlab.engine.errors import MarginError
from marginlab.scenarios import GUIDE, guide_account
from marginlab.widgets._plotly import make_figure_widget
from marginlab.widgets.base import LessonWidget

if TYPE_CHECKING:  # pandas loads where a table is built: most lessons never need it
    import pandas as pd

__all__ = ["MONTE_CARLO", "StopLossWidget"]

MODES = ("cross", "isolated")
STRATEGIES = ("cross", "isolated", "cross_stop", "isolated_stop")
STRATEGY_NAMES = {
    "cross": "Cross",
    "isolated": "Isolated",
    "cross_stop": "Cross + stop",
    "isolated_stop": "Isolated + stop",
}
MONTE_CARLO: dict[str, Any] = {
    "n_paths": 2_000,
    "n_steps": 200,  # hourly steps: about eight days
    "volatility": 0.8,
    "jump_intensity": 6.0,  # crashes per year, each about -8 %: gaps jump past stops
    "jump_mean": -0.08,
    "jump_std": 0.04,
    "seed": 8,
}
"""The random paths of the Monte Carlo panel (arguments of :func:`~marginlab.engine.gbm_paths`)."""

STOP_RANGE_USDT = (30_000.0, 59_900.0)  # below the guide's 60,000 entry, past cross liquidation
STOP_STEP_USDT = 100.0
CACHE_SIZE = 64  # runs with a stop kept per stop price
CONTROL_STYLE = {"description_width": "initial"}


@dataclass(frozen=True, eq=False)
class _PathRun:
    """One mode on the teaching path, with or without a stop."""

    replay: ReplayResult
    steps: np.ndarray  # int32: 4 bytes a step on the wire
    equity_usdt: np.ndarray
    margin_ratio: np.ndarray
    loss_usdt: float  # deposit − final equity, as marginlab.engine.summarize measures loss
    stop_exit_step: int | None
    liquidation_step: int | None
    stop_fill_price: float  # NaN: no stop exit
    liquidation_mark_price: float  # NaN: no liquidation


@dataclass(frozen=True, eq=False)
class _State:
    """One tick: the controls' values and every engine number they lead to."""

    path: str
    mode: str
    stop_price: float | None
    with_stop: dict[str, _PathRun]
    without_stop: dict[str, _PathRun]
    simulations: dict[str, SimulationResult]  # by strategy; "_stop" only with a stop
    odds: dict[str, dict[str, float]]  # by strategy: marginlab.engine.summarize's figures


def _first(result: ReplayResult, kind: str) -> tuple[int | None, float]:
    """Step and price of the first event of ``kind`` (None, NaN if none)."""
    for event in result.events:
        if event.kind == kind:
            return event.step, event.price
    return None, float("nan")


def _label(path: str) -> str:
    return path.replace("_", " ")


def _chart_inputs(runs: dict[str, _PathRun]) -> dict[str, Any]:
    """Equity-path chart inputs for the two modes' runs on the same path."""
    inputs: dict[str, Any] = {"steps": runs["cross"].steps}
    for mode, run in runs.items():
        inputs[f"{mode}_equity_usdt"] = run.equity_usdt
        inputs[f"{mode}_margin_ratio"] = run.margin_ratio
        inputs[f"{mode}_liquidated_at"] = run.liquidation_step
        inputs[f"{mode}_stopped_at"] = run.stop_exit_step
    return inputs


def _outcome_inputs(state: _State) -> dict[str, Any]:
    sims, odds = state.simulations, state.odds
    inputs: dict[str, Any] = {
        "cross_final_equity_usdt": sims["cross"].final_equity_usdt,
        "isolated_final_equity_usdt": sims["isolated"].final_equity_usdt,
        "cross_liquidation_probability": odds["cross"]["liquidation_probability"],
        "isolated_liquidation_probability": odds["isolated"]["liquidation_probability"],
        "initial_equity_usdt": GUIDE.wallet_balance,
    }
    if "isolated_stop" in sims:
        inputs["isolated_stop_final_equity_usdt"] = sims["isolated_stop"].final_equity_usdt
        inputs["isolated_stop_liquidation_probability"] = odds["isolated_stop"][
            "liquidation_probability"
        ]
    return inputs


def _table_html(state: _State, n_paths: int) -> str:
    """Probability of liquidation and of a stop exit, expected and worst loss per strategy."""
    columns = (
        ("Liquidated", "liquidation_probability", fmt.percent),
        ("Stop exit", "stop_probability", fmt.percent),
        ("Expected loss", "mean_loss_usdt", fmt.usdt),
        ("Worst loss", "worst_loss_usdt", fmt.usdt),
    )
    head = "".join(f'<th scope="col">{label}</th>' for label, _, _ in columns)
    rows = []
    for strategy, figures in state.odds.items():
        bold = strategy.startswith(state.mode)
        cells = "".join(
            f'<td style="text-align:right">{html.escape(show(figures[column]))}</td>'
            for _, column, show in columns
        )
        name = html.escape(STRATEGY_NAMES[strategy])
        name = f"<b>{name}</b>" if bold else name
        rows.append(f'<tr><th scope="row" style="text-align:left">{name}</th>{cells}</tr>')
    stop = "no stop" if state.stop_price is None else f"the stop at {fmt.price(state.stop_price)}"
    caption = f"Over {n_paths:,} random price paths, with {stop} (loss against the deposit)"
    return (
        '<table class="marginlab-risk" style="border-collapse:collapse;min-width:36em">'
        f'<caption style="text-align:left">{html.escape(caption)}</caption>'
        f"<thead><tr><td></td>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )


def _cost(loss_usdt: float) -> str:
    """ "a loss of 1,000.00 USDT" or "a gain of 500.00 USDT"."""
    if loss_usdt < 0:
        return f"a gain of {fmt.usdt(-loss_usdt)}"
    return f"a loss of {fmt.usdt(loss_usdt)}"


def _summary(state: _State, n_paths: int) -> str:
    """One sentence: the stop's exit and cost, liquidation without it, and the Monte Carlo odds."""
    mode = state.mode
    with_run, without_run = state.with_stop[mode], state.without_stop[mode]
    if state.stop_price is None:
        with_clause = f"the {mode} position has no stop-loss"
    else:
        stop = fmt.price(state.stop_price)
        if with_run.stop_exit_step is not None:
            with_clause = (
                f"a stop at {stop} closes the {mode} position at step "
                f"{with_run.stop_exit_step:,} (fill {fmt.price(with_run.stop_fill_price)}), "
                f"{_cost(with_run.loss_usdt)}"
            )
        elif with_run.liquidation_step is not None:
            with_clause = (
                f"a stop at {stop} never fires: the {mode} position is liquidated first, at "
                f"step {with_run.liquidation_step:,}, {_cost(with_run.loss_usdt)}"
            )
        else:
            with_clause = (
                f"a stop at {stop} is not reached and the {mode} position ends with "
                f"{_cost(with_run.loss_usdt)}"
            )
    if without_run.liquidation_step is not None:
        without_clause = (
            f"without a stop it is liquidated at step {without_run.liquidation_step:,} "
            f"(mark {fmt.price(without_run.liquidation_mark_price)}), "
            f"{_cost(without_run.loss_usdt)}"
        )
    else:
        without_clause = (
            f"without a stop it is not liquidated and ends with {_cost(without_run.loss_usdt)}"
        )
    base = state.odds[mode]
    if state.stop_price is None:
        odds = (
            f"over {n_paths:,} random paths it is liquidated on "
            f"{fmt.percent(base['liquidation_probability'])} "
            f"(expected loss {fmt.usdt(base['mean_loss_usdt'])})"
        )
    else:
        stopped = state.odds[f"{mode}_stop"]
        odds = (
            f"over {n_paths:,} random paths the stop closes it on "
            f"{fmt.percent(stopped['stop_probability'])} and liquidation comes first on "
            f"{fmt.percent(stopped['liquidation_probability'])} (expected loss "
            f"{fmt.usdt(stopped['mean_loss_usdt'])}; without a stop it is liquidated on "
            f"{fmt.percent(base['liquidation_probability'])}, expected loss "
            f"{fmt.usdt(base['mean_loss_usdt'])})"
        )
    return f"On the {_label(state.path)}, {with_clause}; {without_clause}; {odds}."


class StopLossWidget(LessonWidget):
    """The guide's BTC long with and without a stop-loss, along a teaching path and over many.

    Parameters
    ----------
    path : teaching path name (one of ``TEACHING_PATHS``).
    stop_price : stop-loss price in USDT, below the 60,000 entry (slider range
        30,000 to 59,900, step 100).
    use_stop : whether the stop is set (off: both charts show the position without one).
    mode : the margin mode the summary and the attributes speak of ("isolated" or "cross");
        the charts always show both.
    n_steps : steps of the teaching path.
    stop_fill : where a stop fills, as in :func:`~marginlab.engine.replay`: "market" (the
        default: the worse of the stop and the step's price, so a gap fills at the gap)
        or "stop" (the idealised fill at the stop price).
    monte_carlo : arguments of :func:`~marginlab.engine.gbm_paths` for the random paths
        (default :data:`MONTE_CARLO`: 2,000 paths x 200 hourly steps, seeded).

    Controls: ``path`` (Dropdown), ``use_stop`` (Checkbox), ``stop`` (FloatSlider, USDT),
    ``mode`` (ToggleButtons cross/isolated).
    """

    def __init__(
        self,
        path: str = "steady_decline",
        *,
        stop_price: float = 57_000.0,
        use_stop: bool = True,
        mode: str = "isolated",
        n_steps: int = 200,
        stop_fill: str = "market",
        monte_carlo: dict[str, Any] | None = None,
    ) -> None:
        if path not in TEACHING_PATHS:
            raise MarginError(f"path must be one of {', '.join(TEACHING_PATHS)}, got {path!r}")
        if mode not in MODES:
            raise MarginError(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
        low, high = STOP_RANGE_USDT
        if not low <= stop_price <= high:  # also refuses NaN
            raise MarginError(
                f"stop_price must be between {low:,.0f} and {high:,.0f} USDT, got {stop_price!r}"
            )
        self.accounts: dict[str, Account] = {m: guide_account(m) for m in MODES}
        self.symbol = GUIDE.symbol
        self.n_steps = n_steps
        self.stop_fill = stop_fill
        options = {**MONTE_CARLO, **(monte_carlo or {})}
        self.monte_carlo_prices = gbm_paths(GUIDE.entry_price, **options)
        self._paths: dict[str, np.ndarray] = {}
        self._runs: dict[tuple[str, str, float | None], _PathRun] = {}
        self._sims: dict[tuple[str, float | None], tuple[SimulationResult, dict]] = {}

        controls = {
            "path": ipywidgets.Dropdown(
                options=[(_label(name).capitalize(), name) for name in TEACHING_PATHS],
                value=path,
                description="Price path",
                style=CONTROL_STYLE,
                layout=ipywidgets.Layout(width="24em"),
            ),
            "use_stop": ipywidgets.Checkbox(
                value=use_stop,
                description="Use a stop-loss",
                indent=False,
                style=CONTROL_STYLE,
            ),
            "stop": ipywidgets.FloatSlider(
                value=stop_price,
                min=low,
                max=high,
                step=STOP_STEP_USDT,
                description="Stop price (USDT)",
                readout_format=",.0f",
                continuous_update=False,  # each stop is two replays (~30 ms): on release
                disabled=not use_stop,
                style=CONTROL_STYLE,
                layout=ipywidgets.Layout(width="36em"),
            ),
            "mode": ipywidgets.ToggleButtons(
                options=[("Cross", "cross"), ("Isolated", "isolated")],
                value=mode,
                description="Mode",
                style=CONTROL_STYLE,
            ),
        }
        state = self._compute({name: c.value for name, c in controls.items()})
        with_chart = equity_path_figure(
            **_chart_inputs(state.with_stop), title="With the stop-loss"
        )
        without_chart = equity_path_figure(
            **_chart_inputs(state.without_stop), title="Without a stop-loss"
        )
        outcomes_chart = outcomes_figure(
            **_outcome_inputs(state),
            title=f"Final equity over {self.monte_carlo_prices.shape[0]:,} random price paths",
        )
        figures = [
            make_figure_widget(with_chart.figure),
            make_figure_widget(without_chart.figure),
            make_figure_widget(outcomes_chart.figure),
        ]
        self.table_area = ipywidgets.HTML(_table_html(state, self.monte_carlo_prices.shape[0]))
        figures_box = ipywidgets.VBox([figures[0], figures[1], self.table_area, figures[2]])
        super().__init__(controls, figures, figures_box=figures_box)

    # --- engine, cached -------------------------------------------------------------

    def _path(self, name: str) -> np.ndarray:
        if name not in self._paths:
            self._paths[name] = teaching_path(
                name, start_price=GUIDE.entry_price, n_steps=self.n_steps, against=GUIDE.side
            )
        return self._paths[name]

    def _stops(self, stop_price: float | None) -> dict[str, float] | None:
        return None if stop_price is None else {self.symbol: stop_price}

    def _run(self, path: str, mode: str, stop_price: float | None) -> _PathRun:
        key = (path, mode, stop_price)
        if key not in self._runs:
            prices = self._path(path)
            account, stops = self.accounts[mode], self._stops(stop_price)
            result = replay(account, {self.symbol: prices}, stops=stops, stop_fill=self.stop_fill)
            stop_step, fill = _first(result, "stop")
            liquidation_step, mark = _first(result, "liquidation")
            timeline = result.timeline
            if len(self._runs) >= CACHE_SIZE:
                self._runs.pop(next(iter(self._runs)))  # the oldest
            self._runs[key] = _PathRun(
                replay=result,
                steps=timeline.index.to_numpy().astype(np.int32),
                equity_usdt=timeline["equity_usdt"].to_numpy(dtype=float),
                margin_ratio=timeline[f"{result.keys[0]}.margin_ratio"].to_numpy(dtype=float),
                loss_usdt=GUIDE.wallet_balance - result.final_equity_usdt,
                stop_exit_step=stop_step,
                liquidation_step=liquidation_step,
                stop_fill_price=fill,
                liquidation_mark_price=mark,
            )
        return self._runs[key]

    def _simulate(self, mode: str, stop_price: float | None) -> tuple[SimulationResult, dict]:
        """The random paths in ``mode`` with this stop, and summarize's figures (vs the deposit)."""
        key = (mode, stop_price)
        if key not in self._sims:
            result = simulate_paths(
                self.accounts[mode],
                {self.symbol: self.monte_carlo_prices},
                stops=self._stops(stop_price),
                stop_fill=self.stop_fill,
            )
            if len(self._sims) >= CACHE_SIZE:
                self._sims.pop(next(iter(self._sims)))
            self._sims[key] = result, summarize(result, GUIDE.wallet_balance)
        return self._sims[key]

    # --- the tick -----------------------------------------------------------------------

    def _compute(self, values: dict[str, Any]) -> _State:
        path, mode = values["path"], values["mode"]
        stop_price = float(values["stop"]) if values["use_stop"] else None
        without = {m: self._run(path, m, None) for m in MODES}
        with_stop = {m: self._run(path, m, stop_price) for m in MODES}  # refuses a bad stop
        runs = {m: self._simulate(m, None) for m in MODES}
        if stop_price is not None:
            runs |= {f"{m}_stop": self._simulate(m, stop_price) for m in MODES}
        strategies = [s for s in STRATEGIES if s in runs]
        simulations = {s: runs[s][0] for s in strategies}
        odds = {s: runs[s][1] for s in strategies}
        return _State(path, mode, stop_price, with_stop, without, simulations, odds)

    def _apply(self, state: _State) -> str:
        with_figure, without_figure, outcomes = self.figures
        update_equity_path(with_figure, **_chart_inputs(state.with_stop))
        update_equity_path(without_figure, **_chart_inputs(state.without_stop))
        update_outcomes(outcomes, **_outcome_inputs(state))
        n_paths = self.monte_carlo_prices.shape[0]
        self.table_area.value = _table_html(state, n_paths)
        self.controls["stop"].disabled = state.stop_price is None
        return _summary(state, n_paths)

    # --- what lessons and tests read ----------------------------------------------------

    @property
    def _state(self) -> _State:
        return self._drawn_result

    def static(self) -> Chart:
        """A fresh plain figure of the equity with the stop-loss, as shown now."""
        chart = equity_path_figure(
            **_chart_inputs(self._state.with_stop), title="With the stop-loss"
        )
        return Chart(chart.figure, self.summary)

    @property
    def stop_price(self) -> float | None:
        """The stop price in USDT (None when the stop is off)."""
        return self._state.stop_price

    @property
    def mode(self) -> str:
        """The margin mode the summary and the attributes below speak of."""
        return self._state.mode

    @property
    def loss_with_stop(self) -> float:
        """Deposit minus equity at the end of the path with the stop, USDT (<0: a gain)."""
        return self._state.with_stop[self.mode].loss_usdt

    @property
    def loss_without_stop(self) -> float:
        """Deposit minus equity at the end of the path without a stop, USDT (<0: a gain)."""
        return self._state.without_stop[self.mode].loss_usdt

    @property
    def stop_exit_step(self) -> int | None:
        """Step at which the stop closed the position (None: it did not, or no stop)."""
        return self._state.with_stop[self.mode].stop_exit_step

    @property
    def stop_fill_price(self) -> float:
        """Where the stop filled, USDT (NaN: no stop exit)."""
        return self._state.with_stop[self.mode].stop_fill_price

    @property
    def liquidation_step(self) -> int | None:
        """Step at which the position is liquidated without a stop (None: never)."""
        return self._state.without_stop[self.mode].liquidation_step

    @property
    def liquidation_step_with_stop(self) -> int | None:
        """Step of a liquidation that comes before the stop (a stop past the liquidation price)."""
        return self._state.with_stop[self.mode].liquidation_step

    @property
    def probability_liquidated(self) -> float:
        """Share of the random paths on which the position is liquidated, with the current stop."""
        return float(self._strategy_row["liquidation_probability"])

    @property
    def probability_stopped(self) -> float:
        """Share of the random paths on which the current stop closes the position (0: no stop)."""
        return float(self._strategy_row["stop_probability"])

    @property
    def expected_loss(self) -> float:
        """Mean loss over the random paths with the current stop, USDT (<0: a gain)."""
        return float(self._strategy_row["mean_loss_usdt"])

    @property
    def risk(self) -> pd.DataFrame:
        """Monte Carlo figures per strategy (cross, isolated, and with the stop if set).

        One row per strategy ("cross", "isolated", "cross_stop", "isolated_stop"), the
        columns of :func:`~marginlab.engine.summarize` (loss against the deposit).
        """
        import pandas as pd

        table = pd.DataFrame.from_dict(self._state.odds, orient="index")
        table.index.name = "strategy"
        return table

    @property
    def replays(self) -> dict[str, dict[str, ReplayResult]]:
        """The engine's replays of the teaching path: {"with_stop"/"without_stop": {mode: ...}}."""
        state = self._state
        return {
            "with_stop": {m: r.replay for m, r in state.with_stop.items()},
            "without_stop": {m: r.replay for m, r in state.without_stop.items()},
        }

    @property
    def _strategy_row(self) -> dict[str, float]:
        state = self._state
        strategy = state.mode if state.stop_price is None else f"{state.mode}_stop"
        return state.odds[strategy]
