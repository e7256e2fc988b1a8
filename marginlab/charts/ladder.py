"""Price ladder: entry, liquidation, bankruptcy and stop prices per margin mode.

Two columns, Cross and Isolated, on one price axis. A shaded band in the mode's colour
runs from entry to that mode's liquidation price (the room the position has); the mark
price, entry and optional stop run across both columns. Every level is a 2-point
scatter line with its label (no legend), so a tick moves trace data only.

A NaN liquidation price means the position cannot be liquidated by price, and says so.
A mode named in ``unavailable_modes`` has no position to draw at all (e.g. a preview of
an order that mode could not open): its column says "not available" instead.

Trace keys (``meta``): band-cross, band-isolated, entry, liquidation-cross,
liquidation-isolated, bankruptcy-cross, bankruptcy-isolated, stop, mark, notes.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import plotly.graph_objects as go

from marginlab.charts import format as fmt
from marginlab.charts import palette
from marginlab.charts._common import Chart, TraceData, apply, base_layout, build, points, scalar
from marginlab.engine.errors import MarginError
from marginlab.engine.types import MarginMode, Side

NAME = "price_ladder"
TITLE = "Liquidation price: Cross vs Isolated"
CENTERS = {"cross": 0.0, "isolated": 1.0}
HALF_WIDTH = 0.36
LEFT, RIGHT = -0.46, 1.46  # ends of the lines that span both columns
LABEL_FONT = {"size": 14}
NO_PRICE_NOTE = "cannot be liquidated by price"
UNAVAILABLE_NOTE = "not available"
MODES = ("cross", "isolated")


def _column_x(mode: str) -> list[float]:
    """x of a level line across one column.

    One trace per column: plotly.js drops the text of points after a NaN gap in a
    "lines+text" trace, so levels are never joined into one trace with gaps.
    """
    return [CENTERS[mode] - HALF_WIDTH, CENTERS[mode] + HALF_WIDTH]


def _band_x(center: float) -> list[float]:
    return [center - HALF_WIDTH, center + HALF_WIDTH, center + HALF_WIDTH, center - HALF_WIDTH]


def _line(
    name: str, color: str, dash: str, x: list[float], position: str, mode: str | None = None
) -> TraceData:
    """A level line with its label at one end; ``mode`` names a per-column line."""
    column = palette.MODE_NAMES.get(mode or "", "")
    return {
        "type": "scatter",
        "meta": name.lower() if mode is None else f"{name.lower()}-{mode}",
        "mode": "lines+text",
        "name": name,
        "legendgroup": name.lower(),
        "showlegend": mode != "isolated",  # one legend entry per level
        "x": x,
        "line": {"color": color, "dash": dash, "width": 3},
        "textposition": position,
        "textfont": {**LABEL_FONT, "color": color},
        "hovertemplate": f"{name}: %{{y:,.2f}} USDT<extra>{column}</extra>",
        "cliponaxis": False,
    }


def _traces() -> list[TraceData]:
    bands = [
        {
            "type": "scatter",
            "meta": f"band-{mode}",
            "mode": "lines",
            "name": palette.MODE_NAMES[mode],
            "legendgroup": mode,
            "x": _band_x(CENTERS[mode]),
            "fill": "toself",
            "fillcolor": palette.with_alpha(palette.MODE_COLORS[mode], 0.35),
            "line": {"color": palette.MODE_COLORS[mode], "width": 1},
            "hoverinfo": "skip",
        }
        for mode in ("cross", "isolated")
    ]
    return [
        *bands,
        _line("Entry", palette.ENTRY, "dash", [LEFT, RIGHT], "top right"),
        *(
            _line(name, color, dash, _column_x(mode), position, mode)
            for name, color, dash, position in (
                ("Liquidation", palette.LIQUIDATION, "solid", "top right"),
                ("Bankruptcy", palette.BANKRUPTCY, "dot", "bottom right"),
            )
            for mode in ("cross", "isolated")
        ),
        _line("Stop", palette.STOP, "dashdot", [LEFT, RIGHT], "bottom right"),
        _line("Mark", palette.PRICE, "solid", [LEFT, RIGHT], "top left"),
        {
            "type": "scatter",
            "meta": "notes",
            "mode": "text",
            "name": "notes",
            "showlegend": False,
            "x": [CENTERS["cross"], CENTERS["isolated"]],
            "textfont": {**LABEL_FONT, "color": palette.LIQUIDATION},
            "hoverinfo": "skip",
        },
    ]


def _distance(level: float, entry_price: float) -> str:
    """ "9.64% below entry" (relative to the entry price)."""
    if level == entry_price:
        return "at entry"
    where = "below" if level < entry_price else "above"
    return f"{fmt.percent(abs(level - entry_price) / entry_price)} {where} entry"


def _unavailable(value: Iterable[str]) -> frozenset[str]:
    """The modes named in ``unavailable_modes`` ("cross", "isolated", any case)."""
    if isinstance(value, str):
        raise TypeError(f"unavailable_modes must be a collection of modes, got {value!r}")
    try:
        names = list(value)
    except TypeError:
        raise TypeError(f"unavailable_modes must be a collection of modes, got {value!r}") from None
    return frozenset(str(MarginMode.parse(name, "unavailable_modes")) for name in names)


def _note(mode: str, liquidation_price: float, unavailable: frozenset[str]) -> str:
    """What a column without a liquidation price says ("" when it has one)."""
    if mode in unavailable:
        return UNAVAILABLE_NOTE
    return NO_PRICE_NOTE if np.isnan(liquidation_price) else ""


def _mode_clause(
    mode: str, liquidation_price: float, entry_price: float, first: bool, note: str
) -> str:
    name = palette.MODE_NAMES[mode] if first else mode
    if note == UNAVAILABLE_NOTE:
        return f"{name} is {note}"
    if note:
        return f"{name} {note}"
    verb = "liquidates at" if first else "at"
    where = _distance(liquidation_price, entry_price)
    return f"{name} {verb} {fmt.price(liquidation_price)} ({where})"


def _data(
    *,
    entry_price: float,
    mark_price: float,
    cross_liquidation_price: float,
    isolated_liquidation_price: float,
    cross_bankruptcy_price: float,
    isolated_bankruptcy_price: float,
    stop_price: float | None = None,
    side: str = "long",
    unavailable_modes: Iterable[str] = (),
) -> tuple[list[TraceData], str]:
    entry = scalar(entry_price, "entry_price")
    mark = scalar(mark_price, "mark_price")
    liq = {
        "cross": scalar(cross_liquidation_price, "cross_liquidation_price", allow_nan=True),
        "isolated": scalar(
            isolated_liquidation_price, "isolated_liquidation_price", allow_nan=True
        ),
    }
    bank = {
        "cross": scalar(cross_bankruptcy_price, "cross_bankruptcy_price", allow_nan=True),
        "isolated": scalar(isolated_bankruptcy_price, "isolated_bankruptcy_price", allow_nan=True),
    }
    unavailable = _unavailable(unavailable_modes)
    for mode in sorted(unavailable):
        for name, prices in (("liquidation", liq), ("bankruptcy", bank)):
            if not np.isnan(prices[mode]):
                raise MarginError(
                    f"{mode}_{name}_price must be NaN when {mode!r} is in unavailable_modes "
                    f"(no position to draw), got {prices[mode]!r}"
                )
    notes = {mode: _note(mode, liq[mode], unavailable) for mode in MODES}
    stop = np.nan if stop_price is None else scalar(stop_price, "stop_price")
    for name, value in (("entry_price", entry), ("mark_price", mark), ("stop_price", stop)):
        if value <= 0:
            raise MarginError(f"{name} must be greater than 0, got {value!r}")
    is_long = Side.parse(side) is Side.LONG

    def level(value: float) -> list[float | None]:
        return points([value, value])

    def column_line(label: str, value: float) -> TraceData:
        text = "" if np.isnan(value) else f"{label} {fmt.price(value)}"
        return {"y": level(value), "text": [text, ""]}

    def band(value: float) -> TraceData:
        """Entry down (or up) to the liquidation price; nothing when there is none."""
        corners = [entry, entry, value, value] if np.isfinite(value) else [np.nan] * 4
        return {"y": points(corners)}

    bands = [band(liq[mode]) for mode in ("cross", "isolated")]
    traces = [
        *bands,
        {"y": level(entry), "text": [f"Entry {fmt.price(entry)}", ""]},
        *(column_line("Liquidation", liq[mode]) for mode in ("cross", "isolated")),
        *(column_line("Bankruptcy", bank[mode]) for mode in ("cross", "isolated")),
        {
            "y": level(stop),
            "text": [f"Stop {fmt.price(stop)}", ""],
            "visible": stop_price is not None,
        },
        {"y": level(mark), "text": ["", f"Mark {fmt.price(mark)}"]},
        {
            "y": points([entry, entry]),
            "text": [notes[mode] for mode in MODES],
            "textposition": "bottom center" if is_long else "top center",
        },
    ]
    summary = (
        f"{_mode_clause('isolated', liq['isolated'], entry, True, notes['isolated'])}; "
        f"{_mode_clause('cross', liq['cross'], entry, False, notes['cross'])}"
    )
    if stop_price is not None:
        summary += f"; the stop is at {fmt.price(stop)} ({_distance(stop, entry)})"
    summary += f"; the mark price is {fmt.price(mark)} ({_distance(mark, entry)})."
    return traces, summary


def price_ladder_figure(
    *,
    entry_price: float,
    mark_price: float,
    cross_liquidation_price: float,
    isolated_liquidation_price: float,
    cross_bankruptcy_price: float,
    isolated_bankruptcy_price: float,
    stop_price: float | None = None,
    side: str = "long",
    title: str | None = TITLE,
    unavailable_modes: Iterable[str] = (),
) -> Chart:
    """The price ladder (all prices in USDT; NaN liquidation/bankruptcy = none exists).

    ``side`` ("long"/"short") only places the "cannot be liquidated by price" note on
    the side of entry where liquidation would be. ``unavailable_modes`` names the modes
    ("cross", "isolated") that have no position to draw, e.g. one that could not open
    the order: their prices must be NaN, and their column and the summary say "not
    available". ``title`` is fixed at build time.

    >>> chart = price_ladder_figure(entry_price=60_000, mark_price=60_000,
    ...     cross_liquidation_price=30_120.48, isolated_liquidation_price=54_216.87,
    ...     cross_bankruptcy_price=30_000, isolated_bankruptcy_price=54_000)
    >>> for clause in chart.summary.split("; "):
    ...     print(clause)
    Isolated liquidates at 54,216.87 (9.64% below entry)
    cross at 30,120.48 (49.80% below entry)
    the mark price is 60,000.00 (at entry).
    """
    traces, summary = _data(
        entry_price=entry_price,
        mark_price=mark_price,
        cross_liquidation_price=cross_liquidation_price,
        isolated_liquidation_price=isolated_liquidation_price,
        cross_bankruptcy_price=cross_bankruptcy_price,
        isolated_bankruptcy_price=isolated_bankruptcy_price,
        stop_price=stop_price,
        side=side,
        unavailable_modes=unavailable_modes,
    )
    layout = base_layout(
        NAME,
        title,
        xaxis={
            "range": [-0.62, 1.62],
            "tickvals": [CENTERS["cross"], CENTERS["isolated"]],
            "ticktext": [palette.MODE_NAMES["cross"], palette.MODE_NAMES["isolated"]],
            "showgrid": False,
            "zeroline": False,
            "fixedrange": True,
        },
        yaxis={"title": {"text": "price (USDT)"}, "tickformat": ",.0f"},
        hovermode="closest",
        # Every level is labelled on the chart and the columns on the axis; a legend of
        # six entries wraps over the title in a lesson widget's narrower chart.
        showlegend=False,
    )
    return Chart(build(NAME, _traces(), traces, layout), summary)


def update_price_ladder(
    fig: go.Figure,
    *,
    entry_price: float,
    mark_price: float,
    cross_liquidation_price: float,
    isolated_liquidation_price: float,
    cross_bankruptcy_price: float,
    isolated_bankruptcy_price: float,
    stop_price: float | None = None,
    side: str = "long",
    unavailable_modes: Iterable[str] = (),
) -> str:
    """Write new prices into a figure from :func:`price_ladder_figure`; returns the summary."""
    traces, summary = _data(
        entry_price=entry_price,
        mark_price=mark_price,
        cross_liquidation_price=cross_liquidation_price,
        isolated_liquidation_price=isolated_liquidation_price,
        cross_bankruptcy_price=cross_bankruptcy_price,
        isolated_bankruptcy_price=isolated_bankruptcy_price,
        stop_price=stop_price,
        side=side,
        unavailable_modes=unavailable_modes,
    )
    apply(fig, NAME, traces)
    return summary
