"""Chart builders: plain numbers in, a plotly figure and a one-sentence summary out.

Every chart comes as a pair that shares one computation:

* ``<chart>_figure(**inputs) -> Chart`` builds the figure once (``Chart.figure``) and
  its summary (``Chart.summary``), the accessible alternative that tests read;
* ``update_<chart>(fig, **inputs) -> str`` writes new trace data into that figure (or a
  ``go.FigureWidget`` made from it) inside one ``batch_update`` and returns the new
  summary. It never touches the layout, so a slider tick moves data only.

Every trace carries a stable key in ``trace.meta`` (listed in each module's docstring);
:func:`find_trace` looks one up. Colours come from :mod:`marginlab.charts.palette`,
number formats from :mod:`marginlab.charts.format`. This package imports plotly and
numpy, never ipywidgets.
"""

from marginlab.charts._common import Chart, find_trace
from marginlab.charts.crossmap import cross_map_figure, update_cross_map
from marginlab.charts.distance import liquidation_distance_figure, update_liquidation_distance
from marginlab.charts.ladder import price_ladder_figure, update_price_ladder
from marginlab.charts.loss import loss_at_liquidation_figure, update_loss_at_liquidation
from marginlab.charts.outcomes import outcomes_figure, update_outcomes
from marginlab.charts.path import equity_path_figure, update_equity_path

__all__ = [
    "Chart",
    "cross_map_figure",
    "equity_path_figure",
    "find_trace",
    "liquidation_distance_figure",
    "loss_at_liquidation_figure",
    "outcomes_figure",
    "price_ladder_figure",
    "update_cross_map",
    "update_equity_path",
    "update_liquidation_distance",
    "update_loss_at_liquidation",
    "update_outcomes",
    "update_price_ladder",
]
