"""What a learner waits for, per lesson, in headless chromium against Voila.

Run: .venv/bin/python benchmarks/browser.py [NOTEBOOK ...] [--repeat 3] [--presses 20]

With no NOTEBOOK: every numbered lessons/NN-*.ipynb, else the browser-test fixture. Voila is started
with marginlab.serve.voila_command, exactly as ``marginlab present`` starts it. Printed
per notebook (medians of ``--repeat`` page visits; the machine is shared):

* first chart, cold: page request -> first plotly chart drawn; no kernel pool, a new
  browser (empty cache) each visit;
* first chart, preheated: the same with a kernel pool that has already run the notebook,
  first visit of a new browser; cached: later visits of that browser (scripts cached,
  as for a learner going from lesson to lesson; the first-chart goal is checked on it);
  all charts: page request -> the last chart of the page drawn (cached visits);
* keypress -> redraw p50/p95: keydown on a slider handle -> first DOM change of a chart
  (a MutationObserver in the page), over ``--presses`` presses;
* websocket MB per page (both directions, page request -> charts drawn and stable) and
  KB per keypress; HTTP MB per page (page and scripts; new browser, and cache warm);
* kernel resident memory (psutil RSS of the page's kernel, after the presses).

Goals per lesson (issue 6): first chart <= 3 s, keypress -> redraw p50 <= 50 ms,
<= 6 MB over the websocket per lesson page whatever its number of charts.
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "browser"))
import browser_checks as bc  # noqa: E402 - shared with the browser tests

from marginlab.serve import server_env, voila_command  # noqa: E402

GOAL_FIRST_CHART_S = 3.0
GOAL_REDRAW_P50_MS = 50.0
GOAL_PAGE_WEBSOCKET_MB = 6.0
MB = 1e6

# Installed in the page once charts are drawn: keydown (capture phase) starts a clock, the
# first mutation inside any chart after it stops the clock and records a sample.
_LATENCY_PROBE_JS = """
() => {
  const probe = {start: null, samples: []};
  window.__marginlabLatency = probe;
  document.addEventListener('keydown', () => { probe.start = performance.now(); }, true);
  const observer = new MutationObserver(() => {
    if (probe.start !== null) {
      probe.samples.push(performance.now() - probe.start);
      probe.start = null;
    }
  });
  for (const gd of document.querySelectorAll('.js-plotly-plot')) {
    observer.observe(gd, {subtree: true, childList: true, attributes: true,
                          characterData: true});
  }
}
"""

# Run in the page from its start: how many charts are drawn with data, when the first
# was and when the number last grew (performance.now(), ms). "first chart" waits for
# drawn > 0 (_FIRST_CHART_JS); "all charts" adds lastMs - firstMs.
_CHART_CLOCK_JS = """
window.__marginlabCharts = {drawn: 0, firstMs: null, lastMs: null};
(function count() {
  const clock = window.__marginlabCharts;
  const drawn = [...document.querySelectorAll('.js-plotly-plot')].filter(
    gd => gd._fullData && gd._fullData.length > 0 && gd.querySelector('.main-svg') !== null
  ).length;
  if (drawn > clock.drawn) {
    clock.drawn = drawn;
    clock.lastMs = performance.now();
    clock.firstMs ??= clock.lastMs;
  }
  requestAnimationFrame(count);
})();
"""
_FIRST_CHART_JS = "() => window.__marginlabCharts.drawn > 0"


# Bytes of the page and its resources that came over HTTP (transferSize is 0 for a
# resource served from the cache; a revalidated one counts its headers only).
_HTTP_BYTES_JS = """
() => [...performance.getEntriesByType('navigation'),
       ...performance.getEntriesByType('resource')].reduce((n, e) => n + e.transferSize, 0)
"""


@dataclass
class Visit:
    first_chart_s: float
    all_charts_s: float  # page request -> the last chart drawn
    websocket_bytes: int
    http_bytes: int  # response bodies fetched over HTTP (not from the browser cache)
    kernel_id: str | None


@dataclass
class Result:
    notebook: str
    cold: list[Visit] = field(default_factory=list)
    preheated: list[Visit] = field(default_factory=list)
    redraw_ms: list[float] = field(default_factory=list)
    keypress_bytes: list[int] = field(default_factory=list)
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


def wait_for_fresh_kernel(server: bc.Server, used: set[str], timeout_s: float = 180.0) -> None:
    """Wait until the pool holds a kernel no page has used, and every kernel has been
    idle for 2 s (the pool kernel has run the notebook).
    """
    deadline = time.monotonic() + timeout_s
    quiet_since = None
    while time.monotonic() < deadline:
        kernels = kernel_processes(server)
        busy = sum(k.cpu_percent(interval=0.5) for k in kernels.values())
        if set(kernels) - used and busy < 5.0:
            quiet_since = quiet_since or time.monotonic()
            if time.monotonic() - quiet_since >= 2.0:
                return
        else:
            quiet_since = None
            time.sleep(0.2)
    raise RuntimeError(f"no idle fresh kernel in {server.name} within {timeout_s:.0f} s")


def visit(context, guard: bc.RequestGuard, url: str) -> tuple[Visit, object, WebsocketMeter]:
    """Open ``url`` in a new page of ``context``; time the first chart; wait for all."""
    page = context.new_page()
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
    kernel_id = meter.kernel_ids[0] if meter.kernel_ids else None
    http_bytes = page.evaluate(_HTTP_BYTES_JS)
    clock = page.evaluate("window.__marginlabCharts")
    all_charts_s = first_chart_s + (clock["lastMs"] - clock["firstMs"]) / 1000
    return Visit(first_chart_s, all_charts_s, meter.total, http_bytes, kernel_id), page, meter


def measure_keypresses(page, meter: WebsocketMeter, presses: int) -> tuple[list[float], int]:
    """Press ArrowRight / ArrowLeft alternately on the first slider; latency samples (ms)
    and websocket bytes per press.
    """
    page.evaluate(_LATENCY_PROBE_JS)
    handle = page.locator(bc.SLIDER_HANDLE).first
    handle.scroll_into_view_if_needed()
    handle.focus()
    page.wait_for_timeout(300)
    before = meter.total
    for i in range(presses):
        count = page.evaluate("window.__marginlabLatency.samples.length")
        handle.press("ArrowRight" if i % 2 == 0 else "ArrowLeft")
        page.wait_for_function(
            f"window.__marginlabLatency.samples.length > {count}", timeout=10_000
        )
        page.wait_for_timeout(150)  # let the redraw finish before the next press
    samples = page.evaluate("window.__marginlabLatency.samples")
    return samples, (meter.total - before) // max(presses, 1)


def bench_notebook(browser, notebook: Path, repeat: int, presses: int) -> Result:
    result = Result(notebook.stem)
    env = server_env()
    # Cold: no pool, a new browser each time: every visit starts a kernel, runs the
    # notebook and downloads the page's scripts.
    port = bc.free_port()
    server = bc.start_server(
        "voila-cold", voila_command(notebook, port=port, preheat=False), port, env
    )
    try:
        for _ in range(repeat):
            guard = bc.RequestGuard()
            context = bc.new_guarded_context(browser, guard, block=False)
            record, _, _ = visit(context, guard, f"{server.base_url}/")
            result.cold.append(record)
            context.close()
    finally:
        server.stop()
    # Preheated: a pool of one kernel that has already run the notebook; one browser, so
    # the first visit downloads the scripts and the next ones find them in its cache (a
    # learner going from lesson to lesson).
    port = bc.free_port()
    server = bc.start_server("voila-preheated", voila_command(notebook, port=port), port, env)
    guard = bc.RequestGuard()
    context = bc.new_guarded_context(browser, guard, block=False)  # keeps the HTTP cache on
    try:
        used: set[str] = set()
        for _ in range(repeat):
            wait_for_fresh_kernel(server, used)
            record, page, meter = visit(context, guard, f"{server.base_url}/")
            used.add(record.kernel_id)
            result.preheated.append(record)
            result.charts = len(bc.chart_traces(page))
            if page.locator(bc.SLIDER_HANDLE).count() > 0:  # a lesson may have none
                samples, per_press = measure_keypresses(page, meter, presses)
                result.redraw_ms += samples
                result.keypress_bytes.append(per_press)
            kernel = kernel_processes(server).get(record.kernel_id)
            if kernel is not None:
                result.kernel_rss.append(kernel.memory_info().rss)
            bc.shutdown_voila_kernel(page)  # as closing the tab is meant to
            page.close()
    finally:
        context.close()
        server.stop()
    return result


def mark(ok: bool) -> str:
    return "ok" if ok else "OVER"


def print_table(results: list[Result]) -> None:
    print(
        f"\n{'notebook':<26} {'charts':>6} {'cold s':>6} {'preheat s':>9} {'cached s':>8} "
        f"{'all s':>5} "
        f"{'key p50 ms':>10} {'p95 ms':>6} {'ws MB/page':>10} {'ws KB/key':>9} "
        f"{'http MB':>7} {'cached':>6} {'kernel MB':>9}  goals: chart<=3 s / p50<=50 ms / <=6 MB"
    )
    nan = float("nan")
    for r in results:
        cold = statistics.median(v.first_chart_s for v in r.cold)
        first, later = r.preheated[0], r.preheated[1:]
        cached_s = statistics.median(v.first_chart_s for v in later) if later else nan
        all_s = statistics.median(v.all_charts_s for v in (later or [first]))
        http_cached = statistics.median(v.http_bytes for v in later) / MB if later else nan
        page_mb = statistics.median(v.websocket_bytes for v in r.preheated) / MB
        p50 = statistics.median(r.redraw_ms) if r.redraw_ms else nan
        p95 = statistics.quantiles(r.redraw_ms, n=20)[-1] if len(r.redraw_ms) > 1 else p50
        key_kb = statistics.median(r.keypress_bytes) / 1e3 if r.keypress_bytes else nan
        rss_mb = statistics.median(r.kernel_rss) / MB if r.kernel_rss else nan
        chart_s = cached_s if later else first.first_chart_s
        redraw_mark = mark(p50 <= GOAL_REDRAW_P50_MS) if r.redraw_ms else "no slider"
        goals = (
            f"{mark(chart_s <= GOAL_FIRST_CHART_S)} / {redraw_mark} / "
            f"{mark(page_mb <= GOAL_PAGE_WEBSOCKET_MB)}"
        )
        print(
            f"{r.notebook:<26} {r.charts:>6} {cold:>6.2f} {first.first_chart_s:>9.2f} "
            f"{cached_s:>8.2f} {all_s:>5.2f} {p50:>10.1f} {p95:>6.1f} {page_mb:>10.2f} "
            f"{key_kb:>9.1f} "
            f"{first.http_bytes / MB:>7.2f} {http_cached:>6.2f} {rss_mb:>9.0f}  {goals}"
        )
    print(
        "cold: no kernel pool, new browser; preheat: kernel pool, new browser; cached: "
        "kernel pool, browser cache warm (the chart goal is checked on this one); all: "
        "to the last chart drawn, cached (else preheat). "
        "http MB: page and scripts over HTTP, new browser / cache warm. "
        "Medians; the machine is shared: re-run to compare."
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path, metavar="NOTEBOOK")
    parser.add_argument("--repeat", type=int, default=3, help="page visits per mode")
    parser.add_argument("--presses", type=int, default=20, help="key presses per visit")
    args = parser.parse_args(argv)
    if bc.chromium_path() is None:
        print("benchmarks/browser.py skipped: chromium not found (apt-get install chromium)")
        return 0
    notebooks = args.notebooks or sorted(bc.LESSONS_DIR.glob("[0-9][0-9]-*.ipynb"))
    notebooks = notebooks or sorted(bc.FIXTURES_DIR.glob("*.ipynb"))
    from playwright.sync_api import sync_playwright

    results = []
    with sync_playwright() as playwright:
        browser = bc.launch_chromium(playwright)
        failed = []
        for notebook in notebooks:
            print(f"measuring {notebook} ...", flush=True)
            try:
                results.append(
                    bench_notebook(browser, notebook.resolve(), args.repeat, args.presses)
                )
            except Exception as error:  # report it and measure the other notebooks
                failed.append(f"{notebook.stem}: {type(error).__name__}: {error}")
        browser.close()
    print_table(results)
    for line in failed:
        print(f"FAILED {line.splitlines()[0]}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
