"""Sphinx configuration of the course's static site: ``make site`` (tools/site.py).

The site is the Jupyter Book 1 stack used directly: Sphinx, myst-nb (executes each lesson
notebook and renders its outputs) and sphinx-book-theme. tools/site.py stages the source
folder: the lesson notebooks, ``index.md`` from this folder, and ``_vendor/`` with the
files a page would otherwise fetch from a CDN (plotly.js, MathJax). Nothing a page loads
comes from outside the site's folder.

How a lesson's outputs show without a kernel: each chart and widget is displayed by
``marginlab.widgets.show``, whose bundle carries the live widget view and a static HTML
copy of the chart (a plotly ``<div>``, drawn by the page's one plotly.js). myst-nb would
draw the widget view (with ipywidgets' embed manager from a CDN), so the view is
dropped (``nb_mime_priority_overrides``) and the static copy wins; plotly's JSON output
is not a type myst-nb renders, so a figure shown on its own falls back to the same HTML.
Self-checks render their static form: each question with its answer folded.
"""

from __future__ import annotations

import html
import importlib.util
import sys
from pathlib import Path

import nbformat
from docutils import nodes
from myst_nb.core.render import get_mime_priority
from sphinx.util import logging

logger = logging.getLogger("marginlab.site")

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("launch_links", ROOT / "tools" / "launch_links.py")
launch_links = importlib.util.module_from_spec(_spec)
sys.modules["launch_links"] = launch_links
_spec.loader.exec_module(launch_links)

WIDGET_VIEW_MIME = "application/vnd.jupyter.widget-view+json"
VENDOR = "_vendor"  # in the staged source folder: plotly.min.js and mathjax/ (tools/site.py)
PLOTLY_JS = "plotly.min.js"

project = "marginlab"
author = "marginlab contributors"
html_title = "marginlab: Cross vs Isolated margin"
language = "en"

extensions = ["myst_nb"]
exclude_patterns = [VENDOR, "**/.ipynb_checkpoints"]
myst_enable_extensions = ["dollarmath"]
myst_heading_anchors = 3

# Every lesson runs top to bottom when the site is built; a failing cell fails the build.
nb_execution_mode = "force"
nb_execution_timeout = 300
nb_execution_raise_on_error = True
nb_execution_show_tb = True
nb_merge_streams = True
# Static copy over live view; no ipywidgets embed manager (require.js and the widget
# manager from a CDN): the pages hold no widget to draw.
nb_mime_priority_overrides = [("html", WIDGET_VIEW_MIME, None)]
nb_ipywidgets_js: dict[str, dict[str, str]] = {}
# myst-nb warns about every plotly JSON output, although its HTML copy beside it is shown;
# _check_outputs_shown warns instead about an output the page cannot show.
suppress_warnings = ["mystnb.unknown_mime_type"]
HIDDEN_OUTPUT_TAGS = frozenset({"remove-cell", "remove-output"})

html_theme = "sphinx_book_theme"
html_static_path = ["_static"]
html_css_files = ["marginlab-site.css"]
html_js_files = [PLOTLY_JS]  # in <head>, before any chart's inline script runs
html_copy_source = True  # the download button offers each lesson's notebook
html_show_sourcelink = False
html_last_updated_fmt = None
html_theme_options = {
    "repository_url": launch_links.repository_url(),
    "use_repository_button": True,
    "use_download_button": True,
    "home_page_in_toc": True,
    "show_toc_level": 2,
    "navigation_with_keys": False,
}
# MathJax 3 from npm (tools/site.py copies it into _vendor/), not Sphinx's CDN default.
mathjax_path = "mathjax/tex-chtml.js"
mathjax3_config = {"tex": {"inlineMath": [["\\(", "\\)"]], "displayMath": [["\\[", "\\]"]]}}


def _add_vendor_static(app, config) -> None:
    """Serve the staged ``_vendor/`` folder as static files (``_static/...``)."""
    vendor = Path(app.srcdir) / VENDOR
    if not (vendor / PLOTLY_JS).is_file():
        raise FileNotFoundError(
            f"{vendor / PLOTLY_JS} is missing: build the site with `make site` "
            "(tools/site.py stages plotly.js and MathJax)"
        )
    config.html_static_path.append(str(vendor))


def _check_outputs_shown(app, doctree) -> None:
    """Warn (failing the build) about an output of the executed notebook that its page
    cannot show: no type the page renders, or a live widget with no static copy."""
    executed = Path(app.outdir).parent / "jupyter_execute" / f"{app.env.docname}.ipynb"
    if Path(app.env.doc2path(app.env.docname)).suffix != ".ipynb" or not executed.is_file():
        return
    priority = get_mime_priority("html", app.config.nb_mime_priority_overrides)
    notebook = nbformat.read(executed, as_version=4)
    for index, cell in enumerate(notebook.cells):
        if HIDDEN_OUTPUT_TAGS & set(cell.metadata.get("tags", ())):
            continue
        for output in cell.get("outputs", ()):
            if output.output_type not in ("display_data", "execute_result"):
                continue
            data = output.get("data", {})
            chosen = next((mime for mime in priority if mime in data), None)
            if chosen is None or (chosen == "text/plain" and WIDGET_VIEW_MIME in data):
                logger.warning(
                    f"cell {index}: an output the page cannot show ({', '.join(data)}); "
                    "display charts and widgets with marginlab.widgets.show",
                    location=app.env.docname,
                )


def _drop_widget_state(app, env) -> None:
    """Drop the saved widget state myst-nb would embed in each page (hundreds of kB of
    figure data for an embed manager the pages do not load)."""
    for data in getattr(env, "nb_metadata", {}).values():
        data.get("js_files", {}).pop("ipywidgets_state", None)


def _launch_html(kind: str, links: dict[str, str], note: str) -> str:
    anchors = " ".join(
        f'<a class="marginlab-launch-{app}" href="{html.escape(url)}" '
        f'rel="noopener">{html.escape(label)}</a>'
        for app, label, url in (
            ("lab", "JupyterLab on Binder", links["lab"]),
            ("voila", "App on Binder (Voila)", links["voila"]),
        )
    )
    return (
        f'<nav class="marginlab-launch" aria-label="Run this {kind}">'
        f"<span>Run this {kind}:</span> {anchors}"
        f'<p class="marginlab-launch-note">{html.escape(note)}</p></nav>'
    )


def _add_launch_links(app, doctree, docname: str) -> None:
    """Under each lesson's title: its Binder links, JupyterLab and Voila; under the home
    page's title: the course's."""
    source = Path(app.env.doc2path(docname))
    if source.suffix == ".ipynb":
        links = launch_links.lesson_links(source.name)
        block = _launch_html(
            "lesson",
            links,
            "The charts on this page show the lesson's starting values. Launch it to move "
            "the sliders (Binder starts a server for you; the first start takes a few "
            "minutes), or run it on your own machine (see the home page).",
        )
    elif docname == app.config.root_doc:
        links = {
            "lab": launch_links.lesson_links(launch_links.FIRST_LESSON)["lab"],
            "voila": launch_links.binder_url(launch_links.LESSONS_FOLDER, "voila-tree"),
        }
        block = _launch_html(
            "course",
            links,
            "JupyterLab opens the first lesson with its code; the app shows every lesson "
            "without code, as on a projector.",
        )
    else:
        return
    section = next(iter(doctree.findall(nodes.section)), None)
    if section is None or not isinstance(section[0], nodes.title):
        raise ValueError(f"{docname} must start with a title, for its launch links")
    section.insert(1, nodes.raw("", block, format="html"))


def setup(app) -> dict[str, bool]:
    app.connect("config-inited", _add_vendor_static)
    app.connect("doctree-read", _check_outputs_shown)
    app.connect("env-updated", _drop_widget_state)
    app.connect("doctree-resolved", _add_launch_links)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
