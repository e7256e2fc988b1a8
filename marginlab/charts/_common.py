"""What every chart shares: the result type, the theme, and the in-place update path.

A chart module defines ``_traces()`` (the static look of each trace, fixed order) and
``_data(**inputs)`` (the values of every trace that move with the inputs, same order,
and the summary). The builder merges the two into a figure once; the updater writes
only ``_data`` into an existing figure inside one ``batch_update``. Both go through
``_data``, so the figure and the update cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import plotly.graph_objects as go
import plotly.io as pio
from plotly.basedatatypes import Undefined

from marginlab.charts import palette
from marginlab.engine.errors import MarginError

FONT_FAMILY = "Arial, Helvetica, sans-serif"  # system fonts: nothing fetched from the web
FONT_SIZE = 16  # readable on a projector
HEIGHT = 440  # px
TITLE_PAD = 12  # px above a chart's title
MARGIN_LEFT = 100  # px: tick labels such as "-500,000" plus the axis title
MARGIN_RIGHT = 40  # px: half of the last x tick label
# Where an axis title sits (see axis_titles): its near edge this far from the plot, past
# the tick labels ("-500,000" at FONT_SIZE is ~63 px wide; x tick labels ~20 px high).
Y_TITLE_OFFSET = 70  # px, left of the plot area
X_TITLE_OFFSET = 26  # px, below the plot area
AXIS_TITLE_SIZE = round(1.2 * FONT_SIZE)  # px: plotly.js draws axis titles 1.2x the font

TraceData = dict[str, Any]

SMALL = 16  # arrays up to this length travel as short JSON lists, longer ones as binary


TRACE_TYPES = ("scatter", "bar", "contour")  # every trace type the chart modules draw


_WHITE = pio.templates["plotly_white"].to_plotly_json()


def _template() -> go.layout.Template:
    """plotly's "plotly_white" theme, restricted to what these charts draw: its layout.

    Naming "plotly_white" in a layout makes plotly deep-copy and validate the whole
    template (defaults for 24 trace types, polar, geo and 3-D scenes, colour scales) on
    every figure and again on every FigureWidget made from it: ~20 ms each, and ~7 KB of
    JSON sent with every chart. Kept unchanged: its layout defaults for 2-D axes. Left
    out: the other subplot kinds, the default colour scales (the one colour-scaled trace,
    the cross map's contour, names its own) and the per-trace-type defaults, which
    :func:`trace` writes on the traces themselves (:data:`TRACE_DEFAULTS`). So the look
    is plotly_white's. One addition: plotly.js does not check tick labels for overflow
    (``ticklabeloverflow`` "allow"; by default it measures every label on every redraw
    that moves an axis, ~1 ms of an outcomes chart's): the theme's ``automargin`` keeps
    them inside the chart (tests/browser/test_chart_layout_in_browser.py), where the
    check would hide none.
    """
    unused = ("geo", "polar", "scene", "ternary", "colorscale")
    layout = {key: value for key, value in _WHITE["layout"].items() if key not in unused}
    for axis in ("xaxis", "yaxis"):
        layout[axis] = {**layout[axis], "ticklabeloverflow": "allow"}
    return go.layout.Template(layout=layout)


def _trace_defaults(kind: str) -> dict[str, Any]:
    """plotly_white's defaults for one trace type, but its colour scale.

    Written on each trace rather than kept in the template: plotly.js looks every trace
    property up in a template's trace defaults on every redraw, ~10 % of redrawing a
    chart of ten traces (tests/browser/test_figure_redraw.py draws them the same)."""
    (spec,) = _WHITE["data"][kind]
    return {key: value for key, value in spec.items() if key not in ("type", "colorscale")}


TRACE_DEFAULTS = {kind: _trace_defaults(kind) for kind in ("bar", "contour")}
"""plotly_white's trace defaults that show here: bar outlines and hatching, the contour's
colour bar frame. (Its only scatter default, the fill pattern, is drawn with a pattern
shape, which no chart sets.)"""


TEMPLATE = _template()  # built once; plotly still copies it into each figure (~4 ms)


@dataclass(frozen=True)
class Chart:
    """A built chart: the figure and a one-sentence summary of its key numbers."""

    figure: go.Figure
    summary: str


def base_layout(chart_name: str, title: str | None, **extra: Any) -> dict[str, Any]:
    """The shared layout: :data:`TEMPLATE` (plotly_white), large fonts, hover on the
    closest point, a ``uirevision`` so user zoom survives updates, and ``meta.chart``
    naming the builder (checked by updaters)."""
    layout: dict[str, Any] = {
        "template": TEMPLATE,
        "font": {"family": FONT_FAMILY, "size": FONT_SIZE},
        "height": HEIGHT,
        # Wide enough for the axis labels and titles: with room to spare, plotly.js never
        # needs to widen a margin and draw the chart a second time.
        "margin": {"l": MARGIN_LEFT, "r": MARGIN_RIGHT, "t": 70 if title else 40, "b": 60},
        "legend": {"orientation": "h", "yanchor": "bottom", "y": 1.02, "x": 0.0},
        "hoverlabel": {"font": {"family": FONT_FAMILY, "size": FONT_SIZE}},
        "hovermode": "closest",
        "uirevision": chart_name,
        "meta": {"chart": chart_name},
    }
    if title:
        # At the top of the figure, not in the middle of the top margin: clear of the
        # legend's row under it (plotly.js would centre it on a legend that wraps).
        title_place = {"y": 1.0, "yanchor": "top", "pad": {"t": TITLE_PAD}}
        layout["title"] = {"text": title, "x": 0.0, "xanchor": "left", **title_place}
    layout.update(extra)
    layout["annotations"] = [*layout.get("annotations", []), *axis_titles(layout)]
    return layout


def axis_titles(layout: dict[str, Any]) -> list[dict[str, Any]]:
    """Take each axis title out of ``layout`` and return it as an annotation that sits
    where plotly.js puts the title, at a fixed distance from the plot.

    Why: plotly.js places an axis title past its tick labels, and redraws it only in a
    full redraw; figure.js gives a moving axis its new range by Plotly.relayout, which
    redraws the tick labels alone (plotly.js 4.1). A title drawn as an annotation on
    paper coordinates does not depend on the tick labels, so the relayout keeps it right.
    Axes on the default sides only (y left, x bottom), as every chart here draws them.
    """
    titles = []
    for name in sorted(key for key in layout if key[0] in "xy" and key[1:5] == "axis"):
        spec = layout[name]
        text = (spec.pop("title", None) or {}).get("text")
        if not text:
            continue
        letter, other = name[0], "y" if name[0] == "x" else "x"
        anchor = spec.get("anchor", other)
        across = layout.get(f"{other}axis{anchor[1:]}", {}).get("domain", [0.0, 1.0])
        low, high = spec.get("domain", [0.0, 1.0])
        title: dict[str, Any] = {"text": text, "xref": "paper", "yref": "paper"}
        title |= {"showarrow": False, "font": {"size": AXIS_TITLE_SIZE}}
        if letter == "y":
            title |= {"x": across[0], "y": (low + high) / 2, "textangle": -90}
            title |= {"xanchor": "right", "yanchor": "middle", "xshift": -Y_TITLE_OFFSET}
        else:
            title |= {"x": (low + high) / 2, "y": across[0]}
            title |= {"xanchor": "center", "yanchor": "top", "yshift": -X_TITLE_OFFSET}
        titles.append(title)
    return titles


def build(
    chart_name: str,
    static: Sequence[TraceData],
    data: Sequence[TraceData],
    layout: dict[str, Any],
) -> go.Figure:
    """One figure from the static trace specs and their moving values (same order)."""
    unknown = {spec["type"] for spec in static} - set(TRACE_TYPES)
    if unknown:
        raise AssertionError(f"{chart_name}: add {sorted(unknown)} to TRACE_TYPES")
    if len(static) != len(data):
        raise AssertionError(f"{chart_name}: {len(static)} trace specs but {len(data)} data")
    return go.Figure(data=[{**s, **d} for s, d in zip(static, data, strict=True)], layout=layout)


def apply(fig: go.Figure, chart_name: str, data: Sequence[TraceData]) -> None:
    """Write the moving values into ``fig`` (a Figure or FigureWidget): only those that
    changed, as one update.

    Values are written with plotly's ``plotly_restyle``, which stores them without
    validating each (plotly validates an assignment such as ``trace.y = array`` on every
    write: ~0.1 ms a numpy array, however short; the values of every update are the
    kinds :func:`build` validated when the figure was made, from the same ``_data``).
    They are stored as plotly's validation stores them (:func:`stored`;
    ``tests/test_charts_common.py`` compares an updated figure with a fresh build, type
    by type). Nested properties (a dict such as ``marker``) are assigned, validated.
    Comparing first keeps a tick that moves one line cheap, and nothing is sent for
    what did not move; the comparison reads what the figure holds with :func:`held`.

    One update: inside an enclosing ``batch_update`` of a
    :class:`~marginlab.widgets.SharedFigureWidget` the values go with the batch's
    message; plotly's own ``FigureWidget`` sends them as a message of their own.
    """
    if not isinstance(fig, go.Figure | go.FigureWidget):
        raise TypeError(f"fig must be a plotly Figure or FigureWidget, got {type(fig).__name__}")
    meta = held(fig.layout).get("meta")
    built_by = meta.get("chart") if isinstance(meta, dict) else None
    if built_by != chart_name or len(fig.data) != len(data):
        raise MarginError(
            f"fig: expected a figure built by {chart_name}_figure "
            f"({len(data)} traces), got one built by {built_by!r} ({len(fig.data)} traces)"
        )
    restyle: dict[str, list[Any]] = {}  # property -> a value per trace (Undefined: kept)
    with fig.batch_update():
        for index, (trace, values) in enumerate(zip(fig.data, data, strict=True)):
            now = held(trace)
            for key, value in values.items():
                if isinstance(value, dict):  # plotly's object: it compares and sends
                    trace[key] = value
                elif not _same(now.get(key), value):
                    restyle.setdefault(key, [Undefined] * len(data))[index] = stored(value)
        if restyle:
            fig.plotly_restyle(restyle, list(range(len(data))))


def stored(value: Any) -> Any:
    """A trace value as plotly's validation stores it: a numpy array as a read-only copy
    (later changes to the caller's array cannot reach the figure), a tuple as a list."""
    if isinstance(value, np.ndarray):
        value = value.copy()
        value.flags.writeable = False
        return value
    if isinstance(value, tuple):
        return list(value)
    return value


def held(obj: Any) -> dict[str, Any]:
    """The properties a trace or a layout of a figure holds, as plotly.py stores them
    (its ``_props``: the values assigned so far, before an enclosing ``batch_update``).

    Why: reading ``trace[key]`` or ``layout.yaxis.range`` goes through plotly.py's
    validators and builds child objects on every read (tens of us each); a tick that
    compares a few dozen values spent a third of its time there. The stored values are
    the same ones (``tests/test_charts_common.py`` checks it against plotly's reads).
    """
    props = obj._props
    return {} if props is None else props


def _same(old: Any, new: Any) -> bool:
    """Whether a trace already holds ``new`` (NaN equals NaN; lists equal tuples)."""
    if isinstance(new, np.ndarray) or isinstance(old, np.ndarray):
        if old is None:
            return False
        a, b = np.asarray(old), np.asarray(new)
        if a.shape != b.shape or a.dtype != b.dtype:
            return False
        return bool(np.array_equal(a, b, equal_nan=b.dtype.kind in "fc"))
    if isinstance(new, list | tuple):
        return isinstance(old, list | tuple) and list(old) == list(new)
    return type(old) is type(new) and old == new


def points(values: object) -> list[float | None] | np.ndarray:
    """Numeric trace values: a short list (None where not finite: a gap) or a float array.

    Short lists validate ~20x faster than numpy arrays in plotly and NaN cannot travel in
    JSON (Jupyter warns); long arrays go as numpy, which the widget sends as binary.
    """
    arr = np.asarray(values, dtype=float)
    if arr.ndim == 1 and arr.size <= SMALL:
        return [float(v) if np.isfinite(v) else None for v in arr]
    return arr


FLOAT32_BELOW = 2.0**17  # float32 keeps |v| < 131,072 within 0.004 (ulp/2 <= 2**-8)


def compact(values: object) -> list[float | None] | np.ndarray:
    """:func:`points`, with a long curve sent as float32 (4 bytes a point) while every
    finite value is below 2**17, where float32 is within 0.004 of it (hovers show 2
    decimals); float64 otherwise."""
    shown = points(values)
    if isinstance(shown, np.ndarray):
        finite = np.abs(shown[np.isfinite(shown)])
        if finite.max(initial=0.0) < FLOAT32_BELOW:
            return shown.astype(np.float32)
    return shown


def find_trace(fig: go.Figure, key: str) -> Any:
    """The trace of a chart figure whose ``meta`` key is ``key`` (e.g. "liquidation-cross").

    Every trace carries a stable key in ``meta`` (plotly replaces ``uid`` in a
    FigureWidget); each chart module lists its keys in its docstring.
    """
    for trace in fig.data:
        if trace.meta == key:
            return trace
    keys = [trace.meta for trace in fig.data]
    raise KeyError(f"key: no trace {key!r} in this figure; it has {keys}")


def floats(value: object, name: str) -> np.ndarray:
    """``value`` as a 1-d float array (NaN allowed: it draws as a gap)."""
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be an array of numbers, got {value!r}") from None
    if arr.ndim != 1:
        raise MarginError(f"{name} must be one-dimensional, got shape {arr.shape}")
    return arr


def scalar(value: object, name: str, *, allow_nan: bool = False, allow_inf: bool = False) -> float:
    """``value`` as a float; finite unless NaN ("does not exist") or +inf are allowed."""
    if isinstance(value, bool) or not isinstance(value, int | float | np.number):
        raise TypeError(f"{name} must be a number, got {value!r}")
    number = float(value)
    if np.isfinite(number) or (allow_nan and np.isnan(number)) or (allow_inf and number > 0):
        return number
    rule = " or ".join(["finite", *(["NaN"] if allow_nan else []), *(["inf"] if allow_inf else [])])
    raise MarginError(f"{name} must be {rule}, got {value!r}")


def same_length(arrays: dict[str, np.ndarray]) -> int:
    """The common length of the named arrays; a ValueError naming them if they differ."""
    lengths = {name: len(arr) for name, arr in arrays.items()}
    if len(set(lengths.values())) > 1:
        listed = ", ".join(f"{name}={n}" for name, n in lengths.items())
        raise MarginError(f"arrays must have the same length, got {listed}")
    return next(iter(lengths.values()))


def axis(
    title: str, *, usdt: bool = False, suffix: str = "", zero: bool = False, **extra: Any
) -> dict[str, Any]:
    """A layout axis: its ``title`` (drawn as an annotation: :func:`axis_titles`); ``usdt``
    ticks with thousands separators and no decimals; ``suffix`` after each tick ("%", "x");
    ``zero``: the range starts at 0."""
    spec: dict[str, Any] = {"title": {"text": title}, **extra}
    if usdt:
        spec["tickformat"] = ",.0f"
    if suffix:
        spec["ticksuffix"] = suffix
    if zero:
        spec["rangemode"] = "tozero"
    return spec


def figure(
    chart_name: str,
    static: Sequence[TraceData],
    computed: tuple[Sequence[TraceData], str],
    layout: dict[str, Any],
) -> Chart:
    """A chart module's builder: its ``_data(input)`` (traces and summary) on its static
    traces and layout."""
    traces, summary = computed
    return Chart(build(chart_name, static, traces, layout), summary)


def update(fig: go.Figure, chart_name: str, computed: tuple[Sequence[TraceData], str]) -> str:
    """A chart module's updater: write its ``_data(input)`` traces into ``fig`` (one
    batch, :func:`apply`) and return the summary."""
    traces, summary = computed
    apply(fig, chart_name, traces)
    return summary


def trace(kind: str, meta: str, name: str, **style: Any) -> TraceData:
    """The static spec of one trace: its type (one of :data:`TRACE_TYPES`), its stable key
    (``meta``), its legend name and its style (any plotly trace property) over the
    theme's defaults for its type (:data:`TRACE_DEFAULTS`)."""
    style = _merged(TRACE_DEFAULTS.get(kind, {}), style)
    return {"type": kind, "meta": meta, "name": name, **style}


def _merged(defaults: dict[str, Any], style: dict[str, Any]) -> dict[str, Any]:
    """``style`` over ``defaults``, nested dicts merged key by key."""
    out = dict(defaults)
    for key, value in style.items():
        old = out.get(key)
        both = isinstance(old, dict) and isinstance(value, dict)
        out[key] = _merged(old, value) if both else value
    return out


LABEL_SIZE = 14  # px: the labels written on a chart


def _labelled(meta: str, name: str, color: str, drawn: TraceData, style: dict) -> TraceData:
    """A trace whose points carry labels in ``color``: no legend entry, never clipped."""
    spec = {"showlegend": False, "textfont": {"color": color, "size": LABEL_SIZE}}
    return trace("scatter", meta, name, **{**spec, "cliponaxis": False, **drawn, **style})


def line_trace(meta: str, name: str, color: str, **style: Any) -> TraceData:
    """A labelled line (a level, a limit, a reference): ``dash`` and ``width`` of the line,
    ``textposition`` of its label (default bottom right); no hover."""
    line = {"color": color, "dash": style.pop("dash", "solid"), "width": style.pop("width", 2)}
    drawn = {"mode": "lines+text", "line": line, "textposition": "bottom right"}
    return _labelled(meta, name, color, {**drawn, "hoverinfo": "skip"}, style)


def marker_trace(meta: str, name: str, color: str, **style: Any) -> TraceData:
    """Labelled markers (where the learner is, an event): ``symbol`` and ``size`` of the
    marker, ``textposition`` of its label (default top center)."""
    look = {"symbol": style.pop("symbol", "circle"), "size": style.pop("size", 14)}
    marker = {"color": color, **look, "line": {"color": "white", "width": 2}}
    drawn = {"mode": "markers+text", "marker": marker, "textposition": "top center"}
    return _labelled(meta, name, color, drawn, style)


def mode_curve(meta: str, mode: str, **style: Any) -> TraceData:
    """A line in a margin mode's colour, named after the mode and in its legend group
    (``width`` of the line, default 3; any other trace property)."""
    line = {"color": palette.MODE_COLORS[mode], "width": style.pop("width", 3)}
    line.update(style.pop("line", {}))
    name = palette.MODE_NAMES[mode]
    return trace("scatter", meta, name, mode="lines", legendgroup=mode, line=line, **style)


def mode_bar(meta: str, name: str, mode: str, **style: Any) -> TraceData:
    """One segment of a mode's horizontal bar (named on the y axis after the mode), its
    label written inside it, level and centred. The segments of a bar are placed end to
    end by :func:`segments` (each its own ``base``), in a layout of ``barmode="overlay"``:
    the browser then redraws a moved segment on plotly.js's fast path, which draws no
    ``barmode="stack"``."""
    label = palette.MODE_NAMES[mode]
    inside = {"textposition": "inside", "textangle": 0, "insidetextanchor": "middle"}
    bar = {"orientation": "h", "legendgroup": mode, "y": [label], **inside}
    return trace("bar", meta, name, **bar, **style)


# Labels inside bar segments: a label is written only where it fits at a readable size.
LABEL_CHAR_PX = 7.5  # px: mean width of a character of the 16 px Arial labels inside bars
LABEL_PAD_PX = 6  # px: plotly.js keeps 3 px between a bar's edge and its label
BAR_PLOT_PX = 700  # px: width of a lesson chart's plot area the labels are fitted to
BAR_RANGE_ROOM = 1.15  # the browser's axis holds the longest bar plus 15 % (figure.js)
LABEL_MIN_SCALE = 0.75  # a label may shrink to 12 px (of 16) to fit; below that: hidden


def segments(lengths: Sequence[float], labels: Sequence[str], longest: float) -> list[TraceData]:
    """The trace values of a bar's segments laid end to end from 0: ``x`` (its length),
    ``base`` (where it starts: the sum of the lengths before it), ``text`` (its label,
    where it fits) and ``hovertext`` (its label, always).

    A label is kept only where it fits its segment at 12 px or more, on a chart whose
    longest bar is ``longest`` (data units) on a plot :data:`BAR_PLOT_PX` wide; else it
    is blank (the summary and the hover still say it). plotly's ``uniformtext`` would
    hide such labels in the browser, but keeps every update off plotly.js's fast path.
    """
    traces: list[TraceData] = []
    start = 0.0
    px_per_unit = BAR_PLOT_PX / (BAR_RANGE_ROOM * longest) if longest > 0 else 0.0
    for length, label in zip(lengths, labels, strict=True):
        needed = LABEL_MIN_SCALE * (LABEL_CHAR_PX * len(label)) + LABEL_PAD_PX
        text = label if label and length * px_per_unit >= needed else ""
        traces.append({"x": points([length]), "base": start, "text": [text], "hovertext": [label]})
        start += length
    return traces
