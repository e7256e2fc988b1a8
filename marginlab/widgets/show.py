"""Show a static chart in a notebook: the figure plus its summary as text.

The output carries two representations: plotly's JSON (drawn by JupyterLab, Voila and
VS Code with the plotly.js they already have; nothing is embedded per output) and the
summary sentence as Markdown, which is what a page rendered without a kernel or
plotly (nbconvert, a repository viewer, a screen reader) shows instead.
"""

from __future__ import annotations

import json

from IPython.display import display

from marginlab.charts import Chart

PLOTLY_MIME = "application/vnd.plotly.v1+json"


def static_bundle(chart: Chart) -> dict[str, object]:
    """The display bundle of a chart: plotly JSON, Markdown summary and plain text."""
    if not isinstance(chart, Chart):
        raise TypeError(f"chart must be a marginlab.charts.Chart, got {type(chart).__name__}")
    figure = json.loads(chart.figure.to_json())
    return {
        PLOTLY_MIME: figure,
        "text/markdown": f"**Chart:** {chart.summary}",
        "text/plain": chart.summary,
    }


def show(chart: Chart) -> None:
    """Display a static chart (figure and summary) in the current notebook output."""
    display(static_bundle(chart), raw=True)
