"""What a learner sees, checked in headless Chromium: shared by the browser tests
(tests/browser/) and benchmarks/browser.py.

Servers run as subprocesses on free loopback ports, started with the exact command
lines of ``marginlab.serve``. Pages are driven through Playwright's sync API with
Debian's ``chromium`` (never ``playwright install``). Page helpers rely on this DOM
contract with the lessons: a chart is plotly's ``.js-plotly-plot`` element, a summary
line carries the CSS class ``marginlab-summary``, a self-check is a
``marginlab-question`` holding an input, a "Check" button and a ``marginlab-feedback``.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

if TYPE_CHECKING:  # playwright and psutil are imported where used: importing this module
    # must work without them, so that the tests can skip with a clear reason.
    from playwright.sync_api import Browser, BrowserContext, Page, Playwright, Route

ROOT = Path(__file__).resolve().parents[2]
FIXTURES_DIR = Path(__file__).resolve().parent / "fixtures"
LESSONS_DIR = ROOT / "lessons"
SCREENSHOT_DIR = ROOT / "test-artifacts" / "screenshots"
LOG_DIR = ROOT / "test-artifacts" / "server-logs"

REQUIRE_ENV = "MARGINLAB_BROWSER_TESTS"  # "1": browser tests must run (CI), never skip
CHROMIUM_ARGS = (
    "--no-sandbox",  # Chromium's sandbox refuses to run as root (CI containers)
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
)
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
SUMMARY = ".marginlab-summary"
QUESTION = ".marginlab-question"
FEEDBACK = ".marginlab-feedback"
SLIDER_HANDLE = ".widget-slider .noUi-handle"
# Text that means a learner is looking at a failure (Voila hides the traceback itself).
ERROR_TEXTS = (
    "Traceback (most recent call last)",
    "There was an error when executing cell",
    "Error displaying widget",
    "Failed to load model class",
    "Could not create a view",
    "Model not found",
)
# Output areas that show an exception or stderr, in JupyterLab and in Voila.
ERROR_OUTPUTS = '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]'


def chromium_path() -> str | None:
    """Debian's chromium binary, or None when it is not installed."""
    return shutil.which("chromium")


def browser_tests_required() -> bool:
    """True when the environment demands the browser tests (CI sets it)."""
    return os.environ.get(REQUIRE_ENV, "") == "1"


def launch_chromium(playwright: Playwright) -> Browser:
    """Headless Debian chromium with networking extras turned off."""
    path = chromium_path()
    if path is None:
        raise RuntimeError("chromium not found: apt-get install chromium")
    return playwright.chromium.launch(executable_path=path, args=list(CHROMIUM_ARGS))


# ----------------------------------------------------------------------------- servers
def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Server:
    """A server subprocess (its own process group) and the file its output goes to."""

    name: str
    process: subprocess.Popen
    base_url: str
    log_path: Path

    def log_tail(self, lines: int = 40) -> str:
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    def stop(self, timeout_s: float = 20.0) -> None:
        """SIGTERM the process group, then kill whatever is left of its process tree.

        Jupyter starts kernels in sessions of their own, so the tree is collected first.
        """
        import psutil

        if self.process.poll() is not None:
            return
        try:
            tree = psutil.Process(self.process.pid).children(recursive=True)
        except psutil.NoSuchProcess:
            tree = []
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout_s)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout_s)
        alive = [p for p in tree if p.is_running()]
        for child in alive:
            child.terminate()
        _, alive = psutil.wait_procs(alive, timeout=timeout_s)
        for child in alive:
            child.kill()


def server_kernels(server: Server) -> list:
    """The kernel processes (psutil) under ``server``: Jupyter starts each with its
    ``kernel-<id>.json`` connection file on the command line. A kernel that has just
    exited, or is not yet reaped, is left out."""
    import psutil

    kernels = []
    try:
        tree = psutil.Process(server.process.pid).children(recursive=True)
    except psutil.Error:
        return kernels
    for proc in tree:
        try:
            if proc.status() != psutil.STATUS_ZOMBIE and any(
                part.endswith(".json") and "kernel-" in part for part in proc.cmdline()
            ):
                kernels.append(proc)
        except psutil.Error:
            pass
    return kernels


def wait_for_port(server: Server, port: int, timeout_s: float) -> None:
    """Wait until something accepts TCP connections on 127.0.0.1:``port``.

    A socket, not an HTTP GET: a GET of a Voila page would start a kernel.
    """
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(
                f"{server.name} exited with code {server.process.returncode} before "
                f"listening on port {port}:\n{server.log_tail()}"
            )
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    server.stop()
    raise RuntimeError(
        f"{server.name} did not listen on port {port} within {timeout_s:.0f} s:\n"
        f"{server.log_tail()}"
    )


def start_server(
    name: str, command: list[str], port: int, env: dict[str, str], timeout_s: float = 120.0
) -> Server:
    """Run ``command`` (which must listen on ``port``) and wait for the port."""
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    log_path = LOG_DIR / f"{name}-{port}.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = Server(name, process, f"http://127.0.0.1:{port}", log_path)
    wait_for_port(server, port, timeout_s)
    return server


# ------------------------------------------------------------------------------- pages
# Uncaught page exceptions known to be harmless, as (message part, stack part). In Voila,
# jupyterlab-plotly's renderer of a static figure draws it, then tries to cache a PNG of
# it in the notebook model, whose Voila version has no setData: the chart is drawn.
HARMLESS_PAGE_ERRORS = (("setData is not a function", "labextensions/jupyterlab-plotly/"),)


@dataclass
class RequestGuard:
    """Aborts and records every request or websocket to a host other than this machine.

    ``page_errors`` collects uncaught JavaScript exceptions of the page, except the
    ``HARMLESS_PAGE_ERRORS``, which go to ``harmless_page_errors``; ``page_log`` keeps
    the page's console errors and warnings, and its websockets' closes, for a failure's
    message; ``last_frame_s`` tells when the kernel and the page last talked (see
    :func:`wait_for_charts`).
    """

    foreign: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    harmless_page_errors: list[str] = field(default_factory=list)
    page_log: list[str] = field(default_factory=list, repr=False)
    last_frame_s: float = 0.0  # time.monotonic() of the page's latest websocket frame

    def is_local(self, url: str) -> bool:
        parts = urlsplit(url)
        if parts.scheme in ("data", "blob", "about"):
            return True
        return (parts.hostname or "") in LOCAL_HOSTS

    def _route(self, route: Route) -> None:
        url = route.request.url
        if self.is_local(url):
            route.continue_()
        else:
            self.foreign.append(url)
            route.abort("blockedbyclient")

    def _on_page_error(self, error: object) -> None:
        text = _describe(error)
        harmless = any(m in text and w in text for m, w in HARMLESS_PAGE_ERRORS)
        (self.harmless_page_errors if harmless else self.page_errors).append(text)

    def _on_request(self, request) -> None:
        if not self.is_local(request.url):
            self.foreign.append(request.url)

    def attach(self, context: BrowserContext, block: bool = True) -> None:
        """Watch every request of ``context``. With ``block`` (tests) a foreign request is
        aborted, so a page never hangs on a lookup that cannot succeed offline; without it
        (benchmarks) it is only recorded, because Playwright's request interception turns
        the browser's HTTP cache off.
        """
        if block:
            context.route("**/*", self._route)
        else:
            context.on("request", self._on_request)

    def _on_websocket(self, ws) -> None:
        if not self.is_local(ws.url):
            self.foreign.append(ws.url)
        ws.on("framereceived", self._on_frame)
        ws.on("framesent", self._on_frame)
        ws.on("close", lambda _: self.page_log.append(f"websocket closed: {ws.url}"))

    def _on_console(self, message) -> None:
        if message.type in ("error", "warning"):
            self.page_log.append(f"{message.type}: {message.text}")

    def _on_frame(self, _payload: object) -> None:
        self.last_frame_s = time.monotonic()

    def watch(self, page: Page) -> None:
        page.on("pageerror", self._on_page_error)
        page.on("websocket", self._on_websocket)
        page.on("console", self._on_console)


def _describe(error: object) -> str:
    """An uncaught page exception: its message and the top of its stack."""
    stack = (getattr(error, "stack", None) or "").splitlines()[1:4]
    return "\n".join([str(error), *(line.strip() for line in stack)])


def new_guarded_context(
    browser: Browser, guard: RequestGuard, block: bool = True
) -> BrowserContext:
    """A fresh browser context (empty cache) whose every request passes through ``guard``
    (see :meth:`RequestGuard.attach` for ``block``); call ``guard.watch(page)`` on each
    page opened in it.
    """
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    # Generous: a Voila page returns once its preheated kernel has run the notebook,
    # and a server just started preheats every lesson at once.
    context.set_default_navigation_timeout(180_000)
    context.set_default_timeout(30_000)
    guard.attach(context, block)
    return context


def new_guarded_page(browser: Browser, guard: RequestGuard) -> tuple[BrowserContext, Page]:
    """A fresh context and a page in it, all watched by ``guard``."""
    context = new_guarded_context(browser, guard)
    page = context.new_page()
    guard.watch(page)
    return context, page


def wait_for_voila(page: Page, timeout_s: float = 180.0) -> None:
    """Wait until Voila has executed the notebook and shown the cells."""
    page.wait_for_selector("#rendered_cells", state="visible", timeout=timeout_s * 1000)


# A JS function: whether a plotly chart element (or null) has drawn its data. Shared by
# the browser tests, the figure page and benchmarks/browser.py, so all count alike.
CHART_DRAWN_JS = (
    "(gd) => Boolean(gd && gd._fullData && gd._fullData.length > 0"
    " && gd.querySelector('.main-svg') !== null)"
)

_CHARTS_STATE_JS = """
() => {
  const plots = [...document.querySelectorAll('.js-plotly-plot')];
  const drawn = plots.filter(CHART_DRAWN);
  return [plots.length, drawn.length, document.querySelectorAll('.jupyter-widgets').length];
}
""".replace("CHART_DRAWN", CHART_DRAWN_JS)


def wait_for_charts(
    page: Page,
    guard: RequestGuard,
    min_charts: int = 1,
    timeout_s: float = 120.0,
    quiet_s: float = 1.5,
) -> int:
    """Wait until at least ``min_charts`` plotly charts are drawn with data, every chart
    on the page is drawn, and for ``quiet_s`` neither the charts and widgets on the page
    nor the kernel websocket have changed (a chart still loading talks to its kernel);
    returns the number of charts.
    """
    deadline = time.monotonic() + timeout_s
    state, since = None, time.monotonic()
    while True:
        now = time.monotonic()
        current = tuple(page.evaluate(_CHARTS_STATE_JS))
        if current != state:
            state, since = current, now
        plots, drawn, widgets = state
        settled = now - max(since, guard.last_frame_s) >= quiet_s
        if drawn >= min_charts and drawn == plots and settled:
            return plots
        if now > deadline:
            raise AssertionError(
                f"charts not all drawn within {timeout_s:.0f} s: {drawn} of {plots} drawn, "
                f"at least {min_charts} expected; {widgets} widget elements on the page; "
                f"page errors {guard.page_errors}; the page's last console errors and "
                f"warnings {guard.page_log[-8:]}"
            )
        page.wait_for_timeout(100)


def chart_traces(page: Page) -> list[int]:
    """The number of traces drawn in each chart's SVG, in page order."""
    return page.evaluate(
        """() => [...document.querySelectorAll('.js-plotly-plot')].map(
             gd => gd.querySelectorAll('.main-svg .trace, .main-svg .hm').length)"""
    )


_SIGNATURE_JS = """
() => {
  const fold = (values) => {
    if (values === undefined || values === null) return '';
    const flat = [];
    const walk = (v) => {
      if (v !== null && typeof v === 'object' && typeof v.length === 'number') {
        for (let i = 0; i < v.length; i++) walk(v[i]);
      } else { flat.push(typeof v === 'number' ? v : String(v).length); }
    };
    walk(values);
    let sum = 0;
    for (let i = 0; i < flat.length; i++) sum += (i + 1) * (+flat[i] || 0);
    return flat.length + ':' + sum.toPrecision(12);
  };
  return [...document.querySelectorAll('.js-plotly-plot')].map(gd =>
    (gd.data || []).map(t => [fold(t.x), fold(t.y), fold(t.z)].join('/')).join('|')
  ).join('||');
}
"""


def chart_signature(page: Page) -> str:
    """A short fingerprint of every chart's trace data (x, y, z); changes when data do."""
    return page.evaluate(_SIGNATURE_JS)


_PLOTLY_BUNDLES_JS = """
() => [...(globalThis[Symbol.for("marginlab.plotly-bundles")] ?? new Map())]
  .filter(([key]) => key !== "preload")  // marginlab-preload.js's promise, not a bundle
  .map(([, e]) => ({loaded: e.module !== null, askedKernel: e.requestedAt !== 0}))
"""
_PLOTLY_OVER_HTTP_JS = """
() => performance.getEntriesByType("resource").some(
  e => /\\/voila\\/static\\/plotly\\.js-[^/]+\\.js/.test(e.name))
"""


def plotly_bundle_delivery(page: Page) -> tuple[list[dict[str, bool]], bool]:
    """How the page got plotly's bundle: per bundle id whether it is loaded and whether a
    chart asked the kernel for it; and whether it came over HTTP (Voila's preload)."""
    return page.evaluate(_PLOTLY_BUNDLES_JS), page.evaluate(_PLOTLY_OVER_HTTP_JS)


def fast_redraws(page: Page) -> int | None:
    """How many times marginlab's live charts (widgets/static/figure.js) redrew through
    plotly.js's fast path so far; None when the page has none."""
    return page.evaluate(
        """() => {
          const charts = [...document.querySelectorAll('.marginlab-figure')];
          return charts.length ? charts.reduce((n, gd) => n + gd.marginlabRedraws.fast, 0)
                               : null;
        }"""
    )


def summary_text(page: Page) -> str:
    """The text of every summary line on the page, joined."""
    return "\n".join(page.locator(SUMMARY).all_inner_texts())


def error_texts(page: Page) -> list[str]:
    """Error or traceback text a learner would see on the page (empty when none)."""
    found = [text for text in ERROR_TEXTS if page.get_by_text(text).count() > 0]
    found += page.locator(ERROR_OUTPUTS).all_inner_texts()
    return found


@dataclass(frozen=True)
class Change:
    """Chart fingerprint and summary text before and after one keyboard action."""

    chart_before: str
    chart_after: str
    summary_before: str
    summary_after: str


def _press_and_wait(page: Page, target, key: str, timeout_s: float) -> Change:
    """Focus ``target``, press ``key``, wait until the charts and the summary have both
    changed (or ``timeout_s`` passed), and return what they were before and after.
    """
    from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

    chart_before, summary_before = chart_signature(page), summary_text(page)
    target.scroll_into_view_if_needed()
    target.focus()
    target.press(key)
    changed_js = f"""([chart, summary, summarySelector]) => {{
      const text = [...document.querySelectorAll(summarySelector)]
        .map(e => e.innerText).join('\\n');
      return ({_SIGNATURE_JS.strip()})() !== chart && text !== summary;
    }}"""
    try:
        page.wait_for_function(
            changed_js, arg=[chart_before, summary_before, SUMMARY], timeout=timeout_s * 1000
        )
    except PlaywrightTimeoutError:  # the caller's assertion reports what did not change
        pass
    return Change(chart_before, chart_signature(page), summary_before, summary_text(page))


def press_slider(
    page: Page, index: int = 0, key: str = "ArrowRight", timeout_s: float = 30.0
) -> Change:
    """Focus slider ``index``'s handle and press ``key``, as a keyboard user would."""
    return _press_and_wait(page, page.locator(SLIDER_HANDLE).nth(index), key, timeout_s)


def press_button(page: Page, name: str, timeout_s: float = 30.0) -> Change:
    """Focus the first button labelled ``name`` and press Enter, as a keyboard user would."""
    button = page.get_by_role("button", name=name, exact=True).first
    return _press_and_wait(page, button, "Enter", timeout_s)


def answer_self_check(page: Page, index: int = 0, timeout_s: float = 30.0) -> str:
    """Answer self-check ``index`` (first option, or "1" typed), press Check, and return
    the feedback text shown (empty when none appeared within ``timeout_s``).
    """
    from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

    question = page.locator(QUESTION).nth(index)
    question.scroll_into_view_if_needed()
    radios = question.locator("input[type=radio]")
    if radios.count() > 0:
        radios.first.check()
    else:
        box = question.locator("input[type=text], input[type=number], textarea").first
        box.fill("1")
        box.press("Enter")
    question.get_by_role("button", name="Check").click()
    feedback = question.locator(FEEDBACK)
    try:
        page.wait_for_function(
            "(el) => el.innerText.trim().length > 0",
            arg=feedback.element_handle(timeout=timeout_s * 1000),
            timeout=timeout_s * 1000,
        )
    except PlaywrightTimeoutError:  # an empty string tells the caller nothing appeared
        return ""
    return feedback.inner_text().strip()


def save_screenshot(page: Page, name: str) -> Path:
    """Save the whole page, from the top, every scrolling panel unrolled, as
    test-artifacts/screenshots/``name``.png and return its path.
    """
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOT_DIR / f"{name}.png"
    height = page.evaluate(
        """() => {
          let hidden = 0;  // the most content hidden below the fold of a scrolling panel
          for (const e of document.querySelectorAll('body, body *')) {
            if (/(auto|scroll)/.test(getComputedStyle(e).overflowY)) {
              hidden = Math.max(hidden, e.scrollHeight - e.clientHeight);
              e.scrollTop = 0;
            }
          }
          const page = document.documentElement.scrollHeight;
          return Math.min(12000, Math.max(window.innerHeight + hidden, page));
        }"""
    )
    size = page.viewport_size
    page.set_viewport_size({"width": size["width"], "height": height})
    try:
        page.wait_for_timeout(300)  # let plotly re-layout after the resize
        page.screenshot(path=path, full_page=True)
    finally:
        page.set_viewport_size(size)
    return path


# -------------------------------------------------------------------------- JupyterLab
def open_in_lab(page: Page, url: str, timeout_s: float = 120.0) -> None:
    """Open a notebook's JupyterLab ``url`` and wait until its kernel is connected and
    idle (running cells before that makes JupyterLab ask which kernel to start).
    """
    page.goto(url)
    page.wait_for_selector(".jp-NotebookPanel .jp-Notebook", timeout=timeout_s * 1000)
    page.wait_for_function(
        """() => [...document.querySelectorAll('.jp-StatusBar-TextItem')]
                   .some(e => / \\| Idle$/.test(e.innerText.trim()))""",
        timeout=timeout_s * 1000,
    )


def run_all_in_lab(page: Page, timeout_s: float = 180.0) -> None:
    """Run > Run All Cells, as a learner would, and wait until every code cell ran."""
    page.locator(".lm-MenuBar-item", has_text="Run").first.click()
    page.get_by_role("menuitem", name="Run All Cells", exact=True).click()
    page.wait_for_function(
        """() => {
          const prompts = [...document.querySelectorAll(
            '.jp-NotebookPanel:not(.lm-mod-hidden) .jp-CodeCell .jp-InputArea-prompt')];
          return prompts.length > 0 && prompts.every(p => /\\[\\d+\\]/.test(p.innerText));
        }""",
        timeout=timeout_s * 1000,
    )


def shutdown_lab_kernels(page: Page) -> int:
    """Shut down every kernel of the page's JupyterLab server (a learner's Kernel menu
    does the same), so a long run does not keep one kernel per lesson; returns how many.
    """
    return page.evaluate(
        """async () => {
          const xsrf = (document.cookie.match(/(?:^|; )_xsrf=([^;]*)/) || [])[1] || '';
          const kernels = await (await fetch('/api/kernels')).json();
          const replies = await Promise.all(kernels.map(k => fetch('/api/kernels/' + k.id,
            {method: 'DELETE', headers: {'X-XSRFToken': decodeURIComponent(xsrf)}})));
          return replies.filter(r => r.ok).length;
        }"""
    )


def shutdown_voila_kernel(page: Page) -> int:
    """Shut down the kernel of a Voila page, as closing its tab is meant to; returns the
    HTTP status (204 when done, 0 when the page is not a Voila page).

    Voila 0.5's page asks for this on ``beforeunload`` without an XSRF token, and the
    server refuses it (403, voila-dashboards/voila#1458): a closed tab's kernel lives until
    the idle cull. Tests and benchmarks send the request themselves, with a matching
    XSRF cookie and header, so a long run does not keep a kernel per visited page.
    """
    return page.evaluate(
        """async () => {
          const data = document.getElementById('jupyter-config-data');
          if (data === null) return 0;  // not a Voila page (it failed to load)
          const config = JSON.parse(data.textContent);
          document.cookie = '_xsrf=marginlab-tests; path=/';
          const reply = await fetch('/voila/api/shutdown/' + config.kernelId,
            {method: 'POST', headers: {'X-XSRFToken': 'marginlab-tests'}});
          return reply.status;
        }"""
    )
