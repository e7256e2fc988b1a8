"""What a learner waits for, per lesson, in headless chromium against Voila, as ratios to
a plain plotly ``FigureWidget`` measured in the same run.

Run: .venv/bin/python benchmarks/browser.py [NOTEBOOK ...] [--repeat 3] [--presses 20]
                                            [--long-presses 200] [--cold] [--stages]

With no NOTEBOOK: every numbered lessons/NN-*.ipynb, else the browser-test fixture.
Voila is started with marginlab.serve.voila_command, exactly as ``marginlab present``
starts it. The tables are printed at the end, or when the run is stopped (SIGTERM, as
``timeout`` sends, or Ctrl-C) with the lessons measured so far.

The baseline is a notebook written by this script (``BASELINE_CELLS``): an ``IntSlider``
and a plain plotly ``go.FigureWidget`` of 3 scatter traces x 500 points whose y arrays
are replaced inside one ``batch_update`` per slider step, served by its own Voila with
the same command line and open beside every visit of a lesson page; its slider is
pressed in turn with the lesson's controls, so machine speed and load cancel out of the
ratios. Each page is opened, and its presses start, only when both servers are quiet
and their pools refilled (``wait_until_quiet``): a refill runs a whole notebook on the
cores the browser uses, which on a learner's machine it does not.

Printed per lesson (``--repeat`` visits with a preheated kernel; the first visit is a
new browser, the later ones find the page's scripts in its cache, as for a learner going
from lesson to lesson):

* keypress -> redraw, per control of every lesson widget on the page (every control
  ``benchmarks/widgets.py``'s ``all_sweeps`` moves; found by their ``marginlab-control-
  <name>`` CSS class): keydown (capture phase) -> the first DOM change inside a chart
  (as issue 15 measured it), and -> the last chart DOM change before the page falls
  quiet ("all": every chart of the press redrawn); p50/p95 in
  ms over ``--presses`` presses per visit. The baseline's slider is pressed in turn with
  each control (baseline, control, baseline, ...: both see the same machine load), and
  the ratios are to those presses. Goals (issue 15): p50 <= 0.8x and p95 <= 1.5x the
  baseline's, marked for both measures. Beside the first change's p50 ratio, its 90 %
  interval by the bootstrap (``ratio_interval``): p50s of 20 presses move from run to
  run, and the interval says which marks chance alone could flip. A control whose
  presses change no chart (a setting used by a button, a refused switch) is listed as
  such.
  A slider is pressed ArrowRight/ArrowLeft, a select ArrowDown/ArrowUp, a checkbox
  Space, toggle buttons and button pairs Enter on one option then on the other, a
  number box gets its value plus or minus its step typed in (no key events), then Enter
  (the keydown that sends it);
* first chart: page request -> first chart drawn, preheated kernel (new browser), and
  cached (the goal's figure: <= 3 s); all: -> the last chart of the page drawn;
* page memory over ``--long-presses`` presses of the page's first main control (last
  visit), the baseline's slider pressed in turn: DOM nodes attached to the document, and
  all live DOM nodes and JS heap as Chromium counts them after a forced garbage
  collection, before and after; the heap's growth per press, and the same without
  compiled code (a heap snapshot's "code" objects): V8 keeps compiling more of the hot
  functions of plotly.js, ipywidgets and figure.js over the first hundreds of presses
  (both pages: ~5-10 KB per press over the first 200, then less and less, flat after
  ~800), while a page that kept something per press would show it in the rest;
* websocket MB per page and KB per keypress; kernel resident memory (psutil RSS);
* ``--cold`` adds visits without a kernel pool (each visit runs the notebook first);
* ``--stages`` adds where each press's time goes, for every control and its baseline:
  keydown -> the kernel began (the header date of its first status message) -> it sent
  the chart message (the last message the page received before the first chart change)
  -> the page received it -> the first chart change (kernel and page share this
  machine's clock); and keydown -> the page's first free moment (a task posted at the
  keydown ran: the press handled, and any frame painted before other tasks).
"""

from __future__ import annotations

import argparse
import json
import random
import re
import signal
import statistics
import sys
import tempfile
import time
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "browser"))
sys.path.insert(0, str(ROOT / "benchmarks"))
import browser_checks as bc  # noqa: E402 - shared with the browser tests

from marginlab.serve import server_env, voila_command  # noqa: E402

GOAL_FIRST_CHART_S = 3.0
GOAL_P50_RATIO = 0.8  # keypress -> redraw p50, over the baseline's p50
GOAL_P95_RATIO = 1.5  # keypress -> redraw p95, over the baseline's p95
BOOTSTRAP_DRAWS = 2000  # resamples behind each p50 ratio's interval (ratio_interval)
MB = 1e6
STAGES = ("kernel", "widget", "plotly")  # Visit's steps before the first chart
STAGES_MIN_PRESSES = 5  # --stages: a control with fewer presses that drew is left out
QUIET_MS = 120  # a press is over when no chart changed for this long
PRESS_TIMEOUT_MS = 5_000  # a press that redraws nothing within this is counted as such
# A control whose first presses all change no chart (text or a setting only) is pressed no
# more: each such press waits PRESS_TIMEOUT_MS. Even, so a toggle ends where it started.
NO_CHANGE_PRESSES = 4
# True once no chart has changed for QUIET_MS since the last change (or the keypress).
QUIET_JS = f"""() => {{
  const p = window.__marginlabLatency;
  return performance.now() - (p.last ?? p.start ?? 0) > {QUIET_MS};
}}"""

# The baseline: the cost of a keypress for a plain plotly FigureWidget of 3 x 500 points.
BASELINE_CELLS = (
    """\
import ipywidgets as w
import numpy as np
import plotly.graph_objects as go

x = np.linspace(0.0, 1.0, 500)
figure = go.FigureWidget([go.Scatter(x=x, y=np.sin(2 * np.pi * k * x)) for k in (1, 2, 3)])
slider = w.IntSlider(value=10, min=1, max=100, description="frequency")


def redraw(change):
    with figure.batch_update():
        for k, trace in enumerate(figure.data, start=1):
            trace.y = np.sin(2 * np.pi * k * x * slider.value / 10)


slider.observe(redraw, names="value")
w.VBox([slider, figure])
""",
)
BASELINE = "baseline"  # the control name the baseline's slider is reported under


def write_baseline(folder: Path) -> Path:
    """The baseline notebook (``BASELINE_CELLS``) written to ``folder``."""
    import nbformat

    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(source) for source in BASELINE_CELLS]
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    path = folder / "plotly-figurewidget-baseline.ipynb"
    nbformat.write(notebook, path)
    return path


def main_controls() -> dict[str, list[str]]:
    """{widget: its control names} for every catalogued lesson widget, as
    benchmarks/widgets.py moves them (``all_sweeps``: every control; "add/reset" names
    buttons pressed in turn)."""
    from widgets import all_sweeps  # imported late: it imports marginlab's widgets

    from marginlab.widgets import catalog

    return {
        name: list(dict.fromkeys(sweep.control for sweep in all_sweeps(name, factory())))
        for name, factory in catalog().items()
    }


# Installed in the page once charts are drawn: keydown (capture phase) starts a press; the
# first and the last mutation inside any chart after it are recorded; finish() stores
# [first, last] (ms after the keydown), or null when no chart changed.
_LATENCY_PROBE_JS = """
() => {
  const probe = {start: null, first: null, last: null, free: null, samples: []};
  probe.finish = () => {
    if (probe.start === null) return;
    probe.samples.push(probe.first === null ? null
      : [probe.first - probe.start, probe.last - probe.start, ...stages()]);
    probe.start = null;
  };
  // With --stages (_WIRE_JS): [kernel began, chart message sent, received, page free] in
  // ms after the keydown; the chart message is the last one the page received before the
  // first chart change (the page draws it in the same task); page free: when a task posted
  // at the keydown ran (after the page handled the press and any frame Chromium painted
  // first; the kernel's messages wait for the same).
  const stages = () => {
    const wire = (window.__marginlabWire ?? []).splice(0);
    // (A status the kernel sent before the keydown belongs to the press before.)
    const status = wire.find(([, type, sent]) => type === 'status' && sent >= probe.start - 1);
    const chart = wire.filter(([received]) => received <= probe.first).pop();
    return [status ? status[2] - probe.start : null,
            chart ? chart[2] - probe.start : null,
            chart ? chart[0] - probe.start : null,
            probe.free === null ? null : probe.free - probe.start];
  };
  const channel = new MessageChannel();
  channel.port1.onmessage = () => { probe.free ??= performance.now(); };
  window.__marginlabLatency = probe;
  document.addEventListener('keydown', () => {
    probe.start = performance.now();
    probe.first = probe.last = probe.free = null;
    if (window.__marginlabWire) {  // --stages
      window.__marginlabWire.splice(0);
      channel.port2.postMessage(0);
    }
  }, true);
  const observer = new MutationObserver(() => {
    if (probe.start === null) return;
    const now = performance.now();
    probe.first ??= now;
    probe.last = now;
  });
  for (const gd of document.querySelectorAll('.js-plotly-plot')) {
    observer.observe(gd, {subtree: true, childList: true, attributes: true,
                          characterData: true});
  }
}
"""

# With --stages, run in the page from its start: every kernel message the page receives
# during a press, as [received, msg_type, sent] (page clock, ms; "sent": the kernel's
# header date). Jupyter's websocket protocol v1 (binary: offsets, channel, header, ...)
# or the JSON one.
_WIRE_JS = """
window.__marginlabWire = [];
window.WebSocket = new Proxy(window.WebSocket, {
  construct(target, args) {
    const ws = Reflect.construct(target, args);
    ws.addEventListener('message', (event) => {
      if (window.__marginlabLatency?.start == null) return;
      const received = performance.now();
      let header;
      if (typeof event.data === 'string') {
        header = JSON.parse(event.data).header;
      } else {
        const view = new DataView(event.data);
        const at = (i) => Number(view.getBigUint64(8 * (i + 1), true));
        const bytes = new Uint8Array(event.data, at(1), at(2) - at(1));
        header = JSON.parse(new TextDecoder().decode(bytes));
      }
      const sent = Date.parse(header.date) - performance.timeOrigin;
      window.__marginlabWire.push([received, header.msg_type, sent]);
    });
    return ws;
  },
});
"""

# Run in the page from its start: how many charts are drawn with data, when the first
# was and when the number last grew (performance.now(), ms). "first chart" waits for
# drawn > 0 (_FIRST_CHART_JS); "all charts" adds lastMs - firstMs.
# Also when the page opened its kernel's websocket (kernelMs), when the first widget
# appeared (widgetMs) and when plotly.js was ready to draw (plotlyMs: marginlab's preload
# or a loaded bundle in the page registry).
_CHART_CLOCK_JS = """
window.__marginlabCharts = {drawn: 0, firstMs: null, lastMs: null, kernelMs: null,
                            widgetMs: null, plotlyMs: null};
window.WebSocket = new Proxy(window.WebSocket, {
  construct(target, args) {
    if (/\\/api\\/kernels\\//.test(String(args[0]))) {
      window.__marginlabCharts.kernelMs ??= performance.now();
    }
    return Reflect.construct(target, args);
  },
});
(function count() {
  const clock = window.__marginlabCharts;
  const now = performance.now();
  const drawn = [...document.querySelectorAll('.js-plotly-plot')].filter(CHART_DRAWN).length;
  if (drawn > clock.drawn) {
    clock.drawn = drawn;
    clock.lastMs = now;
    clock.firstMs ??= now;
  }
  if (clock.widgetMs === null && document.querySelector('.jupyter-widgets')) {
    clock.widgetMs = now;
  }
  const registry = globalThis[Symbol.for('marginlab.plotly-bundles')];
  if (registry && clock.plotlyMs === null) {
    const preload = registry.get('preload');
    if (preload && !clock.watching) {
      clock.watching = true;
      preload.then(() => { clock.plotlyMs ??= performance.now(); }, () => {});
    }
    for (const [key, entry] of registry) {
      if (key !== 'preload' && entry.module) clock.plotlyMs ??= now;
    }
  }
  if (!clock.stopped) requestAnimationFrame(count);
})();
""".replace("CHART_DRAWN", bc.CHART_DRAWN_JS)
# Stops the clock once the visit is timed: it looks through the page every frame, which
# would weigh on the presses measured next (more on a long lesson page than on the
# baseline's).
# (A page not opened by ``visit`` has no chart clock to stop.)
_STOP_CLOCK_JS = "() => { if (window.__marginlabCharts) window.__marginlabCharts.stopped = true; }"
_FIRST_CHART_JS = "() => window.__marginlabCharts.drawn > 0"

# Bytes of the page and its resources that came over HTTP (transferSize is 0 for a
# resource served from the cache; a revalidated one counts its headers only).
_HTTP_BYTES_JS = """
() => [...performance.getEntriesByType('navigation'),
       ...performance.getEntriesByType('resource')].reduce((n, e) => n + e.transferSize, 0)
"""

# How the page's marginlab charts have redrawn so far (figure.js's counts): fast ones, fast
# ones after new axis ranges by Plotly.relayout, the traces the fast ones drew, and full
# ones by reason.
_REDRAWS_JS = """
() => [...document.querySelectorAll('.marginlab-figure')].map(gd => [
  gd.marginlabRedraws.fast,
  gd.marginlabRedraws.relayout,
  gd.marginlabRedraws.traces,
  Object.fromEntries(gd.marginlabRedraws.full.split(' ').filter(Boolean)
    .map(pair => [pair.split(':')[0], Number(pair.split(':')[1])]))])
"""


def redraw_counts(page) -> tuple[int, int, int, dict[str, int]]:
    fast, relayout, traces, full = 0, 0, 0, {}
    for chart_fast, chart_relayout, chart_traces, chart_full in page.evaluate(_REDRAWS_JS):
        fast += chart_fast
        relayout += chart_relayout
        traces += chart_traces
        for reason, count in chart_full.items():
            full[reason] = full.get(reason, 0) + count
    return fast, relayout, traces, full


# The main controls on the page: per lesson widget (in page order), the names of its
# controls (from their marginlab-control-<name> class), so each can be matched to main_controls().
_PAGE_CONTROLS_JS = """
() => [...document.querySelectorAll('.marginlab-widget')].map(widget =>
  [...widget.querySelectorAll('[class*="marginlab-control-"]')].flatMap(el =>
    [...el.classList].filter(c => c.startsWith('marginlab-control-'))
      .map(c => c.slice('marginlab-control-'.length))))
"""


@dataclass
class Visit:
    first_chart_s: float
    all_charts_s: float  # page request -> the last chart drawn
    kernel_s: float  # page request -> the page opened its kernel's websocket
    widget_s: float  # -> the first widget shown
    plotly_s: float  # -> plotly.js ready to draw
    websocket_bytes: int
    http_bytes: int  # response bodies fetched over HTTP (not from the browser cache)
    kernel_id: str | None


@dataclass
class Presses:
    """Keypress samples of one control: [first, last] ms per press (None: no redraw)."""

    samples: list[list[float] | None] = field(default_factory=list)
    nbytes: list[int] = field(default_factory=list)  # websocket bytes per press, per visit
    fast: int = 0  # chart redraws on plotly.js's fast path (figure.js's counts)
    relayout: int = 0  # ... of them after new axis ranges by Plotly.relayout
    traces: int = 0  # the traces the fast-path redraws drew, in all
    full: dict[str, int] = field(default_factory=dict)  # full redraws, by reason

    def add(self, other: Presses) -> None:
        self.samples += other.samples
        self.nbytes += other.nbytes
        self.fast += other.fast
        self.relayout += other.relayout
        self.traces += other.traces
        for reason, count in other.full.items():
            self.full[reason] = self.full.get(reason, 0) + count

    def ms(self, which: int) -> list[float]:
        return [s[which] for s in self.samples if s is not None]

    def stages(self) -> list[tuple[float, float, float, float, float]]:
        """Per press with --stages: ms from the keydown to the kernel beginning, in the
        kernel to the chart message, from the kernel to the page, and drawing it (to the
        first chart change); and from the keydown to the page's first free moment."""
        out = []
        for sample in self.samples:
            if sample is None or len(sample) < 6 or None in sample[2:6]:
                continue
            first, _, began, sent, received, free = sample[:6]
            out.append((began, sent - began, received - sent, first - received, free))
        return out

    @property
    def missed(self) -> int:
        return sum(s is None for s in self.samples)


@dataclass
class Memory:
    """Page memory before and after the long run of presses (after a forced GC)."""

    presses: int
    attached: tuple[int, int]  # DOM nodes in the document
    nodes: tuple[int, int]  # all live DOM nodes (Chromium's "Nodes")
    heap: tuple[float, float]  # JS heap used, bytes
    code: tuple[float, float]  # of which compiled code (V8's JIT: bounded, levels off)

    def per_press(self, pair: tuple[float, float]) -> float:
        return (pair[1] - pair[0]) / self.presses

    @property
    def data_per_press(self) -> float:
        """Bytes per press the page's scripts still hold: heap growth minus code."""
        return self.per_press(self.heap) - self.per_press(self.code)


@dataclass
class Result:
    notebook: str
    cold: list[Visit] = field(default_factory=list)
    preheated: list[Visit] = field(default_factory=list)
    base_visits: list[Visit] = field(default_factory=list)  # the baseline's, beside each visit
    controls: dict[str, Presses] = field(default_factory=dict)  # "widget.control" -> presses
    baselines: dict[str, Presses] = field(default_factory=dict)  # pressed in turn with each
    memory: Memory | None = None
    base_memory: Memory | None = None  # the baseline page, pressed in turn
    kernel_rss: list[int] = field(default_factory=list)
    charts: int = 0


class WebsocketMeter:
    """Counts payload bytes in both directions on every websocket of a page."""

    def __init__(self, page) -> None:
        self.total = 0
        self.kernel_ids: list[str] = []
        page.on("websocket", self._on_socket)

    def _on_socket(self, ws) -> None:
        match = re.search(r"/api/kernels/([0-9a-f-]{36})", ws.url)
        if match:
            self.kernel_ids.append(match.group(1))
        ws.on("framereceived", self._count)
        ws.on("framesent", self._count)

    def _count(self, payload: str | bytes) -> None:
        self.total += len(payload.encode() if isinstance(payload, str) else payload)


def kernel_processes(server: bc.Server) -> dict[str, object]:
    """{kernel id: psutil.Process} for the kernels the server started."""
    import psutil

    kernels = {}
    for proc in psutil.Process(server.process.pid).children(recursive=True):
        try:
            cmdline = " ".join(proc.cmdline())
        except psutil.Error:
            continue
        match = re.search(r"kernel-([0-9a-f-]{36})\.json", cmdline)
        if match:
            kernels[match.group(1)] = proc
    return kernels


def server_processes(server: bc.Server) -> list:
    """The server's process and all of its children (kernels among them), as psutil's."""
    import psutil

    with suppress(psutil.Error):
        root = psutil.Process(server.process.pid)
        return [root, *root.children(recursive=True)]
    return []


def cpu_seconds(processes) -> float:
    """User + system CPU seconds used so far by ``processes`` (those gone count 0)."""
    total = 0.0
    for process in processes:
        with suppress(Exception):  # psutil.Error: a kernel that just stopped
            times = process.cpu_times()
            total += times.user + times.system
    return total


def wait_until_quiet(*sites: Site, timeout_s: float = 180.0) -> None:
    """Wait until each site's pool holds a kernel no page has used, and every server and
    kernel of every site has been idle for 2 s (below 5 % of a core).

    Opening one page takes a kernel from its pool; its server refills the pool
    ``POOL_REFILL_DELAY_S`` later by starting a kernel that runs the whole notebook, on
    the cores the browser uses too. Waiting for every site's refill keeps that work out of
    the other page's first chart and presses, which only this machine shares: a learner's
    browser does not run on the server.
    """
    deadline = time.monotonic() + timeout_s
    quiet_since = None
    while time.monotonic() < deadline:
        kernels = [kernel_processes(site.server) for site in sites]
        fresh = all(set(k) - site.used for k, site in zip(kernels, sites, strict=True))
        processes = [process for site in sites for process in server_processes(site.server)]
        before = cpu_seconds(processes)
        time.sleep(0.5)
        busy = (cpu_seconds(processes) - before) / 0.5 * 100  # percent of one core
        if fresh and busy < 5.0:
            quiet_since = quiet_since or time.monotonic()
            if time.monotonic() - quiet_since >= 2.0:
                return
        else:
            quiet_since = None
    names = ", ".join(site.server.name for site in sites)
    raise RuntimeError(f"{names}: no fresh kernel, or not idle, within {timeout_s:.0f} s")


def visit(
    context, guard: bc.RequestGuard, url: str, stages: bool = False
) -> tuple[Visit, object, WebsocketMeter]:
    """Open ``url`` in a new page of ``context``; time the first chart; wait for all.
    ``stages``: also log the kernel messages of each press (``_WIRE_JS``)."""
    page = context.new_page()
    if stages:
        page.add_init_script(_WIRE_JS)
    guard.watch(page)
    meter = WebsocketMeter(page)
    start = time.perf_counter()
    page.add_init_script(_CHART_CLOCK_JS)
    page.goto(url, wait_until="commit")
    page.wait_for_function(_FIRST_CHART_JS, timeout=120_000, polling=20)
    first_chart_s = time.perf_counter() - start
    bc.wait_for_charts(page, guard)
    if guard.foreign:
        raise RuntimeError(f"{url} requested other hosts: {guard.foreign}")
    if guard.page_errors:
        raise RuntimeError(f"{url} raised in the page: {guard.page_errors}")
    kernel_id = meter.kernel_ids[0] if meter.kernel_ids else None
    http_bytes = page.evaluate(_HTTP_BYTES_JS)
    clock = page.evaluate("window.__marginlabCharts")
    all_charts_s = first_chart_s + (clock["lastMs"] - clock["firstMs"]) / 1000
    # The page's own clock (ms since navigation) for the steps before the first chart.
    stages = [
        (clock[key] if clock[key] is not None else float("nan")) / 1000
        for key in ("kernelMs", "widgetMs", "plotlyMs")
    ]
    record = Visit(first_chart_s, all_charts_s, *stages, meter.total, http_bytes, kernel_id)
    return record, page, meter


# ------------------------------------------------------------------------------ presses
class Control:
    """One control on the page and how a keyboard user moves it back and forth."""

    def __init__(self, page, widget_index: int, names: list[str]) -> None:
        widget = page.locator(".marginlab-widget").nth(widget_index)
        self.roots = [widget.locator(f".marginlab-control-{name}").first for name in names]
        self.kind = self.roots[0].evaluate(
            """el => el.tagName === 'BUTTON' ? 'button'
              : el.querySelector('.noUi-handle') ? 'slider'
              : el.querySelector('select') ? 'select'
              : el.querySelector('input[type=checkbox]') ? 'checkbox'
              : el.querySelector('.widget-toggle-button') ? 'toggle'
              : el.querySelector('input') ? 'text' : 'unknown'"""
        )
        self.origin: int | None = None  # toggle buttons: the option selected at first

    @classmethod
    def slider(cls, page, index: int = 0) -> Control:
        """The page's ``index``-th slider (the baseline has no lesson widget)."""
        control = cls.__new__(cls)
        control.roots = [page.locator(".widget-slider").nth(index)]
        control.kind = "slider"
        control.origin = None
        return control

    def press(self, i: int) -> None:
        """The ``i``-th press: odd presses undo even ones."""
        root = self.roots[0]
        forth = i % 2 == 0
        if self.kind == "slider":
            root.locator(".noUi-handle").press("ArrowRight" if forth else "ArrowLeft")
        elif self.kind == "select":
            root.locator("select").press("ArrowDown" if forth else "ArrowUp")
        elif self.kind == "checkbox":
            root.locator("input[type=checkbox]").press("Space")
        elif self.kind == "text":
            # Typed, then Enter: the box sends its value on its "change" event, which Enter
            # fires, so the clock starts at the keydown that sends it. (An arrow key fires
            # "change" itself in Chromium: a following Enter restarted the clock after the
            # chart had changed, and most presses were counted as changing nothing.)
            box = root.locator("input")
            value, step = float(box.input_value()), float(box.get_attribute("step") or 1)
            box.fill(f"{value + step if forth else value - step:.12g}")  # no key events
            box.press("Enter")
        elif self.kind == "button":
            self.roots[i % len(self.roots)].press("Enter")
        elif self.kind == "toggle":
            buttons = root.locator(".widget-toggle-button")
            if self.origin is None:
                classes = buttons.evaluate_all("bs => bs.map(b => b.className)")
                self.origin = next(k for k, c in enumerate(classes) if "mod-active" in c)
                self.count = len(classes)
            target = (self.origin + 1) % self.count if forth else self.origin
            buttons.nth(target).press("Enter")
        else:
            raise RuntimeError(f"cannot press a control of kind {self.kind!r}")

    def visible(self) -> bool:
        return self.roots[0].is_visible()


class NoMeter:
    """A ``WebsocketMeter`` stand-in for presses whose bytes are not counted."""

    total = 0


@dataclass
class Target:
    """A control on an open page, pressed by ``press_once``."""

    page: object
    meter: WebsocketMeter
    control: Control


def press_once(target: Target, i: int) -> None:
    """The ``i``-th press of the target's control; returns when the page is quiet again."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

    page = target.page
    target.control.press(i)
    try:
        page.wait_for_function(
            "() => window.__marginlabLatency.first !== null", timeout=PRESS_TIMEOUT_MS
        )
    except PlaywrightTimeoutError:  # a press that changed no chart is reported as such
        pass
    page.wait_for_function(QUIET_JS)
    page.evaluate("window.__marginlabLatency.finish()")


def changed_no_chart(target: Target) -> bool:
    """Whether every press of the target's control so far changed no chart."""
    return target.page.evaluate(
        "(s => s.length > 0 && s.every(x => x === null))(window.__marginlabLatency.samples)"
    )


def press_many(*targets: Target, presses: int) -> list[Presses]:
    """Press each target's control ``presses`` times, taking turns (so that every target
    sees the same machine load); returns each target's samples and redraw counts. Every
    control ends as it started (an odd count is undone by one more, unmeasured press), so
    a control that a checkbox enables stays enabled for the next. A control whose first
    ``NO_CHANGE_PRESSES`` presses changed no chart stops there (each waited the timeout)."""
    starts = []
    for target in targets:
        target.control.roots[0].scroll_into_view_if_needed()
        target.page.evaluate("window.__marginlabLatency.samples.splice(0)")
        starts.append((target.meter.total, redraw_counts(target.page)))
    targets[0].page.wait_for_timeout(300)
    pressed = 0
    while pressed < presses:
        for target in targets:
            press_once(target, pressed)
        pressed += 1
        if pressed == NO_CHANGE_PRESSES and any(map(changed_no_chart, targets)):
            break
    results = []
    for target, (before, (fast_before, relayout_before, traces_before, full_before)) in zip(
        targets, starts, strict=True
    ):
        result = Presses()
        result.samples = target.page.evaluate("window.__marginlabLatency.samples.splice(0)")
        result.nbytes.append((target.meter.total - before) // max(pressed, 1))
        fast_after, relayout_after, traces_after, full_after = redraw_counts(target.page)
        result.relayout = relayout_after - relayout_before
        result.traces = traces_after - traces_before
        result.fast = fast_after - fast_before + result.relayout
        result.full = {
            reason: count - full_before.get(reason, 0)
            for reason, count in full_after.items()
            if count > full_before.get(reason, 0)
        }
        results.append(result)
    if pressed % 2:  # undo the last press (not measured): a checkbox or a toggle is back
        for target in targets:
            press_once(target, pressed)
            target.page.evaluate("window.__marginlabLatency.samples.splice(0)")
    return results


def install_probe(page) -> None:
    page.evaluate(_STOP_CLOCK_JS)
    page.evaluate(_LATENCY_PROBE_JS)


def page_controls(page, mains: dict[str, list[str]]) -> list[tuple[str, Control]]:
    """("widget.control", Control) for every main control of every lesson widget on the
    page. A widget is matched to the main_controls() entry whose controls it has (the largest such
    entry); a widget that matches none gets every slider it has."""
    found = []
    for index, names in enumerate(page.evaluate(_PAGE_CONTROLS_JS)):
        have = set(names)
        matches = [
            (len(controls), widget, controls)
            for widget, controls in mains.items()
            if all(set(c.split("/")) <= have for c in controls)
        ]
        if matches:
            _, widget, controls = max(matches)
        else:
            widget = f"widget{index}"
            controls = names
        for name in controls:
            control = Control(page, index, name.split("/"))
            if (matches or control.kind == "slider") and control.visible():
                found.append((f"{widget}.{name}", control))
    return found


def compiled_code_bytes(cdp) -> int:
    """Bytes of compiled code (V8's "code" objects: machine code, bytecode, feedback) in
    the page's JS heap, from a heap snapshot (which collects garbage first)."""
    chunks: list[str] = []

    def collect(event: dict) -> None:
        chunks.append(event["chunk"])

    cdp.on("HeapProfiler.addHeapSnapshotChunk", collect)
    cdp.send("HeapProfiler.takeHeapSnapshot", {"reportProgress": False})
    cdp.remove_listener("HeapProfiler.addHeapSnapshotChunk", collect)
    snapshot = json.loads("".join(chunks))
    meta = snapshot["snapshot"]["meta"]
    fields, code = meta["node_fields"], meta["node_types"][0].index("code")
    width, kind, size = len(fields), fields.index("type"), fields.index("self_size")
    nodes = snapshot["nodes"]
    return sum(s for t, s in zip(nodes[kind::width], nodes[size::width], strict=True) if t == code)


class MemoryProbe:
    """DOM nodes, JS heap and compiled code of a page, after a forced GC."""

    def __init__(self, page) -> None:
        self.page = page
        self.cdp = page.context.new_cdp_session(page)
        self.cdp.send("Performance.enable")

    def sample(self) -> tuple[int, int, float, int]:
        code = compiled_code_bytes(self.cdp)
        self.cdp.send("HeapProfiler.collectGarbage")
        metrics = self.cdp.send("Performance.getMetrics")["metrics"]
        metrics = {m["name"]: m["value"] for m in metrics}
        attached = self.page.evaluate("document.getElementsByTagName('*').length")
        return attached, int(metrics["Nodes"]), metrics["JSHeapUsedSize"], code

    def detach(self) -> None:
        self.cdp.detach()


def measure_memory(*targets: Target, presses: int) -> list[Memory]:
    """Each target's page memory before and after ``presses`` presses of its control
    (pressed in turn, as press_many does). The probe's samples are taken out of the page
    before each measurement, so the measurement holds nothing of its own."""
    probes = [MemoryProbe(target.page) for target in targets]
    press_many(*targets, presses=2)  # warm: first presses allocate caches
    before = [probe.sample() for probe in probes]
    press_many(*targets, presses=presses)
    after = [probe.sample() for probe in probes]
    for probe in probes:
        probe.detach()
    return [Memory(presses, *zip(b, a, strict=True)) for b, a in zip(before, after, strict=True)]


# ------------------------------------------------------------------------------- visits
@dataclass
class Site:
    """A Voila server and one browser context (its HTTP cache) visiting it."""

    server: bc.Server
    context: object
    guard: bc.RequestGuard
    used: set[str] = field(default_factory=set)
    stages: bool = False  # log each press's kernel messages (--stages)

    @classmethod
    def start(
        cls,
        browser,
        notebook: Path,
        name: str,
        kernels_dir: Path,
        preheat: bool = True,
        stages: bool = False,
    ) -> Site:
        """Voila for ``notebook``; its kernels talk to it over Unix sockets in
        ``kernels_dir``, as with ``marginlab present`` (over TCP, one of several kernels
        started at once can lose its port to another and stall the pool)."""
        port = bc.free_port()
        command = voila_command(notebook, port=port, preheat=preheat, kernels_dir=kernels_dir)
        server = bc.start_server(name, command, port, server_env())
        guard = bc.RequestGuard()
        context = bc.new_guarded_context(browser, guard, block=False)  # keeps the HTTP cache
        return cls(server, context, guard, stages=stages)

    def open(self, *others: Site) -> tuple[Visit, object, WebsocketMeter]:
        """Open a page once this site and ``others`` are quiet (``wait_until_quiet``)."""
        wait_until_quiet(self, *others)
        url = f"{self.server.base_url}/"
        record, page, meter = visit(self.context, self.guard, url, self.stages)
        self.used.add(record.kernel_id)
        return record, page, meter

    def close_page(self, page) -> None:
        bc.shutdown_voila_kernel(page)  # as closing the tab is meant to
        page.close()

    def stop(self) -> None:
        """Close the browser context, then stop Voila (and with it its kernels)."""
        with suppress(Exception):  # the browser may be gone already: a stopped run
            self.context.close()
        self.server.stop()


def bench_notebook(
    browser, notebook: Path, baseline: Site, kernels_dir: Path, args: argparse.Namespace
) -> Result:
    result = Result(notebook.stem)
    mains = main_controls()
    if args.cold:  # no pool, a new browser each time: every visit runs the notebook first
        port = bc.free_port()
        command = voila_command(notebook, port=port, preheat=False, kernels_dir=kernels_dir)
        server = bc.start_server("voila-cold", command, port, server_env())
        try:
            for _ in range(args.repeat):
                guard = bc.RequestGuard()
                context = bc.new_guarded_context(browser, guard, block=False)
                record, _, _ = visit(context, guard, f"{server.base_url}/")
                result.cold.append(record)
                context.close()
        finally:
            server.stop()
    site = Site.start(browser, notebook, "voila-preheated", kernels_dir, stages=args.stages)
    try:
        for repeat in range(args.repeat):
            base_record, base_page, base_meter = baseline.open(site)
            result.base_visits.append(base_record)
            install_probe(base_page)
            base = Target(base_page, base_meter, Control.slider(base_page))
            record, page, meter = site.open(baseline)
            result.preheated.append(record)
            wait_until_quiet(site, baseline)  # its pool refilled before the presses
            result.charts = len(bc.chart_traces(page))
            install_probe(page)
            controls = page_controls(page, mains)
            for name, control in controls:
                lesson, base_presses = press_many(
                    Target(page, meter, control), base, presses=args.presses
                )
                result.controls.setdefault(name, Presses()).add(lesson)
                result.baselines.setdefault(name, Presses()).add(base_presses)
            if repeat == args.repeat - 1 and controls and args.long_presses:
                result.memory, result.base_memory = measure_memory(
                    Target(page, NoMeter(), controls[0][1]),
                    Target(base_page, NoMeter(), base.control),
                    presses=args.long_presses,
                )
            kernel = kernel_processes(site.server).get(record.kernel_id)
            if kernel is not None:
                result.kernel_rss.append(kernel.memory_info().rss)
            site.close_page(page)
            baseline.close_page(base_page)
    finally:
        site.stop()
    return result


# ------------------------------------------------------------------------------ printing
def p50(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def p95(values: list[float]) -> float:
    if len(values) < 2:
        return p50(values)
    return statistics.quantiles(values, n=20, method="inclusive")[-1]


def mark(ok: bool) -> str:
    return "ok" if ok else "OVER"


def ratio_interval(
    ours: list[float], base: list[float], *, draws: int = BOOTSTRAP_DRAWS, seed: int = 0
) -> tuple[float, float]:
    """A 90 % interval of the ratio p50(ours) / p50(base), by the bootstrap: both samples
    redrawn with replacement ``draws`` times, the 5th and 95th percentiles of the ratios
    of their medians. How far chance alone moves a ratio of ~20 presses each from run to
    run (seeded: the same samples print the same interval)."""
    if not ours or not base:
        return float("nan"), float("nan")
    rng = random.Random(seed)
    ratios = [
        statistics.median(rng.choices(ours, k=len(ours)))
        / statistics.median(rng.choices(base, k=len(base)))
        for _ in range(draws)
    ]
    cuts = statistics.quantiles(ratios, n=20, method="inclusive")
    return cuts[0], cuts[-1]


def interval_verdict(low: float, high: float, goal: float = GOAL_P50_RATIO) -> str:
    """Where a ratio's interval lies against the goal: "under" (all of it at or below),
    "over" (all of it above) or "either" (chance could put a run on either side)."""
    if high <= goal:
        return "under"
    return "over" if low > goal else "either"


def print_presses(results: list[Result]) -> None:
    print(
        f"\n{'lesson':<26} {'control':<34} {'n':>3} {'p50 ms':>6} {'p95':>6} {'all p50':>7} "
        f"{'p95':>6} {'base p50':>8} {'p95':>6} {'x p50':>5} {'x p95':>5} {'x all50':>7} "
        f"{'x all95':>7} {'x p50 90%':>9} {'KB/key':>6} {'fast':>5}  goals p50 <= "
        f"{GOAL_P50_RATIO}x, p95 <= {GOAL_P95_RATIO}x: first | all; full redraws (why)"
    )
    verdicts: dict[str, list[str]] = {"under": [], "either": [], "over": []}
    met = 0
    for r in results:
        if not r.controls:
            print(f"{r.notebook:<26} (no main control)")
        shown = r.notebook
        for name, presses in r.controls.items():
            base = r.baselines[name].ms(0)
            b50, b95 = p50(base), p95(base)
            first, every = presses.ms(0), presses.ms(1)
            redraws = presses.fast + sum(presses.full.values())
            fast = f"{presses.fast / redraws:.0%}" if redraws else "-"
            full = " ".join(f"{why}:{n}" for why, n in sorted(presses.full.items())) or "-"
            if presses.relayout:
                full += f" [relayout:{presses.relayout}]"
            if presses.fast:
                full += f" [traces/fast:{presses.traces / presses.fast:.1f}]"
            if not first:
                print(
                    f"{shown:<26} {name:<34} {0:>3} (none of {len(presses.samples)} presses "
                    f"changed a chart: text or a setting only)  base {b50:.1f}/{b95:.1f} ms"
                )
                shown = ""
                continue
            f50, f95 = p50(first) / b50, p95(first) / b95
            x50, x95 = p50(every) / b50, p95(every) / b95
            met += f50 <= GOAL_P50_RATIO and f95 <= GOAL_P95_RATIO
            goals = (
                f"{mark(f50 <= GOAL_P50_RATIO)}/{mark(f95 <= GOAL_P95_RATIO)} | "
                f"{mark(x50 <= GOAL_P50_RATIO)}/{mark(x95 <= GOAL_P95_RATIO)}"
            )
            missed = f" ({presses.missed} presses changed no chart)" if presses.missed else ""
            low, high = ratio_interval(first, base)
            verdicts[interval_verdict(low, high)].append(f"{r.notebook[:2]} {name}")
            print(
                f"{shown:<26} {name:<34} {len(first):>3} {p50(first):>6.1f} {p95(first):>6.1f} "
                f"{p50(every):>7.1f} {p95(every):>6.1f} {b50:>8.1f} {b95:>6.1f} "
                f"{f50:>5.2f} {f95:>5.2f} {x50:>7.2f} {x95:>7.2f} {low:>4.2f}-{high:<4.2f} "
                f"{p50(presses.nbytes) / 1e3:>6.1f} {fast:>5}  {goals}; {full}{missed}"
            )
            shown = ""
    print(
        "p50/p95: keydown -> first chart change (issue 15's measure); all: -> every chart of "
        "the press redrawn; base: the plain FigureWidget pressed in turn with this control; "
        "x: ratios to base; goals for both measures (first | all); fast: share of chart "
        "redraws on plotly.js's fast path ([relayout:n]: n of them after new axis ranges by "
        "Plotly.relayout; [traces/fast:n]: the traces a fast redraw drew, on average)."
    )
    measured = sum(len(names) for names in verdicts.values())
    print(
        f"First chart change: {met} of {measured} controls meet both goals. Their p50 ratios' "
        f"90 % intervals (x p50 90%: bootstrap, {BOOTSTRAP_DRAWS} resamples of the presses "
        f"of each side) against {GOAL_P50_RATIO}x: {len(verdicts['under'])} all under, "
        f"{len(verdicts['either'])} on either side (chance decides a run's mark), "
        f"{len(verdicts['over'])} all over."
    )
    for verdict in ("either", "over"):
        if verdicts[verdict]:
            print(f"  {verdict}: {', '.join(verdicts[verdict])}")


def print_stages(results: list[Result]) -> None:
    """Where a press's time goes, the lesson's control beside the baseline pressed in
    turn with it (p50 of each stage; they need not add up to the p50 of the whole)."""
    names = ("to kernel", "in kernel", "to page", "draw", "page free")
    print(
        f"\n{'lesson':<26} {'control':<34} {'n':>3} "
        + " ".join(f"{name:>9}" for name in names)
        + "  | base "
        + " ".join(f"{name:>9}" for name in names)
    )
    for r in results:
        shown = r.notebook
        for name, presses in r.controls.items():
            ours, base = presses.stages(), r.baselines[name].stages()
            if len(ours) < STAGES_MIN_PRESSES or not base:
                continue  # a control whose presses mostly change no chart
            cells = [
                " ".join(f"{p50([s[i] for s in rows]):>9.1f}" for i in range(len(names)))
                for rows in (ours, base)
            ]
            print(f"{shown:<26} {name:<34} {len(ours):>3} {cells[0]}  |      {cells[1]}")
            shown = ""
    print(
        "Stages (ms, p50): to kernel = keydown -> the kernel began (the header date of its "
        "first status message); in kernel = -> it sent the chart message (the last message "
        "the page received before the first chart change); to page = -> the page received "
        "it (includes waiting for the page's main thread); draw = -> the first chart change. "
        "page free = keydown -> the first task the page ran after the press (a task posted "
        "at the keydown: it waits, as the kernel's messages do, for the page to handle the "
        "press and for any frame Chromium paints first)."
    )


def print_pages(results: list[Result]) -> None:
    print(
        f"\n{'lesson':<26} {'charts':>6} {'cold s':>6} {'preheat s':>9} {'cached s':>8} "
        f"{'all s':>5} {'kernel':>6} {'widget':>6} {'plotly':>6} "
        f"{'ws MB':>5} {'http MB':>7} {'cached':>6} {'kernel MB':>9} "
        f"{'presses':>7} {'DOM before':>10} {'after':>6} {'nodes GC':>8} {'after':>6} "
        f"{'heap MB':>7} {'after':>6} {'KB/key':>6} {'data':>5} {'base KB/key':>11} "
        f"{'data':>5} {'base s':>6}  goal: chart <= {GOAL_FIRST_CHART_S:.0f} s"
    )
    nan = float("nan")
    for r in results:
        cold = p50([v.first_chart_s for v in r.cold])
        first, later = r.preheated[0], r.preheated[1:]
        cached_s = p50([v.first_chart_s for v in later]) if later else nan
        all_s = p50([v.all_charts_s for v in (later or [first])])
        http_cached = p50([v.http_bytes for v in later]) / MB if later else nan
        page_mb = p50([v.websocket_bytes for v in r.preheated]) / MB
        rss_mb = p50(r.kernel_rss) / MB if r.kernel_rss else nan
        chart_s = cached_s if later else first.first_chart_s
        m, base = r.memory, r.base_memory
        memory = (
            f"{m.presses:>7} {m.attached[0]:>10} {m.attached[1]:>6} {m.nodes[0]:>8} "
            f"{m.nodes[1]:>6} {m.heap[0] / MB:>7.1f} {m.heap[1] / MB:>6.1f} "
            f"{m.per_press(m.heap) / 1e3:>6.1f} {m.data_per_press / 1e3:>5.1f} "
            f"{base.per_press(base.heap) / 1e3:>11.1f} {base.data_per_press / 1e3:>5.1f}"
            if m and base
            else f"{'-':>7} {'':>10} {'':>6} {'':>8} {'':>6} {'':>7} {'':>6} {'':>6} {'':>5} "
            f"{'':>11} {'':>5}"
        )
        visits = later or [first]
        # What Voila on this machine takes to a plain FigureWidget's first chart.
        base_s = p50([v.first_chart_s for v in r.base_visits])
        stages = [p50([getattr(v, f"{name}_s") for v in visits]) for name in STAGES]
        print(
            f"{r.notebook:<26} {r.charts:>6} {cold:>6.2f} {first.first_chart_s:>9.2f} "
            f"{cached_s:>8.2f} {all_s:>5.2f} {stages[0]:>6.2f} {stages[1]:>6.2f} "
            f"{stages[2]:>6.2f} {page_mb:>5.2f} {first.http_bytes / MB:>7.2f} "
            f"{http_cached:>6.2f} {rss_mb:>9.0f} {memory} {base_s:>6.2f}  "
            f"{mark(chart_s <= GOAL_FIRST_CHART_S)}"
        )
    print(
        "first chart: cold = no kernel pool, new browser (--cold); preheat = kernel pool, "
        "new browser; cached = kernel pool, browser cache warm (the goal's figure); all = "
        "to the last chart drawn, cached; kernel/widget/plotly: when the page opened its "
        "kernel's websocket, showed its first widget, had plotly.js ready (s, cached). "
        "http MB: page and scripts over HTTP, new browser "
        "/ cache warm. DOM: nodes in the document before/after the presses; nodes GC and "
        "heap: all live DOM nodes and JS heap after a forced GC; KB/key: heap growth per "
        "press; data: the same without compiled code (V8 compiles more of the page's hot "
        "functions over the first hundreds of presses, then levels off), i.e. what the "
        "page's scripts still hold; base: the plain FigureWidget pressed in turn; base s: "
        "its page's first chart, opened just before the lesson's (preheated; one browser "
        "for the whole run, so new for the first lesson only): what Voila on this machine "
        "takes to a plain FigureWidget's chart. Medians; "
        "the machine is shared: compare ratios, re-run to compare runs."
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path, metavar="NOTEBOOK")
    parser.add_argument("--repeat", type=int, default=3, help="page visits per lesson")
    parser.add_argument("--presses", type=int, default=20, help="presses per control and visit")
    parser.add_argument(
        "--long-presses", type=int, default=200, help="presses for the page-memory check (0: off)"
    )
    parser.add_argument("--cold", action="store_true", help="also visit without a kernel pool")
    parser.add_argument(
        "--stages", action="store_true", help="also print where each press's time goes"
    )
    args = parser.parse_args(argv)
    # Stopped (timeout, kill): unwind, so that the servers and kernels it started stop too.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    if bc.chromium_path() is None:
        print("benchmarks/browser.py skipped: chromium not found (apt-get install chromium)")
        return 0
    notebooks = args.notebooks or sorted(bc.LESSONS_DIR.glob("[0-9][0-9]-*.ipynb"))
    notebooks = notebooks or sorted(bc.FIXTURES_DIR.glob("*.ipynb"))
    from playwright.sync_api import sync_playwright

    results, failed = [], []
    try:
        with tempfile.TemporaryDirectory() as folder, sync_playwright() as playwright:
            browser = bc.launch_chromium(playwright)
            kernels_dir = Path(folder) / "kernels"
            kernels_dir.mkdir()
            baseline = Site.start(
                browser,
                write_baseline(Path(folder)),
                "voila-baseline",
                kernels_dir,
                stages=args.stages,
            )
            try:
                for notebook in notebooks:
                    print(f"measuring {notebook} ...", flush=True)
                    try:
                        results.append(
                            bench_notebook(browser, notebook.resolve(), baseline, kernels_dir, args)
                        )
                    except Exception as error:  # report it and measure the other notebooks
                        failed.append(f"{notebook.stem}: {type(error).__name__}: {error}")
            finally:
                baseline.stop()
                with suppress(Exception):  # gone already when the run was stopped
                    browser.close()
    finally:  # also when stopped (a timeout, Ctrl-C): the lessons measured so far
        print_presses(results)
        if args.stages:
            print_stages(results)
        print_pages(results)
        for line in failed:
            print(f"FAILED {line.splitlines()[0]}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
