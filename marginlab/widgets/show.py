"""Show a static chart in a notebook: the figure plus its summary as text.

In a notebook the output carries two representations: plotly's JSON (drawn by
JupyterLab, Voila and VS Code with the plotly.js they already have; nothing is embedded
per output) and the summary sentence as Markdown, which is what a page rendered without
a kernel or plotly (nbconvert, a repository viewer, a screen reader) shows instead.

In Voila the page always has its kernel and is never saved, so the chart is shown as a
:class:`~marginlab.widgets._plotly.SharedFigureWidget` instead: it draws with the one
plotly.js the live charts of the page already load, where plotly's JSON output would make
the page load and start a second copy (~1 s of a projector laptop's CPU before the first
chart, measured in ``benchmarks/browser.py``).
"""

from __future__ import annotations

import json
import os

from IPython.display import display

from marginlab.charts import Chart
from marginlab.widgets._plotly import make_figure_widget

PLOTLY_MIME = "application/vnd.plotly.v1+json"
VOILA_KERNEL_ENV = "VOILA_KERNEL_ID"  # Voila sets it in each kernel before the notebook runs


def _check_chart(chart: object) -> None:
    if not isinstance(chart, Chart):
        raise TypeError(f"chart must be a marginlab.charts.Chart, got {type(chart).__name__}")


def static_bundle(chart: Chart) -> dict[str, object]:
    """The display bundle of a chart: plotly JSON, Markdown summary and plain text."""
    _check_chart(chart)
    figure = json.loads(chart.figure.to_json())
    return {
        PLOTLY_MIME: figure,
        "text/markdown": f"**Chart:** {chart.summary}",
        "text/plain": chart.summary,
    }


def in_voila() -> bool:
    """True in a kernel started by Voila (``marginlab present``)."""
    return bool(os.environ.get(VOILA_KERNEL_ENV))


def show(chart: Chart, *, as_widget: bool | None = None) -> None:
    """Display a static chart (figure and summary) in the current notebook output.

    ``as_widget`` (default: :func:`in_voila`) shows the figure as a shared-plotly.js
    figure widget instead of plotly's JSON output.
    """
    _check_chart(chart)
    if in_voila() if as_widget is None else as_widget:
        display(make_figure_widget(chart.figure))
    else:
        display(static_bundle(chart), raw=True)
