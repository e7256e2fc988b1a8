"""Stop-loss vs liquidation (the guide's §8): "liquidation must never be the exit strategy".

The guide's position (a BTC long, 2,000 USDT of margin at 10x in a 10,000 USDT account,
:func:`~marginlab.scenarios.guide_account`) rides a hand-drawn path (:data:`PATHS`, each
named with its shape on screen). The learner sets a stop-loss and sees, in both margin
modes, the equity with the stop (where it fills and what it costs) next to the equity
without it. A stop is a trigger, not a price: it fills where the market is (a gap fills
at the gap, docs/formulas.md §10), it may watch the last traded price (the exchange's
default) or the mark, and liquidation always follows the mark. So the paths show a stop
that fires on a last-price wick the mark never follows, a stop that locks in a loss on a
dip that recovers, and a stop below the liquidation price that never fires.

Under the charts, the same position over a seeded set of random paths, with its model
named (:class:`~marginlab.engine.PathModel`): driftless by default, so an expected loss
compares the strategies and not a trend; or with crashes and nothing to offset them,
where the widget says the point is a crash. How often it is liquidated, how often the
stop closes it and the expected loss, with and without the stop.

Speed: every stop of the slider's grid is simulated once, for every path and mode, by
:func:`~marginlab.engine.simulate_stop_levels`; a tick only reads the stop's row.
"""

from __future__ import annotations

import functools
import html
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import ipywidgets
import numpy as np

from marginlab import charts
from marginlab.charts import format as fmt
from marginlab.engine import (
    MODES,
    STOP_TRIGGERS,
    MarginError,
    MarginMode,
    PathModel,
    SimulationResult,
    StopLevels,
    simulate_stop_levels,
    summarize,
    teaching_path,
)
from marginlab.scenarios import GUIDE, guide_account
from marginlab.widgets._plotly import make_figure_widget
from marginlab.widgets.base import LessonWidget, shown
from marginlab.widgets.controls import checkbox, dropdown, mode_toggle, price_slider, toggle

__all__ = ["MODELS", "MONTE_CARLO", "PATHS", "StopLossWidget"]


@dataclass(frozen=True)
class _Path:
    """A hand-drawn teaching path: its engine name, depth and how the screen names it."""

    name: str
    depth_rate: float
    label: str


PATHS: dict[str, _Path] = {
    "steady_decline": _Path("steady_decline", 0.30, "a steady fall of {depth}"),
    "v_dip_recovery": _Path("v_dip_recovery", 0.15, "a {depth} dip, then back to entry"),
    "shallow_dip": _Path("v_dip_recovery", 0.07, "a {depth} dip, then back to entry"),
    "whipsaw": _Path("whipsaw", 0.06, "three swings of {depth} either way"),
    "flash_crash_wick": _Path("flash_crash_wick", 0.12, "one step {depth} down (a mark wick)"),
    "slow_grind": _Path("slow_grind", 0.12, "a slow grind down {depth}, with relief rallies"),
    "last_price_wick": _Path(
        "last_price_wick", 0.08, "a last-price wick {depth} down; the mark dips a quarter of it"
    ),
}
"""The hand-drawn paths of the ``path`` control, by id (each moves against the long)."""

MONTE_CARLO: dict[str, Any] = {"n_paths": 2_000, "n_steps": 200, "volatility": 0.8, "seed": 8}
"""Size and volatility shared by the random-path models (hourly steps: about eight days)."""

MODELS: dict[str, PathModel] = {
    "driftless": PathModel(**MONTE_CARLO),
    "crashes": PathModel(**MONTE_CARLO, jump_intensity=6.0, jump_mean=-0.08, jump_std=0.04),
}
"""The random-path models of the ``model`` control: no drift and no jumps (a fair bet), or
crashes with no drift to offset them (the price falls on average: a crash scenario)."""

MODEL_LABELS = {"driftless": "no drift, no jumps", "crashes": "crashes, nothing to offset them"}
STOP_RANGE_USDT = (30_000.0, 59_900.0)  # below the guide's 60,000 entry, past cross liquidation
STOP_STEP_USDT = 100.0
STOP_GRID = np.arange(STOP_RANGE_USDT[0], STOP_RANGE_USDT[1] + 1.0, STOP_STEP_USDT)
STRATEGY_NAMES = {
    "cross": "Cross",
    "isolated": "Isolated",
    "cross_stop": "Cross + stop",
    "isolated_stop": "Isolated + stop",
}


def path_label(path_id: str) -> str:
    """ "Hand-drawn: a steady fall of 30%" (the path's shape, as the control names it)."""
    path = PATHS[path_id]
    return "Hand-drawn: " + path.label.format(depth=fmt.percent(path.depth_rate, 0))


def model_text(model_id: str) -> str:
    """The random paths' model in a sentence, and what that means for an expected loss."""
    model = MODELS[model_id]
    if model.mean_return < 0:
        point = "the point here is a crash, not a fair bet"
    else:
        point = "so an expected loss compares the strategies, not a trend"
    return f"{model.describe().removesuffix('.')} ({point})"


@dataclass(frozen=True, eq=False)
class _Grids:
    """Every stop of the grid simulated once: per mode (and per trigger on a hand-drawn path)."""

    levels: Mapping[tuple[MarginMode, str], StopLevels]


@dataclass(frozen=True, eq=False)
class _State:
    """One tick: the controls' values and every engine number they lead to."""

    path: str
    model: str
    mode: MarginMode
    trigger: str
    stop_price: float | None
    with_stop: charts.EquityPaths
    without_stop: charts.EquityPaths
    runs: Mapping[str, SimulationResult]  # strategy -> the random paths' outcome
    odds: Mapping[str, dict[str, float]]  # strategy -> marginlab.engine.summarize's figures
    grid: StopLevels  # the hand-drawn path in the chosen mode and trigger

    def run(self, with_stop: bool) -> SimulationResult:
        """The hand-drawn path in the mode shown, with the stop (or without one)."""
        return _hand_drawn(self.grid, self.stop_price if with_stop else None)[0]

    def event(self, with_stop: bool, kind: str) -> int | None:
        """The step of the position's ``kind`` ("stopped_at"/"liquidated_at"); None: never."""
        step = getattr(self.run(with_stop), kind)[self.grid.key][0]
        return None if step < 0 else int(step)

    def fill(self) -> float:
        """Where the stop filled on the hand-drawn path, USDT (NaN: no stop exit)."""
        run = self.run(True)
        stopped = run.stopped_at[self.grid.key][0] >= 0
        return float(run.exit_price[self.grid.key][0]) if stopped else float("nan")

    @property
    def row(self) -> dict[str, float]:
        """The random paths' figures of the strategy shown (the mode, with the stop if set)."""
        mode = self.mode.value
        return self.odds[mode if self.stop_price is None else f"{mode}_stop"]


@functools.lru_cache(maxsize=1024)  # a few MB at most; a learner returns to the same stops
def _hand_drawn(grid: StopLevels, stop: float | None) -> tuple[SimulationResult, charts.ModePath]:
    """A hand-drawn path's outcome with ``stop`` (None: without a stop) and its line on the
    chart, computed once per grid (one mode and trigger) and stop."""
    run = grid.result(stop)
    timeline = grid.timeline(stop)
    liquidated, stopped = run.liquidated_at[grid.key][0], run.stopped_at[grid.key][0]
    line = charts.ModePath(
        timeline["equity_usdt"],
        timeline["margin_ratio"],
        None if liquidated < 0 else int(liquidated),
        None if stopped < 0 else int(stopped),
    )
    return run, line


def _equity_paths(grids: Mapping[MarginMode, StopLevels], stop: float | None) -> charts.EquityPaths:
    """Both modes along the hand-drawn path with ``stop`` (None: without a stop)."""
    modes = {mode: _hand_drawn(grid, stop)[1] for mode, grid in grids.items()}
    steps = np.arange(next(iter(grids.values())).n_steps, dtype=np.int32)  # 4 bytes a step
    return charts.EquityPaths(steps, modes)


def _cost(loss_usdt: float) -> str:
    """ "a loss of 1,000.00 USDT" or "a gain of 500.00 USDT"."""
    if loss_usdt < 0:
        return f"a gain of {fmt.usdt(-loss_usdt)}"
    return f"a loss of {fmt.usdt(loss_usdt)}"


def _table_html(state: _State) -> str:
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
        cells = "".join(
            f'<td style="text-align:right">{html.escape(show(figures[column]))}</td>'
            for _, column, show in columns
        )
        name = html.escape(STRATEGY_NAMES[strategy])
        name = f"<b>{name}</b>" if strategy.startswith(state.mode.value) else name
        rows.append(f'<tr><th scope="row" style="text-align:left">{name}</th>{cells}</tr>')
    stop = "no stop" if state.stop_price is None else f"the stop at {fmt.price(state.stop_price)}"
    caption = (
        f"Over {MODELS[state.model].n_paths:,} random paths, with {stop} (loss against the "
        f"deposit). Model: {model_text(state.model)}"
    )
    return (
        '<table class="marginlab-risk" style="border-collapse:collapse;min-width:36em">'
        f'<caption style="text-align:left;caption-side:top">{html.escape(caption)}</caption>'
        f"<thead><tr><td></td>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )


def _path_clause(state: _State) -> str:
    """What the stop does on the hand-drawn path, and what happens without it."""
    mode = state.mode
    with_run, without_run = state.with_stop.modes[mode], state.without_stop.modes[mode]
    loss_with = state.run(True).loss_total_usdt[0]
    loss_without = state.run(False).loss_total_usdt[0]
    if state.stop_price is None:
        clause = f"the {mode.value} position has no stop-loss"
    elif with_run.stopped_at >= 0:
        step = with_run.stopped_at
        fill = state.fill()
        clause = (
            f"a stop at {fmt.price(state.stop_price)} (watching the {state.trigger} price) "
            f"closes the {mode.value} position at step {step:,} (fill {fmt.price(fill)}), "
            f"{_cost(loss_with)}"
        )
        mark = state.grid.marks[0, step]
        long = state.grid.position.side.value == "long"
        if (mark > state.stop_price) if long else (mark < state.stop_price):
            clause += (
                f": it fired on the last price ({fmt.price(state.grid.lasts[0, step])}) while "
                f"the mark stood at {fmt.price(mark)}, a wick the mark never followed"
            )
        if loss_without < loss_with:
            clause += ", locked in on a move the position gets over without the stop"
    elif with_run.liquidated_at >= 0:
        clause = (
            f"a stop at {fmt.price(state.stop_price)} never fires: the {mode.value} position "
            f"is liquidated first, at step {with_run.liquidated_at:,} (the stop is past the "
            f"liquidation price), {_cost(loss_with)}"
        )
    else:
        clause = (
            f"a stop at {fmt.price(state.stop_price)} is not reached and the {mode.value} "
            f"position ends with {_cost(loss_with)}"
        )
    if without_run.liquidated_at >= 0:
        without = (
            f"without a stop it is liquidated at step {without_run.liquidated_at:,}, "
            f"{_cost(loss_without)}"
        )
    else:
        without = f"without a stop it is not liquidated and ends with {_cost(loss_without)}"
    return f"{clause}; {without}"


def _summary(state: _State) -> str:
    """One sentence: the path and what the stop does on it, then the random paths' odds."""
    base = state.odds[state.mode.value]
    n_paths = MODELS[state.model].n_paths
    if state.stop_price is None:
        odds = (
            f"over {n_paths:,} random paths it is liquidated on "
            f"{fmt.percent(base['liquidation_probability'])} (expected loss "
            f"{fmt.usdt(base['mean_loss_usdt'])})"
        )
    else:
        stopped = state.odds[f"{state.mode.value}_stop"]
        odds = (
            f"over {n_paths:,} random paths the stop closes it on "
            f"{fmt.percent(stopped['stop_probability'])} and liquidation comes first on "
            f"{fmt.percent(stopped['liquidation_probability'])} (expected loss "
            f"{fmt.usdt(stopped['mean_loss_usdt'])}; without a stop it is liquidated on "
            f"{fmt.percent(base['liquidation_probability'])}, expected loss "
            f"{fmt.usdt(base['mean_loss_usdt'])})"
        )
    return (
        f"On the path {path_label(state.path).lower()}, {_path_clause(state)}; {odds}. "
        f"Random paths: {model_text(state.model)}."
    )


# --- engine, once per kernel: every stop-loss widget (a lesson's and its check cell's probe)
# shares these grids; nothing changes them.


@functools.cache
def _path_grids(path_id: str, n_steps: int) -> dict[tuple[MarginMode, str], StopLevels]:
    """Every stop of the grid on one hand-drawn path of the guide's trade, per mode and
    trigger."""
    path = PATHS[path_id]
    prices = {
        kind: teaching_path(
            path.name,
            start_price=GUIDE.entry_price,
            n_steps=n_steps,
            depth_rate=path.depth_rate,
            against=GUIDE.side,
            price=kind,
        )[None, :]
        for kind in ("mark", "last")
    }
    return {
        (mode, trigger): simulate_stop_levels(
            guide_account(mode),
            {GUIDE.symbol: prices["mark"]},
            STOP_GRID,
            last_prices={GUIDE.symbol: prices["last"]},
            stop_trigger=trigger,
        )
        for mode in MODES
        for trigger in STOP_TRIGGERS
    }


@functools.cache
def _model_grids(model_id: str) -> dict[MarginMode, StopLevels]:
    """Every stop of the grid on every random path of one model, per mode (the last price
    is the mark there, so the trigger does not matter)."""
    prices = {GUIDE.symbol: MODELS[model_id].paths(GUIDE.entry_price)}
    return {mode: simulate_stop_levels(guide_account(mode), prices, STOP_GRID) for mode in MODES}


class StopLossWidget(LessonWidget):
    """The guide's BTC long with and without a stop-loss, along a hand-drawn path and many.

    Parameters
    ----------
    path : id of the hand-drawn path shown first (a key of :data:`PATHS`).
    stop_price : stop-loss price in USDT, below the 60,000 entry (30,000 to 59,900, step 100).
    use_stop : whether the stop is set (off: both charts show the position without one).
    mode : the margin mode the summary and the attributes speak of; the charts show both.
    trigger : the price the stop watches, "last" (the exchange's default) or "mark".
    model : the random paths' model, a key of :data:`MODELS` ("driftless" or "crashes").
    n_steps : steps of the hand-drawn path.

    Controls: ``path``, ``model`` (Dropdowns), ``use_stop`` (Checkbox), ``stop``
    (FloatSlider, USDT, follows the drag), ``trigger`` and ``mode`` (ToggleButtons).
    """

    def __init__(
        self,
        path: str = "steady_decline",
        *,
        stop_price: float = 57_000.0,
        use_stop: bool = True,
        mode: str = "isolated",
        trigger: str = "last",
        model: str = "driftless",
        n_steps: int = 200,
    ) -> None:
        for name, value, known in (
            ("path", path, PATHS),
            ("model", model, MODELS),
            ("trigger", trigger, STOP_TRIGGERS),
        ):
            if value not in known:
                raise MarginError(f"{name} must be one of {', '.join(known)}, got {value!r}")
        MarginMode.parse(mode)
        low, high = STOP_RANGE_USDT
        if not low <= stop_price <= high:  # also refuses NaN
            raise MarginError(
                f"stop_price must be between {low:,.0f} and {high:,.0f} USDT, got {stop_price!r}"
            )
        self.symbol = GUIDE.symbol
        self.n_steps = n_steps
        self._paths = {pid: _path_grids(pid, n_steps) for pid in PATHS}  # every stop, once
        self._models = {mid: _model_grids(mid) for mid in MODELS}
        self._odds: dict[tuple, tuple[SimulationResult, dict[str, float]]] = {}

        controls = {
            "path": dropdown([(path_label(p), p) for p in PATHS], path, "Price path"),
            "model": dropdown(
                [(f"Random: {MODEL_LABELS[m]}", m) for m in MODELS], model, "Random paths"
            ),
            "use_stop": checkbox(use_stop, "Use a stop-loss"),
            "stop": price_slider(stop_price, low, high, STOP_STEP_USDT, "Stop price (USDT)"),
            "trigger": toggle(
                [("Last price", "last"), ("Mark price", "mark")], trigger, "Stop watches"
            ),
            "mode": mode_toggle(mode, "Mode"),
        }
        controls["stop"].disabled = not use_stop
        state = self._compute({name: c.value for name, c in controls.items()})
        with_chart = self._path_chart(state, stop=True)
        without_chart = self._path_chart(state, stop=False)
        outcomes_chart = charts.outcomes_figure(
            self._outcomes(state),
            title=f"Final equity over {MODELS[model].n_paths:,} random price paths",
        )
        figures = [
            make_figure_widget(with_chart.figure),
            make_figure_widget(without_chart.figure),
            make_figure_widget(outcomes_chart.figure),
        ]
        self.table_area = ipywidgets.HTML(_table_html(state))
        figures_box = ipywidgets.VBox([figures[0], figures[1], self.table_area, figures[2]])
        super().__init__(controls, figures, figures_box=figures_box)

    def _run(self, model: str, mode: MarginMode, stop: float | None) -> tuple:
        key = (model, mode, stop)
        if key not in self._odds:
            if len(self._odds) >= 64:
                self._odds.pop(next(iter(self._odds)))  # the oldest
            result = self._models[model][mode].result(stop)
            self._odds[key] = result, summarize(result, GUIDE.wallet_balance)
        return self._odds[key]

    # --- the tick -----------------------------------------------------------------------

    def _compute(self, values: dict[str, Any]) -> _State:
        path, model, trigger = values["path"], values["model"], values["trigger"]
        mode = MarginMode.parse(values["mode"])
        stop = float(values["stop"]) if values["use_stop"] else None
        if path not in PATHS or model not in MODELS or trigger not in STOP_TRIGGERS:
            raise MarginError(f"path, model, trigger: unknown {path!r}, {model!r}, {trigger!r}")
        grids = {m: self._paths[path][(m, trigger)] for m in MODES}
        if stop is not None:
            grids[mode].index(stop)  # refuses a stop off the slider's grid (NaN included)
        runs, odds = {}, {}
        for strategy_mode in MODES:
            strategies = [(strategy_mode.value, None)]
            if stop is not None:
                strategies.append((f"{strategy_mode.value}_stop", stop))
            for name, level in strategies:
                runs[name], odds[name] = self._run(model, strategy_mode, level)
        return _State(
            path=path,
            model=model,
            mode=mode,
            trigger=trigger,
            stop_price=stop,
            with_stop=_equity_paths(grids, stop),
            without_stop=_equity_paths(grids, None),
            runs=runs,
            odds=odds,
            grid=grids[mode],
        )

    @staticmethod
    def _outcomes(state: _State) -> charts.Outcomes:
        keep = ["cross", "isolated"]
        if state.stop_price is not None:
            keep.append(f"{state.mode.value}_stop")
        return charts.Outcomes(
            {k: state.runs[k].final_equity_usdt for k in keep},
            {k: state.odds[k]["liquidation_probability"] for k in keep},
            initial_equity_usdt=GUIDE.wallet_balance,
        )

    def _apply(self, state: _State) -> str:
        with_figure, without_figure, outcomes = self.figures
        charts.update_outcomes(outcomes, self._outcomes(state))
        self._send_chart(outcomes)  # drawn while the paths are computed
        both = (state.with_stop, state.without_stop)  # the same axes: see _path_chart
        charts.update_equity_path(with_figure, state.with_stop, whole=both)
        charts.update_equity_path(without_figure, state.without_stop, whole=both)
        self.table_area.value = _table_html(state)
        self.controls["stop"].disabled = state.stop_price is None
        return _summary(state)

    # --- what lessons and tests read ----------------------------------------------------

    def static(self) -> charts.Chart:
        """A fresh plain figure of the equity with the stop-loss, as shown now."""
        chart = self._path_chart(self.drawn, stop=True)
        return charts.Chart(chart.figure, self.summary)

    def _path_chart(self, state: _State, *, stop: bool) -> charts.Chart:
        """The equity path with the stop (or without it), on the axes both charts share:
        every step, and the values of both paths. The two charts then compare at a glance,
        and turning the stop on or off moves the curves only (the browser redraws them on
        plotly.js's fast path)."""
        return charts.equity_path_figure(
            state.with_stop if stop else state.without_stop,
            step_range=(0, len(state.without_stop.steps) - 1),
            whole=(state.with_stop, state.without_stop),
            title="With the stop-loss" if stop else "Without a stop-loss",
        )

    # On the hand-drawn path, in the mode shown: USDT (deposit − final equity; < 0: a gain),
    # steps (None: never), the stop's fill (NaN: no exit). Over the random paths: shares
    # of the paths and the mean loss with the current stop (no stop: without).
    stop_price = shown(lambda st: st.stop_price, "The stop price in USDT (None: no stop).")
    mode = shown(lambda st: st.mode.value, "The margin mode the attributes speak of.")
    loss_with_stop = shown(lambda st: st.run(True).loss_total_usdt[0], "Loss with the stop.")
    loss_without_stop = shown(lambda st: st.run(False).loss_total_usdt[0], "Loss without.")
    stop_exit_step = shown(lambda st: st.event(True, "stopped_at"), "The stop's exit step.")
    stop_fill_price = shown(lambda st: st.fill(), "The stop's fill (NaN: no stop exit).")
    liquidation_step = shown(lambda st: st.event(False, "liquidated_at"), "Without a stop.")
    liquidation_step_with_stop = shown(lambda st: st.event(True, "liquidated_at"), "With it.")
    probability_liquidated = shown(lambda st: st.row["liquidation_probability"], "Liquidated.")
    probability_stopped = shown(lambda st: st.row["stop_probability"], "Closed by the stop.")
    expected_loss = shown(lambda st: st.row["mean_loss_usdt"], "Mean loss, USDT.")
    model = shown(lambda st: MODELS[st.model], "The random paths' model (a PathModel).")
    risk = shown(
        lambda st: _odds_table(st.odds),
        "Monte Carlo figures per strategy (summarize's columns; loss against the deposit).",
    )


def _odds_table(odds: Mapping[str, Mapping[str, float]]) -> Any:
    """The strategies' figures as a pandas table (pandas loads only here: most lessons
    never build a table)."""
    import pandas as pd

    return pd.DataFrame.from_dict(dict(odds), orient="index").rename_axis("strategy")
