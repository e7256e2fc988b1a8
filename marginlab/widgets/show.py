"""Show a lesson's charts, widgets and computed sentences, once per page, everywhere.

A lesson is read three ways: in JupyterLab (a kernel, live widgets), in Voila (a kernel,
no code) and as a page without a kernel (the static site or an nbconvert export of the
executed notebook). One output serves all three, because a front end draws the first
representation of a display bundle it can, in its own order of preference:

- :func:`show` of a chart: plotly's JSON (JupyterLab draws it with the plotly.js it
  already has), an HTML ``<div>`` of the figure with its summary (what a page without a
  kernel draws: myst-nb and nbconvert drop plotly's JSON; the page must load plotly.js
  once, the static site ships it), and the summary as plain text.
- :func:`show` of a lesson widget: the live widget's view (drawn wherever a kernel
  runs) plus the same static HTML of every chart it draws, as they are now. Where a
  kernel runs the widget wins and the snapshot is never drawn, so a page shows each
  chart once; a page without a kernel shows the snapshot instead, as long as it does not
  draw the saved widget state: nbconvert ``--ExecutePreprocessor.store_widget_state=False``;
  Jupyter Book / myst-nb ``nb_mime_priority_overrides = [("html", WIDGET_MIME, None)]``
  (the static site, site/conf.py: each chart once, drawn by the page's plotly.js).
- :func:`prose`: a sentence whose numbers the engine computed, as Markdown. Lessons put
  it in a cell tagged ``remove-input`` (collapsed in JupyterLab, hidden by Voila, removed
  by the static site), so the reader sees only the sentence.

In Voila the page always has its kernel and is never saved, so charts are shown as
:class:`~marginlab.widgets._plotly.SharedFigureWidget` (they draw with the one plotly.js
the live charts of the page already load: plotly's JSON output would make the page load
and start a second copy, ~1 s of a projector laptop's CPU before the first chart,
measured in ``benchmarks/browser.py``) and widgets without a snapshot.
"""

from __future__ import annotations

import hashlib
import html
import json
import os
import textwrap
from collections.abc import Sequence
from typing import Protocol, runtime_checkable

import ipywidgets
from IPython.display import display

from marginlab.charts import Chart
from marginlab.widgets._plotly import make_figure_widget

PLOTLY_MIME = "application/vnd.plotly.v1+json"
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
VOILA_KERNEL_ENV = "VOILA_KERNEL_ID"  # Voila sets it in each kernel before the notebook runs
STATIC_CLASS = "marginlab-static"  # the wrapper of a chart drawn without a kernel
PLOTLY_CONFIG = {"displaylogo": False, "responsive": True}


@runtime_checkable
class HasStatic(Protocol):
    """A live widget that can draw its current state as a plain chart (every lesson widget)."""

    def static(self) -> Chart: ...


def _check_chart(chart: object) -> None:
    if not isinstance(chart, Chart):
        raise TypeError(f"chart must be a marginlab.charts.Chart, got {type(chart).__name__}")


def _figure_html(figure: object) -> str:
    """A figure's ``<div>``, drawn by the page's plotly.js (which this does not include)."""
    spec = figure.to_json()
    div_id = "marginlab-" + hashlib.sha1(spec.encode(), usedforsecurity=False).hexdigest()[:16]
    return figure.to_html(
        full_html=False,
        include_plotlyjs=False,
        config=PLOTLY_CONFIG,
        default_width="100%",
        div_id=div_id,  # from the figure itself: the same chart gives the same page
    )


def static_html(chart: Chart, figures: Sequence[object] = ()) -> str:
    """The chart as HTML for a page without a kernel: the figure's ``<div>`` (drawn by the
    page's plotly.js, which this does not include) and the summary sentence under it.

    ``figures`` (plotly figures, default: the chart's own) are drawn instead, in order,
    above the one summary: a lesson widget's copy shows every chart the widget draws.
    """
    _check_chart(chart)
    drawn = "".join(_figure_html(figure) for figure in (figures or [chart.figure]))
    summary = html.escape(chart.summary)
    return f'<div class="{STATIC_CLASS}">{drawn}<p><b>Chart:</b> {summary}</p></div>'


def static_bundle(chart: Chart) -> dict[str, object]:
    """The display bundle of a chart: plotly JSON, static HTML, Markdown summary, text."""
    _check_chart(chart)
    return {
        PLOTLY_MIME: json.loads(chart.figure.to_json()),
        "text/html": static_html(chart),
        "text/markdown": f"**Chart:** {chart.summary}",
        "text/plain": chart.summary,
    }


def widget_bundle(widget: ipywidgets.DOMWidget) -> dict[str, object]:
    """The display bundle of a live lesson widget: its view, and the static HTML a page
    without a kernel shows in its place: every figure the widget draws (its ``figures``,
    as they are now; else its static chart's), then its summary."""
    if not isinstance(widget, ipywidgets.DOMWidget) or not isinstance(widget, HasStatic):
        raise TypeError(
            f"widget must be a lesson widget (a DOMWidget with static()), "
            f"got {type(widget).__name__}"
        )
    chart = widget.static()
    bundle = dict(widget._repr_mimebundle_())
    bundle["text/html"] = static_html(chart, tuple(getattr(widget, "figures", ())))
    bundle["text/plain"] = chart.summary
    return bundle


def in_voila() -> bool:
    """True in a kernel started by Voila (``marginlab present``)."""
    return bool(os.environ.get(VOILA_KERNEL_ENV))


def show(item: Chart | ipywidgets.DOMWidget, *, as_widget: bool | None = None) -> None:
    """Display a chart (figure and summary) or a live lesson widget, once per page.

    ``as_widget`` (default: :func:`in_voila`) shows a chart as a shared-plotly.js figure
    widget and a lesson widget without its static snapshot.
    """
    live = in_voila() if as_widget is None else as_widget
    if isinstance(item, ipywidgets.DOMWidget):
        if live:
            display(item)
        else:
            display(widget_bundle(item), raw=True)
        return
    _check_chart(item)
    if live:
        display(make_figure_widget(item.figure))
    else:
        display(static_bundle(item), raw=True)


def prose(markdown: str) -> None:
    """Display Markdown whose numbers the lesson computed (dedented, stripped)."""
    if not isinstance(markdown, str):
        raise TypeError(f"markdown must be a str, got {type(markdown).__name__}")
    text = textwrap.dedent(markdown).strip()
    display({"text/markdown": text, "text/plain": text}, raw=True)
