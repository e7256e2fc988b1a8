"""Trading fees against leverage: what opening and closing costs, as a share of the margin.

A fee is charged on the notional, the margin is the notional divided by the leverage, so
the same fee is a larger share of a smaller margin: one line per order type (maker and
taker, from ``fee_share_of_margin``), a marker at the position's leverage and order type,
and its fees in USDT (``round_trip_fees``). The input is one :class:`FeeCurves`.

Trace keys (``meta``): share-maker, share-taker, now.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go

from marginlab.charts import _common, palette
from marginlab.charts import format as fmt
from marginlab.charts._common import Chart, TraceData, floats, points
from marginlab.engine.costs import FEE_RATES, RoundTripFees
from marginlab.engine.errors import MarginError

NAME = "fees"
TITLE = "Fees to open and close, as a share of the margin"
STYLES = {"maker": (palette.BLUISH_GREEN, "dash"), "taker": (palette.VERMILLION, "solid")}


@dataclass(frozen=True)
class FeeCurves:
    """Round-trip fees as a share of the margin (fractions) per order type over a grid of
    leverages, and the position: its leverage (on the grid), order type and fees (None:
    no position, and ``note`` says why)."""

    leverage: np.ndarray
    share_of_margin: Mapping[str, np.ndarray]
    current_leverage: float
    order_type: str
    fees: RoundTripFees | None
    note: str = ""

    def __post_init__(self) -> None:
        grid = floats(self.leverage, "leverage")
        shares = {
            str(k): floats(v, f"share_of_margin[{k!r}]") for k, v in self.share_of_margin.items()
        }
        if set(shares) != set(FEE_RATES) or any(len(v) != len(grid) for v in shares.values()):
            raise MarginError("share_of_margin must give maker and taker, one value per leverage")
        if self.order_type not in FEE_RATES:
            raise MarginError(f"order_type must be 'maker' or 'taker', got {self.order_type!r}")
        if not np.any(grid == self.current_leverage):
            raise MarginError(
                f"current_leverage must be on the grid, got {self.current_leverage!r}"
            )
        if not isinstance(self.fees, RoundTripFees | None):
            raise TypeError(f"fees must be RoundTripFees or None, got {type(self.fees).__name__}")
        object.__setattr__(self, "leverage", grid)
        object.__setattr__(self, "share_of_margin", shares)


def _traces() -> list[TraceData]:
    lines = [
        _common.trace(
            "scatter",
            f"share-{kind}",
            f"{kind} {fmt.percent(rate, 2)} per fill",
            mode="lines",
            line={"color": color, "dash": dash, "width": 3},
            hovertemplate="%{x:g}x: %{y:.2f}% of the margin<extra>" + kind + "</extra>",
        )
        for kind, rate in FEE_RATES.items()
        for color, dash in [STYLES[kind]]
    ]
    now = _common.trace(
        "scatter",
        "now",
        "this position",
        mode="markers+text",
        showlegend=False,
        marker={"color": palette.BLACK, "size": 14, "line": {"color": "white", "width": 2}},
        textposition="top left",
        textfont={"color": palette.BLACK, "size": 14},
        hovertemplate="%{x:g}x: %{y:.2f}% of the margin<extra>this position</extra>",
        cliponaxis=False,
    )
    return [*lines, now]


def _data(curves: FeeCurves) -> tuple[list[TraceData], str]:
    if not isinstance(curves, FeeCurves):
        raise TypeError(f"curves must be FeeCurves, got {type(curves).__name__}")
    grid, fees = curves.leverage, curves.fees
    traces: list[TraceData] = [
        {"x": points(grid), "y": points(100.0 * curves.share_of_margin[k])} for k in FEE_RATES
    ]
    if fees is None:
        traces.append({"x": points([curves.current_leverage]), "y": [0.0], "text": [curves.note]})
        return traces, f"No position, so no fees: {curves.note}."
    share = fees.share_of_margin
    traces.append(
        {
            "x": points([curves.current_leverage]),
            "y": points([100.0 * share]),
            "text": [f"{fmt.usdt(fees.total_usdt)} = {fmt.percent(share)} of the margin"],
            "textposition": "top right" if curves.current_leverage < 70 else "top left",
        }
    )
    at_100 = grid == 100.0
    hundred = ""
    if at_100.any() and curves.current_leverage != 100.0:
        value = curves.share_of_margin[curves.order_type][at_100][0]
        hundred = f" (at 100x the same fees would be {fmt.percent(value)} of the margin)"
    kind, rate = curves.order_type, fmt.percent(FEE_RATES[curves.order_type])
    costs = f"opening costs {fmt.usdt(fees.open_usdt)} and closing at entry"
    margin = f"{fmt.percent(share)} of the {fmt.usdt(fees.margin_usdt)} margin"
    at = f"{fmt.leverage(curves.current_leverage)}{hundred}"
    total = f"{fmt.usdt(fees.close_usdt)}: {fmt.usdt(fees.total_usdt)}"
    return (
        traces,
        f"As {kind} ({rate} of the notional per fill), {costs} {total}, {margin} at {at}.",
    )


def fees_figure(curves: FeeCurves, *, title: str | None = TITLE) -> Chart:
    """The fee curves of :class:`FeeCurves` (``title`` fixed at build time)."""
    x = _common.axis("leverage (x)", suffix="x")
    y = _common.axis("fees (% of the margin)", suffix="%", zero=True)
    layout = _common.base_layout(NAME, title, height=380, xaxis=x, yaxis=y)
    return _common.figure(NAME, _traces(), _data(curves), layout)


def update_fees(fig: go.Figure, curves: FeeCurves) -> str:
    """Write a new :class:`FeeCurves` into a figure from :func:`fees_figure`."""
    return _common.update(fig, NAME, _data(curves))
