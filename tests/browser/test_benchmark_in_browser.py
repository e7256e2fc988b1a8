"""benchmarks/browser.py's presses in a real page: every press it times must be timed
from the keydown that sends the control's new value to the kernel, or its figures
measure something else (or nothing)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
import browser as benchmark  # benchmarks/browser.py
import browser_checks as bc

PRESSES = 6

# Each key a press sends, and the page's "change" events, in the page's order.
_KEYS_AND_CHANGES_JS = """
() => {
  window.__keysAndChanges = [];
  document.addEventListener('keydown', (e) => __keysAndChanges.push('keydown ' + e.key), true);
  document.addEventListener('change', (e) => __keysAndChanges.push('change ' + e.target.value),
                            true);
}
"""


@contextmanager
def _capstone(new_page, voila_url, guard: bc.RequestGuard) -> Iterator[tuple[object, dict]]:
    """The capstone lesson in a new page, charts drawn and the benchmark's probe installed:
    (page, its main controls by name); then no error on the page, and its kernel shut."""
    page = new_page()
    page.goto(voila_url(bc.LESSONS_DIR / "14-capstone.ipynb"))
    try:
        bc.wait_for_voila(page)
        bc.wait_for_charts(page, guard)
        benchmark.install_probe(page)
        yield page, dict(benchmark.page_controls(page, benchmark.main_controls()))
        assert bc.error_texts(page) == [] and guard.page_errors == []
    finally:
        bc.shutdown_voila_kernel(page)


@pytest.mark.browser
def test_benchmark_times_a_number_box_from_the_keypress_that_sends_it(
    voila_url, new_page, guard: bc.RequestGuard
) -> None:
    # The capstone's entry price boxes (FloatText, sent on "change"). An arrow key fires
    # "change" itself in Chromium: a press of ArrowUp then Enter sent the value on the
    # arrow, and the Enter's keydown restarted the clock after the chart had changed.
    with _capstone(new_page, voila_url, guard) as (page, controls):
        page.evaluate(_KEYS_AND_CHANGES_JS)
        control = controls["playground.entry_1"]
        assert control.kind == "text"
        box = control.roots[0].locator("input")
        start = float(box.input_value())
        step = float(box.get_attribute("step"))
        target = benchmark.Target(page, benchmark.NoMeter(), control)
        control.roots[0].scroll_into_view_if_needed()
        for i in range(PRESSES):
            benchmark.press_once(target, i)
            assert float(box.input_value()) == (start + step if i % 2 == 0 else start)
        events = page.evaluate("window.__keysAndChanges")
        samples = page.evaluate("window.__marginlabLatency.samples")
        # One keydown a press, and the value sent right after it.
        values = [f"{start + step:g}", f"{start:g}"] * (PRESSES // 2)
        assert events == [e for v in values for e in ("keydown Enter", f"change {v}")]
        # Every press timed from that keydown to a change of the price ladder.
        assert len(samples) == PRESSES
        assert all(s is not None and 0 < s[0] <= s[1] for s in samples), samples


@pytest.mark.browser
def test_benchmark_stops_pressing_a_control_whose_presses_change_no_chart(
    voila_url, new_page, guard: bc.RequestGuard, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The capstone's hedge checkbox changes the table's text, not a chart: each of its
    # presses waits out the timeout, so the benchmark presses it NO_CHANGE_PRESSES times
    # (even: it ends unticked, as it started), while a control that moves a chart (the
    # first entry price) is pressed every time asked.
    monkeypatch.setattr(benchmark, "PRESS_TIMEOUT_MS", 1_000)
    with _capstone(new_page, voila_url, guard) as (page, controls):
        hedge, entry = controls["playground.hedge"], controls["playground.entry_1"]
        assert hedge.kind == "checkbox"
        box = hedge.roots[0].locator("input[type=checkbox]")
        assert not box.is_checked()
        asked = benchmark.NO_CHANGE_PRESSES + 4
        [quiet] = benchmark.press_many(
            benchmark.Target(page, benchmark.NoMeter(), hedge), presses=asked
        )
        assert quiet.samples == [None] * benchmark.NO_CHANGE_PRESSES
        assert benchmark.NO_CHANGE_PRESSES % 2 == 0 and not box.is_checked()
        [moved] = benchmark.press_many(
            benchmark.Target(page, benchmark.NoMeter(), entry), presses=asked
        )
        assert len(moved.samples) == asked and moved.missed == 0
