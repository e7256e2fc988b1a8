"""Where the wallet is: per margin mode, what each position holds and what is available.

One horizontal bar per mode, split into a segment per position (an isolated position's
assigned margin, solid; a cross position's initial margin, hatched: it stays in the pool
that backs every cross position) and the available balance, what a top-up or a new order
can still use. Segments are laid end to end (each its own ``base``); a label too long
for its segment is left out (the hover still says it). A new order takes its margin from
the available balance in either mode; only an isolated position keeps what it holds to
itself. The input is one :class:`BalanceSplit`: an ``Account.state`` per
:class:`~marginlab.engine.MarginMode`.

Trace keys (``meta``): slot0-cross, slot1-cross, slot2-cross, free-cross (the available
balance), and the same for isolated.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import plotly.graph_objects as go

from marginlab.charts import _common, palette
from marginlab.charts import format as fmt
from marginlab.charts._common import Chart, TraceData, segments
from marginlab.engine.account import AccountState
from marginlab.engine.errors import MarginError
from marginlab.engine.types import MODES, MarginMode

NAME = "balance"
TITLE = "Where the wallet is: held by positions, and available"
SLOTS = 3  # positions drawn per mode


@dataclass(frozen=True)
class BalanceSplit:
    """Each mode's account state (``Account.state`` at the marks shown)."""

    states: Mapping[MarginMode, AccountState]

    def __post_init__(self) -> None:
        states = {MarginMode.parse(m, "states"): v for m, v in dict(self.states).items()}
        if set(states) != set(MODES) or not all(
            isinstance(v, AccountState) for v in states.values()
        ):
            raise MarginError("states must map both margin modes to an AccountState")
        for mode, state in states.items():
            if len(state.positions) > SLOTS:
                raise MarginError(f"states[{mode.value!r}]: at most {SLOTS} positions are drawn")
        object.__setattr__(self, "states", states)


def _traces() -> list[TraceData]:
    traces = []
    for mode in MODES:
        color, label = palette.MODE_COLORS[mode], palette.MODE_NAMES[mode]
        for slot in range(SLOTS + 1):
            free = slot == SLOTS
            marker: TraceData = {
                "color": palette.with_alpha(color, 0.15 if free else 0.85),
                "line": {"color": color, "width": 2},
            }
            if mode is MarginMode.CROSS and not free:  # held, but still in the shared pool
                marker["pattern"] = {"shape": "/", "fgcolor": "white", "solidity": 0.3}
            traces.append(
                _common.mode_bar(
                    f"free-{mode}" if free else f"slot{slot}-{mode}",
                    label,
                    mode,
                    marker=marker,
                    textfont={"color": palette.BLACK if free else "white"},
                    hovertemplate=f"{label}: %{{hovertext}}<extra></extra>",
                )
            )
    return traces


def _held(state: AccountState) -> list[tuple[str, float, str]]:
    """(label, USDT, what) per position: its assigned margin, or its initial margin."""
    held = []
    for s in state.positions:
        p = s.position
        amount = p.isolated_margin if p.is_isolated else s.initial_margin
        what = "assigned" if p.is_isolated else "in use"
        held.append((f"{p.symbol.removesuffix('USDT')} {fmt.price(amount)}", amount, what))
    return held


def _data(split: BalanceSplit) -> tuple[list[TraceData], str]:
    if not isinstance(split, BalanceSplit):
        raise TypeError(f"split must be a BalanceSplit, got {type(split).__name__}")
    traces: list[TraceData] = []
    clauses = []
    bars = {}  # mode -> segment lengths and labels: a position per slot, then what is free
    for mode in MODES:
        state = split.states[mode]
        held = _held(state)
        slots = [held[slot] if slot < len(held) else ("", 0.0, "") for slot in range(SLOTS)]
        free = max(state.available_balance, 0.0)
        bars[mode] = (
            [amount for _, amount, _ in slots] + [free],
            [label for label, _, _ in slots] + [f"available {fmt.price(free)}"],
        )
        parts = ", ".join(f"{label} {what}" for label, _, what in held) or "no position"
        clauses.append(f"{mode.value}: {parts}; available {fmt.usdt(state.available_balance)}")
    longest = max(sum(lengths) for lengths, _ in bars.values())
    for lengths, labels in bars.values():
        traces += segments(lengths, labels, longest)
    return traces, "Wallet split, " + "; ".join(reversed(clauses)) + "."


def balance_figure(split: BalanceSplit, *, title: str | None = TITLE) -> Chart:
    """The wallet split of a :class:`BalanceSplit` (``title`` fixed at build time).

    >>> from marginlab.scenarios import guide_account
    >>> chart = balance_figure(BalanceSplit({m: guide_account(m).state() for m in MODES}))
    >>> for clause in chart.summary.split("; "):
    ...     print(clause)
    Wallet split, isolated: BTC 2,000.00 assigned
    available 8,000.00 USDT
    cross: BTC 2,000.00 in use
    available 8,000.00 USDT.
    """
    layout = _common.base_layout(
        NAME,
        title,
        barmode="overlay",  # each segment starts where the one before it ends (its base)
        height=300,
        showlegend=False,
        xaxis=_common.axis("USDT", usdt=True, zero=True),
        yaxis={"fixedrange": True},
    )
    return _common.figure(NAME, _traces(), _data(split), layout)


def update_balance(fig: go.Figure, split: BalanceSplit) -> str:
    """Write a new :class:`BalanceSplit` into a figure from :func:`balance_figure`."""
    return _common.update(fig, NAME, _data(split))
