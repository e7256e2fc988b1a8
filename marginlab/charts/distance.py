"""Liquidation distance against leverage: how far price can move before liquidation.

One curve per margin mode over a leverage grid (distance as percent of entry), and a
marker per mode at the current leverage. NaN distances (no liquidation price) draw as a
gap in the curve.

Trace keys (``meta``): curve-cross, curve-isolated, now-cross, now-isolated.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from marginlab.charts import format as fmt
from marginlab.charts import palette
from marginlab.charts._common import (
    Chart,
    TraceData,
    apply,
    base_layout,
    build,
    floats,
    points,
    same_length,
    scalar,
)
from marginlab.engine.errors import MarginError

NAME = "liquidation_distance"
TITLE = "Distance to liquidation against leverage"
MODES = ("cross", "isolated")
NO_PRICE_NOTE = "cannot be liquidated by price"


def _traces() -> list[TraceData]:
    curves = [
        {
            "type": "scatter",
            "meta": f"curve-{mode}",
            "mode": "lines",
            "name": palette.MODE_NAMES[mode],
            "legendgroup": mode,
            "line": {"color": palette.MODE_COLORS[mode], "width": 3},
            "hovertemplate": "%{x:g}x: %{y:.2f}% from entry<extra>"
            + palette.MODE_NAMES[mode]
            + "</extra>",
        }
        for mode in MODES
    ]
    markers = [
        {
            "type": "scatter",
            "meta": f"now-{mode}",
            "mode": "markers+text",
            "name": f"{palette.MODE_NAMES[mode]} now",
            "legendgroup": mode,
            "showlegend": False,
            "marker": {
                "color": palette.MODE_COLORS[mode],
                "size": 14,
                "line": {"color": "white", "width": 2},
            },
            "textposition": "top right" if mode == "cross" else "bottom left",
            "textfont": {"color": palette.MODE_COLORS[mode], "size": 14},
            "hovertemplate": "%{x:g}x: %{y:.2f}% from entry<extra>"
            + palette.MODE_NAMES[mode]
            + "</extra>",
            "cliponaxis": False,
        }
        for mode in MODES
    ]
    return [*curves, *markers]


def _clause(mode: str, distance_rate: float, verb: str) -> str:
    """ "isolated liquidates 9.64% from entry" (``verb`` = "liquidates ") or "cross 49.80% ..."."""
    if np.isnan(distance_rate):
        return f"{mode} {NO_PRICE_NOTE}"
    return f"{mode} {verb}{fmt.percent(distance_rate)} from entry"


def _data(
    *,
    leverage: object,
    cross_distance_rate: object,
    isolated_distance_rate: object,
    current_leverage: float,
    current_cross_distance_rate: float,
    current_isolated_distance_rate: float,
) -> tuple[list[TraceData], str]:
    grid = floats(leverage, "leverage")
    curves = {
        "cross": floats(cross_distance_rate, "cross_distance_rate"),
        "isolated": floats(isolated_distance_rate, "isolated_distance_rate"),
    }
    same_length({"leverage": grid, **{f"{m}_distance_rate": c for m, c in curves.items()}})
    if not (np.all(np.isfinite(grid)) and np.all(grid >= 1)):
        raise MarginError("leverage must hold finite values of at least 1 (1 = 1x)")
    now_leverage = scalar(current_leverage, "current_leverage")
    if now_leverage < 1:
        raise MarginError(f"current_leverage must be at least 1, got {current_leverage!r}")
    now = {
        "cross": scalar(current_cross_distance_rate, "current_cross_distance_rate", allow_nan=True),
        "isolated": scalar(
            current_isolated_distance_rate, "current_isolated_distance_rate", allow_nan=True
        ),
    }
    traces: list[TraceData] = [
        {"x": points(grid), "y": points(100.0 * curves[mode])} for mode in MODES
    ]
    for mode in MODES:
        label = "no liquidation" if np.isnan(now[mode]) else fmt.percent(now[mode])
        traces.append(
            {"x": points([now_leverage]), "y": points([100.0 * now[mode]]), "text": [label]}
        )
    summary = (
        f"At {fmt.leverage(now_leverage)}, {_clause('isolated', now['isolated'], 'liquidates ')}"
        f" and {_clause('cross', now['cross'], '')}."
    )
    return traces, summary


def liquidation_distance_figure(
    *,
    leverage: object,
    cross_distance_rate: object,
    isolated_distance_rate: object,
    current_leverage: float,
    current_cross_distance_rate: float,
    current_isolated_distance_rate: float,
    title: str | None = TITLE,
) -> Chart:
    """Distance curves (fractions of entry, e.g. 0.0964) over a ``leverage`` grid (x).

    The ``current_*`` values mark where the learner is; pass the engine's exact numbers
    (the marker need not lie on a grid point). NaN = no liquidation price.

    >>> liquidation_distance_figure(leverage=[5, 10], cross_distance_rate=[0.9, 0.498],
    ...     isolated_distance_rate=[0.1968, 0.0964], current_leverage=10,
    ...     current_cross_distance_rate=0.498, current_isolated_distance_rate=0.0964).summary
    'At 10x, isolated liquidates 9.64% from entry and cross 49.80% from entry.'
    """
    traces, summary = _data(
        leverage=leverage,
        cross_distance_rate=cross_distance_rate,
        isolated_distance_rate=isolated_distance_rate,
        current_leverage=current_leverage,
        current_cross_distance_rate=current_cross_distance_rate,
        current_isolated_distance_rate=current_isolated_distance_rate,
    )
    layout = base_layout(
        NAME,
        title,
        xaxis={"title": {"text": "leverage (x)"}, "ticksuffix": "x"},
        yaxis={
            "title": {"text": "distance to liquidation (% of entry)"},
            "ticksuffix": "%",
            "rangemode": "tozero",
        },
        hovermode="closest",
    )
    return Chart(build(NAME, _traces(), traces, layout), summary)


def update_liquidation_distance(
    fig: go.Figure,
    *,
    leverage: object,
    cross_distance_rate: object,
    isolated_distance_rate: object,
    current_leverage: float,
    current_cross_distance_rate: float,
    current_isolated_distance_rate: float,
) -> str:
    """Write new curves and markers into a figure from :func:`liquidation_distance_figure`."""
    traces, summary = _data(
        leverage=leverage,
        cross_distance_rate=cross_distance_rate,
        isolated_distance_rate=isolated_distance_rate,
        current_leverage=current_leverage,
        current_cross_distance_rate=current_cross_distance_rate,
        current_isolated_distance_rate=current_isolated_distance_rate,
    )
    apply(fig, NAME, traces)
    return summary
