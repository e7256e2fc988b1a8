"""Chart builders: one frozen input in, a plotly figure and a one-sentence summary out.

Every chart comes as a pair that shares one computation and one input value (a frozen
dataclass defined beside it, keyed by :class:`~marginlab.engine.MarginMode` where the
chart compares the modes, built from the engine's values such as ``Account.levels``):

* ``<chart>_figure(input, *, title=...) -> Chart`` builds the figure once
  (``Chart.figure``) and its summary (``Chart.summary``), the accessible alternative
  that tests read;
* ``update_<chart>(fig, input) -> str`` writes new trace data into that figure (or a
  ``go.FigureWidget`` made from it) inside one ``batch_update`` and returns the new
  summary. It never touches the layout, so a slider tick moves data only.

Every trace carries a stable key in ``trace.meta`` (listed in each module's docstring);
:func:`find_trace` looks one up. Colours come from :mod:`marginlab.charts.palette`,
number formats from :mod:`marginlab.charts.format`. This package imports plotly and
numpy, never ipywidgets.
"""

from marginlab.charts._common import Chart, find_trace
from marginlab.charts.balance import BalanceSplit, balance_figure, update_balance
from marginlab.charts.crossmap import CrossMap, cross_map_figure, update_cross_map
from marginlab.charts.distance import (
    DistanceCurves,
    liquidation_distance_figure,
    update_liquidation_distance,
)
from marginlab.charts.fees import FeeCurves, fees_figure, update_fees
from marginlab.charts.funding import FundingCurves, funding_figure, update_funding
from marginlab.charts.ladder import Ladder, price_ladder_figure, update_price_ladder
from marginlab.charts.loss import LossBars, loss_at_liquidation_figure, update_loss_at_liquidation
from marginlab.charts.losscurve import LossCurve, loss_curve_figure, update_loss_curve
from marginlab.charts.outcomes import Outcomes, outcomes_figure, update_outcomes
from marginlab.charts.path import EquityPaths, ModePath, equity_path_figure, update_equity_path

__all__ = [
    "BalanceSplit",
    "Chart",
    "CrossMap",
    "DistanceCurves",
    "EquityPaths",
    "FeeCurves",
    "FundingCurves",
    "Ladder",
    "LossBars",
    "LossCurve",
    "ModePath",
    "Outcomes",
    "balance_figure",
    "cross_map_figure",
    "equity_path_figure",
    "fees_figure",
    "find_trace",
    "funding_figure",
    "liquidation_distance_figure",
    "loss_at_liquidation_figure",
    "loss_curve_figure",
    "outcomes_figure",
    "price_ladder_figure",
    "update_balance",
    "update_cross_map",
    "update_equity_path",
    "update_fees",
    "update_funding",
    "update_liquidation_distance",
    "update_loss_at_liquidation",
    "update_loss_curve",
    "update_outcomes",
    "update_price_ladder",
]
