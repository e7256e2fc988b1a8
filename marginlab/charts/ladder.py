"""Price ladder: entry, liquidation, bankruptcy and stop prices per margin mode.

Two columns, Cross and Isolated, on one price axis. A shaded band in the mode's colour
runs from entry to that mode's liquidation price (the room the position has); the mark
price, entry and optional stop run across both columns. Every level is a 2-point
scatter line with its label (no legend), so a tick moves trace data only.

The input is one :class:`Ladder`: the position's :class:`~marginlab.engine.PositionLevels`
per :class:`~marginlab.engine.MarginMode` (from ``Account.levels``). Every state is said
on the chart: a mode without a liquidation price says what covers a fall to zero; a mode
left out of ``levels`` (an order that mode cannot open) says why, from ``notes``.

Trace keys (``meta``), in drawing order: band-isolated, liquidation-isolated,
bankruptcy-isolated, band-cross, liquidation-cross, bankruptcy-cross, entry, stop, mark,
notes. Each column's traces are neighbours: a press that moves one mode's levels (the
wallet behind a cross position, an isolated margin) redraws that run of three traces
only (the browser's fast path draws the run from the first changed trace to the last).
The isolated column comes first, so the cross labels, which reach over the gap to the
right, are drawn above the isolated band.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import plotly.graph_objects as go

from marginlab.charts import _common, palette
from marginlab.charts import format as fmt
from marginlab.charts._common import Chart, TraceData, points, scalar
from marginlab.engine.account import PositionLevels
from marginlab.engine.errors import MarginError
from marginlab.engine.types import MODES, MarginMode, Side

NAME = "price_ladder"
TITLE = "Liquidation price: Cross vs Isolated"
CENTERS = {MarginMode.CROSS: 0.0, MarginMode.ISOLATED: 1.0}
COLUMNS = (MarginMode.ISOLATED, MarginMode.CROSS)  # drawing order (module docstring)
HALF_WIDTH = 0.36
LEFT, RIGHT = -0.46, 1.46  # ends of the lines that span both columns
LABEL_FONT = {"size": 14}
UNAVAILABLE_NOTE = "not available"


def no_price_note(levels: PositionLevels) -> str:
    """Why a position has no liquidation price: what backs it covers a fall to zero.

    >>> from marginlab.scenarios import guide_account
    >>> no_price_note(guide_account("cross").levels("BTCUSDT"))
    'no liquidation price: the 10,000.00 USDT wallet behind it covers a fall to zero'
    """
    if levels.margin_mode is MarginMode.ISOLATED:
        what = f"its {fmt.usdt(levels.backing_usdt)} margin"
    else:
        what = f"the {fmt.usdt(levels.backing_usdt)} wallet behind it"
    return f"no liquidation price: {what} covers a fall to zero"


@dataclass(frozen=True)
class Ladder:
    """What the price ladder draws (prices in USDT).

    ``levels``: the position's levels per margin mode (``Account.levels``); a mode left
    out has no position to draw, and ``notes[mode]`` says why (default "not available").
    ``entry_price``, ``side`` and ``mark_price`` default to the levels' (the isolated
    one's when both are given); give them when ``levels`` is empty. ``stop_price``: an
    optional stop-loss line.
    """

    levels: Mapping[MarginMode, PositionLevels]
    mark_price: float | None = None
    stop_price: float | None = None
    notes: Mapping[MarginMode, str] = field(default_factory=dict)
    entry_price: float | None = None
    side: Side | None = None

    def __post_init__(self) -> None:
        levels = {MarginMode.parse(m, "levels"): v for m, v in dict(self.levels).items()}
        for mode, value in levels.items():
            if not isinstance(value, PositionLevels):
                raise TypeError(
                    f"levels[{mode.value!r}] must be PositionLevels (Account.levels), "
                    f"got {type(value).__name__}"
                )
        notes = {MarginMode.parse(m, "notes"): str(v) for m, v in dict(self.notes).items()}
        known = levels.get(MarginMode.ISOLATED) or levels.get(MarginMode.CROSS)
        entry = self.entry_price if known is None else known.entry_price
        mark = self.mark_price
        if mark is None and known is not None:
            mark = known.mark_price
        side = self.side if known is None else known.side
        if entry is None or mark is None or side is None:
            raise MarginError(
                "entry_price, mark_price, side: give them when levels is empty (no position)"
            )
        object.__setattr__(self, "levels", levels)
        object.__setattr__(self, "notes", notes)
        object.__setattr__(self, "entry_price", _price(entry, "entry_price"))
        object.__setattr__(self, "mark_price", _price(mark, "mark_price"))
        object.__setattr__(self, "side", Side.parse(side))
        if self.stop_price is not None:
            object.__setattr__(self, "stop_price", _price(self.stop_price, "stop_price"))

    def note(self, mode: MarginMode) -> str:
        """What the mode's column says instead of a level ("" when it has one)."""
        levels = self.levels.get(mode)
        if levels is None:
            return self.notes.get(mode, UNAVAILABLE_NOTE)
        if np.isnan(levels.liquidation_price):
            return no_price_note(levels)
        return ""


def _price(value: object, name: str) -> float:
    price = scalar(value, name)
    if price <= 0:
        raise MarginError(f"{name} must be greater than 0, got {value!r}")
    return price


def _column_x(mode: str) -> list[float]:
    """x of a level line across one column.

    One trace per column: plotly.js drops the text of points after a NaN gap in a
    "lines+text" trace, so levels are never joined into one trace with gaps.
    """
    return [CENTERS[mode] - HALF_WIDTH, CENTERS[mode] + HALF_WIDTH]


def _band_x(center: float) -> list[float]:
    return [center - HALF_WIDTH, center + HALF_WIDTH, center + HALF_WIDTH, center - HALF_WIDTH]


def _line(
    name: str, color: str, dash: str, x: list[float], position: str, mode: MarginMode | None = None
) -> TraceData:
    """A level line with its label at one end; ``mode`` names a per-column line."""
    column = palette.MODE_NAMES.get(mode or "", "")
    return _common.trace(
        "scatter",
        name.lower() if mode is None else f"{name.lower()}-{mode}",
        name,
        mode="lines+text",
        legendgroup=name.lower(),
        showlegend=mode != "isolated",
        x=x,
        line={"color": color, "dash": dash, "width": 3},
        textposition=position,
        textfont={**LABEL_FONT, "color": color},
        hovertemplate=f"{name}: %{{y:,.2f}} USDT<extra>{column}</extra>",
        cliponaxis=False,
    )


def _column(mode: MarginMode) -> list[TraceData]:
    """One column's band and its level lines, neighbours in the figure."""
    band = _common.mode_curve(
        f"band-{mode}",
        mode,
        width=1,
        x=_band_x(CENTERS[mode]),
        fill="toself",
        fillcolor=palette.with_alpha(palette.MODE_COLORS[mode], 0.35),
        hoverinfo="skip",
    )
    return [
        band,
        _line("Liquidation", palette.LIQUIDATION, "solid", _column_x(mode), "top right", mode),
        _line("Bankruptcy", palette.BANKRUPTCY, "dot", _column_x(mode), "bottom right", mode),
    ]


def _traces() -> list[TraceData]:
    return [
        *(trace for mode in COLUMNS for trace in _column(mode)),
        _line("Entry", palette.ENTRY, "dash", [LEFT, RIGHT], "top right"),
        _line("Stop", palette.STOP, "dashdot", [LEFT, RIGHT], "bottom right"),
        _line("Mark", palette.PRICE, "solid", [LEFT, RIGHT], "top left"),
        _common.trace(
            "scatter",
            "notes",
            "notes",
            mode="text",
            showlegend=False,
            x=[CENTERS[m] for m in MODES],
            textfont={**LABEL_FONT, "color": palette.LIQUIDATION},
            hoverinfo="skip",
        ),
    ]


def _distance(level: float, entry_price: float) -> str:
    """ "9.64% below entry" (relative to the entry price)."""
    if level == entry_price:
        return "at entry"
    where = "below" if level < entry_price else "above"
    return f"{fmt.percent(abs(level - entry_price) / entry_price)} {where} entry"


def _mode_clause(ladder: Ladder, mode: MarginMode, first: bool) -> str:
    name = palette.MODE_NAMES[mode] if first else mode.value
    levels = ladder.levels.get(mode)
    if levels is None:
        return f"{name}: {ladder.note(mode)}"
    if np.isnan(levels.liquidation_price):
        return f"{name}: {ladder.note(mode)}"
    verb = "liquidates at" if first else "at"
    where = _distance(levels.liquidation_price, ladder.entry_price)
    return f"{name} {verb} {fmt.price(levels.liquidation_price)} ({where})"


def _data(ladder: Ladder) -> tuple[list[TraceData], str]:
    if not isinstance(ladder, Ladder):
        raise TypeError(f"ladder must be a Ladder, got {type(ladder).__name__}")
    entry, mark = ladder.entry_price, ladder.mark_price
    stop = np.nan if ladder.stop_price is None else ladder.stop_price
    nan = float("nan")
    liq = {m: ladder.levels[m].liquidation_price if m in ladder.levels else nan for m in MODES}
    bank = {m: ladder.levels[m].bankruptcy_price if m in ladder.levels else nan for m in MODES}

    def level(value: float) -> list[float | None]:
        return points([value, value])

    def column_line(label: str, value: float) -> TraceData:
        text = "" if np.isnan(value) else f"{label} {fmt.price(value)}"
        return {"y": level(value), "text": [text, ""]}

    def band(value: float) -> TraceData:
        """Entry down (or up) to the liquidation price; nothing when there is none."""
        corners = [entry, entry, value, value] if np.isfinite(value) else [np.nan] * 4
        return {"y": points(corners)}

    traces = [
        *(
            trace
            for mode in COLUMNS
            for trace in (
                band(liq[mode]),
                column_line("Liquidation", liq[mode]),
                column_line("Bankruptcy", bank[mode]),
            )
        ),
        {"y": level(entry), "text": [f"Entry {fmt.price(entry)}", ""]},
        {
            "y": level(stop),
            "text": [f"Stop {fmt.price(stop)}", ""],
            "visible": ladder.stop_price is not None,
        },
        {"y": level(mark), "text": ["", f"Mark {fmt.price(mark)}"]},
        {
            "y": points([entry, entry]),
            "text": [fmt.wrap(ladder.note(mode)) for mode in MODES],
            "textposition": "bottom center" if ladder.side is Side.LONG else "top center",
        },
    ]
    summary = (
        f"{_mode_clause(ladder, MarginMode.ISOLATED, True)}; "
        f"{_mode_clause(ladder, MarginMode.CROSS, False)}"
    )
    if ladder.stop_price is not None:
        summary += f"; the stop is at {fmt.price(stop)} ({_distance(stop, entry)})"
    summary += f"; the mark price is {fmt.price(mark)} ({_distance(mark, entry)})."
    return traces, summary


def price_ladder_figure(ladder: Ladder, *, title: str | None = TITLE) -> Chart:
    """The price ladder of one :class:`Ladder` (``title`` is fixed at build time).

    >>> from marginlab.scenarios import guide_account
    >>> chart = price_ladder_figure(Ladder(
    ...     {mode: guide_account(mode).levels("BTCUSDT") for mode in MODES}))
    >>> for clause in chart.summary.split("; "):
    ...     print(clause)
    Isolated liquidates at 54,216.87 (9.64% below entry)
    cross at 30,120.48 (49.80% below entry)
    the mark price is 60,000.00 (at entry).
    """
    layout = _common.base_layout(
        NAME,
        title,
        xaxis={
            "range": [-0.62, 1.62],
            "tickvals": [CENTERS[m] for m in MODES],
            "ticktext": [palette.MODE_NAMES[m] for m in MODES],
            "showgrid": False,
            "zeroline": False,
            "fixedrange": True,
        },
        yaxis=_common.axis("price (USDT)", usdt=True),
        # Every level is labelled on the chart and the columns on the axis; a legend of
        # six entries wraps over the title in a lesson widget's narrower chart.
        showlegend=False,
    )
    return _common.figure(NAME, _traces(), _data(ladder), layout)


def update_price_ladder(fig: go.Figure, ladder: Ladder) -> str:
    """Write a new :class:`Ladder` into a figure from :func:`price_ladder_figure`; the summary."""
    return _common.update(fig, NAME, _data(ladder))
