"""Micro-benchmark of every chart's update path (printed, not asserted).

For each chart of ``marginlab.charts``: the builder (``<chart>_figure(input)``, warm,
median of up to BUILDS builds), wrapping its figure in the widgets' FigureWidget
(``make_figure_widget``, once per chart in a widget; the bytes it sends, plotly.js
aside, are printed too), then ``update_<chart>(widget, input)`` over ``--ticks`` ticks
whose input changes every tick, as a learner's control moves it. Per tick: wall and CPU
(``time.thread_time``: the machine is shared, CPU time is the steadier figure)
milliseconds at p50/p95, and the bytes the widget sends to the browser (JSON + binary
buffers, captured at the widget's comm by ``benchmarks/widgets_bytes.py``'s
``CountingComm``; the few hundred bytes of Jupyter header per message are not counted).
Both the wrap and the tick times include packing each message's JSON, as a kernel does.

Inputs come from the engine (``Account.levels``, ``leverage_curve``, ``wallet_loss``,
``cross_margin_ratio``, ``simulate_paths`` and ``simulated_timelines``,
``hold_with_funding``, ``round_trip_fees``, ``Account.state``), built before the timing.
Sizes: a 200-point leverage grid, the loss widget's 501-price grid, a new 500-step path
per tick and a 720-step replay prefix growing by a step per tick, a 50 x 50 price grid
and the two-positions widget's 81 x 61 one, 10,000 Monte Carlo paths per strategy, the
costs widget's 125 leverages and 30 days of funding (91 settlements).

Goals (issue 4): well under 2 ms per update (CPU p95 is checked), <= 20 KB per tick (the
largest tick is checked); a row over either is marked.

Run:  .venv/bin/python benchmarks/charts.py [--ticks 300]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import numpy as np
import plotly.graph_objects as go
import widgets_bytes as capture  # main() makes every widget comm its CountingComm

from marginlab import charts
from marginlab.engine import (
    FEE_RATES,
    MODES,
    Account,
    MarginMode,
    fee_share_of_margin,
    gbm_paths,
    hold_with_funding,
    round_trip_fees,
    simulate_paths,
    simulated_timelines,
)
from marginlab.scenarios import Trade, guide_account, two_positions_account
from marginlab.widgets import make_figure_widget
from marginlab.widgets.costs import FUNDING_INTERVAL_HOURS, FUNDING_RANGE, MAX_DAYS
from marginlab.widgets.loss import PRICE_GRID
from marginlab.widgets.positions import BTC_GRID, ETH_GRID
from marginlab.widgets.threshold import LEVERAGE_GRID

BUILDS = 15
GOAL_MS = 2.0  # CPU p95 per update
GOAL_KB = 20.0  # the largest tick
KB = 1024
BTC, ETH = "BTCUSDT", "ETHUSDT"
CROSS, ISOLATED = MarginMode.CROSS, MarginMode.ISOLATED


def sweep(low: float, high: float, step: float, i: int) -> float:
    """Tick ``i`` of a slider dragged from ``low`` to ``high`` and back, by ``step``."""
    n = round((high - low) / step)
    k = i % (2 * n)
    return low + step * (k if k <= n else 2 * n - k)


# --- price ladder, loss bars, loss curve, distance: the guide's trade --------------------


def ladder(i: int) -> charts.Ladder:
    """A leverage drag and a price tick: both modes' levels (Account.levels) and a stop."""
    trade = Trade(leverage=sweep(5, 50, 1, i))
    mark = {BTC: sweep(57_500, 62_500, 50, i)}
    levels = {m: trade.account(m).levels(BTC, mark) for m in MODES}
    return charts.Ladder(levels, stop_price=57_000.0)


def loss_bars(i: int) -> charts.LossBars:
    """A price tick through the isolated liquidation (54,216.87): lost at the mark."""
    marks = {BTC: sweep(45_000, 60_000, 50, i)}
    lost, liquidated = {}, {}
    for mode in MODES:
        account = guide_account(mode)
        lost[mode] = account.wallet_loss(marks)
        liquidated[mode] = account.liquidate(marks).happened
    return charts.LossBars(10_000.0, lost, liquidated)


def loss_curve(i: int) -> charts.LossCurve:
    """A leverage drag (a new curve per mode over the widget's 501 prices) and a price tick."""
    trade = Trade(leverage=sweep(3, 100, 1, i))
    accounts = {m: trade.account(m) for m in MODES}
    mark = sweep(45_000, 60_000, 50, i)
    return charts.LossCurve(
        PRICE_GRID,
        {m: a.wallet_loss({BTC: PRICE_GRID}) for m, a in accounts.items()},
        mark,
        {m: a.wallet_loss({BTC: mark}) for m, a in accounts.items()},
        {m: a.liquidation_price(BTC) for m, a in accounts.items()},
        trade.wallet_balance,
    )


DISTANCE_GRID = np.linspace(1.0, 125.0, 200)


def distance(i: int) -> charts.DistanceCurves:
    """A wallet drag (new curves over 200 leverages) and the leverage moving along the grid."""
    trade = Trade(wallet_balance=sweep(5_000, 30_000, 100, i))
    curves = {m: trade.leverage_curve(m, DISTANCE_GRID) for m in MODES}
    return charts.DistanceCurves(curves, float(DISTANCE_GRID[10 + i % 150]))


# --- equity paths: rows of a simulation, and a replay played step by step ----------------


@cache
def timelines(n_paths: int, n_steps: int, seed: int) -> dict[MarginMode, dict[str, np.ndarray]]:
    """Guide's trade on ``n_paths`` random hourly paths, per mode: every path's equity and
    margin ratio, and its liquidation and stop steps (a cross stop at 52,000; -1: none)."""
    prices = {BTC: gbm_paths(60_000.0, n_paths, n_steps, volatility=0.8, seed=seed)}
    out = {}
    for mode in MODES:
        account = guide_account(mode)
        stops = {BTC: 52_000.0} if mode is CROSS else None
        result = simulate_paths(account, prices, stops=stops)
        lines = simulated_timelines(account, prices, result)
        out[mode] = {
            "equity": lines["equity_usdt"],
            "ratio": lines[f"{BTC}.margin_ratio"],
            "liquidated": result.liquidated_at[BTC],
            "stopped": result.stopped_at[BTC],
        }
    return out


def path_of(lines: dict[MarginMode, dict[str, np.ndarray]], row: int) -> charts.EquityPaths:
    def event(steps: np.ndarray) -> int | None:
        return None if steps[row] < 0 else int(steps[row])

    modes = {
        m: charts.ModePath(
            v["equity"][row], v["ratio"][row], event(v["liquidated"]), event(v["stopped"])
        )
        for m, v in lines.items()
    }
    n_steps = lines[CROSS]["equity"].shape[1]
    return charts.EquityPaths(np.arange(n_steps, dtype=np.int32), modes)


def new_path(i: int) -> charts.EquityPaths:
    """The path slider: another 500-step path of the simulation each tick."""
    return path_of(timelines(400, 500, 11), i % 400)


PLAY_STEPS = 720  # a 30-day hourly scenario


def play(i: int, ticks: int) -> charts.EquityPaths:
    """The Play button: one 720-step path up to one more step each tick (its last ``ticks``
    steps; the figure is built on the prefix before them)."""
    lines = timelines(400, PLAY_STEPS, 12)
    liquidated = np.flatnonzero(lines[ISOLATED]["liquidated"] >= 0)
    whole = path_of(lines, int(liquidated[0]) if liquidated.size else 0)
    first = max(PLAY_STEPS - 1 - ticks, 0)
    return whole.upto(min(first + i, PLAY_STEPS - 1))


# --- Monte Carlo outcomes ---------------------------------------------------------------

OUTCOME_PATHS = 10_000
SPARE_PATHS = 1_000  # each tick draws its 10,000 paths from a window shifted along these


@cache
def final_equity() -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Per strategy, every path's final equity and whether it was liquidated (200 steps)."""
    prices = {BTC: gbm_paths(60_000.0, OUTCOME_PATHS + SPARE_PATHS, 200, volatility=0.8, seed=8)}
    runs = {
        "cross": (guide_account("cross"), None),
        "isolated": (guide_account("isolated"), None),
        "isolated_stop": (guide_account("isolated"), {BTC: 57_000.0}),
    }
    out = {}
    for key, (account, stops) in runs.items():
        result = simulate_paths(account, prices, stops=stops)
        out[key] = (result.final_equity_usdt, result.liquidated())
    return out


def outcomes(i: int) -> charts.Outcomes:
    """New outcomes of all three strategies every tick (another window of the paths)."""
    start = (7 * i) % SPARE_PATHS
    window = slice(start, start + OUTCOME_PATHS)
    runs = final_equity()
    return charts.Outcomes(
        {k: equity[window] for k, (equity, _) in runs.items()},
        {k: float(np.mean(gone[window])) for k, (_, gone) in runs.items()},
        initial_equity_usdt=10_000.0,
    )


# --- cross map: two cross positions over two price grids --------------------------------


def cross_account(eth_margin: float) -> Account:
    """The two-positions account (BTC long 2,000 at 10x, ETH short at 10x) in cross."""
    account = Account(wallet_balance=10_000.0)
    account = account.set_margin_mode(BTC, "cross").set_margin_mode(ETH, "cross")
    account = account.open(BTC, side="long", price=60_000.0, leverage=10, margin=2_000)
    return account.open(ETH, side="short", price=3_000.0, leverage=10, margin=eth_margin)


@cache
def isolated_prices() -> dict[str, float]:
    isolated = two_positions_account("isolated")
    return {s: isolated.levels(s).liquidation_price for s in (BTC, ETH)}


def cross_map(account: Account, xs: np.ndarray, ys: np.ndarray, i: int) -> charts.CrossMap:
    grid = account.cross_margin_ratio({BTC: xs[np.newaxis, :], ETH: ys[:, np.newaxis]})
    marks = {BTC: sweep(50_000, 70_000, 100, i), ETH: 3_000.0}
    return charts.CrossMap(
        BTC,
        ETH,
        xs,
        ys,
        np.asarray(grid),
        marks[BTC],
        marks[ETH],
        account.state(marks).cross_margin_ratio,
        isolated_prices(),
    )


X_50, Y_50 = np.linspace(20_000.0, 90_000.0, 50), np.linspace(1_000.0, 9_000.0, 50)


def map_price_tick(i: int) -> charts.CrossMap:
    """The BTC price slider: the marker moves, the 50 x 50 map stays."""
    return cross_map(cross_account(1_000.0), X_50, Y_50, i)


def map_new_grid(i: int) -> charts.CrossMap:
    """A new 50 x 50 map every tick (the ETH position's margin changes)."""
    return cross_map(cross_account(sweep(500, 4_000, 10, i)), X_50, Y_50, i)


def map_new_widget_grid(i: int) -> charts.CrossMap:
    """A new map on the two-positions widget's grid (81 BTC x 61 ETH prices) every tick."""
    return cross_map(cross_account(sweep(500, 4_000, 10, i)), BTC_GRID, ETH_GRID, i)


# --- costs: fees against leverage, funding over days, the wallet split ------------------


def fees(i: int) -> charts.FeeCurves:
    """The leverage slider over the costs widget's 125 leverages, the order type flipping
    every 10 ticks: the round trip's fees (round_trip_fees) and the marker move."""
    kind = ("taker", "maker")[(i // 10) % 2]
    trade = Trade(leverage=sweep(3, 125, 1, i), fee_rate=FEE_RATES[kind])
    shares = {k: fee_share_of_margin(LEVERAGE_GRID, rate) for k, rate in FEE_RATES.items()}
    paid = round_trip_fees(trade.account("isolated"), BTC)
    return charts.FeeCurves(LEVERAGE_GRID, shares, trade.leverage, kind, paid)


def funding(i: int) -> charts.FundingCurves:
    """The funding-rate slider (new holds over 30 days, hold_with_funding) and the day."""
    low, high, step = FUNDING_RANGE
    rate = round(sweep(low, high, step, i), 6)
    holds = {
        m: hold_with_funding(Trade().account(m), intervals=MAX_DAYS * 3, rate=rate) for m in MODES
    }
    return charts.FundingCurves(
        holds, 60_000.0, rate, FUNDING_INTERVAL_HOURS, float(sweep(0, MAX_DAYS, 1, i))
    )


def balance(i: int) -> charts.BalanceSplit:
    """A new ETH order beside the guide's BTC long (its margin dragged) at a moving mark."""
    marks = {BTC: sweep(56_000, 64_000, 50, i), ETH: 3_000.0}
    states = {}
    for mode in MODES:
        account = guide_account(mode).set_margin_mode(ETH, mode)
        account = account.open(
            ETH, side="long", price=3_000.0, leverage=10, margin=sweep(100, 5_000, 50, i)
        )
        states[mode] = account.state(marks)
    return charts.BalanceSplit(states)


# --- the cases --------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    """One row: the chart (``<chart>_figure`` and ``update_<chart>`` of marginlab.charts),
    its input at tick ``i`` (0 is the one built) and the builder's keyword options."""

    name: str
    chart: str
    inputs: Callable[[int], Any]
    options: dict[str, Any] = field(default_factory=dict)

    def build(self, value: Any) -> charts.Chart:
        return getattr(charts, f"{self.chart}_figure")(value, **self.options)

    def update(self, fig: go.Figure, value: Any) -> str:
        return getattr(charts, f"update_{self.chart}")(fig, value)


def cases(ticks: int) -> list[Case]:
    """A row per chart (three for the cross map, two for the equity path)."""
    return [
        Case("price ladder", "price_ladder", ladder),
        Case("loss bars", "loss_at_liquidation", loss_bars),
        Case("loss curve, 501 prices", "loss_curve", loss_curve),
        Case("distance, 200 leverages", "liquidation_distance", distance),
        Case("equity path, new 500 steps", "equity_path", new_path),
        Case(
            "equity path, 720-step play",
            "equity_path",
            lambda i: play(i, ticks),
            {"step_range": (0, PLAY_STEPS - 1)},
        ),
        Case("outcomes, 3 x 10,000 paths", "outcomes", outcomes),
        Case("cross map, price tick", "cross_map", map_price_tick),
        Case("cross map, new 50x50", "cross_map", map_new_grid),
        Case("cross map, new 81x61", "cross_map", map_new_widget_grid),
        Case("fees, 125 leverages", "fees", fees),
        Case("funding, 30 days", "funding", funding),
        Case("balance split", "balance", balance),
    ]


def every_chart() -> list[str]:
    """The builders of marginlab.charts (``<chart>_figure``), sorted."""
    return sorted(name for name in charts.__all__ if name.endswith("_figure"))


# --- measuring --------------------------------------------------------------------------


def median_cpu_ms(action: Callable[[], object], repeat: int) -> float:
    """Median CPU milliseconds of ``action()`` over ``repeat`` runs."""
    cpu = []
    for _ in range(repeat):
        start = time.thread_time()
        action()
        cpu.append(time.thread_time() - start)
    return 1e3 * float(np.median(cpu))


@dataclass(frozen=True)
class Row:
    """One chart's figures: milliseconds (CPU unless wall) and KB (1,024 bytes)."""

    build_ms: float
    wrap_ms: float
    create_kb: float
    wall: tuple[float, float]  # p50, p95 ms
    cpu: tuple[float, float]  # p50, p95 ms
    kb: tuple[float, float]  # mean, largest per tick

    @property
    def over(self) -> str:
        over = [f"> {GOAL_MS:g} ms"] if self.cpu[1] > GOAL_MS else []
        over += [f"> {GOAL_KB:g} KB"] if self.kb[1] > GOAL_KB else []
        return "OVER: " + ", ".join(over) if over else "ok"


def measure_case(case: Case, ticks: int, builds: int) -> Row:
    """Build, wrap and create once, then ``ticks`` updates with the inputs of ticks 1..n."""
    first = case.inputs(0)
    figure = case.build(first).figure
    build_ms = median_cpu_ms(lambda: case.build(first), builds)
    wrap_ms = median_cpu_ms(lambda: make_figure_widget(figure), builds)
    widget, create_bytes, _ = capture.measure(lambda: make_figure_widget(figure))
    inputs = [case.inputs(i) for i in range(1, ticks + 1)]  # made outside the timing
    wall, cpu, sent = [], [], []
    for value in inputs:

        def tick(value: Any = value) -> None:
            start, start_cpu = time.perf_counter(), time.thread_time()
            case.update(widget, value)
            cpu.append(time.thread_time() - start_cpu)
            wall.append(time.perf_counter() - start)

        _, nbytes, _ = capture.measure(tick)
        sent.append(nbytes)
    return Row(
        build_ms,
        wrap_ms,
        create_bytes / KB,
        tuple(1e3 * float(np.percentile(wall, q)) for q in (50, 95)),
        tuple(1e3 * float(np.percentile(cpu, q)) for q in (50, 95)),
        (float(np.mean(sent)) / KB, max(sent) / KB),
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ticks", type=int, default=300, help="updates per chart (300)")
    args = parser.parse_args(argv)
    capture.count_comm_messages()
    if args.ticks < 1:
        parser.error("--ticks must be 1 or more")
    ticks, builds = args.ticks, min(BUILDS, args.ticks)
    chosen = cases(ticks)
    covered = sorted({f"{case.chart}_figure" for case in chosen})
    if covered != every_chart():
        missing = sorted(set(every_chart()) - set(covered))
        raise SystemExit(f"no benchmark case for {', '.join(missing)}: add one to cases()")
    for case in chosen:  # warm up: plotly loads its validators on first use
        make_figure_widget(case.build(case.inputs(0)).figure)

    print(f"every chart of marginlab.charts: {ticks} ticks each on make_figure_widget's widget")
    print(f"build, wrap: CPU ms, median of {builds} (warm); create KB: the widget's first state")
    print("tick: wall and CPU ms p50/p95; KB/tick = JSON + binary sent per tick, mean and largest")
    header = (
        f"{'chart':28} {'build':>6} {'wrap':>6} {'create':>7} {'wall p50':>9} {'wall p95':>9}"
        f" {'cpu p50':>8} {'cpu p95':>8} {'KB/tick':>8} {'KB max':>7}  goal"
    )
    print(header)
    print("-" * len(header))
    flagged = []
    for case in chosen:
        row = measure_case(case, ticks, builds)
        if row.over != "ok":
            flagged.append(case.name)
        print(
            f"{case.name:28} {row.build_ms:6.1f} {row.wrap_ms:6.1f} {row.create_kb:7.1f}"
            f" {row.wall[0]:9.3f} {row.wall[1]:9.3f} {row.cpu[0]:8.3f} {row.cpu[1]:8.3f}"
            f" {row.kb[0]:8.1f} {row.kb[1]:7.1f}  {row.over}"
        )
    print(f"charts ({len(covered)}, every builder of marginlab.charts): {', '.join(covered)}")
    print(f"goals: well under {GOAL_MS:g} ms per update (CPU p95), <= {GOAL_KB:g} KB per tick")
    print(f"over a goal: {', '.join(flagged)}" if flagged else "every chart meets both goals")


if __name__ == "__main__":
    main()
