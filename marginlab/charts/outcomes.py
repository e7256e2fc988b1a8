"""Monte Carlo outcomes: the distribution of final equity over many paths, per strategy.

Histograms (percent of paths per equity bin) for cross, isolated and, optionally,
isolated with a stop-loss, on shared bins so the shapes compare. Bins are counted here
with numpy and drawn as step areas, so a tick sends ~40 heights per strategy, not every
path's value. Each strategy is named by a label over its tallest bin, in its colour (no
legend: a strategy that comes or goes changes values only, which the browser redraws
fast). The summary gives the probability of liquidation, the median and the worst final
equity of each strategy.

The input is one :class:`Outcomes`, keyed by strategy (a margin mode, or a mode with a
stop-loss), used by the builder and the updater alike.

Trace keys (``meta``): hist-cross, hist-isolated, hist-isolated_stop, hist-cross_stop, start,
labels.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go

from marginlab.charts import _common, palette
from marginlab.charts import format as fmt
from marginlab.charts._common import Chart, TraceData, floats, points, scalar
from marginlab.engine.errors import MarginError

NAME = "outcomes"
TITLE = "Final equity over many price paths"
STRATEGIES = {
    "cross": ("Cross", palette.CROSS),
    "isolated": ("Isolated", palette.ISOLATED),
    "isolated_stop": ("Isolated + stop", palette.ISOLATED_STOP),
    "cross_stop": ("Cross + stop", palette.CROSS_STOP),
}
SUMMARY_ORDER = ("isolated", "cross", "isolated_stop", "cross_stop")
SUMMARY_NAMES = {
    "isolated": "isolated",
    "cross": "cross",
    "isolated_stop": "isolated with a stop",
    "cross_stop": "cross with a stop",
}


def _traces() -> list[TraceData]:
    # Step areas, not bars: one line per strategy (a bar chart draws one shape per bin),
    # which the browser redraws several times faster.
    steps = [
        _common.trace(
            "scatter",
            f"hist-{key}",
            name,
            legendgroup=key,
            showlegend=False,
            mode="lines",
            line={"color": color, "width": 2, "shape": "hvh"},
            fill="tozeroy",
            fillcolor=palette.with_alpha(color, 0.35),
            hovertemplate=f"about %{{x:,.0f}} USDT: %{{y:.1f}}% of paths<extra>{name}</extra>",
        )
        for key, (name, color) in STRATEGIES.items()
    ]
    start = _common.line_trace(
        "start", "Start", palette.ENTRY, dash="dash", textposition="top left"
    )
    labels = _common.trace(
        "scatter",
        "labels",
        "strategies",
        mode="text",
        showlegend=False,
        textposition="top center",
        textfont={
            "color": [color for _, color in STRATEGIES.values()],
            "size": LABEL_SIZE,
            "shadow": "0 0 2px white, 0 0 3px white",  # a white halo: readable on the areas
        },
        hoverinfo="skip",
        cliponaxis=False,
    )
    return [*steps, start, labels]


LABEL_SIZE = 15  # px
LABEL_ROOM = 0.08  # of the tallest bin: a label's height, to stack labels that would touch
# A label's width in USDT: its characters at ~8 px each, on a plot ~700 px wide that shows
# the bins' span plus plotly's padding (~1.3x): an estimate, to tell labels that touch.
CHAR_PX, PLOT_PX, SHOWN_SPAN = 8.0, 700.0, 1.3


def _labels(peaks: dict[str, tuple[float, float]], span: float, top: float) -> TraceData:
    """One label per strategy over its tallest bin ((x, height) in ``peaks``), in
    :data:`STRATEGIES` order; a label that would overlap one already placed goes above
    it. ``span``: the bins' extent (USDT); ``top``: the tallest bin (%). Absent strategies
    get an empty label at the first one's place (no gap: plotly.js would drop later
    labels)."""
    usdt_per_char = CHAR_PX * SHOWN_SPAN * span / PLOT_PX
    placed: list[tuple[float, float, float]] = []  # x, y, half width (USDT)
    x, y, text = [], [], []
    anchor = next(iter(peaks.values()))
    for key, (name, _) in STRATEGIES.items():
        at, height = peaks.get(key, anchor)
        if key in peaks:
            half = len(name) * usdt_per_char / 2
            for other_x, other_y, other_half in sorted(placed, key=lambda p: p[1]):
                beside = abs(other_x - at) < half + other_half
                if beside and abs(other_y - height) < LABEL_ROOM * top:
                    height = other_y + LABEL_ROOM * top
            placed.append((at, height, half))
        x.append(at)
        y.append(height)
        text.append(name if key in peaks else "")
    return {"x": points(x), "y": points(y), "text": text}


def _nice_edges(values: np.ndarray, bins: int) -> np.ndarray:
    """At most ``bins`` + 1 equal bins of a round width (1, 2, 2.5 or 5 × 10^k USDT).

    Round edges read well ("8,000 to 8,500 USDT") and stay put while the data moves a
    little, so a tick usually resends only the heights.
    """
    low, high = float(values.min()), float(values.max())
    raw = (high - low) / bins if high > low else max(abs(low), 1.0) / bins
    magnitude = 10.0 ** np.floor(np.log10(raw))
    width = next(m * magnitude for m in (1.0, 2.0, 2.5, 5.0, 10.0) if m * magnitude >= raw)
    start = np.floor(low / width) * width
    count = max(1, int(np.ceil((high - start) / width)))
    return start + width * np.arange(count + 1)


def _probability(value: float | None, name: str) -> float:
    probability = scalar(value, name)
    if not 0.0 <= probability <= 1.0:
        raise MarginError(f"{name} must be a fraction between 0 and 1, got {value!r}")
    return probability


@dataclass(frozen=True)
class Outcomes:
    """Final equity per path (USDT) and the share of paths liquidated (a fraction), per
    strategy: "cross" and "isolated", optionally "isolated_stop" and "cross_stop".
    ``initial_equity_usdt`` draws a start line; ``bins`` is the most bins wanted (shared,
    of a round width)."""

    final_equity_usdt: Mapping[str, np.ndarray]
    liquidation_probability: Mapping[str, float]
    initial_equity_usdt: float | None = None
    bins: int = 40

    def __post_init__(self) -> None:
        equity = {str(k): v for k, v in self.final_equity_usdt.items()}
        chance = {str(k): v for k, v in self.liquidation_probability.items()}
        if set(equity) != set(chance):
            raise MarginError(
                "final_equity_usdt, liquidation_probability: give both for each strategy"
            )
        if not {"cross", "isolated"} <= set(equity) <= set(STRATEGIES):
            raise MarginError(
                "final_equity_usdt must hold cross and isolated (and optionally "
                f"isolated_stop, cross_stop), got {sorted(equity)}"
            )
        bins = self.bins
        if isinstance(bins, bool) or not isinstance(bins, int) or not 1 <= bins <= 500:
            raise MarginError(f"bins must be an int between 1 and 500, got {bins!r}")
        arrays = {}
        for key, values in equity.items():
            arrays[key] = floats(values, f"final_equity_usdt[{key!r}]")
            if len(arrays[key]) == 0 or not np.all(np.isfinite(arrays[key])):
                raise MarginError(f"final_equity_usdt[{key!r}] must hold finite values")
        if len({len(v) for v in arrays.values()}) > 1:
            raise MarginError("final equity arrays must have one value per path, the same paths")
        object.__setattr__(self, "final_equity_usdt", arrays)
        object.__setattr__(
            self,
            "liquidation_probability",
            {k: _probability(v, f"liquidation_probability[{k!r}]") for k, v in chance.items()},
        )
        if self.initial_equity_usdt is not None:
            start = scalar(self.initial_equity_usdt, "initial_equity_usdt")
            object.__setattr__(self, "initial_equity_usdt", start)


def _data(outcomes: Outcomes) -> tuple[list[TraceData], str]:
    if not isinstance(outcomes, Outcomes):
        raise TypeError(f"outcomes must be Outcomes, got {type(outcomes).__name__}")
    equity, probability = outcomes.final_equity_usdt, outcomes.liquidation_probability
    n_paths = len(equity["cross"])
    start = np.nan if outcomes.initial_equity_usdt is None else outcomes.initial_equity_usdt
    bins = outcomes.bins

    edges = _nice_edges(np.concatenate(list(equity.values())), bins)
    centers = 0.5 * (edges[:-1] + edges[1:])
    # Each bin's share at its centre; with "hvh" steps it spans the bin, and the two ends
    # (the outer edges, at the outer bins' shares) close the first and the last bin.
    x = np.concatenate([edges[:1], centers, edges[-1:]])
    traces: list[TraceData] = []
    top = 0.0
    peaks = {}
    for key in STRATEGIES:
        # The same properties every time: a strategy left out has no points (gaps).
        share = np.full_like(centers, np.nan)
        if key in equity:
            counts = np.histogram(equity[key], bins=len(edges) - 1, range=(edges[0], edges[-1]))[0]
            share = 100.0 * counts / n_paths  # equal bins: numpy's O(n) path, no sort
            top = max(top, float(share.max()))
            peaks[key] = (float(centers[np.argmax(share)]), float(share.max()))
        y = np.concatenate([share[:1], share, share[-1:]])
        traces.append({"x": points(x), "y": points(y)})
    traces.append(
        {
            "x": points([start, start]),
            # Above every strategy's label (each at most one label height above another).
            "y": [0.0, top * (1.0 + LABEL_ROOM * (len(peaks) + 0.5))],
            "text": ["", f"start {fmt.price(start)}"],
            "visible": outcomes.initial_equity_usdt is not None,
        }
    )
    traces.append(_labels(peaks, float(edges[-1] - edges[0]), top))

    clauses = []
    for i, key in enumerate(k for k in SUMMARY_ORDER if k in equity):
        verb = "is liquidated on " if i == 0 else "on "
        of_them = " of them" if i == 0 else ""
        median = "median final equity " if i == 0 else "median "
        clauses.append(
            f"{SUMMARY_NAMES[key]} {verb}{fmt.percent(probability[key])}{of_them} "
            f"({median}{fmt.usdt(float(np.median(equity[key])))}, "
            f"worst {fmt.usdt(float(equity[key].min()))})"
        )
    summary = f"Over {n_paths:,} paths, " + "; ".join(clauses) + "."
    return traces, summary


def outcomes_figure(outcomes: Outcomes, *, title: str | None = TITLE) -> Chart:
    """Histograms of final equity (USDT, one value per path) per strategy.

    >>> import textwrap
    >>> chart = outcomes_figure(Outcomes(
    ...     {"cross": [0, 10_500, 11_000, 9_000], "isolated": [8_000, 10_500, 11_000, 8_000]},
    ...     {"cross": 0.25, "isolated": 0.5}))
    >>> print(textwrap.fill(chart.summary, 88))
    Over 4 paths, isolated is liquidated on 50.00% of them (median final equity 9,250.00
    USDT, worst 8,000.00 USDT); cross on 25.00% (median 9,750.00 USDT, worst 0.00 USDT).
    """
    layout = _common.base_layout(
        NAME,
        title,
        xaxis=_common.axis("final equity (USDT)", usdt=True),
        yaxis=_common.axis("share of paths", suffix="%", zero=True),
    )
    return _common.figure(NAME, _traces(), _data(outcomes), layout)


def update_outcomes(fig: go.Figure, outcomes: Outcomes) -> str:
    """Write new distributions into a figure from :func:`outcomes_figure`."""
    return _common.update(fig, NAME, _data(outcomes))
