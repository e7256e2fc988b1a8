"""One trade in both margin modes: the accounts, or why the exchange refuses the order.

The comparison widgets place the same order (:class:`~marginlab.scenarios.Trade`) in a
cross and in an isolated account and draw the two side by side. An order the exchange
refuses as placed (a margin larger than the available balance, a leverage above its
bracket's maximum) is a state the learner can reach with a slider, so it is drawn, not
raised: :func:`open_both` returns the engine's reason, and every chart says it. A value
that is not an order at all (NaN, a negative size) is still refused by the engine and
shown beside the controls.

Also here: :func:`ladder_of`, the price ladder's input for one position in each mode,
every level read from :meth:`Account.levels`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from marginlab.charts import Ladder
from marginlab.charts import format as fmt
from marginlab.engine import (
    MODES,
    Account,
    BracketError,
    InsufficientMarginError,
    MarginError,
    MarginMode,
)
from marginlab.scenarios import Trade

__all__ = ["REFUSED", "Both", "held_marks", "ladder_of", "open_both", "trade_of"]

REFUSED = {
    "balance": "order refused: its margin is more than the available balance",
    "bracket": "order refused: the leverage is above its bracket's maximum for this size",
}


@dataclass(frozen=True, eq=False)
class Both:
    """The trade opened in each mode, or (``accounts`` empty) the engine's reason why not."""

    trade: Trade
    accounts: Mapping[MarginMode, Account]
    refusal: str = ""  # the engine's message
    reason: str = ""  # the same in a few words, for a chart

    @property
    def notes(self) -> dict[MarginMode, str]:
        """Per mode, what a chart says in place of a position that was not opened."""
        return {} if self.opened else {mode: self.reason for mode in MODES}

    @property
    def opened(self) -> bool:
        return not self.refusal

    def account(self, mode: str) -> Account:
        """The account in ``mode`` ("cross"/"isolated"); refused orders have none."""
        wanted = MarginMode.parse(mode)
        if not self.opened:
            raise MarginError(f"mode: no {wanted.value} account: {self.refusal}")
        return self.accounts[wanted]

    def ladder(self, mark_price: float | None = None, stop_price: float | None = None) -> Ladder:
        """The price ladder of the trade at ``mark_price`` (default: entry): both modes'
        levels, or the refusal in both columns."""
        trade = self.trade
        if not self.opened:
            mark = trade.entry_price if mark_price is None else mark_price
            return Ladder(
                {},
                mark_price=mark,
                stop_price=stop_price,
                notes=self.notes,
                entry_price=trade.entry_price,
                side=trade.side,
            )
        marks = None if mark_price is None else {trade.symbol: mark_price}
        return ladder_of(self.accounts, trade.symbol, marks, stop_price=stop_price)

    def describe(self) -> str:
        """What is held fixed, for a summary: "20,000.00 USDT long, 10x (margin 2,000.00
        USDT) from a 10,000.00 USDT wallet"."""
        trade = self.trade
        head = f"{fmt.usdt(trade.notional)} {trade.side} position, {fmt.leverage(trade.leverage)}"
        if self.opened:
            margin = self.accounts[MarginMode.ISOLATED].position(trade.symbol).isolated_margin
            head += f" (margin {fmt.usdt(margin)})"
        return f"{head}, from a {fmt.usdt(trade.wallet_balance)} wallet"


def trade_of(values: Mapping[str, object], **fixed: object) -> Trade:
    """The :class:`~marginlab.scenarios.Trade` an order form's controls hold (``notional``,
    ``leverage``, ``balance``, ``side``), with ``fixed`` settings such as a fee rate."""
    return Trade(
        notional=values["notional"],
        leverage=values["leverage"],
        wallet_balance=values["balance"],
        side=values["side"],
        **fixed,
    )


def open_both(trade: Trade) -> Both:
    """The trade in each mode; a refusal (margin above the balance, leverage above the
    bracket's) becomes a drawn state with the engine's reason. Other errors raise."""
    try:
        accounts = {mode: trade.account(mode) for mode in MODES}
    except InsufficientMarginError as exc:
        return Both(trade, {}, f"The exchange refuses this order: {exc}.", REFUSED["balance"])
    except BracketError as exc:
        return Both(trade, {}, f"The exchange refuses this order: {exc}.", REFUSED["bracket"])
    return Both(trade, accounts)


def held_marks(account: Account, marks: Mapping[str, float] | None) -> dict[str, float]:
    """The marks of the symbols ``account`` holds a position on (the engine refuses a mark
    for a symbol without one: it would be ignored)."""
    return {s: m for s, m in (marks or {}).items() if account.positions_of(s)}


def ladder_of(
    accounts: Mapping[MarginMode, Account],
    symbol: str,
    marks: Mapping[str, float] | None = None,
    *,
    notes: Mapping[MarginMode, str] | None = None,
    stop_price: float | None = None,
) -> Ladder:
    """The price ladder of one symbol's position in each mode, from :meth:`Account.levels`.

    ``accounts`` maps modes to an account holding that position in that mode (its first
    leg in hedge mode); a mode left out is drawn as not available, with ``notes[mode]``.

    >>> from marginlab.scenarios import guide_account
    >>> ladder = ladder_of({m: guide_account(m) for m in MODES}, "BTCUSDT")
    >>> round(ladder.levels["isolated"].liquidation_price, 2)
    54216.87
    """
    name = symbol.strip().upper()
    levels = {}
    for mode, account in accounts.items():
        held = account.positions_of(name)
        if not held:
            raise MarginError(f"accounts[{mode!r}]: there is no open {name} position")
        levels[mode] = account.levels(name, held_marks(account, marks), side=held[0].side)
        if levels[mode].margin_mode is not MarginMode.parse(mode):
            raise MarginError(
                f"accounts[{mode!r}]: its {name} position is {levels[mode].margin_mode}"
            )
    return Ladder(levels, stop_price=stop_price, notes=notes or {})
