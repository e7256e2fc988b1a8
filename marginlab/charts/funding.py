"""Funding over days: the liquidation price creeping as funding is paid from the margin.

Two panels over the days held at a fixed mark: the isolated position's liquidation price
(its own margin pays the funding, so the price creeps toward the mark) and the cross
one's (the whole cross wallet pays: the same payment moves it by as much, from much further
away, and is a small share of what backs it). A marker at the
day chosen; a cross where the position is liquidated. The input is one
:class:`FundingCurves`: a :class:`~marginlab.engine.FundingHold` per
:class:`~marginlab.engine.MarginMode` (``hold_with_funding``).

Trace keys (``meta``): price-cross, price-isolated, entry, now-cross, now-isolated,
gone-cross, gone-isolated.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go

from marginlab.charts import _common, palette
from marginlab.charts import format as fmt
from marginlab.charts._common import Chart, TraceData, points
from marginlab.engine.costs import FundingHold
from marginlab.engine.errors import MarginError
from marginlab.engine.types import MODES, MarginMode

NAME = "funding"
TITLE = "Funding held over days: the liquidation price"
PANELS = {MarginMode.ISOLATED: ("x", "y"), MarginMode.CROSS: ("x2", "y2")}


@dataclass(frozen=True)
class FundingCurves:
    """Each mode's :class:`FundingHold` of the same position, settled every
    ``interval_hours``; ``entry_price`` (USDT), the funding ``rate`` per interval and the
    day shown now (``day``, a settlement's day). ``holds`` empty: no position, and
    ``note`` says why."""

    holds: Mapping[MarginMode, FundingHold]
    entry_price: float
    rate: float
    interval_hours: float
    day: float
    note: str = ""

    def __post_init__(self) -> None:
        holds = {MarginMode.parse(m, "holds"): v for m, v in dict(self.holds).items()}
        if holds and (
            set(holds) != set(MODES) or not all(isinstance(v, FundingHold) for v in holds.values())
        ):
            raise MarginError("holds must map both margin modes to a FundingHold (or be empty)")
        object.__setattr__(self, "holds", holds)
        if holds and not np.any(np.isclose(self.days, self.day, rtol=0, atol=1e-9)):
            raise MarginError(f"day must be the day of a settlement, got {self.day!r}")

    @property
    def days(self) -> np.ndarray:
        """The day of each settlement count (0 = before the first)."""
        return self.holds[MarginMode.CROSS].intervals * (self.interval_hours / 24.0)

    @property
    def now(self) -> int:
        """The settlement count shown."""
        return int(np.argmin(np.abs(self.days - self.day)))


def _on(mode: MarginMode) -> dict[str, str]:
    xaxis, yaxis = PANELS[mode]
    return {"xaxis": xaxis, "yaxis": yaxis}


def _traces() -> list[TraceData]:
    traces: list[TraceData] = []
    for mode in MODES:
        hover = f"day %{{x:.2f}}: %{{y:,.2f}}<extra>{mode.title()}</extra>"
        traces.append(_common.mode_curve(f"price-{mode}", mode, hovertemplate=hover, **_on(mode)))
    entry = _common.line_trace(
        "entry", "Entry", palette.ENTRY, dash="dash", **_on(MarginMode.ISOLATED)
    )
    traces.append(entry)
    for mode in MODES:
        name = palette.MODE_NAMES[mode]
        color = palette.MODE_COLORS[mode]
        now = {"legendgroup": mode, "textposition": "top left", "hoverinfo": "skip", **_on(mode)}
        traces.append(_common.marker_trace(f"now-{mode}", f"{name} now", color, **now))
    for mode in MODES:
        gone = {"symbol": "x", "textposition": "bottom left", "hoverinfo": "skip", **_on(mode)}
        traces.append(
            _common.marker_trace(f"gone-{mode}", "liquidated", palette.LIQUIDATION, **gone)
        )
    return traces


def _clause(curves: FundingCurves, mode: MarginMode) -> str:
    hold, k = curves.holds[mode], curves.now
    days = curves.days
    what = "margin" if mode is MarginMode.ISOLATED else "cross wallet"
    if 0 <= hold.liquidated_at <= k:
        by = (
            "funding took what was left"
            if hold.liquidated_by == "funding"
            else (f"what was left of its {what} fell to the maintenance margin")
        )
        return f"{mode.value} was liquidated on day {days[hold.liquidated_at]:.2f} ({by})"
    start, now = hold.liquidation_price[0], hold.liquidation_price[k]
    price = (
        f"it has no liquidation price (its {what} covers a fall to zero)"
        if np.isnan(now)
        else f"it liquidates at {fmt.price(now)} (was {fmt.price(start)})"
    )
    paid = fmt.percent(hold.paid_share[k], 1)
    left = f"{fmt.usdt(hold.backing_usdt[k])} of {what} left ({paid} of it paid)"
    return f"{mode.value} has {left} and {price}"


def _data(curves: FundingCurves) -> tuple[list[TraceData], str]:
    if not isinstance(curves, FundingCurves):
        raise TypeError(f"curves must be FundingCurves, got {type(curves).__name__}")
    if not curves.holds:
        nothing = {"x": [], "y": []}
        traces = [nothing, nothing, {**nothing, "text": []}]
        traces += [{**nothing, "text": []} for _ in range(4)]
        traces[2] = {"x": [0.0], "y": [curves.entry_price], "text": [fmt.wrap(curves.note, 50)]}
        return traces, f"No position to hold: {curves.note}."
    days, k = curves.days, curves.now
    traces: list[TraceData] = [
        {"x": points(days), "y": points(curves.holds[m].liquidation_price)} for m in MODES
    ]
    traces.append(
        {
            "x": points(days[[0, -1]]),
            "y": points([curves.entry_price] * 2),
            "text": [f"Entry {fmt.price(curves.entry_price)}", ""],
        }
    )
    for mode in MODES:
        hold = curves.holds[mode]
        price = hold.liquidation_price[k]
        traces.append(
            {
                "x": points([days[k]]),
                "y": points([price]),
                "text": ["" if np.isnan(price) else f"day {days[k]:g}: {fmt.price(price)}"],
            }
        )
    for mode in MODES:
        hold = curves.holds[mode]
        gone = hold.liquidated_at
        shown = 0 < gone <= k
        y = hold.liquidation_price[gone - 1] if shown else np.nan
        traces.append(
            {
                "x": points([days[gone] if shown else np.nan]),
                "y": points([y]),
                "text": ["liquidated" if shown else ""],
            }
        )
    hold = curves.holds[MarginMode.ISOLATED]
    pays = "pays" if hold.payment_usdt >= 0 else "receives"
    every = f"{fmt.percent(curves.rate, 3)} every {curves.interval_hours:g} hours"
    each = f"the position {pays} {fmt.usdt(abs(hold.payment_usdt))} each time"
    head = f"Funding {every} at a mark of {fmt.price(hold.mark_price)}: {each}."
    clauses = "; ".join(_clause(curves, m) for m in (MarginMode.ISOLATED, MarginMode.CROSS))
    return traces, f"{head} After {days[k]:g} days ({k} payments), {clauses}."


def funding_figure(curves: FundingCurves, *, title: str | None = TITLE) -> Chart:
    """The funding panels of :class:`FundingCurves` (``title`` fixed at build time)."""
    layout = _common.base_layout(
        NAME,
        title,
        height=520,
        showlegend=False,
        xaxis={"anchor": "y", "matches": "x2", "showticklabels": False},
        yaxis=_common.axis("Isolated (USDT)", usdt=True, domain=[0.56, 1.0]),
        xaxis2=_common.axis("days held", anchor="y2"),
        yaxis2=_common.axis("Cross (USDT)", usdt=True, domain=[0.0, 0.44]),
    )
    return _common.figure(NAME, _traces(), _data(curves), layout)


def update_funding(fig: go.Figure, curves: FundingCurves) -> str:
    """Write a new :class:`FundingCurves` into a figure from :func:`funding_figure`."""
    return _common.update(fig, NAME, _data(curves))
