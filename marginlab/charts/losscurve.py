"""Loss against the mark price, per margin mode: where the two modes part.

The same trade held in cross and in isolated loses exactly the same while neither is
liquidated: its running loss. At the isolated liquidation price the isolated position
is closed and its loss stops at its margin; cross keeps losing, up to the whole wallet at
its own liquidation price. One curve per mode over a range of marks (from
``Account.wallet_loss``), a vertical line at each liquidation price, and the current mark.
Where the curves coincide and where they part is read from the data, not assumed.

Trace keys (``meta``): curve-cross, curve-isolated, liquidation-cross,
liquidation-isolated, now-cross, now-isolated, mark, notes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import plotly.graph_objects as go

from marginlab.charts import _common, palette
from marginlab.charts import format as fmt
from marginlab.charts._common import Chart, TraceData, compact, floats, points, scalar
from marginlab.engine.errors import MarginError
from marginlab.engine.types import MODES, MarginMode, Side

NAME = "loss_curve"
TITLE = "Loss against the price: where Cross and Isolated part"


@dataclass(frozen=True)
class LossCurve:
    """The wallet's loss per mode over ``prices`` (USDT, negative: a gain), and where the
    learner is: ``mark_price`` and the loss there, ``current_loss_usdt`` (the engine's
    exact number; the curve may jump between two grid points). ``liquidation_price[mode]``:
    NaN where none; a mode left out of ``loss_usdt`` has no position, and ``notes[mode]``
    says why."""

    prices: np.ndarray
    loss_usdt: Mapping[MarginMode, np.ndarray]
    mark_price: float
    current_loss_usdt: Mapping[MarginMode, float]
    liquidation_price: Mapping[MarginMode, float]
    wallet_balance_usdt: float
    side: Side = Side.LONG
    notes: Mapping[MarginMode, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        prices = floats(self.prices, "prices")
        if len(prices) < 2 or not (np.all(np.isfinite(prices)) and np.all(np.diff(prices) > 0)):
            raise MarginError("prices must hold at least 2 finite prices, strictly increasing")
        loss = {
            MarginMode.parse(m, "loss_usdt"): floats(v, "loss_usdt")
            for m, v in self.loss_usdt.items()
        }
        if any(len(v) != len(prices) for v in loss.values()):
            raise MarginError("loss_usdt must hold one value per price of prices")
        liq = {
            MarginMode.parse(m, "liquidation_price"): scalar(v, "liquidation_price", allow_nan=True)
            for m, v in self.liquidation_price.items()
        }
        object.__setattr__(self, "prices", prices)
        object.__setattr__(self, "loss_usdt", loss)
        object.__setattr__(self, "liquidation_price", liq)
        object.__setattr__(self, "mark_price", scalar(self.mark_price, "mark_price"))
        current = {
            MarginMode.parse(m, "current_loss_usdt"): scalar(v, "current_loss_usdt")
            for m, v in self.current_loss_usdt.items()
        }
        if set(current) != set(loss):
            raise MarginError("current_loss_usdt must name the same modes as loss_usdt")
        object.__setattr__(self, "current_loss_usdt", current)
        object.__setattr__(self, "side", Side.parse(self.side))
        object.__setattr__(
            self, "notes", {MarginMode.parse(m): str(v) for m, v in self.notes.items()}
        )


def _traces() -> list[TraceData]:
    traces: list[TraceData] = [
        _common.mode_curve(
            f"curve-{mode}",
            mode,
            width=4 if mode == "cross" else 3,  # cross under isolated: both stay visible
            line={"dash": "solid" if mode == "cross" else "dash"},
            hovertemplate=f"price %{{x:,.0f}}: %{{y:,.2f}} USDT<extra>{mode.title()}</extra>",
        )
        for mode in MODES
    ]
    for mode in MODES:
        name, color = palette.MODE_NAMES[mode], palette.MODE_COLORS[mode]
        # Cross's label at the foot of its line, isolated's at the top: apart even when
        # the two prices are close (the curves pass neither corner).
        where = "top right" if mode == "cross" else "bottom left"
        traces.append(
            _common.line_trace(
                f"liquidation-{mode}",
                f"{name} liquidation",
                color,
                dash="dot",
                textposition=where,
                legendgroup=mode,
            )
        )
    for mode in MODES:
        name, color = palette.MODE_NAMES[mode], palette.MODE_COLORS[mode]
        traces.append(
            _common.marker_trace(
                f"now-{mode}",
                f"{name} now",
                color,
                symbol="circle" if mode == "cross" else "diamond",
                size=13,
                legendgroup=mode,
                hovertemplate=f"%{{y:,.2f}} USDT<extra>{name}</extra>",
            )
        )
    traces.append(_common.line_trace("mark", "Mark", palette.PRICE))
    notes = _common.line_trace("notes", "notes", palette.BLACK, mode="text")
    return [*traces, notes]


def _parting(curve: LossCurve) -> str:
    """Where the two curves coincide and where they part, read from the data."""
    if any(m not in curve.loss_usdt for m in MODES):
        return "no position to compare"
    cross, isolated = (curve.loss_usdt[m] for m in MODES)
    same = cross == isolated
    iso_lp = curve.liquidation_price.get(MarginMode.ISOLATED, np.nan)
    away = "above" if curve.side is Side.LONG else "below"
    toward = "below" if curve.side is Side.LONG else "above"
    cross_lp = curve.liquidation_price.get(MarginMode.CROSS, np.nan)
    if same.all():
        if iso_lp == cross_lp:
            return (
                f"the two are liquidated at the same price, {fmt.price(iso_lp)}: the margin is "
                "the whole wallet, so they never part"
            )
        if np.isnan(iso_lp) and np.isnan(cross_lp):
            return (
                "neither has a liquidation price: the two are down exactly the same at every price"
            )
        return "over the whole range the two are down exactly the same"
    if np.isnan(iso_lp):
        return "the two differ: " + _differ(curve, same)
    beyond = curve.prices > iso_lp if curve.side is Side.LONG else curve.prices < iso_lp
    held = isolated[~beyond]
    if same[beyond].all() and held.size and (held == held[0]).all():
        margin_lost = held[0]
        text = (
            f"{away} the isolated liquidation price {fmt.price(iso_lp)} the two are down "
            f"exactly the same; {toward} it they part: isolated has lost "
            f"{fmt.usdt(margin_lost)} (its margin) and stops there, while cross keeps losing"
        )
        if np.isnan(cross_lp):
            return text + " (it has no liquidation price: the wallet covers a fall to zero)"
        return text + f", up to {fmt.usdt(cross.max())} at {fmt.price(cross_lp)}"
    return "the two differ: " + _differ(curve, same)


def _differ(curve: LossCurve, same: np.ndarray) -> str:
    apart = curve.prices[~same]
    return f"between {fmt.price(apart.min())} and {fmt.price(apart.max())} they are not equal"


def _data(curve: LossCurve) -> tuple[list[TraceData], str]:
    if not isinstance(curve, LossCurve):
        raise TypeError(f"curve must be a LossCurve, got {type(curve).__name__}")
    x = curve.prices
    nan = np.full(len(x), np.nan)
    losses = [curve.loss_usdt.get(m, nan) for m in MODES]
    finite = np.concatenate([v[np.isfinite(v)] for v in losses] + [np.array([0.0])])
    low, high = float(finite.min()), float(max(finite.max(), curve.wallet_balance_usdt))
    traces: list[TraceData] = [{"x": compact(x), "y": compact(loss)} for loss in losses]
    for mode in MODES:
        lp = curve.liquidation_price.get(mode, np.nan)
        shown = bool(np.isfinite(lp) and x[0] <= lp <= x[-1])
        label = f"{palette.MODE_NAMES[mode]} liquidated at {fmt.price(lp)}" if shown else ""
        traces.append(
            {
                "x": points([lp, lp] if shown else [np.nan, np.nan]),
                "y": points([low, high]),
                "text": [fmt.wrap(label, 22), ""][:: 1 if mode == "cross" else -1],
            }
        )
    mark = curve.mark_price
    for mode in MODES:
        traces.append(
            {"x": points([mark]), "y": points([curve.current_loss_usdt.get(mode, np.nan)])}
        )
    traces.append(
        {
            "x": points([mark, mark]),
            "y": points([low, high]),
            "text": [f"Mark {fmt.price(mark)}", ""],
        }
    )
    notes = [curve.notes.get(m, "not available") for m in MODES if m not in curve.loss_usdt]
    traces.append(
        {
            "x": points([0.5 * (x[0] + x[-1])]),
            "y": points([0.5 * (low + high)]),
            "text": [fmt.wrap(f"no position: {notes[0]}", 40) if notes else ""],
        }
    )
    summary = f"The same trade, {_parting(curve)}"
    if notes:
        summary = f"No position to draw: {notes[0]}"
    return traces, summary + "."


def loss_curve_figure(curve: LossCurve, *, title: str | None = TITLE) -> Chart:
    """The loss curves of :class:`LossCurve` (``title`` fixed at build time).

    >>> import numpy as np
    >>> from marginlab.scenarios import guide_account
    >>> prices = np.arange(20_000.0, 80_001.0, 100.0)
    >>> accounts = {m: guide_account(m) for m in MODES}
    >>> chart = loss_curve_figure(LossCurve(prices,
    ...     {m: a.wallet_loss({"BTCUSDT": prices}) for m, a in accounts.items()}, 50_000,
    ...     {m: a.wallet_loss({"BTCUSDT": 50_000}) for m, a in accounts.items()},
    ...     {m: a.liquidation_price("BTCUSDT") for m, a in accounts.items()}, 10_000))
    >>> print(chart.summary)  # doctest: +NORMALIZE_WHITESPACE
    The same trade, above the isolated liquidation price 54,216.87 the two are down exactly
    the same; below it they part: isolated has lost 2,000.00 USDT (its margin) and stops
    there, while cross keeps losing, up to 10,000.00 USDT at 30,120.48.
    """
    layout = _common.base_layout(
        NAME,
        title,
        xaxis=_common.axis("mark price (USDT)", usdt=True),
        yaxis=_common.axis("lost from the wallet (USDT; below 0: a gain)", usdt=True),
    )
    return _common.figure(NAME, _traces(), _data(curve), layout)


def update_loss_curve(fig: go.Figure, curve: LossCurve) -> str:
    """Write a new :class:`LossCurve` into a figure from :func:`loss_curve_figure`."""
    return _common.update(fig, NAME, _data(curve))
