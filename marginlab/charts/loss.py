"""Loss at liquidation: per margin mode, how much of the wallet is lost and how much kept.

One horizontal bar per mode, the wallet split into "lost" (solid, the mode's colour) and
"kept" (pale, the mode's colour), segments laid end to end (each its own ``base``; a
label too long for its segment is left out, the hover still says it). The guide's
example: isolated loses its 2,000 USDT margin and keeps 8,000; cross loses the whole
10,000. A negative loss is a gain: the whole wallet is kept and the gain ("up", pale and
hatched) extends the bar past it. The input is one :class:`LossBars`, keyed by
:class:`~marginlab.engine.MarginMode`; a mode left out has no position (its bar keeps
the whole wallet and says why, from ``notes``).

Trace keys (``meta``): lost-cross, kept-cross, gain-cross, lost-isolated, kept-isolated,
gain-isolated.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import plotly.graph_objects as go

from marginlab.charts import _common, palette
from marginlab.charts import format as fmt
from marginlab.charts._common import Chart, TraceData, scalar, segments
from marginlab.engine.errors import MarginError
from marginlab.engine.types import MODES, MarginMode

NAME = "loss_at_liquidation"
TITLE = "What liquidation costs: Cross vs Isolated"


@dataclass(frozen=True)
class LossBars:
    """The wallet (USDT) and, per mode, what it has lost (negative: a gain) and whether
    that mode's position is liquidated. ``notes[mode]`` says why a mode left out of
    ``loss_usdt`` has no position ("not available" by default)."""

    wallet_balance_usdt: float
    loss_usdt: Mapping[MarginMode, float]
    liquidated: Mapping[MarginMode, bool]
    notes: Mapping[MarginMode, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        wallet = scalar(self.wallet_balance_usdt, "wallet_balance_usdt")
        if wallet < 0:
            raise MarginError(f"wallet_balance_usdt must be 0 or more, got {wallet!r}")
        loss = {
            MarginMode.parse(m, "loss_usdt"): _check_loss(v, f"loss_usdt[{m!r}]", wallet)
            for m, v in dict(self.loss_usdt).items()
        }
        liquidated = {
            MarginMode.parse(m, "liquidated"): bool(v) for m, v in self.liquidated.items()
        }
        if set(liquidated) != set(loss):
            raise MarginError("liquidated must name the same modes as loss_usdt")
        object.__setattr__(self, "wallet_balance_usdt", wallet)
        object.__setattr__(self, "loss_usdt", loss)
        object.__setattr__(self, "liquidated", liquidated)
        object.__setattr__(
            self, "notes", {MarginMode.parse(m): str(v) for m, v in self.notes.items()}
        )


def _traces() -> list[TraceData]:
    traces = []
    for mode in MODES:  # cross at the bottom, isolated on top
        color = palette.MODE_COLORS[mode]
        label = palette.MODE_NAMES[mode]
        pale = palette.with_alpha(color, 0.25)
        for part, fill, text_color in (
            ("lost", color, "white"),
            ("kept", pale, palette.BLACK),
            ("gain", pale, palette.BLACK),
        ):
            marker: TraceData = {"color": fill, "line": {"color": color, "width": 2}}
            if part == "gain":  # the same pale fill, told apart by hatching
                marker["pattern"] = {"shape": "/", "fgcolor": color, "solidity": 0.15}
            traces.append(
                _common.mode_bar(
                    f"{part}-{mode}",
                    f"{label}: {part}",
                    mode,
                    marker=marker,
                    textfont={"color": text_color},
                    hovertemplate=f"{label}, {part}: %{{x:,.2f}} USDT<extra></extra>",
                )
            )
    return traces


def _check_loss(value: object, name: str, wallet: float) -> float:
    """The loss in USDT: at most the wallet (float dust above it is clipped); negative is
    a gain."""
    loss = scalar(value, name)
    tolerance = 1e-9 * max(wallet, 1.0)  # float dust from wallet − kept
    if loss > wallet + tolerance:
        raise MarginError(
            f"{name} must be at most wallet_balance_usdt ({fmt.usdt(wallet)}; a negative loss "
            f"is a gain), got {value!r}"
        )
    return min(loss, wallet)


def _clause(bars: LossBars, mode: MarginMode) -> str:
    wallet = bars.wallet_balance_usdt
    if mode not in bars.loss_usdt:
        return f"{mode.value} has no position ({bars.notes.get(mode, 'not available')})"
    loss = bars.loss_usdt[mode]
    left = fmt.usdt(wallet - loss)
    if bars.liquidated[mode]:
        verb = f"loses {fmt.usdt(loss)}" if loss >= 0 else f"is up {fmt.usdt(-loss)}"
        return f"{mode.value} liquidation {verb} and keeps {left}"
    if loss >= 0:
        return f"{mode.value} is not liquidated (down {fmt.usdt(loss)}, {left} left)"
    return f"{mode.value} is not liquidated (up {fmt.usdt(-loss)}, {left} in all)"


def _data(bars: LossBars) -> tuple[list[TraceData], str]:
    if not isinstance(bars, LossBars):
        raise TypeError(f"bars must be LossBars, got {type(bars).__name__}")
    wallet = bars.wallet_balance_usdt
    parts = {}  # mode -> (lost, kept, gain) lengths and labels
    for mode in MODES:
        if mode not in bars.loss_usdt:  # no position: the whole wallet kept, and why
            why = bars.notes.get(mode, "not available")
            parts[mode] = (0.0, wallet, 0.0), ("", f"no position: {why}", "")
            continue
        loss = bars.loss_usdt[mode]
        lost, gain = max(loss, 0.0), max(-loss, 0.0)
        lost_word = "lost" if bars.liquidated[mode] else "down"
        parts[mode] = (
            (lost, wallet - lost, gain),
            (
                f"{lost_word} {fmt.price(lost)}" if lost else "",
                f"kept {fmt.price(wallet - lost)}",
                f"up {fmt.price(gain)}" if gain else "",
            ),
        )
    longest = max(sum(lengths) for lengths, _ in parts.values())
    traces = [t for lengths, labels in parts.values() for t in segments(lengths, labels, longest)]
    clauses = "; ".join(_clause(bars, mode) for mode in (MarginMode.ISOLATED, MarginMode.CROSS))
    return traces, f"From a {fmt.usdt(wallet)} wallet, {clauses}."


def loss_at_liquidation_figure(bars: LossBars, *, title: str | None = TITLE) -> Chart:
    """Lost vs kept per mode, in USDT, out of the wallet (``title`` fixed at build time).

    A loss is what the wallet gave up (the engine's ``LiquidationOutcome.loss_usdt``, or
    ``Account.wallet_loss``); kept = wallet − loss. A mode not liquidated shows its running
    loss ("down ..."); a negative loss is a gain ("up ...", the mark above a long's entry):
    the wallet is kept whole and the gain is drawn past it. A loss is at most the wallet.

    >>> chart = loss_at_liquidation_figure(LossBars(10_000, {"cross": 10_000,
    ...     "isolated": 2_000}, {"cross": True, "isolated": True}))
    >>> for clause in chart.summary.split("; "):
    ...     print(clause)
    From a 10,000.00 USDT wallet, isolated liquidation loses 2,000.00 USDT and keeps 8,000.00 USDT
    cross liquidation loses 10,000.00 USDT and keeps 0.00 USDT.
    """
    layout = _common.base_layout(
        NAME,
        title,
        barmode="overlay",  # each segment starts where the one before it ends (its base)
        height=320,
        showlegend=False,  # the bars are labelled and the axis names the modes
        xaxis=_common.axis("USDT", usdt=True, zero=True),
        yaxis={"fixedrange": True},
    )
    return _common.figure(NAME, _traces(), _data(bars), layout)


def update_loss_at_liquidation(fig: go.Figure, bars: LossBars) -> str:
    """Write new amounts into a figure from :func:`loss_at_liquidation_figure`."""
    return _common.update(fig, NAME, _data(bars))
