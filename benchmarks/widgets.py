"""Speed and bytes of every catalogued lesson widget (issue 4, "Speed and bytes").

Printed, not asserted. Every message the kernel would send to the browser is captured
in-process with the comm of ``benchmarks/widgets_bytes.py`` (importing it replaces
``comm.create_comm`` with its ``CountingComm``: JSON content packed by jupyter_client plus
binary buffers; the few hundred bytes of Jupyter header per message are not counted).

For each widget of ``marginlab.widgets.catalog()``:

- create: bytes (and messages) of building it with its defaults, and the time;
- ticks: each main control (``SWEEPS``) moved the way a learner moves it, on a fresh
  widget. The move arrives as the front end sends it (an ``update`` message with the
  new ``value``, or ``index`` for a selection, or a button's ``click``) and is handled
  by the widget's comm exactly as in a kernel: echo, engine, charts, summary. Per tick:
  server-side wall and CPU milliseconds (p50/p95; the machine is shared, CPU time is
  the steadier figure) and bytes sent (p50/p95). "drag" sweeps a slider from its
  default up to its maximum, down to its minimum and back (snapped to its step);
  "play" moves a step slider one step at a time to its end (the Play button); "cycle"
  walks through a selection's options; "click" alternates two buttons. Refused values
  (the widget shows a message and restores the control) are ticks too; they are counted.

Totals: all catalogued widgets created in one kernel, plus the page's one plotly bundle
(goal <= 6 MB); and 1 and 4 charts (the guide's price ladder) created with plotly's
``go.FigureWidget`` (before) and with ``SharedFigureWidget`` (after, plus the bundle).

Run:  .venv/bin/python benchmarks/widgets.py            (about two minutes)
      .venv/bin/python benchmarks/widgets.py calculator when_to_use   (some widgets)
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import ipywidgets
import numpy as np
import plotly.graph_objects as go
import widgets_bytes as capture  # its CountingComm now records every comm message

from marginlab.charts import price_ladder_figure
from marginlab.scenarios import GUIDE, guide_account
from marginlab.widgets import LessonWidget, catalog, make_figure_widget

DRAG_TICKS = 150
CHOICE_TICKS = 40
KB = 1024


@dataclass(frozen=True)
class Sweep:
    """How one main control is moved: ``kind`` drag | play | cycle | click."""

    control: str  # a control name; for "click", two button names joined by "/"
    kind: str = "drag"
    ticks: int = DRAG_TICKS
    setup: dict[str, Any] = field(default_factory=dict)  # values set first, not measured
    label: str = ""


SWEEPS: dict[str, list[Sweep]] = {
    "liquidation_threshold": [
        Sweep("leverage"),
        Sweep("margin"),
        Sweep("balance"),
        Sweep("side", "cycle", CHOICE_TICKS),
    ],
    "loss_at_liquidation": [Sweep("price"), Sweep("leverage")],
    "several_positions": [Sweep("btc_price"), Sweep("eth_price")],
    "adding_margin": [Sweep("price"), Sweep("amount"), Sweep("add/reset", "click", CHOICE_TICKS)],
    "switching_modes": [
        Sweep("symbol", "cycle", CHOICE_TICKS),
        Sweep("mode", "cycle", CHOICE_TICKS),
        Sweep("open/close", "click", CHOICE_TICKS),
    ],
    "when_to_use": [
        Sweep(
            "step",
            "play",
            setup={"scenario": "large_account_small_positions"},
            label="step, play (720-step path)",
        ),
        Sweep("step", label="step, drag (336-step path)"),
        Sweep("path", "drag", 20, label="path (a new replay)"),
        Sweep("scenario", "cycle", 18),
    ],
    "stop_loss": [
        Sweep("stop"),
        Sweep("mode", "cycle", CHOICE_TICKS),
        Sweep("use_stop", "cycle", CHOICE_TICKS),
        Sweep("path", "cycle", 20),
    ],
    "calculator": [
        Sweep("leverage"),
        Sweep("entry_price"),
        Sweep("tool", "cycle", CHOICE_TICKS),
        Sweep("side", "cycle", CHOICE_TICKS),
    ],
    "playground": [
        Sweep("btc_price"),
        Sweep("eth_price"),
        Sweep("balance"),
        Sweep("leverage_1"),
        Sweep("margin_1"),
    ],
}
"""The main controls of each widget; a widget missing here gets every slider dragged."""


# --- what the browser sends -------------------------------------------------------------


def _receive(control: ipywidgets.Widget, data: dict[str, Any]) -> None:
    """Hand ``control``'s comm a message from the front end, as the kernel would."""
    control.comm.handle_msg({"content": {"data": data}, "buffers": []})


def browser_sets(control: ipywidgets.Widget, state: dict[str, Any]) -> None:
    """The learner moved ``control``: the front end sends its new state."""
    _receive(control, {"method": "update", "state": state, "buffer_paths": []})


def browser_clicks(button: ipywidgets.Button) -> None:
    _receive(button, {"method": "custom", "content": {"event": "click"}})


def _state_for(control: ipywidgets.Widget, value: Any) -> dict[str, Any]:
    """The state the front end sends for ``value`` (selections send their index)."""
    if isinstance(control, ipywidgets.widgets.widget_selection._Selection):
        return {"index": [option for _, option in _options(control)].index(value)}
    return {"value": value}


def _options(control: ipywidgets.Widget) -> list[tuple[str, Any]]:
    return [o if isinstance(o, tuple) else (str(o), o) for o in control.options]


# --- the moves --------------------------------------------------------------------------


def _drag(control: ipywidgets.Widget, ticks: int) -> list[Any]:
    """Default -> max -> min -> default in ``ticks`` moves, snapped to the control's step
    (no move repeats the last); a text box without bounds goes +-30 % around its value."""
    start = control.value
    if control.has_trait("min") and control.has_trait("max"):
        low, high = control.min, control.max
    else:
        low, high = 0.7 * start, 1.3 * start
    step = control.step or 1
    legs = np.array([start, high, low, start], dtype=float)
    lengths = np.abs(np.diff(legs))
    where = np.linspace(0.0, lengths.sum(), ticks + 1)[1:]
    values, last = [], start
    for x in np.interp(where, np.concatenate([[0.0], np.cumsum(lengths)]), legs):
        snapped = min(max(low + round((x - low) / step) * step, low), high)
        value = int(snapped) if isinstance(start, int) else round(float(snapped), 10)
        if value != last:
            values.append(value)
            last = value
    return values


def _play(control: ipywidgets.Widget, ticks: int) -> list[int]:
    """The last ``ticks`` steps, one at a time (the Play button moving the step slider)."""
    first = max(control.min, control.max - ticks + 1)
    return list(range(first, control.max + 1))


def _cycle(control: ipywidgets.Widget, ticks: int) -> list[Any]:
    if isinstance(control, ipywidgets.Checkbox):
        return [(not control.value) if i % 2 == 0 else control.value for i in range(ticks)]
    values = [value for _, value in _options(control)]
    start = values.index(control.value)
    return [values[(start + 1 + i) % len(values)] for i in range(ticks)]


def moves(widget: LessonWidget, sweep: Sweep) -> Iterator[Callable[[], None]]:
    """One callable per tick of ``sweep`` on ``widget`` (each sends one browser message)."""
    if sweep.kind == "click":
        buttons = [widget.controls[name] for name in sweep.control.split("/")]
        for i in range(sweep.ticks):
            yield partial(browser_clicks, buttons[i % len(buttons)])
        return
    control = widget.controls[sweep.control]
    plan = {"drag": _drag, "play": _play, "cycle": _cycle}[sweep.kind]
    for value in plan(control, sweep.ticks):
        yield partial(browser_sets, control, _state_for(control, value))


def default_sweeps(widget: LessonWidget) -> list[Sweep]:
    sliders = (ipywidgets.IntSlider, ipywidgets.FloatSlider)
    return [Sweep(name) for name, c in widget.controls.items() if isinstance(c, sliders)]


# --- measuring --------------------------------------------------------------------------


@dataclass
class Ticks:
    wall_ms: list[float] = field(default_factory=list)
    cpu_ms: list[float] = field(default_factory=list)
    nbytes: list[int] = field(default_factory=list)
    refused: int = 0


def run_sweep(factory: Callable[[], LessonWidget], sweep: Sweep) -> Ticks:
    widget = factory()
    for name, value in sweep.setup.items():
        browser_sets(widget.controls[name], _state_for(widget.controls[name], value))
    ticks = Ticks()
    for move in moves(widget, sweep):
        capture.CountingComm.nbytes = 0
        start, start_cpu = time.perf_counter(), time.thread_time()
        move()
        ticks.cpu_ms.append(1e3 * (time.thread_time() - start_cpu))
        ticks.wall_ms.append(1e3 * (time.perf_counter() - start))
        ticks.nbytes.append(capture.CountingComm.nbytes)
        ticks.refused += bool(widget.message)
    return ticks


def timed_create(factory: Callable[[], Any]) -> tuple[Any, int, int, float, float]:
    """Build with ``factory``: the result, bytes, messages, wall and CPU milliseconds."""
    start, start_cpu = time.perf_counter(), time.thread_time()
    result, nbytes, messages = capture.measure(factory)
    cpu = 1e3 * (time.thread_time() - start_cpu)
    return result, nbytes, messages, 1e3 * (time.perf_counter() - start), cpu


def p(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


def mb(nbytes: float) -> str:
    return f"{nbytes / 1e6:6.2f} MB"


# --- the tables ------------------------------------------------------------------------


def guide_ladder() -> go.Figure:
    """A real lesson chart: the guide's BTC long on the price ladder."""
    cross, isolated = (guide_account(mode).levels("BTCUSDT") for mode in ("cross", "isolated"))
    return price_ladder_figure(
        entry_price=GUIDE.entry_price,
        mark_price=GUIDE.entry_price,
        cross_liquidation_price=cross.liquidation_price,
        isolated_liquidation_price=isolated.liquidation_price,
        cross_bankruptcy_price=cross.bankruptcy_price,
        isolated_bankruptcy_price=isolated.bankruptcy_price,
    ).figure


def charts_before_after() -> None:
    figure = guide_ladder()
    print("Creating charts on one page (the guide's price ladder), kernel -> browser:")
    print(f"  {'':<10}{'plotly go.FigureWidget (before)':>34}{'SharedFigureWidget (after)':>30}")
    for n in (1, 4):

        def before(n: int = n) -> list:
            return [go.FigureWidget(figure) for _ in range(n)]

        def after(n: int = n) -> list:
            shared = [make_figure_widget(figure) for _ in range(n)]
            capture.page_requests_bundle(shared[0])  # the page's one bundle request
            return shared

        _, b_bytes, b_msgs = capture.measure(before)
        _, a_bytes, a_msgs = capture.measure(after)
        label = f"{n} chart{'s' if n > 1 else ''}"
        print(
            f"  {label:<10}{mb(b_bytes):>24} ({b_msgs:>2} msgs){mb(a_bytes):>20} ({a_msgs:>2} msgs)"
        )
    print("  (after = the charts plus the gzipped plotly bundle, sent once per page)\n")


def main(names: list[str]) -> None:
    widgets = catalog()
    unknown = sorted(set(names) - set(widgets))
    if unknown:
        raise SystemExit(f"unknown widget(s) {unknown}; the catalog has {list(widgets)}")
    chosen = {name: widgets[name] for name in names or widgets}

    charts_before_after()

    print("Creating each catalogued widget in one kernel (defaults from marginlab.scenarios):")
    header = f"  {'widget':<24}{'charts':>7}{'bytes':>11}{'msgs':>6}{'wall ms':>9}{'cpu ms':>8}"
    print(header)
    total = n_charts = 0
    for name, factory in chosen.items():
        widget, nbytes, messages, wall, cpu = timed_create(factory)
        total += nbytes
        n_charts += len(widget.figures)
        print(
            f"  {name:<24}{len(widget.figures):>7}{mb(nbytes):>11}{messages:>6}"
            f"{wall:>9.0f}{cpu:>8.0f}"
        )
    page = make_figure_widget(go.Figure())
    _, gzipped, _ = capture.measure(lambda: capture.page_requests_bundle(page, "gzip"))
    _, plain_bundle, _ = capture.measure(lambda: capture.page_requests_bundle(page, "identity"))
    print(f"  {'+ the page bundle once (gzip)':<37}{mb(gzipped):>11}")
    print(f"  {'total, all in one kernel':<37}{mb(total + gzipped):>11}   goal <= 6 MB")
    print(f"  {'total, a browser without gzip':<37}{mb(total + plain_bundle):>11}")
    before = total + n_charts * plain_bundle
    print(f"  {'before: plotly bundle with each chart':<37}{mb(before):>11}   ({n_charts} charts)")
    print()

    print("Ticks: a control moved from the browser; server-side time incl. the engine and")
    print("bytes kernel -> browser per tick (goals: p95 <= 10 ms, <= 20 KB per tick)")
    header = (
        f"  {'widget':<22}{'control (move)':<30}{'ticks':>6}{'refused':>8}"
        f"{'wall p50':>9}{'p95':>7}{'cpu p50':>8}{'p95':>7}{'KB p50':>8}{'p95':>7}"
    )
    print(header)
    print("  " + "-" * (len(header) - 2))
    for name, factory in chosen.items():
        shown = name  # on the widget's first row only
        for sweep in SWEEPS.get(name) or default_sweeps(factory()):
            ticks = run_sweep(factory, sweep)
            label = sweep.label or f"{sweep.control} ({sweep.kind})"
            kb = [b / KB for b in ticks.nbytes]
            print(
                f"  {shown:<22}{label:<30}{len(ticks.wall_ms):>6}{ticks.refused:>8}"
                f"{p(ticks.wall_ms, 50):>9.1f}{p(ticks.wall_ms, 95):>7.1f}"
                f"{p(ticks.cpu_ms, 50):>8.1f}{p(ticks.cpu_ms, 95):>7.1f}"
                f"{p(kb, 50):>8.1f}{p(kb, 95):>7.1f}",
                flush=True,
            )
            shown = ""


if __name__ == "__main__":
    main(sys.argv[1:])
