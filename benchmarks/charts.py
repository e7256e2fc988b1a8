"""Micro-benchmark of the chart update path (printed, not asserted).

For each chart: time the builder (``<chart>_figure``, warm, median of BUILDS builds) and
wrapping its figure in a ``go.FigureWidget`` (what the widgets do once per chart), then
time ``update_<chart>`` over many ticks with inputs that change every tick, and count
the bytes the widget sends to the browser per tick (JSON + binary buffers, captured at
the widget's comm). Typical sizes: a 200-point leverage grid, a 500-step path, a
50 x 50 price grid, 10,000 Monte Carlo paths. Goal (issue 4): well under 2 ms per
update, <= 20 KB per tick.

Run:  .venv/bin/python benchmarks/charts.py
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable

import numpy as np
import plotly.graph_objects as go

from marginlab import charts
from marginlab.charts import _common

TICKS = 300
BUILDS = 15
rng = np.random.default_rng(7)


def _ladder(i: int) -> dict:
    mark = 60_000.0 - 20.0 * i
    return {
        "entry_price": 60_000.0,
        "mark_price": mark,
        "cross_liquidation_price": 30_120.48,
        "isolated_liquidation_price": 54_216.87 - i,
        "cross_bankruptcy_price": 30_000.0,
        "isolated_bankruptcy_price": 54_000.0 - i,
        "stop_price": 57_000.0,
    }


def _loss(i: int) -> dict:
    return {
        "wallet_balance_usdt": 10_000.0,
        "cross_loss_usdt": 10.0 * i,
        "isolated_loss_usdt": 2_000.0,
        "cross_liquidated": False,
    }


LEVERAGE = np.linspace(1.0, 125.0, 200)


def _distance(i: int) -> dict:
    margin = 2_000.0 + i
    isolated = 1.0 / LEVERAGE - 0.004
    cross = np.where(LEVERAGE * margin > 10_000, 10_000 / (margin * LEVERAGE), np.nan)
    return {
        "leverage": LEVERAGE,
        "cross_distance_rate": cross,
        "isolated_distance_rate": isolated,
        "current_leverage": 10.0,
        "current_cross_distance_rate": float(10_000 / (margin * 10)),
        "current_isolated_distance_rate": 0.096,
    }


STEPS = np.arange(500)


def _path(i: int) -> dict:
    price = 60_000 * np.exp(np.cumsum(rng.normal(0, 0.01, STEPS.size)))
    equity = 10_000 + (price - 60_000) / 3
    return {
        "steps": STEPS,
        "cross_equity_usdt": equity,
        "isolated_equity_usdt": np.maximum(equity, 8_000),
        "cross_margin_ratio": 80 / equity,
        "isolated_margin_ratio": 80 / (equity - 8_000),
        "isolated_liquidated_at": int(i % 500),
    }


REPLAY_STEPS = 720  # a 30-day hourly scenario, played step by step
REPLAY_PRICE = 60_000 * np.exp(np.cumsum(np.random.default_rng(3).normal(0, 0.01, REPLAY_STEPS)))
REPLAY_EQUITY = 10_000 + (REPLAY_PRICE - 60_000) / 3


def _replay(i: int) -> dict:
    """A play tick: the path up to step ``i`` of the last TICKS (a growing prefix)."""
    end = REPLAY_STEPS - TICKS + i % (TICKS + 1)
    return {
        "steps": np.arange(REPLAY_STEPS, dtype=np.int32)[:end],
        "cross_equity_usdt": REPLAY_EQUITY[:end],
        "isolated_equity_usdt": np.maximum(REPLAY_EQUITY, 8_000)[:end],
        "cross_margin_ratio": (80 / REPLAY_EQUITY)[:end],
        "isolated_margin_ratio": (80 / (REPLAY_EQUITY - 7_900))[:end],
        "isolated_liquidated_at": 500,
        "cross_stopped_at": 650,
    }


X_GRID = np.linspace(20_000, 90_000, 50)
Y_GRID = np.linspace(1_000, 9_000, 50)


def _map_data(shift: float) -> np.ndarray:
    pool = 10_000 + (X_GRID[None, :] - 60_000) / 3 - (Y_GRID[:, None] - 3_000) * 10 / 3 + shift
    maintenance = 0.004 * (X_GRID[None, :] / 3 + Y_GRID[:, None] * 10 / 3)
    return np.where(pool > 0, maintenance / np.where(pool > 0, pool, 1), np.inf)


MAP_FIXED = _map_data(0.0)


def _map_price_only(i: int) -> dict:
    return {
        "x_price_grid": X_GRID,
        "y_price_grid": Y_GRID,
        "margin_ratio_grid": MAP_FIXED,
        "x_mark_price": 60_000.0 - 10 * i,
        "y_mark_price": 3_000.0,
        "margin_ratio": 0.012,
        "x_isolated_liquidation_price": 54_216.87,
        "y_isolated_liquidation_price": 3_286.85,
    }


def _map_new_grid(i: int) -> dict:
    return _map_price_only(i) | {"margin_ratio_grid": _map_data(10.0 * i)}


def _outcomes(i: int) -> dict:
    final = 10_000 + rng.normal(0, 2_000, (3, 10_000))
    return {
        "cross_final_equity_usdt": np.maximum(final[0], 0),
        "isolated_final_equity_usdt": np.maximum(final[1], 8_000),
        "cross_liquidation_probability": 0.1,
        "isolated_liquidation_probability": 0.3,
        "isolated_stop_final_equity_usdt": np.maximum(final[2], 9_000),
        "isolated_stop_liquidation_probability": 0.0,
        "initial_equity_usdt": 10_000.0,
    }


CASES: list[tuple[str, Callable, Callable, Callable[[int], dict]]] = [
    ("price ladder", charts.price_ladder_figure, charts.update_price_ladder, _ladder),
    ("loss bars", charts.loss_at_liquidation_figure, charts.update_loss_at_liquidation, _loss),
    (
        "distance, 200 leverages",
        charts.liquidation_distance_figure,
        charts.update_liquidation_distance,
        _distance,
    ),
    ("equity path, 500 steps", charts.equity_path_figure, charts.update_equity_path, _path),
    ("equity path, 720-step play", charts.equity_path_figure, charts.update_equity_path, _replay),
    ("cross map, price tick", charts.cross_map_figure, charts.update_cross_map, _map_price_only),
    ("cross map, new 50x50 grid", charts.cross_map_figure, charts.update_cross_map, _map_new_grid),
    ("outcomes, 3 x 10,000 paths", charts.outcomes_figure, charts.update_outcomes, _outcomes),
]


def _count_bytes(widget: go.FigureWidget) -> list[int]:
    """Patch the widget's comm so every message adds its size (JSON + buffers) to a list.

    Sizes of one tick's messages are summed by the caller (a tick may send several).
    """
    sizes: list[int] = []
    comm = widget.comm
    send = comm.send

    def counting_send(data=None, metadata=None, buffers=None):
        size = len(json.dumps(data, default=str))
        size += sum(memoryview(b).nbytes for b in buffers or ())
        sizes.append(size)
        return send(data=data, metadata=metadata, buffers=buffers)

    comm.send = counting_send
    return sizes


def _median_ms(action: Callable[[], object], repeat: int) -> tuple[float, float]:
    """Median wall and CPU milliseconds of ``action()`` over ``repeat`` runs."""
    wall, cpu = [], []
    for _ in range(repeat):
        start, start_cpu = time.perf_counter(), time.thread_time()
        action()
        cpu.append(time.thread_time() - start_cpu)
        wall.append(time.perf_counter() - start)
    return 1e3 * float(np.median(wall)), 1e3 * float(np.median(cpu))


def build_times() -> None:
    """Building each chart's figure and wrapping it in a FigureWidget, before and after.

    "before" names plotly's "plotly_white" template in the layout (what the charts did
    until the template became ``_common.TEMPLATE``); "after" is the charts as they are.
    """
    print(f"building a chart: median of {BUILDS} builds (warm), ms; before -> after")
    print("before = layout template named 'plotly_white'; after = charts._common.TEMPLATE")
    header = (
        f"{'chart':28} {'build cpu':>15} {'FigureWidget cpu':>17} {'build wall':>15}"
        f" {'template JSON KB':>17}"
    )
    print(header)
    print("-" * len(header))
    for name, build, _, inputs in CASES:
        kwargs = inputs(0)
        rows = []
        for template in ("plotly_white", _common.TEMPLATE):
            _common.TEMPLATE = template  # read by base_layout at each build
            b_wall, b_cpu = _median_ms(lambda build=build, kwargs=kwargs: build(**kwargs), BUILDS)
            figure = build(**kwargs).figure
            _, w_cpu = _median_ms(lambda figure=figure: go.FigureWidget(figure), BUILDS)
            kb = len(json.dumps(figure.layout.template.to_plotly_json())) / 1024
            rows.append((b_cpu, w_cpu, b_wall, kb))
        (b0, w0, bw0, kb0), (b1, w1, bw1, kb1) = rows
        print(
            f"{name:28} {b0:6.1f} -> {b1:5.1f} {w0:7.1f} -> {w1:5.1f} {bw0:6.1f} -> {bw1:5.1f}"
            f" {kb0:7.1f} -> {kb1:5.1f}"
        )
    print()


def main() -> None:
    for _, build, _, inputs in CASES:  # warm up: plotly loads its validators on first use
        go.FigureWidget(build(**inputs(0)).figure)
    build_times()
    print(f"charts update path: {TICKS} ticks per chart on a go.FigureWidget")
    print("times in ms: wall clock p50/p95, and CPU time p50 (robust on a busy machine);")
    print("KB/tick = JSON + binary the widget sends per tick, mean and largest")
    header = (
        f"{'chart':28} {'wall p50':>9} {'wall p95':>9} {'cpu p50':>8} {'KB/tick':>8} {'KB max':>7}"
    )
    print(header)
    print("-" * len(header))
    for name, build, update, inputs in CASES:
        widget = go.FigureWidget(build(**inputs(0)).figure)
        sizes = _count_bytes(widget)
        ticks = [inputs(i) for i in range(1, TICKS + 1)]  # inputs made outside the timing
        wall, cpu, tick_bytes = [], [], []
        for kwargs in ticks:
            sent = len(sizes)
            start, start_cpu = time.perf_counter(), time.thread_time()
            update(widget, **kwargs)
            cpu.append(time.thread_time() - start_cpu)
            wall.append(time.perf_counter() - start)
            tick_bytes.append(sum(sizes[sent:]))
        p50, p95 = (1e3 * np.percentile(wall, q) for q in (50, 95))
        cpu50 = 1e3 * np.percentile(cpu, 50)
        kb, kb_max = np.mean(tick_bytes) / 1024, max(tick_bytes) / 1024
        print(f"{name:28} {p50:9.3f} {p95:9.3f} {cpu50:8.3f} {kb:8.1f} {kb_max:7.1f}")


if __name__ == "__main__":
    main()
