"""Liquidation distance against leverage: how far price can move before liquidation.

One curve per margin mode over a leverage grid (distance as percent of entry) for the
same order, and a marker per mode at the current leverage. The input is one
:class:`DistanceCurves`: each mode's :class:`~marginlab.engine.LeverageCurve` (from
``Account.leverage_curve``). Every point says what it is: a long with no liquidation
price survives a fall to zero, so it is drawn at 100 % ("a fall to zero"); a leverage
at which the account refuses the order is marked on the axis, and a note in the chart's
right part says which and why, placed where it crosses no curve (:func:`_note_top`).

Trace keys (``meta``): curve-cross, curve-isolated, now-cross, now-isolated, floor,
refused, refused-note.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go

from marginlab.charts import _common, palette
from marginlab.charts import format as fmt
from marginlab.charts._common import Chart, TraceData, points
from marginlab.engine.account import LeverageCurve
from marginlab.engine.errors import MarginError
from marginlab.engine.types import MODES, MarginMode, Side

NAME = "liquidation_distance"
TITLE = "Distance to liquidation against leverage"
FALL_TO_ZERO = 1.0  # a long with no liquidation price survives a 100 % fall
NOTE_SPAN = 0.6  # share of the leverage axis, from its right end, the refusal note spans
LABEL_HEIGHT = 0.07  # a marker's label, as a share of the data's height (top to 0)
NOTE_GAP = 0.015  # between the note and what is above it, as a share of the data's height
LABEL_EDGE = 0.12  # a marker this close to the axis's right end (share) has its label left
REASONS = {
    "balance": "the margin is more than the available balance",
    "bracket": "above the bracket's maximum leverage for this size",
}


@dataclass(frozen=True)
class DistanceCurves:
    """Each mode's curve of one order over the same leverage grid, and where the learner is."""

    curves: Mapping[MarginMode, LeverageCurve]
    current_leverage: float

    def __post_init__(self) -> None:
        curves = {MarginMode.parse(m, "curves"): c for m, c in dict(self.curves).items()}
        if set(curves) != set(MODES) or not all(
            isinstance(c, LeverageCurve) for c in curves.values()
        ):
            raise MarginError("curves must map both margin modes to a LeverageCurve")
        grids = [c.leverage for c in curves.values()]
        if not np.array_equal(grids[0], grids[1]):
            raise MarginError("curves must share one leverage grid")
        if not np.any(grids[0] == self.current_leverage):
            raise MarginError(
                f"current_leverage must be on the grid, got {self.current_leverage!r}"
            )
        object.__setattr__(self, "curves", curves)

    @property
    def leverage(self) -> np.ndarray:
        return self.curves[MarginMode.CROSS].leverage

    @property
    def index(self) -> int:
        """Position of the current leverage on the grid."""
        return int(np.flatnonzero(self.leverage == self.current_leverage)[0])


def _traces() -> list[TraceData]:
    hover = "%{x:g}x: %{y:.2f}% from entry<extra>"
    curves = [
        _common.mode_curve(f"curve-{mode}", mode, hovertemplate=f"{hover}{mode.title()}</extra>")
        for mode in MODES
    ]
    markers = [
        _common.marker_trace(
            f"now-{mode}",
            f"{palette.MODE_NAMES[mode]} now",
            palette.MODE_COLORS[mode],
            legendgroup=mode,
            hovertemplate=hover + palette.MODE_NAMES[mode] + "</extra>",
        )
        for mode in MODES
    ]
    floor = _common.line_trace("floor", "a fall to zero", palette.GREY, dash="dot")
    refused = _common.marker_trace(
        "refused",
        "refused",
        palette.GREY,
        symbol="x-thin-open",
        size=9,
        hovertemplate="%{x:g}x: the order is refused<extra></extra>",
    )
    note = _common.line_trace(
        "refused-note", "refused", palette.GREY, mode="text", textposition="bottom left"
    )
    return [*curves, *markers, floor, refused, note]


Shown = Mapping[MarginMode, np.ndarray]  # each mode's distances as drawn (%)


def _shown(curve: LeverageCurve) -> np.ndarray:
    """Distances in percent, with a long that has no liquidation price at a fall to zero."""
    distance = curve.distance_rate
    none = np.isnan(curve.liquidation_price) & ~curve.refused & (curve.side is Side.LONG)
    return 100.0 * np.where(none, FALL_TO_ZERO, distance)


def _reason(curve: LeverageCurve, i: int) -> str:
    return REASONS["balance"] if curve.refused_by_balance[i] else REASONS["bracket"]


def _clause(curves: DistanceCurves, mode: MarginMode, first: bool) -> str:
    curve, i = curves.curves[mode], curves.index
    name = mode.value
    if curve.refused[i]:
        return f"{name} refuses the order ({_reason(curve, i)})"
    if np.isnan(curve.liquidation_price[i]):
        backing = "its margin" if mode is MarginMode.ISOLATED else "the wallet"
        return f"{name} has no liquidation price ({backing} covers a fall to zero)"
    verb = "liquidates " if first else ""
    return f"{name} {verb}{fmt.percent(curve.distance_rate[i])} from entry"


def _refused_text(curves: DistanceCurves) -> tuple[list[float], str]:
    """Refused leverages (x) and one sentence saying which and why ("" if none)."""
    curve = curves.curves[MarginMode.CROSS]  # both modes refuse the same orders
    grid = curve.leverage
    parts = []
    low, high = grid[curve.refused_by_balance], grid[curve.refused_by_bracket]
    if low.size:
        parts.append(f"up to {fmt.leverage(low.max())}: {REASONS['balance']}")
    if high.size:
        parts.append(f"from {fmt.leverage(high.min())}: {REASONS['bracket']}")
    text = "refused " + "; ".join(parts) if parts else ""
    return grid[curve.refused].tolist(), text


def _note_top(
    curves: DistanceCurves, shown: Shown, top: float, positions: dict[MarginMode, str]
) -> float:
    """Where the refusal note's top goes (distance in %): in the chart's right part
    (:data:`NOTE_SPAN` of the leverage axis), at the top of the widest empty band between
    what is drawn there (the curves, the fall-to-zero line, the current markers and their
    labels, the axis at 0), so that the note, written below that point, crosses none.
    ``shown``: each mode's distances (%); ``top``: :func:`_top`; ``positions``: each
    marker label's place (:func:`_label_position`)."""
    grid, i = curves.leverage, curves.index
    start = grid[-1] - NOTE_SPAN * (grid[-1] - grid[0])
    bands = [(0.0, 0.0), (top, top)]
    for mode, values in shown.items():
        inside = values[(grid >= start) & np.isfinite(values)]
        if inside.size:
            bands.append((float(inside.min()), float(inside.max())))
        if grid[i] >= start and np.isfinite(values[i]):
            label = LABEL_HEIGHT * top
            above = positions[mode].startswith("top")
            low, high = (values[i], values[i] + label) if above else (values[i] - label, values[i])
            bands.append((float(low), float(high)))
    bands.sort()
    best, best_gap, reach = top, -1.0, bands[0][1]
    for low, high in bands[1:]:
        if low - reach > best_gap:
            best, best_gap = low, low - reach
        reach = max(reach, high)
    return best - min(NOTE_GAP * top, best_gap / 2)


def _top(shown: Shown, is_long: bool) -> float:
    """The highest thing drawn (distance in %): a curve, or the fall-to-zero line of a long."""
    every = np.concatenate(list(shown.values()))
    return max(float(np.nanmax(every, initial=0.0)), 100.0 * FALL_TO_ZERO if is_long else 0.0)


def _label_position(curves: DistanceCurves, shown: Shown, top: float, mode: MarginMode) -> str:
    """Where ``mode``'s current marker has its label (a plotly ``textposition``), clear of
    its own curve and of the other marker's label.

    The cross curve is flat for one size: its label goes above-left of a marker higher
    than the isolated one, below-right of a lower one. The isolated curve falls as leverage
    grows, through the space below-right of its marker: its label goes above-right, unless
    the cross marker is just above it (less than two labels' height), then below-right.
    Near the right end of the axis a label goes left, towards the middle."""
    cross, isolated = (shown[m][curves.index] for m in (MarginMode.CROSS, MarginMode.ISOLATED))
    if mode is MarginMode.CROSS:
        vertical, side = ("top", "left") if cross >= isolated else ("bottom", "right")
    else:
        crowded = isolated <= cross < isolated + 2 * LABEL_HEIGHT * top
        vertical, side = ("bottom", "right") if crowded else ("top", "right")
    grid = curves.leverage
    if (curves.current_leverage - grid[0]) / (grid[-1] - grid[0]) > 1.0 - LABEL_EDGE:
        side = "left"
    return f"{vertical} {side}"


def _data(curves: DistanceCurves) -> tuple[list[TraceData], str]:
    if not isinstance(curves, DistanceCurves):
        raise TypeError(f"curves must be DistanceCurves, got {type(curves).__name__}")
    grid, i = curves.leverage, curves.index
    is_long = curves.curves[MarginMode.CROSS].side is Side.LONG
    shown = {mode: _shown(curve) for mode, curve in curves.curves.items()}  # once a tick
    top = _top(shown, is_long)
    positions = {mode: _label_position(curves, shown, top, mode) for mode in MODES}
    traces: list[TraceData] = [{"x": points(grid), "y": points(shown[mode])} for mode in MODES]
    for mode in MODES:
        curve = curves.curves[mode]
        now = shown[mode][i]
        if curve.refused[i]:
            label, now = "refused", 0.0
        elif np.isnan(curve.liquidation_price[i]):
            label = "no liquidation price"
        else:
            label = fmt.percent(curve.distance_rate[i])
        traces.append(
            {
                "x": points([curves.current_leverage]),
                "y": points([now]),
                "text": [label],
                "textposition": positions[mode],
            }
        )
    # A short has no fall to zero: its line has no points (gaps), so the trace keeps its
    # place and a side switch moves values only (the browser's fast redraw).
    fall = 100.0 * FALL_TO_ZERO if is_long else np.nan
    traces.append(
        {
            "x": points(grid[[0, -1]]),
            "y": points([fall, fall]),
            "text": ["a fall to zero" if is_long else "", ""],
        }
    )
    refused_x, refused_text = _refused_text(curves)
    traces.append({"x": points(refused_x), "y": points([0.0] * len(refused_x))})
    traces.append(
        {
            "x": points(grid[-1:]),
            "y": points([_note_top(curves, shown, top, positions) if refused_text else np.nan]),
            "text": [fmt.wrap(f"× {refused_text}", 40) if refused_text else ""],
        }
    )
    summary = (
        f"At {fmt.leverage(curves.current_leverage)}, "
        f"{_clause(curves, MarginMode.ISOLATED, True)} and "
        f"{_clause(curves, MarginMode.CROSS, False)}"
    )
    if refused_text:
        summary += f"; {refused_text}"
    return traces, summary + "."


def liquidation_distance_figure(curves: DistanceCurves, *, title: str | None = TITLE) -> Chart:
    """Distance curves (percent of entry) over the leverage grid, and the current point.

    >>> from marginlab.engine import Account
    >>> accounts = {m: Account(wallet_balance=10_000).set_margin_mode("BTCUSDT", m) for m in MODES}
    >>> curves = {m: a.leverage_curve("BTCUSDT", side="long", price=60_000, notional=20_000,
    ...     leverages=[1, 5, 10]) for m, a in accounts.items()}
    >>> for clause in liquidation_distance_figure(DistanceCurves(curves, 10)).summary.split("; "):
    ...     print(clause)
    At 10x, isolated liquidates 9.64% from entry and cross 49.80% from entry
    refused up to 1x: the margin is more than the available balance.
    """
    layout = _common.base_layout(
        NAME,
        title,
        xaxis=_common.axis("leverage (x), the same position size", suffix="x"),
        yaxis=_common.axis("distance to liquidation (% of entry)", suffix="%", zero=True),
    )
    return _common.figure(NAME, _traces(), _data(curves), layout)


def update_liquidation_distance(fig: go.Figure, curves: DistanceCurves) -> str:
    """Write new curves and markers into a figure from :func:`liquidation_distance_figure`."""
    return _common.update(fig, NAME, _data(curves))
