"""Speed and bytes of every control of every catalogued lesson widget (issues 4 and 11).

Printed, not asserted. Every message the kernel would send to the browser is captured
in-process with the comm of ``benchmarks/widgets_bytes.py`` (``main`` makes every widget
comm its ``CountingComm``: JSON content packed by jupyter_client plus binary buffers; the
few hundred bytes of Jupyter header per message are not counted).

For each widget of ``marginlab.widgets.catalog()``:

- create: bytes (and messages) of building it with its defaults, and the time;
- ticks: EVERY control (slider, text box, toggle, dropdown, checkbox, button) moved the
  way a learner moves it, on a fresh widget, ``--runs`` times (default 3). The move arrives
  as the front end sends it (an ``update`` message with the new ``value``, or ``index``
  for a selection, or a button's ``click``) and is handled by the widget's comm exactly as
  in a kernel: echo, engine, charts, summary. Per tick: server-side wall and CPU
  milliseconds (``time.process_time``: the machine is shared with other work, so CPU time
  is the steadier figure) at p50/p95 over all runs, the highest per-run CPU p95, and
  bytes sent (p50/p95). "drag" sweeps a slider from its default up to its maximum, down
  to its minimum and back (snapped to its step), a text box +-30 % around its value;
  "play" moves a step slider one step at a time to its end (the Play button); "cycle"
  walks through a selection's options (or flips a checkbox); "click" presses the buttons
  in turn. Refused values (the widget shows a message and restores the control) are ticks
  too; they are counted. Goals: p95 <= 10 ms and <= 20 KB per tick.

Totals: all catalogued widgets created in one kernel, plus the page's one plotly bundle
(goal <= 6 MB); and 1 and 4 charts (the guide's price ladder) created with plotly's
``go.FigureWidget`` (before) and with ``SharedFigureWidget`` (after, plus the bundle).

Run:  .venv/bin/python benchmarks/widgets.py                    (several minutes)
      .venv/bin/python benchmarks/widgets.py --runs 1 calculator stop_loss   (some widgets)
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
import widgets_bytes as capture  # main() makes every widget comm its CountingComm

from marginlab.charts import Ladder, price_ladder_figure
from marginlab.engine import MODES
from marginlab.scenarios import guide_account
from marginlab.widgets import LessonWidget, catalog, make_figure_widget

DRAG_TICKS = 100
CHOICE_TICKS = 24
KB = 1024
SLIDERS = (ipywidgets.IntSlider, ipywidgets.FloatSlider, ipywidgets.FloatText)
CHOICES = (ipywidgets.widgets.widget_selection._Selection, ipywidgets.Checkbox)


@dataclass(frozen=True)
class Sweep:
    """How one control is moved: ``kind`` drag | play | cycle | click."""

    control: str  # a control name; for "click", button names joined by "/"
    kind: str = "drag"
    ticks: int = DRAG_TICKS
    setup: dict[str, Any] = field(default_factory=dict)  # values set first, not measured
    label: str = ""


SPECIAL: dict[str, list[Sweep]] = {
    "when_to_use": [
        Sweep(
            "step",
            "play",
            setup={"scenario": "large_account_small_positions"},
            label="step, play (720-step path)",
        ),
        Sweep("step", label="step, drag (336-step path)"),
        Sweep("path", label="path (a row of the simulation)"),
        Sweep("scenario", "cycle", 18),
    ],
}
"""Sweeps that need a setup or a label; every other control gets the default move."""


def all_sweeps(name: str, widget: LessonWidget) -> list[Sweep]:
    """A sweep for every control of ``widget``: its special ones, then every other control
    (sliders and text boxes dragged, selections cycled, all buttons clicked in turn)."""
    sweeps = list(SPECIAL.get(name, []))
    covered = {sweep.control for sweep in sweeps}
    buttons = []
    for control_name, control in widget.controls.items():
        if control_name in covered:
            continue
        if isinstance(control, ipywidgets.Button):
            buttons.append(control_name)
        elif isinstance(control, SLIDERS):
            sweeps.append(Sweep(control_name))
        elif isinstance(control, CHOICES):
            sweeps.append(Sweep(control_name, "cycle", CHOICE_TICKS))
        else:
            raise SystemExit(f"{name}: no move for control {control_name!r} ({type(control)})")
    if buttons:
        sweeps.append(Sweep("/".join(buttons), "click", CHOICE_TICKS))
    return sweeps


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


@dataclass
class Ticks:
    wall_ms: list[float] = field(default_factory=list)
    cpu_ms: list[float] = field(default_factory=list)
    nbytes: list[int] = field(default_factory=list)
    run_cpu_p95: list[float] = field(default_factory=list)  # one per run
    refused: int = 0


def run_sweep(factory: Callable[[], LessonWidget], sweep: Sweep, runs: int) -> Ticks:
    """``sweep`` on ``runs`` fresh widgets; every tick of every run is kept."""
    ticks = Ticks()
    for _ in range(runs):
        widget = factory()
        for name, value in sweep.setup.items():
            browser_sets(widget.controls[name], _state_for(widget.controls[name], value))
        cpu_run = []
        for move in moves(widget, sweep):
            capture.CountingComm.nbytes = 0
            start, start_cpu = time.perf_counter(), time.process_time()
            move()
            cpu_run.append(1e3 * (time.process_time() - start_cpu))
            ticks.wall_ms.append(1e3 * (time.perf_counter() - start))
            ticks.nbytes.append(capture.CountingComm.nbytes)
            ticks.refused += bool(widget.message)
        ticks.cpu_ms += cpu_run
        ticks.run_cpu_p95.append(p(cpu_run, 95))
    return ticks


def timed_create(factory: Callable[[], Any]) -> tuple[Any, int, int, float, float]:
    """Build with ``factory``: the result, bytes, messages, wall and CPU milliseconds."""
    start, start_cpu = time.perf_counter(), time.process_time()
    result, nbytes, messages = capture.measure(factory)
    cpu = 1e3 * (time.process_time() - start_cpu)
    return result, nbytes, messages, 1e3 * (time.perf_counter() - start), cpu


def p(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


def mb(nbytes: float) -> str:
    return f"{nbytes / 1e6:6.2f} MB"


# --- the tables ------------------------------------------------------------------------


def guide_ladder() -> go.Figure:
    """A real lesson chart: the guide's BTC long on the price ladder."""
    levels = {mode: guide_account(mode).levels("BTCUSDT") for mode in MODES}
    return price_ladder_figure(Ladder(levels)).figure


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


def main(argv: list[str]) -> None:
    capture.count_comm_messages()
    runs = 3
    if argv[:1] == ["--runs"]:
        runs, argv = int(argv[1]), argv[2:]
    widgets = catalog()
    unknown = sorted(set(argv) - set(widgets))
    if unknown:
        raise SystemExit(f"unknown widget(s) {unknown}; the catalog has {list(widgets)}")
    chosen = {name: widgets[name] for name in argv or widgets}

    charts_before_after()

    print("Creating each catalogued widget in one kernel (defaults from marginlab.scenarios):")
    header = f"  {'widget':<24}{'charts':>7}{'bytes':>11}{'msgs':>6}{'wall ms':>9}{'cpu ms':>8}"
    print(header)
    total = n_charts = 0
    built = {}
    for name, factory in chosen.items():
        widget, nbytes, messages, wall, cpu = timed_create(factory)
        built[name] = widget
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

    print(f"Ticks: every control moved from the browser, {runs} runs on fresh widgets;")
    print("server-side time incl. the engine (wall, and CPU by process_time) and bytes")
    print("kernel -> browser per tick (goals: p95 <= 10 ms, <= 20 KB per tick)")
    header = (
        f"  {'widget':<22}{'control (move)':<32}{'ticks':>6}{'refused':>8}"
        f"{'wall p50':>9}{'p95':>6}{'cpu p50':>8}{'p95':>6}{'max run':>8}"
        f"{'KB p50':>7}{'p95':>6}  ok"
    )
    print(header)
    print("  " + "-" * (len(header) - 2))
    over = []
    for name, factory in chosen.items():
        shown = name  # on the widget's first row only
        for sweep in all_sweeps(name, built[name]):
            ticks = run_sweep(factory, sweep, runs)
            label = sweep.label or f"{sweep.control} ({sweep.kind})"
            kb = [b / KB for b in ticks.nbytes]
            cpu95, kb95 = p(ticks.cpu_ms, 95), p(kb, 95)
            ok = cpu95 <= 10 and kb95 <= 20
            if not ok:
                over.append(f"{name}.{label}")
            print(
                f"  {shown:<22}{label:<32}{len(ticks.wall_ms):>6}{ticks.refused:>8}"
                f"{p(ticks.wall_ms, 50):>9.1f}{p(ticks.wall_ms, 95):>6.1f}"
                f"{p(ticks.cpu_ms, 50):>8.1f}{cpu95:>6.1f}{max(ticks.run_cpu_p95):>8.1f}"
                f"{p(kb, 50):>7.1f}{kb95:>6.1f}  {'yes' if ok else 'NO'}",
                flush=True,
            )
            shown = ""
    print()
    print("Over the goal (CPU p95 > 10 ms or p95 > 20 KB): " + (", ".join(over) or "none"))


if __name__ == "__main__":
    main(sys.argv[1:])
