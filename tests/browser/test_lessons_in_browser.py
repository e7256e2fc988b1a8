"""What a learner sees, in headless chromium against real Voila and JupyterLab servers.

For every notebook (the harness fixture, and every lesson in lessons/ once there are
any): the page loads, no error or traceback is shown, every chart is drawn, a slider
moved with the keyboard changes the chart data and the summary text, a self-check
answered shows feedback, and nothing is requested from another host. A screenshot per
page goes to test-artifacts/screenshots/.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import browser_checks as bc
import pytest


@dataclass(frozen=True)
class Expect:
    """What one notebook must show: at least ``min_charts`` charts; a slider (or, for a
    lesson without one, the button named ``button``) that changes a chart and a summary
    when used from the keyboard; a self-check that answers.
    """

    min_charts: int = 1
    slider: bool = True
    fast_slider: bool = True  # a step of the first slider redraws a chart on the fast path
    button: str | None = None
    self_check: bool = True


# Lessons not listed here get Expect(); add an entry for a lesson that differs.
EXPECT: dict[str, Expect] = {
    "chart_slider_quiz": Expect(min_charts=1),
    "trading_costs": Expect(min_charts=2, self_check=False),  # the widget alone (lesson 10 too)
    "07-switching-modes": Expect(slider=False, button="ETHUSDT"),  # a sandbox: pick a pair
    # Their first slider picks another simulated path: new values, new axis ranges.
    "08-when-to-use-cross": Expect(fast_slider=False),
    "09-when-to-use-isolated": Expect(fast_slider=False),
}


def notebooks() -> list[Path]:
    """The harness fixture, then every numbered lesson in lessons/ (sorted), when there
    are any (the glossary is a page of text, with no widget to drive)."""
    lessons = sorted(bc.LESSONS_DIR.glob("[0-9][0-9]-*.ipynb"))
    return [*sorted(bc.FIXTURES_DIR.glob("*.ipynb")), *lessons]


NOTEBOOKS = notebooks()
NOTEBOOK_IDS = [nb.stem for nb in NOTEBOOKS]


def cell_counts(notebook: Path) -> tuple[int, int, int]:
    """(cells, cells Voila never shows: tagged check or remove-cell, cells JupyterLab opens
    with their input collapsed)."""
    cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    tags = [set(c["metadata"].get("tags", ())) for c in cells]
    dropped = sum(bool({"check", "remove-cell"} & t) for t in tags)
    collapsed = sum(bool(c["metadata"].get("jupyter", {}).get("source_hidden")) for c in cells)
    return len(cells), dropped, collapsed


def check_learner_view(page, notebook: Path, guard: bc.RequestGuard) -> None:
    """The per-notebook checks, the same in Voila and in JupyterLab."""
    expect = EXPECT.get(notebook.stem, Expect())
    charts = bc.wait_for_charts(page, guard, expect.min_charts)
    assert bc.error_texts(page) == []
    traces = bc.chart_traces(page)
    assert len(traces) == charts and all(n > 0 for n in traces), traces
    changes = []
    if expect.slider:
        fast_before = bc.fast_redraws(page)
        changes.append(("the slider", bc.press_slider(page)))
        if fast_before is not None and expect.fast_slider:
            # A slider step moves values inside the charts' axes: at least one chart takes
            # plotly.js's fast path (a plotly upgrade that loses it fails here).
            assert bc.fast_redraws(page) > fast_before, "no chart redrew on the fast path"
    if expect.button is not None:
        changes.append((f"the {expect.button!r} button", bc.press_button(page, expect.button)))
    for control, change in changes:
        assert change.chart_after != change.chart_before, f"{control} changed no chart"
        assert change.summary_after != change.summary_before, (
            f"{control} did not change the summary {change.summary_before!r}"
        )
    if expect.self_check:
        assert bc.answer_self_check(page) != "", "the self-check showed no feedback"
    assert bc.error_texts(page) == []
    assert guard.page_errors == []
    assert guard.foreign == []


@pytest.mark.browser
@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=NOTEBOOK_IDS)
def test_voila_page_renders_and_responds_to_keyboard_and_self_check(
    notebook: Path, voila_url, new_page, guard: bc.RequestGuard
) -> None:
    page = new_page()
    page.goto(voila_url(notebook))
    try:
        bc.wait_for_voila(page)
        check_learner_view(page, notebook, guard)
        if notebook.parent == bc.LESSONS_DIR:  # the fixture draws plotly's own FigureWidget
            # One plotly bundle, fetched over HTTP by the template's preload while the
            # page started, not asked of the kernel.
            delivery = bc.plotly_bundle_delivery(page)
            assert delivery == ([{"loaded": True, "askedKernel": False}], True)
            # Check cells run but are not on the page (the marginlab template drops them).
            cells, dropped, _ = cell_counts(notebook)
            assert dropped > 0 and page.locator("[cell-index]").count() == cells - dropped
    finally:
        bc.save_screenshot(page, f"voila-{notebook.stem}")
        bc.shutdown_voila_kernel(page)


@pytest.mark.browser
@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=NOTEBOOK_IDS)
def test_jupyterlab_run_all_renders_and_responds_to_keyboard_and_self_check(
    notebook: Path, lab_url, new_page, guard: bc.RequestGuard
) -> None:
    page = new_page()
    bc.open_in_lab(page, lab_url(notebook))
    try:
        bc.run_all_in_lab(page)
        check_learner_view(page, notebook, guard)
        # Check cells and computed-prose cells open with their code collapsed.
        _, _, collapsed = cell_counts(notebook)
        assert page.locator(".jp-Cell .jp-InputPlaceholder").count() == collapsed
    finally:
        bc.save_screenshot(page, f"lab-{notebook.stem}")
        bc.shutdown_lab_kernels(page)


@pytest.mark.browser
def test_request_guard_foreign_image_is_blocked_and_recorded(
    new_page, guard: bc.RequestGuard
) -> None:
    page = new_page()
    page.set_content(
        '<img src="https://cdn.example.invalid/a.png"><img src="http://127.0.0.1:9/b.png">'
    )
    page.wait_for_load_state("load")
    assert guard.foreign == ["https://cdn.example.invalid/a.png"]


# Each value the step slider's handle shows, from when the script is installed.
_STEP_VALUES_JS = """
(handle) => {
  window.__stepValues = [];
  new MutationObserver(() => window.__stepValues.push(Number(handle.ariaValueNow)))
    .observe(handle, {attributes: true, attributeFilter: ['aria-valuenow']});
}
"""


@pytest.mark.browser
def test_voila_replay_play_button_follows_the_step_slider(
    voila_url, new_page, guard: bc.RequestGuard
) -> None:
    # Lesson 08's replay: a press of the step slider sends the kernel one message (the
    # play button follows the slider from the kernel; a link in the browser sent the
    # kernel the play's value too, ahead of the step), and Play moves the slider on from
    # the step shown.
    page = new_page()
    sent: list[str | bytes] = []
    page.on("websocket", lambda ws: ws.on("framesent", lambda frame: sent.append(frame)))
    page.goto(voila_url(bc.LESSONS_DIR / "08-when-to-use-cross.ipynb"))
    try:
        bc.wait_for_voila(page)
        bc.wait_for_charts(page, guard, 2)
        widget = page.locator(".marginlab-widget").first
        handle = widget.locator(".marginlab-control-step .noUi-handle")
        # The day trade: 24 hourly steps, a frame every 250 ms (shown whole: step 23).
        widget.locator(".marginlab-control-scenario select").select_option(
            "High leverage short term"
        )
        page.wait_for_function("(h) => Number(h.ariaValueNow) === 23", arg=handle.element_handle())
        for _ in range(2):
            bc.press_slider(page, index=1, key="ArrowLeft")  # the path slider comes first
        sent.clear()
        change = bc.press_slider(page, index=1, key="ArrowLeft")
        assert change.chart_after != change.chart_before
        assert float(handle.get_attribute("aria-valuenow")) == 20
        comm_messages = [
            m for m in sent if b"comm_msg" in (m if isinstance(m, bytes) else m.encode())
        ]
        assert len(comm_messages) == 1, comm_messages

        handle.evaluate(_STEP_VALUES_JS)
        chart = bc.chart_signature(page)
        widget.locator(".widget-play button").first.click()  # Play
        page.wait_for_function("() => window.__stepValues.includes(22)")
        widget.locator(".widget-play button").nth(1).click()  # Pause
        assert page.evaluate("window.__stepValues")[:2] == [21, 22]
        assert bc.chart_signature(page) != chart
        assert bc.error_texts(page) == [] and guard.page_errors == []
    finally:
        bc.shutdown_voila_kernel(page)
