"""The static site in headless chromium, served from its folder by a plain HTTP server on
127.0.0.1, as a reader without a kernel sees it: every page loads with no request
leaving the machine and no missing file, every chart is drawn, formulas are typeset by
the site's own MathJax, self-check answers open from their fold, and each lesson page
has its two launch links. A screenshot of every page goes to test-artifacts/screenshots/.
"""

from __future__ import annotations

import importlib.util
import os
import re
import sys
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import browser_checks as bc
import pytest

_spec = importlib.util.spec_from_file_location(
    "launch_links", bc.ROOT / "tools" / "launch_links.py"
)
launch_links = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(launch_links)

NOTEBOOKS = sorted(bc.LESSONS_DIR.glob("*.ipynb"))
PAGES = ["index", *(nb.stem for nb in NOTEBOOKS), "INSTRUCTOR", "search"]
STATIC_CHART = ".marginlab-static"


@pytest.fixture(scope="module")
def site_url(site_build) -> Iterator[str]:
    """The base URL of the built site, served by ``python -m http.server`` on loopback."""
    port = bc.free_port()
    command = [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1",
               "--directory", str(site_build.html)]  # fmt: skip
    server = bc.start_server("site", command, port, dict(os.environ))
    yield server.base_url
    server.stop()


def expected_charts(site_build, name: str) -> int:
    """The plotly figures the page holds in its static copies (tests/test_site.py matches
    that count against the executed lesson)."""
    page = (site_build.html / f"{name}.html").read_text(encoding="utf-8")
    return page.count('class="plotly-graph-div"')


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.parametrize("name", PAGES)
def test_site_page_draws_everything_from_the_site_alone(
    name: str, site_build, site_url: str, new_page, guard: bc.RequestGuard
) -> None:
    page = new_page()
    failed: list[str] = []
    page.on("response", lambda r: r.status >= 400 and failed.append(f"{r.status} {r.url}"))
    page.on("requestfailed", lambda r: guard.is_local(r.url) and failed.append(f"failed {r.url}"))
    page.goto(f"{site_url}/{name}.html", wait_until="load")
    try:
        charts = expected_charts(site_build, name)
        if charts:
            assert bc.wait_for_charts(page, guard, charts) == charts
            traces = bc.chart_traces(page)
            assert len(traces) == charts and all(n > 0 for n in traces), traces
            # Each chart is drawn inside its static copy, with its summary under it.
            assert page.locator(f"{STATIC_CHART} .js-plotly-plot").count() == charts
        else:
            assert page.locator(".js-plotly-plot").count() == 0
        if page.locator(".math").count() > 0:  # typeset by the site's MathJax
            page.wait_for_function(
                "() => document.querySelectorAll('mjx-container').length > 0 && "
                "document.querySelectorAll('.math').length === "
                "document.querySelectorAll('.math mjx-container').length"
            )
        if page.locator(".marginlab-question-static").count() > 0:
            check_folded_answers(page)
        if name in {nb.stem for nb in NOTEBOOKS}:
            check_launch_links(page, f"{name}.ipynb")
        assert bc.error_texts(page) == []
        assert guard.page_errors == []
        assert failed == []
        assert guard.foreign == []
    finally:
        bc.save_screenshot(page, f"site-{name}")


def check_folded_answers(page) -> None:
    """Every self-check answer is folded until its summary is clicked."""
    folds = page.locator(".marginlab-question-static details")
    assert folds.count() == page.locator(".marginlab-question-static").count()
    first = folds.first
    answer = first.locator("p").first
    assert not answer.is_visible()
    first.locator("summary").click()
    assert answer.is_visible() and answer.inner_text().strip()


def check_launch_links(page, notebook: str) -> None:
    """The lesson's two Binder links, visible, opening this lesson in JupyterLab and Voila."""
    for app, prefix in (("lab", "lab/tree/"), ("voila", "voila/render/")):
        link = page.locator(f"a.marginlab-launch-{app}")
        assert link.count() == 1 and link.is_visible()
        href = link.get_attribute("href")
        assert href == launch_links.lesson_links(notebook)[app]
        parts = urlsplit(href)
        assert (parts.scheme, parts.netloc) == ("https", "mybinder.org")
        assert re.fullmatch(r"/v2/gh/[\w-]+/[\w.-]+/HEAD", parts.path)
        assert parse_qs(parts.query) == {"urlpath": [f"{prefix}lessons/{notebook}"]}
