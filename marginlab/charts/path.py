"""Equity and margin ratio along one price path, per margin mode, with events.

Two rows on one step axis: equity (USDT) per mode on top; margin ratio (percent) per
mode below, with the liquidation level at 100 %. Liquidations and stop-loss exits are
markers on the equity curves. Event positions are 0-based indices into the arrays, as
the simulation reports them (``liquidated_at``; -1 or None = never); an index past the
end of the arrays is an event not reached yet (a replay shows the path step by step).

At a mode's liquidation step its margin ratio is drawn at 100 % (or the value given, if
higher): the engine records each step after that step's events, when the liquidated
position is gone (ratio NaN, or the ratio of what is still open), so the recorded ratio
never shows the threshold being reached. The summary's peak ratio counts it too.

What a tick sends: evenly spaced numeric steps travel as ``x0`` and ``dx``, not as an
array per curve, so a replay's growing prefix re-sends no x; the curves' values travel
as float32 (4 bytes a point) while every value is below 2**17, where float32 is within
0.004 of it (the hover shows 2 decimals), else as float64. A play tick on a 720-step
path sends ~12 KB.

The input is one :class:`EquityPaths`: the steps and a :class:`ModePath` per
:class:`~marginlab.engine.MarginMode`, used by the builder and the updater alike.

Trace keys (``meta``): equity-cross, equity-isolated, ratio-cross, ratio-isolated,
ratio-limit, liquidations, stops.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import plotly.graph_objects as go

from marginlab.charts import _common, palette
from marginlab.charts import format as fmt
from marginlab.charts._common import SMALL, Chart, TraceData, compact, floats, points, same_length
from marginlab.engine.errors import MarginError
from marginlab.engine.types import MODES, MarginMode

NAME = "equity_path"
TITLE = "Equity and margin ratio along the path"
ROWS = {"equity": ("x", "y"), "ratio": ("x2", "y2")}


def _on(row: str) -> dict[str, str]:
    xaxis, yaxis = ROWS[row]
    return {"xaxis": xaxis, "yaxis": yaxis}


def _traces() -> list[TraceData]:
    traces: list[TraceData] = []
    for row, unit in (("equity", "%{y:,.2f} USDT"), ("ratio", "%{y:.2f}%")):
        for mode in MODES:
            traces.append(
                _common.mode_curve(
                    f"{row}-{mode}",
                    mode,
                    showlegend=row == "equity",
                    hovertemplate=f"%{{x}}: {unit}<extra>{mode.title()}</extra>",
                    **_on(row),
                )
            )
    limit = "Liquidation (ratio 100%)"
    traces.append(
        _common.line_trace("ratio-limit", limit, palette.LIQUIDATION, dash="dash", **_on("ratio"))
    )
    for key, name, color, symbol in (
        ("liquidations", "Liquidation", palette.LIQUIDATION, "x"),
        ("stops", "Stop-loss exit", palette.STOP, "square"),
    ):
        hover = "%{text}: %{y:,.2f} USDT<extra></extra>"
        traces.append(
            _common.marker_trace(
                key, name, color, symbol=symbol, size=15, hovertemplate=hover, **_on("equity")
            )
        )
    return traces


def _steps(value: object) -> np.ndarray:
    arr = np.asarray(value)
    if arr.dtype.kind not in "iufM":
        raise TypeError(f"steps must be an array of numbers or datetimes, got dtype {arr.dtype}")
    if arr.ndim != 1 or len(arr) == 0:
        raise MarginError(f"steps must be a non-empty 1-d array, got shape {arr.shape}")
    if arr.dtype.kind == "f" and not np.all(np.isfinite(arr)):
        raise MarginError("steps must be finite (no NaN or infinity)")
    return arr


def _index(value: int | None, name: str) -> int:
    """An event index; -1 for "never"."""
    if value is None:
        return -1
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise TypeError(f"{name} must be an int index or None, got {value!r}")
    if value < -1:
        raise MarginError(f"{name} must be -1 (never) or a 0-based index, got {value!r}")
    return int(value)


def _x(x: np.ndarray) -> TraceData:
    """The curves' x: ``x0`` and ``dx`` when the steps are evenly spaced numbers, else the
    array (int32 where it fits, which travels as 4-byte binary)."""
    if x.dtype.kind in "iuf":
        first = x[0].item()
        dx = (x[1] - x[0]).item() if len(x) > 1 else 1
        if dx > 0 and np.array_equal(x, first + dx * np.arange(len(x))):
            return {"x": None, "x0": first, "dx": dx}
    if len(x) <= SMALL:
        values: object = x.tolist()
    elif x.dtype.kind in "iu" and np.all(np.abs(x) < 2**31):
        values = x.astype(np.int32)
    elif x.dtype.kind in "iu":
        values = x.astype(float)  # int64 would travel as a JSON list
    else:
        values = x
    return {"x": values, "x0": None, "dx": None}


def _label_positions(heights: list[float]) -> list[str]:
    """Where the labels of one kind of event go: two labels never overlap, as the higher
    marker's label goes above it and the lower's below (ties: cross above)."""
    if len(heights) < 2:
        return ["top center"] * len(heights)
    upper = int(np.argmax(heights))  # the first of equal heights: cross comes first
    return ["top center" if i == upper else "bottom center" for i in range(len(heights))]


def _step_text(step: Any) -> str:
    """ "step 412", "step 0.5" or a date "2024-03-01T12:00"."""
    if isinstance(step, np.datetime64):
        return np.datetime_as_string(step, unit="m")
    value = float(step)
    return f"step {int(value):,}" if value.is_integer() else f"step {value:g}"


@dataclass(frozen=True)
class ModePath:
    """One mode along a path: equity (USDT) and margin ratio (fractions; NaN when nothing
    is open) per step, and the steps of its first liquidation and stop-loss exit (0-based
    indices; None: never; an index past the arrays is an event not reached yet)."""

    equity_usdt: np.ndarray
    margin_ratio: np.ndarray
    liquidated_at: int | None = None
    stopped_at: int | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "equity_usdt", floats(self.equity_usdt, "equity_usdt"))
        object.__setattr__(self, "margin_ratio", floats(self.margin_ratio, "margin_ratio"))
        object.__setattr__(self, "liquidated_at", _index(self.liquidated_at, "liquidated_at"))
        object.__setattr__(self, "stopped_at", _index(self.stopped_at, "stopped_at"))


@dataclass(frozen=True)
class EquityPaths:
    """The steps (numbers or datetimes) and each mode's :class:`ModePath` along them."""

    steps: np.ndarray
    modes: Mapping[MarginMode, ModePath]

    def __post_init__(self) -> None:
        modes = {MarginMode.parse(m, "modes"): v for m, v in dict(self.modes).items()}
        if set(modes) != set(MODES) or not all(isinstance(v, ModePath) for v in modes.values()):
            raise MarginError("modes must map both margin modes to a ModePath")
        x = _steps(self.steps)
        same_length(
            {
                "steps": x,
                **{f"{m}.equity_usdt": v.equity_usdt for m, v in modes.items()},
                **{f"{m}.margin_ratio": v.margin_ratio for m, v in modes.items()},
            }
        )
        object.__setattr__(self, "steps", x)
        object.__setattr__(self, "modes", modes)

    def upto(self, step: int) -> EquityPaths:
        """The path up to ``step`` (inclusive): a replay shown as far as it has played."""
        end = step + 1
        return EquityPaths(
            self.steps[:end],
            {
                m: ModePath(
                    v.equity_usdt[:end], v.margin_ratio[:end], v.liquidated_at, v.stopped_at
                )
                for m, v in self.modes.items()
            },
        )


def _data(paths: EquityPaths) -> tuple[list[TraceData], str]:
    if not isinstance(paths, EquityPaths):
        raise TypeError(f"paths must be EquityPaths, got {type(paths).__name__}")
    x = paths.steps
    n = len(x)
    equity = {m: paths.modes[m].equity_usdt for m in MODES}
    ratio = {m: paths.modes[m].margin_ratio for m in MODES}
    events = {
        "liquidated": {m: paths.modes[m].liquidated_at for m in MODES},
        "stopped out": {m: paths.modes[m].stopped_at for m in MODES},
    }

    for mode in MODES:
        if 0 <= (i := events["liquidated"][mode]) < n:
            ratio[mode] = ratio[mode].copy()  # never write into the caller's array
            ratio[mode][i] = np.fmax(ratio[mode][i], 1.0)  # recorded after it; see above
    x_spec = _x(x)
    traces: list[TraceData] = [{**x_spec, "y": compact(equity[mode])} for mode in MODES]
    for mode in MODES:
        shown = np.where(np.isfinite(ratio[mode]), 100.0 * ratio[mode], np.nan)  # inf: a gap
        traces.append({**x_spec, "y": compact(shown)})
    traces.append(
        {"x": x[[0, -1]].tolist(), "y": [100.0, 100.0], "text": ["liquidation at 100%", ""]}
    )
    for kind in events:
        # A point per mode, empty (None) where it has no such event: the trace keeps its
        # length, so an event that appears or goes redraws on plotly.js's fast path.
        hit = {m: i for m, i in events[kind].items() if 0 <= i < n}
        heights = [float(equity[m][i]) for m, i in hit.items()]
        where = dict(zip(hit, _label_positions(heights), strict=True))
        traces.append(
            {
                "x": [x[hit[m]].item() if m in hit else None for m in MODES],
                "y": points([equity[m][hit[m]] if m in hit else np.nan for m in MODES]),
                "text": [f"{palette.MODE_NAMES[m]} {kind}" if m in hit else "" for m in MODES],
                "textposition": [where.get(m, "top center") for m in MODES],
            }
        )

    clauses = []
    for mode in ("isolated", "cross"):
        happened = sorted(
            (i, f"{kind} at {_step_text(x[i])}")
            for kind in events
            if 0 <= (i := events[kind][mode]) < n
        )
        what = " and ".join(text for _, text in happened) if happened else "not liquidated"
        peak = np.nanmax(ratio[mode]) if not np.all(np.isnan(ratio[mode])) else np.nan
        clauses.append(
            f"{mode} is {what}, ending at {fmt.usdt(equity[mode][-1])} "
            f"(peak margin ratio {fmt.percent(peak)})"
        )
    summary = f"Over {n:,} steps, " + "; ".join(clauses) + "."
    return traces, summary


PAD = 0.05  # of the data's span on each side of a fixed value range (plotly's autorange pad)


def _padded(values: list[np.ndarray], include: tuple[float, ...] = ()) -> list[float] | None:
    """[low, high] around every finite value (and ``include``), padded; None: no values."""
    finite = [v[np.isfinite(v)] for v in values]
    found = np.concatenate([*finite, np.asarray(include, dtype=float)])
    if found.size == 0 or all(f.size == 0 for f in finite):
        return None
    low, high = float(found.min()), float(found.max())
    pad = PAD * ((high - low) or abs(high) or 1.0)
    return [low - pad, high + pad]


def value_ranges(whole: EquityPaths | Sequence[EquityPaths]) -> dict[str, list[float] | None]:
    """The y ranges that hold all of ``whole`` (one path, or several): {"yaxis": equity
    (USDT), "yaxis2": margin ratio (%, from 0, with the 100 % line)}; None where it has no
    finite value.

    A replay shows growing prefixes of one path; with these ranges fixed its axes stay
    put (a learner compares heights across steps) and the browser redraws only the
    curves (no new axes per step). Several paths (a trade with a stop-loss and without
    one) get the same ranges: their charts compare at a glance, and a chart switching
    between them keeps its axes.
    """
    every = [whole] if isinstance(whole, EquityPaths) else list(whole)
    equity = [p.modes[m].equity_usdt for p in every for m in MODES]
    ratio = [100.0 * p.modes[m].margin_ratio for p in every for m in MODES]
    shown = _padded(ratio, include=(0.0, 100.0))
    return {
        "yaxis": _padded(equity),
        "yaxis2": None if shown is None else [0.0, shown[1]],
    }


def _fix_value_ranges(layout: Any, whole: EquityPaths | Sequence[EquityPaths]) -> None:
    """Give the y axes of ``layout`` (a layout dict or a figure's layout) the ranges of
    ``whole``; an axis that has them already is not written (plotly validates every
    assignment)."""
    now = layout if isinstance(layout, dict) else _common.held(layout)
    for name, span in value_ranges(whole).items():
        axis = now.get(name) or {}
        current = axis.get("range")
        held_span = None if current is None else list(current)
        if held_span == span and axis.get("autorange") is (span is None):
            continue
        layout[name]["range"] = span
        layout[name]["autorange"] = span is None


def equity_path_figure(
    paths: EquityPaths,
    *,
    step_range: tuple[Any, Any] | None = None,
    whole: EquityPaths | Sequence[EquityPaths] | None = None,
    x_title: str = "step",
    title: str | None = TITLE,
) -> Chart:
    """Equity (USDT) and margin ratio (1.0 = liquidation) of :class:`EquityPaths`.

    ``step_range`` fixes the x axis (set it to the whole path when replaying a growing
    prefix, so the axis does not jump); it, ``x_title`` and ``title`` are fixed at build
    time. ``whole`` (the whole path of a replay, or several paths to share the axes)
    fixes the y axes to :func:`value_ranges`; :func:`update_equity_path` moves them with a
    new ``whole``.

    >>> chart = equity_path_figure(EquityPaths([0, 1, 2], {
    ...     "cross": ModePath([10_000, 9_000, 9_500], [0.01, 0.02, 0.015]),
    ...     "isolated": ModePath([10_000, 8_000, 8_000], [0.04, 1.0, float("nan")], 1)}))
    >>> import textwrap
    >>> print(textwrap.fill(chart.summary, 88))
    Over 3 steps, isolated is liquidated at step 1, ending at 8,000.00 USDT (peak margin
    ratio 100.00%); cross is not liquidated, ending at 9,500.00 USDT (peak margin ratio
    2.00%).
    """
    x_axis = _common.axis(x_title, anchor="y2")
    if step_range is not None:
        x_axis["range"] = list(step_range)
    layout = _common.base_layout(
        NAME,
        title,
        height=560,
        xaxis={"anchor": "y", "matches": "x2", "showticklabels": False},
        yaxis=_common.axis("equity (USDT)", usdt=True, domain=[0.42, 1.0]),
        xaxis2=x_axis,
        yaxis2=_common.axis("margin ratio", suffix="%", zero=True, domain=[0.0, 0.34]),
        hovermode="x unified",
    )
    if whole is not None:
        _fix_value_ranges(layout, whole)
    return _common.figure(NAME, _traces(), _data(paths), layout)


def update_equity_path(
    fig: go.Figure, paths: EquityPaths, whole: EquityPaths | Sequence[EquityPaths] | None = None
) -> str:
    """Write a new path (or a longer prefix of it) into a figure from :func:`equity_path_figure`;
    ``whole``: the whole path of a replay (or several paths), whose :func:`value_ranges`
    the y axes take (an unchanged range sends nothing)."""
    if whole is not None:
        _fix_value_ranges(fig.layout, whole)
    return _common.update(fig, NAME, _data(paths))
