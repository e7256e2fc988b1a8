"""Two-symbol cross map: the cross margin ratio over a grid of both mark prices.

A heatmap of the cross pool's margin ratio (white = safe, grey = closer, vermillion =
past liquidation) with the liquidation boundary (ratio 100 %) drawn as a contour line
in the Cross colour, and a marker at the current prices. Optional isolated
liquidation prices draw as a vertical and a horizontal line in the Isolated colour:
isolated positions liquidate each on its own price, whatever the other one does,
while the cross boundary bends because one position's profit buffers the other's loss.

The map travels in plotly's column form (x, y and z as 1-d arrays of one value per
cell): the FigureWidget sends only 1-d numeric arrays as binary, and a new grid of
ratios then costs 4 bytes a cell (float32), while the unchanged x and y cost nothing.

The input is one :class:`CrossMap` (its symbols, grids, ratios and marks), used by the
builder and the updater alike.

Trace keys (``meta``): map, isolated-x, isolated-y, mark.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import plotly.graph_objects as go

from marginlab.charts import _common, palette
from marginlab.charts import format as fmt
from marginlab.charts._common import Chart, TraceData, floats, points, scalar
from marginlab.engine.errors import MarginError

NAME = "cross_map"
TITLE = "Cross margin ratio over both prices"
RATIO_CAP_PERCENT = 200.0  # colours saturate here; the boundary sits at the middle, 100 %
COLORSCALE = [
    [0.0, "#FFFFFF"],
    [0.5, "#8C8C8C"],
    [0.5, palette.with_alpha(palette.LIQUIDATION, 0.35)],
    [1.0, palette.LIQUIDATION],
]
NO_PRICE_NOTE = "cannot be liquidated by price"
COLORBAR_MARGIN = 150  # px right of the map: the colour bar, its labels and title
# px above the map: the title, then the legend, whose three long entries take two rows
# beside the colour bar on a lesson page (a legend that wraps grows upwards from the map).
TOP_MARGIN = 120


def _traces(x_symbol: str, y_symbol: str) -> list[TraceData]:
    line = {
        "type": "scatter",
        "mode": "lines+text",
        "name": "Isolated liquidation",
        "legendgroup": "isolated",
        "line": {"color": palette.ISOLATED, "width": 3, "dash": "dash"},
        "textfont": {"color": palette.ISOLATED, "size": 14},
        "hoverinfo": "skip",
        "cliponaxis": False,
    }
    return [
        _common.trace(
            "contour",
            "map",
            "Cross liquidation boundary (ratio 100%)",
            legendgroup="cross",
            showlegend=True,
            showscale=True,
            colorscale=COLORSCALE,
            zmin=0.0,
            zmax=RATIO_CAP_PERCENT,
            autocontour=False,
            contours={"start": 100.0, "end": 100.0, "size": 100.0, "coloring": "heatmap"},
            line={"color": palette.CROSS, "width": 4},
            colorbar={
                "title": {"text": "cross margin ratio", "side": "right"},
                "tickvals": [0, 50, 100, 150, RATIO_CAP_PERCENT],
                "ticktext": ["0%", "50%", "100%", "150%", f"≥{RATIO_CAP_PERCENT:.0f}%"],
            },
            hovertemplate=f"{x_symbol} %{{x:,.2f}}<br>{y_symbol} %{{y:,.2f}}<br>"
            "margin ratio %{z:.1f}%<extra></extra>",
        ),
        {**line, "meta": "isolated-x", "textposition": "top right"},
        {**line, "meta": "isolated-y", "showlegend": False, "textposition": "top right"},
        _common.trace(
            "scatter",
            "mark",
            "Current prices",
            mode="markers",
            marker={
                "color": palette.PRICE,
                "symbol": "circle-open-dot",
                "size": 18,
                "line": {"width": 3},
            },
            hovertemplate=f"{x_symbol} %{{x:,.2f}}<br>{y_symbol} %{{y:,.2f}}<extra>now</extra>",
        ),
    ]


def _grid(value: object, name: str) -> np.ndarray:
    arr = floats(value, name)
    if len(arr) < 2 or not np.all(np.isfinite(arr)) or np.any(arr <= 0):
        raise MarginError(f"{name} must hold at least 2 finite prices greater than 0")
    if np.any(np.diff(arr) <= 0):
        raise MarginError(f"{name} must be strictly increasing")
    return arr


@dataclass(frozen=True)
class CrossMap:
    """The cross margin ratio (fractions; 1.0 = liquidation) over two price grids (USDT).

    ``margin_ratio_grid[j, i]`` is the ratio at ``x_price_grid[i]``, ``y_price_grid[j]``
    (``inf`` where the pool is used up; ``Account.cross_margin_ratio``); ``margin_ratio``
    the value at the marks. ``isolated_liquidation_price``: per symbol, the same
    position's price if it were isolated (NaN: none); a symbol left out draws no line.
    """

    x_symbol: str
    y_symbol: str
    x_price_grid: np.ndarray
    y_price_grid: np.ndarray
    margin_ratio_grid: np.ndarray
    x_mark_price: float
    y_mark_price: float
    margin_ratio: float
    isolated_liquidation_price: Mapping[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        xs = _grid(self.x_price_grid, "x_price_grid")
        ys = _grid(self.y_price_grid, "y_price_grid")
        try:
            ratio = np.asarray(self.margin_ratio_grid, dtype=float)
        except (TypeError, ValueError):
            raise TypeError("margin_ratio_grid must be a 2-d array of numbers") from None
        if ratio.shape != (len(ys), len(xs)):
            raise MarginError(
                "margin_ratio_grid must have shape (len(y_price_grid), len(x_price_grid)) = "
                f"{(len(ys), len(xs))}, got {ratio.shape}"
            )
        isolated = {
            str(k): scalar(v, f"isolated_liquidation_price[{k!r}]", allow_nan=True)
            for k, v in self.isolated_liquidation_price.items()
        }
        unknown = set(isolated) - {self.x_symbol, self.y_symbol}
        if unknown:
            raise MarginError(f"isolated_liquidation_price: no axis for {sorted(unknown)}")
        for name, value in (
            ("x_price_grid", xs),
            ("y_price_grid", ys),
            ("margin_ratio_grid", ratio),
            ("x_mark_price", scalar(self.x_mark_price, "x_mark_price")),
            ("y_mark_price", scalar(self.y_mark_price, "y_mark_price")),
            ("margin_ratio", scalar(self.margin_ratio, "margin_ratio", allow_inf=True)),
            ("isolated_liquidation_price", isolated),
        ):
            object.__setattr__(self, name, value)


def _data(cross_map: CrossMap) -> tuple[list[TraceData], str]:
    if not isinstance(cross_map, CrossMap):
        raise TypeError(f"cross_map must be a CrossMap, got {type(cross_map).__name__}")
    x_symbol, y_symbol = cross_map.x_symbol, cross_map.y_symbol
    xs, ys, ratio = cross_map.x_price_grid, cross_map.y_price_grid, cross_map.margin_ratio_grid
    x_mark, y_mark, now = cross_map.x_mark_price, cross_map.y_mark_price, cross_map.margin_ratio
    isolated = cross_map.isolated_liquidation_price
    iso_x, iso_y = isolated.get(x_symbol, np.nan), isolated.get(y_symbol, np.nan)

    # inf (pool used up) saturates the colour; float32 halves the bytes of a tick.
    shown = np.clip(100.0 * ratio, 0.0, RATIO_CAP_PERCENT).astype(np.float32).ravel()
    has_isolated = bool(isolated)
    traces: list[TraceData] = [
        {"x": np.tile(xs, len(ys)), "y": np.repeat(ys, len(xs)), "z": shown},  # row by row
        {
            "x": points([iso_x, iso_x]),
            "y": points(ys[[0, -1]]),
            "text": ["" if np.isnan(iso_x) else f"{x_symbol} {fmt.price(iso_x)}", ""],
            "visible": x_symbol in isolated,
        },
        {
            "x": points(xs[[0, -1]]),
            "y": points([iso_y, iso_y]),
            "text": ["" if np.isnan(iso_y) else f"{y_symbol} {fmt.price(iso_y)}", ""],
            "visible": y_symbol in isolated,
        },
        {"x": points([x_mark]), "y": points([y_mark])},
    ]

    state = "liquidated" if now >= 1 else "liquidation at 100%"
    past = float(np.mean(ratio >= 1))
    summary = (
        f"At {x_symbol} {fmt.price(x_mark)} and {y_symbol} {fmt.price(y_mark)} the cross "
        f"margin ratio is {fmt.percent(now)} ({state}); {fmt.percent(past)} of the map is "
        "past the liquidation boundary"
    )
    if has_isolated:
        parts = [
            f"{symbol} " + (NO_PRICE_NOTE if np.isnan(price) else f"at {fmt.price(price)}")
            for symbol, price in ((x_symbol, iso_x), (y_symbol, iso_y))
            if symbol in isolated
        ]
        summary += "; isolated, each liquidates on its own price: " + " and ".join(parts)
    return traces, summary + "."


def cross_map_figure(cross_map: CrossMap, *, title: str | None = TITLE) -> Chart:
    """The cross margin ratio map of a :class:`CrossMap` (``title`` fixed at build time)."""
    x_symbol, y_symbol = cross_map.x_symbol, cross_map.y_symbol
    layout = _common.base_layout(
        NAME,
        title,
        height=560,
        xaxis=_common.axis(f"{x_symbol} mark price (USDT)", usdt=True),
        yaxis=_common.axis(f"{y_symbol} mark price (USDT)", usdt=True),
    )
    layout["meta"]["symbols"] = [x_symbol, y_symbol]
    layout["margin"]["r"] = COLORBAR_MARGIN
    if title:
        layout["margin"]["t"] = TOP_MARGIN
    return _common.figure(NAME, _traces(x_symbol, y_symbol), _data(cross_map), layout)


def update_cross_map(fig: go.Figure, cross_map: CrossMap) -> str:
    """Write a new map and marks into a figure from :func:`cross_map_figure`.

    An unchanged grid costs no bytes (plotly sends only values that changed), so a
    price-only tick sends the marker alone. The symbols are fixed at build time.
    """
    meta = fig.layout.meta if isinstance(fig.layout.meta, dict) else {}
    symbols = tuple(meta.get("symbols", ()))
    if symbols and symbols != (cross_map.x_symbol, cross_map.y_symbol):
        raise MarginError(
            f"cross_map: the figure maps {symbols}, got ({cross_map.x_symbol!r}, "
            f"{cross_map.y_symbol!r})"
        )
    return _common.update(fig, NAME, _data(cross_map))
