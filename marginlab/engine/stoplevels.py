"""One position over many paths and a whole grid of stop-loss levels at once.

A stop slider that follows the hand cannot re-simulate thousands of paths for each new
stop. :func:`simulate_stop_levels` finds, in one pass, what every stop of a grid does on
every path, by the rules of :func:`~marginlab.engine.simulate_paths` (docs/formulas.md
§10), for an account holding one position and paying no funding. Then the account
changes only when the position exits, so on each path two steps decide everything:

* ``liquidation_step``: the first step at which the mark puts the position's scope at
  100 % margin ratio (the same for every stop: computed once per path, with the
  Account's arithmetic);
* ``trigger_step[stop]``: the first step at which the watched price (last or mark)
  reaches the stop. The running minimum of the watched price (maximum for a short)
  never rises, so one binary search per path finds it for every stop of the grid.

The stop fires at its trigger step if that comes before the liquidation step, or at the
same step when the scope would not already be liquidated with its mark at the stop
price (the price passes the stop first); it fills where the market is. Otherwise the
position is liquidated at its liquidation step, or is still open at the end.
:meth:`StopLevels.result` turns one stop into the :class:`SimulationResult` that
``simulate_paths`` gives for it, and :meth:`StopLevels.timeline` into the equity and
margin ratio that ``replay`` records along one path (both tested to be equal).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from marginlab.engine import _simulation as rules
from marginlab.engine.account import Account, Position, one_position
from marginlab.engine.errors import MarginError
from marginlab.engine.montecarlo import SimulationResult, _array, _check_positive, _price_arrays

__all__ = ["StopLevels", "simulate_stop_levels"]


@dataclass(frozen=True, eq=False)
class StopLevels:
    """Where every stop of a grid exits, on every path (see :func:`simulate_stop_levels`).

    ``stop_prices`` (USDT, as given); ``trigger_step`` (shape ``(n_stops, n_paths)``): the
    first step at which the watched price reaches each stop, ``n_steps`` if never;
    ``liquidation_step`` (``n_paths``): the first step the mark liquidates the position
    without a stop, ``n_steps`` if never; ``fires``: whether each stop closes the
    position (before any liquidation).
    """

    account: Account
    key: str
    stop_prices: np.ndarray
    trigger_step: np.ndarray
    liquidation_step: np.ndarray
    fires: np.ndarray
    marks: np.ndarray
    lasts: np.ndarray
    stop_fill: str
    slippage_rate: float

    @property
    def position(self) -> Position:
        return self.account.positions[0]

    @property
    def n_paths(self) -> int:
        return self.marks.shape[0]

    @property
    def n_steps(self) -> int:
        return self.marks.shape[1]

    def index(self, stop_price: float) -> int:
        """The row of ``stop_price`` in the grid; a price not in the grid is refused."""
        hits = np.flatnonzero(self.stop_prices == stop_price)
        if hits.size == 0:
            raise MarginError(
                f"stop_price: {stop_price!r} is not one of the {len(self.stop_prices)} stop "
                f"levels simulated ({self.stop_prices.min():,.2f} to "
                f"{self.stop_prices.max():,.2f} USDT)"
            )
        return int(hits[0])

    def _exits(self, stop_price: float | None, rows: slice | np.ndarray) -> tuple:
        """(stopped, stop step, liquidated, liquidation step) on ``rows`` for one stop."""
        n = self.n_steps
        liquidation = self.liquidation_step[rows]
        if stop_price is None:
            stopped = np.zeros(liquidation.shape, dtype=bool)
            trigger = np.full(liquidation.shape, n)
        else:
            i = self.index(stop_price)
            stopped, trigger = self.fires[i, rows], self.trigger_step[i, rows]
        liquidated = ~stopped & (liquidation < n)
        return stopped, trigger, liquidated, liquidation

    def result(self, stop_price: float | None) -> SimulationResult:
        """What ``simulate_paths(account, prices, stops={key: stop_price}, ...)`` returns
        (None: no stop), from the grid: O(n_paths), no new simulation."""
        p = self.position
        sq = p.sign * p.quantity
        rows = np.arange(self.n_paths)
        stopped, trigger, liquidated, liquidation = self._exits(stop_price, rows)
        wallet = np.full(self.n_paths, self.account.wallet_balance)
        backing = _backing(self.account)
        exit_price = np.full(self.n_paths, math.nan)
        loss = np.zeros(self.n_paths)
        fees = np.zeros(self.n_paths)
        if stopped.any():
            at = np.minimum(trigger[stopped], self.n_steps - 1)
            fill = rules.stop_fill_price(
                p.sign,
                stop=stop_price,
                last=self.lasts[rows[stopped], at],
                stop_fill=self.stop_fill,
                slippage_rate=self.slippage_rate,
            )
            pnl = sq * (fill - p.entry_price)
            fee = p.quantity * fill * self.account.fee_rate
            change = np.maximum(pnl - fee, -backing)  # the insurance fund covers the rest
            wallet[stopped] = np.maximum(wallet[stopped] + change, 0.0)
            exit_price[stopped] = fill
            loss[stopped] = -change
            fees[stopped] = fee
        if liquidated.any():
            mark = self.marks[rows[liquidated], liquidation[liquidated]]
            left = np.maximum(backing + sq * (mark - p.entry_price), 0.0)
            fees[liquidated] = np.minimum(
                self.account.liquidation_fee_rate * p.quantity * mark, left
            )
            wallet[liquidated] = np.maximum(wallet[liquidated] - backing, 0.0)
            exit_price[liquidated] = mark
            loss[liquidated] = backing
        still_open = ~stopped & ~liquidated
        upnl = np.where(still_open, sq * (self.marks[:, -1] - p.entry_price), 0.0)
        loss = np.where(still_open, -upnl, loss)
        return SimulationResult(
            keys=(self.key,),
            liquidated_at={self.key: np.where(liquidated, liquidation, -1).astype(np.int64)},
            stopped_at={self.key: np.where(stopped, trigger, -1).astype(np.int64)},
            exit_price={self.key: exit_price},
            loss_usdt={self.key: loss},
            final_wallet_usdt=wallet,
            final_equity_usdt=wallet + upnl,
            fees_usdt=fees,
            funding_usdt=np.zeros(self.n_paths),
            start_equity_usdt=self.account.state().margin_balance,
            n_steps=self.n_steps,
        )

    def timeline(self, stop_price: float | None, path: int = 0) -> dict[str, np.ndarray]:
        """Equity (USDT) and the position's margin ratio per step along one path, as
        ``replay(...).timeline`` records them (``equity_usdt``, ``margin_ratio``: NaN once
        the position is closed), with this stop (None: none)."""
        if not 0 <= path < self.n_paths:
            raise MarginError(f"path must be between 0 and {self.n_paths - 1}, got {path!r}")
        rows = np.array([path])
        stopped, trigger, liquidated, liquidation = self._exits(stop_price, rows)
        end = self.n_steps
        if stopped[0]:
            end = int(trigger[0])
        elif liquidated[0]:
            end = int(liquidation[0])
        final = self.result(stop_price).final_wallet_usdt[path] if end < self.n_steps else 0.0
        upnl, ratio = _terms(self.account, self.marks[path])
        steps = np.arange(self.n_steps)
        return {
            "equity_usdt": np.where(steps < end, self.account.wallet_balance + upnl, final),
            "margin_ratio": np.where(steps < end, ratio, math.nan),
        }


def _backing(account: Account) -> float:
    """What stands behind the one position: its isolated margin, or the cross wallet."""
    position = account.positions[0]
    return position.isolated_margin if position.is_isolated else account.cross_wallet_balance


def _terms(account: Account, marks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(unrealized PnL, margin ratio of its scope) of the one position at ``marks``, with
    the Account's arithmetic (``inf`` once the scope's margin balance is 0 or less)."""
    p = account.positions[0]
    table = account.tiers(p.symbol)
    upnl = p.sign * p.quantity * (marks - p.entry_price)
    notional = p.quantity * marks
    rate, amount = table.maintenance_terms(notional)
    maintenance = notional * rate - amount
    balance = _backing(account) + upnl
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(balance > 0, maintenance / np.where(balance > 0, balance, 1.0), np.inf)
    return upnl, ratio


def _first_reached(watched: np.ndarray, sign: int, stops: np.ndarray) -> np.ndarray:
    """Per stop and path, the first step at which ``watched`` reaches the stop (n_steps:
    never): a long's stop at or below it, a short's at or above."""
    n_paths, n_steps = watched.shape
    # For a long the running minimum never rises; -minimum is sorted, so one binary search
    # per path places every stop. A short is the mirror image (signs flipped).
    extreme = np.minimum.accumulate(sign * watched, axis=1)
    order = np.argsort(-sign * stops, kind="stable")  # ascending -sign·stop
    keys = -sign * stops[order]
    out = np.empty((len(stops), n_paths), dtype=np.int32)
    for row in range(n_paths):
        out[order, row] = np.searchsorted(-extreme[row], keys, side="left")
    return np.minimum(out, n_steps)


def simulate_stop_levels(
    account: Account,
    prices: Mapping[str, np.ndarray],
    stop_prices: object,
    *,
    last_prices: Mapping[str, np.ndarray] | None = None,
    stop_trigger: str = "last",
    stop_fill: str = "market",
    slippage_rate: float = 0.0,
) -> StopLevels:
    """Every stop of ``stop_prices`` on every path at once, for an account with one position.

    Parameters as :func:`~marginlab.engine.simulate_paths` (``prices`` and ``last_prices``
    of shape ``(n_paths, n_steps)``, ``stop_trigger``, ``stop_fill``, ``slippage_rate``),
    without funding: a funding payment changes the account between exits, so use
    ``simulate_paths`` for that. ``stop_prices`` is a 1-D array of stops (USDT), each on
    the losing side of the entry (below it for a long). ``StopLevels.result(stop)`` equals
    ``simulate_paths(account, prices, stops={key: stop}, ...)``.

    >>> from marginlab.scenarios import guide_account
    >>> paths = np.array([[60_000.0, 58_000.0, 56_500.0, 53_000.0],
    ...                   [60_000.0, 57_500.0, 59_000.0, 61_000.0]])
    >>> grid = simulate_stop_levels(guide_account("isolated"), {"BTCUSDT": paths},
    ...                             [58_000.0, 57_000.0, 53_000.0])
    >>> grid.trigger_step.tolist(), grid.liquidation_step.tolist()
    ([[1, 1], [2, 4], [3, 4]], [3, 4])
    >>> grid.result(57_000.0).final_equity_usdt.round(2).tolist()
    [8833.33, 10333.33]
    """
    one_position(
        account, "with several, one exit changes what backs the others: use simulate_paths"
    )
    arrays, _, n_steps = _price_arrays(account, prices)
    lasts = rules.parse_last_prices(last_prices, arrays, _array)
    trigger = rules.parse_stop_trigger(stop_trigger)
    fill_mode = rules.parse_stop_fill(stop_fill)
    slippage = rules.parse_slippage(slippage_rate)
    position = account.positions[0]
    key = rules.position_key(position, account)
    stops = _stops(stop_prices, position)
    marks = arrays[position.symbol]
    _check_positive(marks, position.symbol)
    last = marks if lasts is None else lasts[position.symbol]
    if lasts is not None:
        _check_positive(last, position.symbol, "last_prices")
    watched = last if trigger == "last" else marks

    _, ratio = _terms(account, marks)
    breached = ratio >= 1
    liquidation = np.where(breached.any(axis=1), breached.argmax(axis=1), n_steps)
    triggered = _first_reached(watched, position.sign, stops)
    # The stop fires at its trigger step unless the position is liquidated earlier, or at
    # that step and would already be liquidated with its mark at the stop price.
    _, at_stop = _terms(account, stops)
    fires = (triggered < liquidation[None, :]) | (
        (triggered == liquidation[None, :]) & (triggered < n_steps) & (at_stop < 1)[:, None]
    )
    return StopLevels(
        account=account,
        key=key,
        stop_prices=stops,
        trigger_step=triggered,
        liquidation_step=liquidation,
        fires=fires,
        marks=marks,
        lasts=last,
        stop_fill=fill_mode,
        slippage_rate=slippage,
    )


def _stops(stop_prices: object, position: Position) -> np.ndarray:
    """The grid as a read-only 1-D float array; each stop > 0 on the losing side of entry."""
    try:
        stops = np.array(stop_prices, dtype=float, ndmin=1)
    except (TypeError, ValueError):
        raise TypeError(f"stop_prices must be an array of prices, got {stop_prices!r}") from None
    if stops.ndim != 1 or stops.size == 0:
        raise MarginError(f"stop_prices must be a non-empty 1-D array, got shape {stops.shape}")
    bad = ~(np.isfinite(stops) & (stops > 0))
    if bad.any():
        raise MarginError(
            f"stop_prices must be finite prices greater than 0 USDT, got {stops[bad][0]!r}"
        )
    wrong = position.sign * (position.entry_price - stops) <= 0
    if wrong.any():
        where = "below" if position.sign > 0 else "above"
        raise MarginError(
            f"stop_prices must be {where} the entry price {position.entry_price:,.2f} for a "
            f"{position.side.value}, got {stops[wrong][0]:,.2f}"
        )
    stops.flags.writeable = False
    return stops
