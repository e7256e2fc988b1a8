"""Voila configured, not wrapped: with the package installed, a plain ``voila LESSON`` and
a Jupyter server's ``/voila/render/LESSON`` (Binder's launch link) serve the page
``marginlab present`` serves: the marginlab template (found in sys.prefix/share/jupyter)
and its settings (sys.prefix/etc/jupyter/voila.json), so no code, every chart drawn by
the course's plotly bundle, and no request leaving 127.0.0.1 (Voila's own template asks
a CDN for Font Awesome). Servers run with the environment as it is: no JUPYTER_PATH, no
command-line settings beyond address and port.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import browser_checks as bc
import pytest

from marginlab.serve import jupyterlab_command, server_env, voila_command

LESSON = bc.LESSONS_DIR / "03-liquidation-threshold.ipynb"
CODE_LINE = 'widget = catalog()["liquidation_threshold"]()'  # a code cell of the lesson


def plain_env() -> dict[str, str]:
    """The environment as a learner's shell has it: no JUPYTER_PATH of ours."""
    return {k: v for k, v in os.environ.items() if k != "JUPYTER_PATH"}


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """Base URLs of the lesson's page: plain Voila, JupyterLab's /voila/render (as on
    Binder), and ``marginlab present``'s Voila."""
    started: dict[str, bc.Server] = {}
    urls: dict[str, str] = {}
    try:
        port = bc.free_port()
        command = [sys.executable, "-m", "voila", str(LESSON), "--Voila.ip=127.0.0.1",
                   f"--Voila.port={port}", "--Voila.port_retries=0",
                   "--Voila.open_browser=False"]  # fmt: skip
        started["voila"] = bc.start_server("plain-voila", command, port, plain_env())
        urls["voila"] = f"{started['voila'].base_url}/"
        port = bc.free_port()
        scratch = tmp_path_factory.mktemp("lab-voila")
        (scratch / "course").mkdir()
        shutil.copyfile(LESSON, scratch / "course" / LESSON.name)  # never run the original
        command = jupyterlab_command(scratch / "course", port=port, settings_dir=scratch)
        started["lab"] = bc.start_server("lab-voila", command, port, plain_env())
        urls["lab"] = f"{started['lab'].base_url}/voila/render/{LESSON.name}"
        port = bc.free_port()
        command = voila_command(LESSON, port=port)
        started["present"] = bc.start_server("present-voila", command, port, server_env())
        urls["present"] = f"{started['present'].base_url}/"
        yield urls
    finally:
        for server in started.values():
            server.stop()


def rendered(page) -> dict[str, object]:
    """What the page is made of: the cells shown, the template's scripts and stylesheets
    (paths), whether any code is on it."""
    return page.evaluate(
        """() => ({
          cells: [...document.querySelectorAll('[cell-index]')]
            .map(e => e.getAttribute('cell-index')),
          scripts: [...document.scripts].map(s => s.src).filter(Boolean)
            .map(u => new URL(u).pathname).filter(p => p.includes('/voila/static/')),
          styles: [...document.querySelectorAll('link[rel=stylesheet]')]
            .map(l => new URL(l.href).pathname),
          code: document.querySelectorAll('.jp-InputArea-editor, .CodeMirror, .cm-editor').length,
        })"""
    )


def open_lesson(new_page: Callable[[], object], guard: bc.RequestGuard, url: str):
    page = new_page()
    page.goto(url)
    bc.wait_for_voila(page)
    bc.wait_for_charts(page, guard, 1)
    return page


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.parametrize("how", ["voila", "lab"])
def test_plain_voila_serves_the_marginlab_page_without_code_or_cdn(
    how: str, servers: dict[str, str], new_page, guard: bc.RequestGuard
) -> None:
    page = open_lesson(new_page, guard, servers[how])
    try:
        shown = rendered(page)
        assert "/voila/static/marginlab-preload.js" in shown["scripts"]  # the marginlab template
        cells = json.loads(LESSON.read_text(encoding="utf-8"))["cells"]
        hidden = [str(i) for i, c in enumerate(cells, start=1)  # Voila counts from 1
                  if {"check", "remove-cell"} & set(c["metadata"].get("tags", ()))]  # fmt: skip
        assert hidden and not set(hidden) & set(shown["cells"])  # check cells never shown
        assert len(shown["cells"]) == len(cells) - len(hidden)
        assert shown["code"] == 0 and page.get_by_text(CODE_LINE).count() == 0
        # The widget manager's extension is loaded, the denied ones (voila.json) are not.
        loaded = page.evaluate("performance.getEntriesByType('resource').map(e => e.name)")
        extensions = {u.split("/labextensions/")[1].split("/static/")[0]
                      for u in loaded if "/labextensions/" in u}  # fmt: skip
        assert "@jupyter-widgets/jupyterlab-manager" in extensions, extensions
        assert not {"jupyterlab-plotly", "jupyterlab-jupytext"} & extensions, extensions
        change = bc.press_slider(page)
        assert change.chart_after != change.chart_before
        assert bc.error_texts(page) == []
        assert guard.page_errors == []
        assert guard.foreign == []
    finally:
        bc.save_screenshot(page, f"plain-{how}-{LESSON.stem}")
        bc.shutdown_voila_kernel(page)


@pytest.mark.browser
@pytest.mark.slow
def test_plain_voila_page_is_the_present_page(
    servers: dict[str, str], new_page, guard: bc.RequestGuard
) -> None:
    pages = {how: open_lesson(new_page, guard, servers[how]) for how in ("voila", "present")}
    try:
        plain, present = (rendered(pages[how]) for how in ("voila", "present"))
        assert plain["cells"] == present["cells"]
        assert plain["scripts"] == present["scripts"]
        assert plain["styles"] == present["styles"]
        assert guard.foreign == []
    finally:
        for page in pages.values():
            bc.shutdown_voila_kernel(page)


def test_voila_settings_file_names_the_template_present_serves() -> None:
    settings = json.loads(
        (Path(bc.ROOT) / "jupyter-config" / "voila.json").read_text(encoding="utf-8")
    )["VoilaConfiguration"]
    assert settings["template"] == "marginlab"
    assert settings["strip_sources"] is True and settings["show_tracebacks"] is False


@pytest.mark.browser
@pytest.mark.slow
def test_voila_tree_under_a_jupyter_server_lists_the_lessons_without_cdn(
    servers: dict[str, str], new_page, guard: bc.RequestGuard
) -> None:
    # The site's home page launches the course as Binder's /voila/tree/lessons.
    base = servers["lab"].rsplit("/voila/render/", 1)[0]
    page = new_page()
    page.goto(f"{base}/voila/tree/")
    try:
        page.get_by_text(LESSON.name).first.wait_for()
        page.wait_for_load_state("load")
        assert guard.foreign == [] and guard.page_errors == []
    finally:
        bc.save_screenshot(page, "plain-lab-voila-tree")
