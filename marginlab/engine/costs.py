"""What a position costs besides the price moving: trading fees and funding.

* :data:`FEE_RATES`: the regular (non-VIP) USDⓈ-M commission rates, maker 0.02 % and
  taker 0.05 % of the notional per fill (docs/formulas.md §6).
* :func:`round_trip_fees`: the fees of opening and closing a position, with their share
  of its initial margin; :func:`fee_share_of_margin` gives that share over a grid of
  leverages (``(open rate + close rate) × leverage`` for a round trip at the entry
  price: at 100x two taker fees are 10 % of the margin).
* :func:`hold_with_funding`: an account holding one position at a fixed mark while
  funding is settled every interval (:meth:`Account.apply_funding`, then
  :meth:`Account.liquidate`, repeated): what backs the position after each payment, and
  its liquidation price creeping toward the mark as an isolated margin pays
  (docs/formulas.md §7).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from marginlab.engine import _validate
from marginlab.engine.account import Account, one_position
from marginlab.engine.errors import MarginError
from marginlab.engine.liquidation import tiered_liquidation_price

__all__ = [
    "FEE_RATES",
    "FundingHold",
    "RoundTripFees",
    "fee_share_of_margin",
    "hold_with_funding",
    "round_trip_fees",
]

FEE_RATES: dict[str, float] = {"maker": 0.0002, "taker": 0.0005}
"""Commission per fill as a fraction of the notional: a resting limit order that is filled
(maker) or an order that takes the book, such as a market or stop-market order (taker)
(docs/formulas.md §6)."""


@dataclass(frozen=True)
class RoundTripFees:
    """The fees of opening and closing one position (USDT) and their share of its margin."""

    open_usdt: float
    close_usdt: float
    margin_usdt: float  # the position's initial margin

    @property
    def total_usdt(self) -> float:
        return self.open_usdt + self.close_usdt

    @property
    def share_of_margin(self) -> float:
        """(open + close fees) / initial margin, a fraction (0.1 = 10 %)."""
        return self.total_usdt / self.margin_usdt


def round_trip_fees(
    account: Account, symbol: str, *, exit_price: float | None = None, side: object = None
) -> RoundTripFees:
    """The fees of the position on ``symbol``: charged when it opened (entry notional ×
    ``account.fee_rate``, as :meth:`Account.open` charged it) and when it closes at
    ``exit_price`` (default: its entry price; as :meth:`Account.close` charges it).

    >>> from marginlab.engine import Account
    >>> acct = Account(wallet_balance=10_000, fee_rate=0.0005).set_margin_mode("BTCUSDT",
    ...     "isolated").open("BTCUSDT", side="long", price=60_000, leverage=100, notional=20_000)
    >>> fees = round_trip_fees(acct, "BTCUSDT")
    >>> fees.open_usdt, fees.close_usdt, fees.margin_usdt, round(fees.share_of_margin, 4)
    (10.0, 10.0, 200.0, 0.1)
    """
    position = account.position(symbol, side)
    exit_at = (
        position.entry_price
        if exit_price is None
        else _validate.positive(exit_price, "exit_price", " USDT")
    )
    return RoundTripFees(
        open_usdt=position.quantity * position.entry_price * account.fee_rate,
        close_usdt=position.quantity * exit_at * account.fee_rate,
        margin_usdt=position.initial_margin,
    )


def fee_share_of_margin(leverage: object, fee_rate: float) -> float | np.ndarray:
    """Round-trip fees at the entry price as a share of the initial margin, per leverage.

    Open and close each cost ``notional × fee_rate`` and the margin is
    ``notional / leverage``, so the share is ``2 × fee_rate × leverage`` whatever the
    size: the same as :func:`round_trip_fees` gives for one position.

    >>> fee_share_of_margin(np.array([10.0, 100.0]), 0.0005).round(4).tolist()
    [0.01, 0.1]
    """
    rate = _validate.in_range(fee_rate, "fee_rate", 0.0, 0.01, " (a fraction)")
    lev = np.asarray(leverage, dtype=float)
    if lev.size and not (np.all(np.isfinite(lev)) and lev.min() >= 1):
        raise MarginError("leverage must hold finite values of at least 1 (1 = 1x)")
    share = 2.0 * rate * lev
    return float(share) if share.ndim == 0 else share


@dataclass(frozen=True, eq=False)
class FundingHold:
    """One position held at a fixed mark through ``intervals`` funding settlements.

    Arrays have one value per settlement count ``k`` = 0 (before any) .. ``intervals``:
    ``backing_usdt`` (its isolated margin, or the cross wallet) and ``liquidation_price``
    (NaN once the position is gone, or where no price liquidates it); ``paid_usdt``
    (funding paid so far, negative = received) and ``wallet_usdt`` throughout.
    ``liquidated_at`` is the first ``k`` at which it is liquidated (-1: never);
    ``liquidated_by`` says how: "funding" (the payment was at least what backed it) or
    "margin ratio" (what was left fell to the maintenance margin at the mark).
    """

    intervals: np.ndarray
    backing_usdt: np.ndarray
    liquidation_price: np.ndarray
    paid_usdt: np.ndarray
    wallet_usdt: np.ndarray
    payment_usdt: float  # per settlement while open: s·Q·mark·rate
    mark_price: float
    liquidated_at: int
    liquidated_by: str  # "" when never

    @property
    def paid_share(self) -> np.ndarray:
        """Funding paid so far as a share of what backed the position before any (a
        fraction; negative: received): how much of its margin, or of the cross wallet."""
        return self.paid_usdt / self.backing_usdt[0]


def hold_with_funding(
    account: Account,
    *,
    intervals: int,
    rate: float | None = None,
    marks: Mapping[str, float] | None = None,
) -> FundingHold:
    """Settle funding ``intervals`` times on an account holding one position at ``marks``.

    Each settlement is :meth:`Account.apply_funding` (the position pays ``s·Q·mark·rate``
    from what backs it: its isolated margin, or the cross pool; a payment at least that
    large liquidates it) followed by :meth:`Account.liquidate` at the same marks, the
    order of a replay step. ``rate`` (per interval, within ±3 %) defaults to the
    account's ``funding_rate``; ``marks`` to the entry price. The backing shrinks by the
    same payment each time (sums kept in the Account's order, so the numbers are those of
    the repeated calls), and the liquidation price follows it toward the mark.

    >>> from marginlab.scenarios import guide_account
    >>> hold = hold_with_funding(guide_account("isolated"), intervals=90, rate=0.0001)
    >>> hold.payment_usdt, hold.backing_usdt[[0, 90]].round(2).tolist()
    (2.0, [2000.0, 1820.0])
    >>> hold.liquidation_price[[0, 90]].round(2).tolist()
    [54216.87, 54759.04]
    """
    one_position(account, "replay a flat path with funding for several")
    if isinstance(intervals, bool) or not isinstance(intervals, int | np.integer):
        raise TypeError(f"intervals must be a whole number, got {intervals!r}")
    if not 0 <= intervals <= 100_000:
        raise MarginError(f"intervals must be between 0 and 100,000, got {intervals}")
    per = account._funding_rate(rate)
    position = account.positions[0]
    at = account._marks(marks)
    mark = account._mark(position, at)
    payment = position.sign * position.quantity * mark * per  # as Account._settle_funding
    isolated = position.is_isolated
    backing0 = position.isolated_margin if isolated else account.cross_wallet_balance
    n = int(intervals)
    steps = np.arange(n + 1)
    # Repeated subtraction, in order, exactly as n calls of apply_funding compute it.
    backing = np.subtract.accumulate(np.r_[backing0, np.full(n, payment)])
    wallet = np.subtract.accumulate(np.r_[account.wallet_balance, np.full(n, payment)])
    paid = np.r_[0.0, np.add.accumulate(np.full(n, payment))] if n else np.zeros(1)
    # Funding liquidates when a payment is at least what backs the position before it.
    if isolated:
        cannot_pay = payment >= backing[:-1]
    else:
        cannot_pay = (payment > 0) & (payment >= backing[:-1])
    by_funding = int(np.argmax(cannot_pay)) + 1 if cannot_pay.any() else n + 1
    table = account.tiers(position.symbol)
    notional = position.quantity * mark
    maintenance = table.maintenance_margin(notional)
    balance = backing + position.unrealized_pnl(mark)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(balance > 0, maintenance / np.where(balance > 0, balance, 1.0), np.inf)
    breached = ratio >= 1
    breached[by_funding:] = False
    by_ratio = int(np.argmax(breached)) if breached.any() else n + 1
    gone_at = min(by_funding, by_ratio)
    alive = steps < gone_at
    price = np.full(n + 1, math.nan)
    if alive.any():
        price[alive] = tiered_liquidation_price(
            table,
            side=position.sign,
            quantity=position.quantity,
            entry_price=position.entry_price,
            wallet_balance=np.maximum(backing[alive], 0.0),
        )
    if gone_at <= n:
        if gone_at == by_funding:  # it pays what is left of its backing, and is gone
            lost = backing[gone_at - 1]
            after = max(wallet[gone_at - 1] - lost, 0.0)
            paid[gone_at:] = paid[gone_at - 1] + lost
        else:  # liquidated at the mark: the backing left is lost
            after = max(wallet[gone_at] - backing[gone_at], 0.0)
            paid[gone_at:] = paid[gone_at]
        wallet[gone_at:] = after
    return FundingHold(
        intervals=steps,
        backing_usdt=np.where(alive, backing, math.nan),
        liquidation_price=price,
        paid_usdt=paid,
        wallet_usdt=wallet,
        payment_usdt=float(payment),
        mark_price=float(mark),
        liquidated_at=gone_at if gone_at <= n else -1,
        liquidated_by=""
        if gone_at > n
        else ("funding" if gone_at == by_funding else "margin ratio"),
    )
