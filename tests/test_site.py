"""The static site (``make site``): one page per lesson, every chart kept in a form a page
without a kernel draws, self-checks folded, launch links, and nothing loaded from
outside the site's folder. Built once per session (the ``site_build`` fixture); the
browser test (tests/browser/test_site_in_browser.py) opens every page in chromium.
"""

from __future__ import annotations

import html
import importlib.util
import io
import json
import re
import tokenize
from html.parser import HTMLParser
from pathlib import Path
from typing import ClassVar
from urllib.parse import unquote, urlsplit

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
LESSONS = ROOT / "lessons"
_spec = importlib.util.spec_from_file_location("launch_links", ROOT / "tools" / "launch_links.py")
launch_links = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(launch_links)

NOTEBOOKS = sorted(LESSONS.glob("*.ipynb"))
NUMBERED = [nb for nb in NOTEBOOKS if re.match(r"\d\d-", nb.name)]
STATIC_CHART = 'class="marginlab-static"'  # marginlab.widgets.show.STATIC_CLASS
PLOTLY_DIV = 'class="plotly-graph-div"'  # one per figure (plotly's to_html)
HIDDEN_TAGS = {"remove-cell", "remove-input", "check"}  # code never shown on a page

pytestmark = pytest.mark.slow


class _Resources(HTMLParser):
    """Every URL a page loads by itself (scripts, stylesheets, images, frames...) and every
    link (``<a href>``) with its CSS class."""

    LOADS: ClassVar[dict[str, str]] = {
        "script": "src", "img": "src", "iframe": "src", "source": "src", "embed": "src",
        "video": "src", "audio": "src", "object": "data",
    }  # fmt: skip

    def __init__(self) -> None:
        super().__init__()
        self.loads: list[str] = []
        self.anchors: list[tuple[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if tag in self.LOADS and values.get(self.LOADS[tag]):
            self.loads.append(values[self.LOADS[tag]])
        if tag == "link" and values.get("href"):
            rel = values.get("rel", "")
            if rel in ("stylesheet", "preload", "modulepreload", "icon", "shortcut icon"):
                self.loads.append(values["href"])
        if tag == "a" and values.get("href"):
            self.anchors.append((values.get("class", ""), values["href"]))


def _resources(page: Path) -> _Resources:
    parser = _Resources()
    parser.feed(page.read_text(encoding="utf-8"))
    return parser


def visible_charts(executed: Path) -> tuple[int, int]:
    """(outputs carrying a static copy, plotly figures in them) of an executed lesson, in
    cells whose output a page shows. A widget's copy holds every figure it draws."""
    notebook = nbformat.read(executed, as_version=4)
    outputs = figures = 0
    for cell in notebook.cells:
        if {"remove-cell", "remove-output"} & set(cell.metadata.get("tags", ())):
            continue
        for output in cell.get("outputs", ()):
            html_copy = str(output.get("data", {}).get("text/html", ""))
            outputs += STATIC_CHART in html_copy
            figures += html_copy.count(PLOTLY_DIV)
    return outputs, figures


def test_site_has_index_and_one_page_per_lesson(site_build):
    pages = {p.name for p in site_build.html.glob("*.html")}
    wanted = {"index.html", "INSTRUCTOR.html", *(f"{nb.stem}.html" for nb in NOTEBOOKS)}
    assert wanted <= pages, wanted - pages
    assert "03-liquidation-threshold.html" in pages and "glossary.html" in pages
    index = (site_build.html / "index.html").read_text(encoding="utf-8")
    for notebook in NOTEBOOKS:  # the home page lists every lesson
        assert f'href="{notebook.stem}.html"' in index, notebook.name


def test_site_pages_load_nothing_from_outside_the_site(site_build):
    for page in site_build.html.glob("*.html"):  # _static/ holds template fragments
        for url in _resources(page).loads:
            parts = urlsplit(url)
            assert not parts.scheme and not parts.netloc, f"{page.name} loads {url}"
            target = (page.parent / unquote(parts.path)).resolve()
            assert target.is_file(), f"{page.name} loads {url}, which the site lacks"
            assert site_build.html.resolve() in target.parents
    for css in site_build.html.rglob("*.css"):
        text = css.read_text(encoding="utf-8", errors="replace")
        remote = re.findall(r"""(?:url\(|@import)\s*['"]?((?:https?:)?//[^'")\s]+)""", text)
        assert remote == [], f"{css.name} loads {remote}"


def test_site_vendors_plotly_and_mathjax_once(site_build):
    static = site_build.html / "_static"
    assert (static / "plotly.min.js").is_file()
    assert (static / "mathjax" / "tex-chtml.js").is_file()
    assert list(static.rglob("*.woff*")), "MathJax's fonts"
    page = (site_build.html / "01-isolated-margin.html").read_text(encoding="utf-8")
    loads = _resources(site_build.html / "01-isolated-margin.html").loads
    assert sum("plotly" in url for url in loads) == 1
    assert sum("mathjax/tex-chtml.js" in url for url in loads) == 1
    # plotly.js is loaded in <head>, before the first chart's inline script needs it.
    assert page.index("plotly.min.js") < page.index("</head>") < page.index(STATIC_CHART)


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[nb.stem for nb in NOTEBOOKS])
def test_site_lesson_page_keeps_every_chart_without_widget_state(site_build, notebook):
    page = (site_build.html / f"{notebook.stem}.html").read_text(encoding="utf-8")
    outputs, figures = visible_charts(site_build.executed / notebook.name)
    if notebook in NUMBERED:
        assert outputs >= 1, "a lesson shows at least one chart"
    assert page.count(STATIC_CHART) == outputs
    assert page.count(PLOTLY_DIV) == figures >= outputs
    # No widget state or embed manager: the page draws the static copies.
    assert "application/vnd.jupyter.widget-state+json" not in page
    assert "require.js" not in page and "embed-amd" not in page
    assert "application/vnd.jupyter.widget-view+json" not in page


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[nb.stem for nb in NOTEBOOKS])
def test_site_lesson_page_has_its_launch_links(site_build, notebook):
    anchors = _resources(site_build.html / f"{notebook.stem}.html").anchors
    links = launch_links.lesson_links(notebook.name)
    for app in ("lab", "voila"):
        found = [href for cls, href in anchors if f"marginlab-launch-{app}" in cls.split()]
        assert found == [links[app]], (app, found)


def test_site_home_page_launches_the_course(site_build):
    anchors = dict(_resources(site_build.html / "index.html").anchors)
    first = launch_links.lesson_links("00-start-here.ipynb")
    assert anchors["marginlab-launch-lab"] == first["lab"]
    assert anchors["marginlab-launch-voila"] == launch_links.binder_url("lessons", "voila-tree")


@pytest.mark.parametrize("notebook", NUMBERED, ids=[nb.stem for nb in NUMBERED])
def test_site_self_check_is_static_with_answers_folded(site_build, notebook):
    page = (site_build.html / f"{notebook.stem}.html").read_text(encoding="utf-8")
    quizzes = re.findall(r'<div class="marginlab-quiz-static">(.*?)</div></div>', page, re.S)
    assert len(quizzes) == 1
    questions = re.findall(r'<div class="marginlab-question-static">(.*?)</details>', page, re.S)
    assert questions, "no question"
    for question in questions:
        prompt, _, folded = question.partition("<details>")
        assert re.search(r"<b>Q\d+\.</b>", prompt), prompt
        assert "<summary>Show the answer</summary>" in folded
        answer = folded.partition("</summary>")[2].strip()
        assert answer.startswith("<p><b>") and answer not in prompt  # only under the fold


def code_lines(source: str) -> list[str]:
    """The lines of ``source`` that hold code (not only the inside of a string)."""
    skip = {tokenize.STRING, tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE,
            tokenize.INDENT, tokenize.DEDENT, tokenize.ENDMARKER}  # fmt: skip
    lines = source.splitlines()
    numbers = {
        token.start[0]
        for token in tokenize.generate_tokens(io.StringIO(source).readline)
        if token.type not in skip
    }
    return [lines[n - 1].strip() for n in sorted(numbers)]


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[nb.stem for nb in NOTEBOOKS])
def test_site_lesson_page_shows_no_hidden_code(site_build, notebook):
    """Check cells are gone; computed-prose cells show their sentence, not their code."""
    page = (site_build.html / f"{notebook.stem}.html").read_text(encoding="utf-8")
    lines = {line.strip() for line in html.unescape(re.sub(r"<[^>]+>", "", page)).splitlines()}
    cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    code = [c for c in cells if c["cell_type"] == "code"]
    hidden = [c for c in code if HIDDEN_TAGS & set(c["metadata"].get("tags", ()))]
    shown = {line for c in code if c not in hidden for line in code_lines("".join(c["source"]))}
    assert hidden or notebook not in NUMBERED, "a lesson has check and computed-prose cells"
    for cell in hidden:
        for line in code_lines("".join(cell["source"])):
            if len(line) > 20 and line not in shown:
                assert line not in lines, f"hidden code on the page: {line!r}"
    assert not any(line.startswith("prose(") for line in lines)
