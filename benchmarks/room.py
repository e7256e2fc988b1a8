"""A room of learners against ``marginlab present``: does the workshop server hold them?

Run: .venv/bin/python benchmarks/room.py --learners 30
     .venv/bin/python benchmarks/room.py --learners 10,20,30,40   (the largest room)

For each room size N: ``marginlab present LESSON --learners N --token ...`` on a free
loopback port (its real command line), then N simulated learners in headless chromium
(one browser, a context each): they arrive over ``--arrive-s`` seconds, as a class
opening the link does; each loads the lesson, waits for its first chart, then moves a
slider with the keyboard every few seconds for ``--session-s`` seconds. When all are in,
one more visitor checks that the room answers "full" (HTTP 503). Then the learners close
their tabs, except ``--vanish`` of them whose browser just disappears (their kernels must
be culled by the server within a few minutes: the run waits for that).

Printed per room: each learner's first-chart time (page request -> first chart drawn,
the page's own clock; and page request -> its HTML received, the server's part of it)
and keypress -> redraw p50/p95 under load (keydown -> first change of a chart, in the
page); the room's peak server memory (``present``, Voila and its
kernels: RSS, and USS, what each process holds alone) and memory per learner; peak
kernels (never above N); kernels started, shut down as tabs closed, and culled; errors
(a page not drawn, an error on the page, a slider that did not redraw, a 503).

Goal (issue 14): every first chart <= 10 s and no error. With several sizes the run
stops at the first room that misses it and names the largest room that met it.

Caveat: the learners' browsers run on this machine too, competing for its cores with
the server (in a real room they run on the learners' laptops), and other programs on a
shared machine add load: figures are pessimistic; the load average is printed.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import re
import secrets
import statistics
import sys
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "browser"))
sys.path.insert(0, str(ROOT / "benchmarks"))
import browser as page_bench  # noqa: E402 - the page probes of benchmarks/browser.py
import browser_checks as bc  # noqa: E402 - servers and DOM contract shared with the tests

GOAL_FIRST_CHART_S = 10.0
MIB = 2**20
GIB = 2**30
REDRAW_TIMEOUT_S = 15.0
SCREENSHOTS = ROOT / "test-artifacts" / "room"  # the page of a learner who saw an error
# Background pages must not be throttled: every learner's page is "in front".
ROOM_CHROMIUM_ARGS = (
    *bc.CHROMIUM_ARGS,
    "--disable-background-timer-throttling",
    "--disable-renderer-backgrounding",
    "--disable-backgrounding-occluded-windows",
)


@dataclass
class Learner:
    """What one simulated learner saw."""

    number: int
    page_s: float | None = None  # page request -> its HTML fully received (the server's part)
    first_chart_s: float | None = None
    redraw_ms: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


@dataclass
class Sample:
    """The server's process tree at one moment."""

    at_s: float
    rss: int
    uss: int
    kernels: int
    kernel_uss: list[int]


@dataclass
class Room:
    """One run: a room of ``size`` learners."""

    size: int
    ready_s: float = 0.0
    learners: list[Learner] = field(default_factory=list)
    samples: list[Sample] = field(default_factory=list)
    # CPU seconds used since the learners came in, per part: {"voila": {pid: s}, ...}
    cpu: dict[str, dict[int, float]] = field(default_factory=dict)
    extra_visitor: str = ""
    started: int = 0
    closed: int = 0
    culled: int = 0
    culled_after_s: float | None = None
    left: int = 0
    load_before: tuple[float, float, float] = (0.0, 0.0, 0.0)

    @property
    def errors(self) -> list[str]:
        return [f"learner {le.number}: {e}" for le in self.learners for e in le.errors]

    @property
    def first_charts(self) -> list[float]:
        return [le.first_chart_s for le in self.learners if le.first_chart_s is not None]

    @property
    def met_goal(self) -> bool:
        charts = self.first_charts
        return (
            not self.errors
            and len(charts) == self.size
            and max(charts, default=0.0) <= GOAL_FIRST_CHART_S
        )


# ----------------------------------------------------------------------------- server
def start_room(lesson: str, size: int, token: str) -> bc.Server:
    """``marginlab present LESSON --learners SIZE`` with a token, on a free port."""
    port = bc.free_port()
    command = [sys.executable, "-m", "marginlab", "present", lesson, "--learners", str(size)]
    command += ["--token", token, "--port", str(port), "--no-browser"]
    return bc.start_server("present-room", command, port, dict(os.environ), timeout_s=300)


def server_processes(server: bc.Server) -> list:
    """Every process of the room's server: present, Voila and its kernels."""
    import psutil

    try:
        root = psutil.Process(server.process.pid)
        return [root, *root.children(recursive=True)]
    except psutil.Error:
        return []


def sample(server: bc.Server, start: float) -> Sample:
    import psutil

    tree, kernels = server_processes(server), bc.server_kernels(server)
    rss = uss = 0
    kernel_uss = []
    for proc in tree:
        try:
            memory = proc.memory_full_info()
        except psutil.Error:
            continue
        rss += memory.rss
        uss += memory.uss
        if proc in kernels:
            kernel_uss.append(memory.uss)
    return Sample(time.monotonic() - start, rss, uss, len(kernel_uss), kernel_uss)


class Sampler(threading.Thread):
    """Samples the server's memory and kernels every ``every_s`` seconds."""

    def __init__(self, server: bc.Server, room: Room, every_s: float = 2.0) -> None:
        super().__init__(daemon=True)
        self.server, self.room, self.every_s = server, room, every_s
        self.start_time = time.monotonic()
        self.stopping = threading.Event()
        self.cpu_start: dict[int, float] = {}  # each process's CPU seconds when first seen

    def run(self) -> None:
        while not self.stopping.is_set():
            self.room.samples.append(sample(self.server, self.start_time))
            if self.room.learners:  # the learners are in: whose CPU do they cost?
                self.count_cpu()
            self.stopping.wait(self.every_s)

    def count_cpu(self) -> None:
        """CPU seconds of each process since the learners came in, by part: Voila, its
        kernels, and the learners' browsers (this benchmark's own chromium)."""
        import psutil

        try:
            voila = psutil.Process(self.server.process.pid).children()  # present's child
        except psutil.Error:
            return
        browsers = [p for p in psutil.Process().children(recursive=True) if "chrom" in p.name()]
        parts = {"voila": voila, "kernels": bc.server_kernels(self.server), "browsers": browsers}
        for part, processes in parts.items():
            for proc in processes:
                try:
                    times = proc.cpu_times()
                except psutil.Error:
                    continue
                total = times.user + times.system
                start = self.cpu_start.setdefault(proc.pid, 0.0 if part == "browsers" else total)
                self.room.cpu.setdefault(part, {})[proc.pid] = total - start


KERNEL_RAN_LESSON_CPU_S = 1.2  # a kernel that has run a lesson has used more than this


def wait_until_ready(server: bc.Server, size: int, timeout_s: float = 900.0) -> None:
    """Wait until ``size`` kernels run, each has used the CPU a lesson takes (a kernel
    only started waits for Voila to send it the lesson), and none has used CPU for 3 s:
    each has run the lesson for the page that will take it."""
    deadline = time.monotonic() + timeout_s
    quiet_since, last_cpu = None, None
    while time.monotonic() < deadline:
        cpu = []
        for proc in bc.server_kernels(server):
            try:
                times = proc.cpu_times()
                cpu.append(times.user + times.system)
            except Exception:  # a kernel just gone
                pass
        busy = last_cpu is None or sum(cpu) - last_cpu > 0.05
        last_cpu = sum(cpu)
        ran = len(cpu) >= size and min(cpu) >= KERNEL_RAN_LESSON_CPU_S
        if ran and not busy:
            quiet_since = quiet_since or time.monotonic()
            if time.monotonic() - quiet_since >= 3.0:
                return
        else:
            quiet_since = None
        time.sleep(0.5)
    raise RuntimeError(f"the room of {size} was not ready within {timeout_s:.0f} s")


def count_log(server: bc.Server, pattern: str) -> int:
    text = server.log_path.read_text(errors="replace") if server.log_path.exists() else ""
    return len(re.findall(pattern, text))


def visit(url: str) -> str:
    """One plain visit: its HTTP status and how long it took."""
    started = time.monotonic()
    try:
        with urllib.request.urlopen(url, timeout=120) as reply:
            status = reply.status
    except urllib.error.HTTPError as error:
        status = error.code
    return f"HTTP {status} in {time.monotonic() - started:.1f} s"


# ---------------------------------------------------------------------------- learners
_PAGE_RECEIVED_JS = "() => performance.getEntriesByType('navigation')[0].responseEnd"
_ERROR_TEXTS_JS = """
(texts) => texts.filter(t => document.body && document.body.innerText.includes(t))
"""


async def learn(
    context, url: str, learner: Learner, arrive_s: float, session_s: float, every_s: float
) -> object | None:
    """One learner: arrive, load the lesson, then move a slider every ``every_s`` (+-50%)
    seconds for ``session_s`` seconds. Returns the page (None when it never loaded)."""
    from playwright.async_api import Error as PlaywrightError

    await asyncio.sleep(arrive_s)
    page = await context.new_page()
    page.on("pageerror", lambda error: learner.errors.append(f"page error: {error}"))
    await page.add_init_script(page_bench._CHART_CLOCK_JS)
    try:
        reply = await page.goto(url, wait_until="commit", timeout=180_000)
        if reply is None or reply.status != 200:
            learner.errors.append(f"HTTP {reply.status if reply else '?'} for the lesson")
            return page
        await page.wait_for_function(page_bench._FIRST_CHART_JS, timeout=180_000, polling=50)
        clock = await page.evaluate("window.__marginlabCharts")
        learner.first_chart_s = clock["firstMs"] / 1000
        learner.page_s = await page.evaluate(_PAGE_RECEIVED_JS) / 1000
        await page.wait_for_selector(bc.SLIDER_HANDLE, timeout=60_000)
        await asyncio.sleep(1.0)  # the learner reads the page before touching it
        await page.evaluate(page_bench._LATENCY_PROBE_JS)
        handle = page.locator(bc.SLIDER_HANDLE).first
        shown = await page.evaluate(_ERROR_TEXTS_JS, list(bc.ERROR_TEXTS))
        learner.errors += [f"the page shows {text!r}" for text in shown]
    except PlaywrightError as error:
        learner.errors.append(f"lesson not drawn: {str(error).splitlines()[0]}")
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(PlaywrightError):
            await page.screenshot(path=SCREENSHOTS / f"learner-{learner.number}.png")
        return page
    pace = random.Random(learner.number)
    end = time.monotonic() + session_s
    presses = 0
    while time.monotonic() < end:
        await asyncio.sleep(every_s * pace.uniform(0.5, 1.5))
        try:
            await handle.press("ArrowRight" if presses % 2 == 0 else "ArrowLeft")
            await page.wait_for_function(
                "window.__marginlabLatency.first !== null", timeout=REDRAW_TIMEOUT_S * 1000
            )
            await page.wait_for_function(page_bench.QUIET_JS, timeout=REDRAW_TIMEOUT_S * 1000)
        except PlaywrightError:
            learner.errors.append(f"no redraw within {REDRAW_TIMEOUT_S:.0f} s of a keypress")
        await page.evaluate("window.__marginlabLatency.finish()")  # records [first, last]
        presses += 1
    samples = await page.evaluate("window.__marginlabLatency.samples")
    learner.redraw_ms = [first for first, _ in filter(None, samples)]  # keydown -> first change
    return page


async def run_learners(room: Room, url: str, args: argparse.Namespace, server: bc.Server) -> None:
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=bc.chromium_path(), args=list(ROOM_CHROMIUM_ARGS)
        )
        contexts = [
            await browser.new_context(viewport={"width": 1280, "height": 900})
            for _ in range(room.size)
        ]
        room.learners = [Learner(i + 1) for i in range(room.size)]
        spread = args.arrive_s / max(1, room.size - 1) if room.size > 1 else 0.0
        tasks = [
            asyncio.create_task(
                learn(context, url, learner, i * spread, args.session_s, args.move_every_s)
            )
            for i, (context, learner) in enumerate(zip(contexts, room.learners, strict=True))
        ]
        # When everyone has arrived (and drawn), one more visitor finds the room full.
        await asyncio.sleep(args.arrive_s + 15)
        room.extra_visitor = await asyncio.to_thread(visit, url)
        pages = await asyncio.gather(*tasks)
        # Close the tabs: most as a learner does, ``vanish`` of them by the browser
        # disappearing (no "page closing" request reaches the server).
        closed_at = time.monotonic()
        for i, page in enumerate(pages):
            if page is not None and i >= args.vanish:
                await page.close(run_before_unload=True)
        await asyncio.sleep(0.5)
        for context in contexts:
            await context.close()
        await browser.close()
    # Kernels of closed tabs go at once; the vanished learners' ones at the idle cull.
    deadline = closed_at + args.cull_wait_s
    while time.monotonic() < deadline:
        if not bc.server_kernels(server):
            room.culled_after_s = time.monotonic() - closed_at
            break
        await asyncio.sleep(2.0)


def run_room(size: int, args: argparse.Namespace) -> Room:
    room = Room(size, load_before=os.getloadavg())
    token = secrets.token_urlsafe(12)
    print(f"\n== a room of {size} learners (lesson {args.lesson}) ...", flush=True)
    started = time.monotonic()
    server = start_room(args.lesson, size, token)
    sampler = Sampler(server, room)
    sampler.start()
    try:
        wait_until_ready(server, size)
        room.ready_s = time.monotonic() - started
        url = f"{server.base_url}/?token={token}"
        asyncio.run(run_learners(room, url, args, server))
    finally:
        sampler.stopping.set()
        sampler.join()
        room.started = count_log(server, r"Kernel started: ")
        room.culled = count_log(server, r"Culling '")
        room.closed = count_log(server, r"Kernel shutdown: ") - room.culled
        room.left = len(bc.server_kernels(server))
        server.stop()
    return room


# ----------------------------------------------------------------------------- report
def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[round(q) - 1]


def print_room(room: Room) -> None:
    print(
        f"{'learner':>7} {'page s':>7} {'first chart s':>13} {'keypresses':>10} {'p50 ms':>7} "
        f"{'p95 ms':>7}  errors"
    )
    for le in room.learners:
        chart = f"{le.first_chart_s:.2f}" if le.first_chart_s is not None else "-"
        html = f"{le.page_s:.2f}" if le.page_s is not None else "-"
        print(
            f"{le.number:>7} {html:>7} {chart:>13} {len(le.redraw_ms):>10} "
            f"{percentile(le.redraw_ms, 50):>7.0f} {percentile(le.redraw_ms, 95):>7.0f}  "
            f"{'; '.join(le.errors) or '-'}"
        )
    charts = room.first_charts
    pages = [le.page_s for le in room.learners if le.page_s is not None]
    redraws = [ms for le in room.learners for ms in le.redraw_ms]
    peak = max(room.samples, key=lambda s: s.uss, default=Sample(0, 0, 0, 0, []))
    peak_rss = max((s.rss for s in room.samples), default=0)
    peak_kernels = max((s.kernels for s in room.samples), default=0)
    kernel_uss = statistics.median(peak.kernel_uss) / MIB if peak.kernel_uss else float("nan")
    culled = (
        f"culled {room.culled} (all gone {room.culled_after_s:.0f} s after the tabs closed)"
        if room.culled_after_s is not None
        else f"culled {room.culled}, {room.left} still running at the end"
    )
    verdict = "ok" if room.met_goal else "MISSED"
    cpu_use = ", ".join(
        f"{part} {sum(room.cpu.get(part, {}).values()):.0f}"
        for part in ("voila", "kernels", "browsers")
    )
    print(
        f"room of {room.size}: ready (all kernels preheated) {room.ready_s:.0f} s after start; "
        f"load average before {room.load_before[0]:.1f} on {os.cpu_count()} cores\n"
        f"  first chart: median {statistics.median(charts) if charts else float('nan'):.2f} s, "
        f"max {max(charts, default=float('nan')):.2f} s "
        f"(goal <= {GOAL_FIRST_CHART_S:.0f} s and no error: {verdict}); the page's HTML "
        f"received: median {statistics.median(pages) if pages else float('nan'):.2f} s, "
        f"max {max(pages, default=float('nan')):.2f} s (the server's part)\n"
        f"  keypress -> redraw under load: p50 {percentile(redraws, 50):.0f} ms, "
        f"p95 {percentile(redraws, 95):.0f} ms ({len(redraws)} keypresses)\n"
        f"  peak server memory: {peak_rss / GIB:.2f} GiB RSS, {peak.uss / GIB:.2f} GiB USS; "
        f"per learner {peak.uss / MIB / room.size:.0f} MiB (USS / learners), one kernel "
        f"{kernel_uss:.0f} MiB USS\n"
        f"  kernels: peak {peak_kernels} (cap {room.size}); started {room.started}, "
        f"shut down as tabs closed {room.closed}, {culled}\n"
        f"  CPU seconds since the learners came in: {cpu_use} "
        f"({os.cpu_count()} cores)\n"
        f"  one more visitor: {room.extra_visitor} (503: the room is full)\n"
        f"  errors: {len(room.errors)}"
    )


def print_summary(rooms: list[Room]) -> None:
    print(
        f"\n{'room':>5} {'ready s':>8} {'chart p50':>9} {'chart max':>9} {'key p50':>7} "
        f"{'key p95':>7} {'peak GiB':>8} {'MiB/learner':>11} {'errors':>6}  goal"
    )
    for room in rooms:
        charts = room.first_charts
        redraws = [ms for le in room.learners for ms in le.redraw_ms]
        peak_uss = max((s.uss for s in room.samples), default=0)
        print(
            f"{room.size:>5} {room.ready_s:>8.0f} "
            f"{statistics.median(charts) if charts else float('nan'):>9.2f} "
            f"{max(charts, default=float('nan')):>9.2f} {percentile(redraws, 50):>7.0f} "
            f"{percentile(redraws, 95):>7.0f} {peak_uss / GIB:>8.2f} "
            f"{peak_uss / MIB / room.size:>11.0f} {len(room.errors):>6}  "
            f"{'ok' if room.met_goal else 'MISSED'}"
        )
    passed = [room.size for room in rooms if room.met_goal]
    print(
        f"largest room with every first chart <= {GOAL_FIRST_CHART_S:.0f} s and no error: "
        f"{max(passed) if passed else 'none of those tried'}"
    )
    print(
        "Server memory is present + Voila + kernels (USS: each process's own pages). The "
        "learners' chromium runs on the same cores: figures are pessimistic for a room "
        "whose browsers are the learners' own."
    )


def sizes(text: str) -> list[int]:
    values = sorted({int(v) for v in text.split(",") if v.strip()})
    if not values or values[0] < 1:
        raise argparse.ArgumentTypeError("room sizes must be 1 or more, e.g. 30 or 10,20,30")
    return values


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--learners", type=sizes, default=[30], metavar="N[,N...]",
        help="room size, or sizes to try in turn up to the first that misses the goal",
    )  # fmt: skip
    parser.add_argument("--lesson", default="01", help="lesson the room opens (default: 01)")
    parser.add_argument(
        "--arrive-s", type=float, default=30.0,
        help="the learners arrive over this many seconds (default: 30)",
    )  # fmt: skip
    parser.add_argument(
        "--session-s", type=float, default=60.0,
        help="each learner moves sliders for this long after the first chart (default: 60)",
    )  # fmt: skip
    parser.add_argument(
        "--move-every-s", type=float, default=4.0,
        help="a slider move every this many seconds, +-50%% (default: 4)",
    )  # fmt: skip
    parser.add_argument(
        "--vanish", type=int, default=1,
        help="learners whose browser disappears without closing the tab; their kernels "
        "wait for the server's idle cull (default: 1)",
    )  # fmt: skip
    parser.add_argument(
        "--cull-wait-s", type=float, default=300.0,
        help="how long to wait for those kernels to be culled (default: 300)",
    )  # fmt: skip
    parser.add_argument(
        "--all", action="store_true", help="try every size, even after one missed the goal"
    )
    args = parser.parse_args(argv)
    if bc.chromium_path() is None:
        print("benchmarks/room.py skipped: chromium not found (apt-get install chromium)")
        return 0
    rooms = []
    for size in args.learners:
        room = run_room(size, args)
        rooms.append(room)
        print_room(room)
        if not room.met_goal and not args.all:
            break
    print_summary(rooms)
    failed = any(
        "lesson not drawn" in e or "page error" in e for room in rooms for e in room.errors
    )
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
