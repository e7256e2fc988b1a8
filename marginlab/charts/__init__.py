"""Chart builders: plain numbers in, a plotly figure and a one-sentence summary out.

Every chart comes as a pair that shares one computation:

* ``<chart>_figure(**inputs) -> Chart`` builds the figure once (``Chart.figure``) and
  its summary (``Chart.summary``), the accessible alternative that tests read;
* ``update_<chart>(fig, **inputs) -> str`` writes new trace data into that figure (or a
  ``go.FigureWidget`` made from it) inside one ``batch_update`` and returns the new
  summary. It never touches the layout, so a slider tick moves data only.

This package imports plotly and numpy, never ipywidgets.
"""

from marginlab.charts._common import Chart, find_trace
from marginlab.charts.ladder import price_ladder_figure, update_price_ladder

__all__ = [
    "Chart",
    "find_trace",
    "price_ladder_figure",
    "update_price_ladder",
]
