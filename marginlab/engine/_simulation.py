"""Rules shared by the single-path replay and the many-path simulation.

Both walk the same steps with the same order of events, so they must agree on how a
position is named, which stop-losses are valid, where a stop fills and when funding is
paid. Only these rules live here; the money arithmetic is the Account's.

Order of events within one step ``k`` (marks = ``prices[..., k]``):

1. funding, if ``funding_interval_steps`` is set and ``k > 0`` and ``k`` is a multiple of it;
2. liquidation of every scope whose margin ratio is >= 100 % at the marks (Account.liquidate);
3. stop-losses of the positions still open, in the account's position order.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from marginlab.engine import _validate
from marginlab.engine.account import Account, Position

STOP_FILLS = ("stop", "mark")
MAX_SLIPPAGE_RATE = 0.2


def position_key(position: Position, account: Account) -> str:
    """Name of a position in results: the symbol, or ``"SYMBOL:side"`` in hedge mode."""
    if account.hedge_mode:
        return f"{position.symbol}:{position.side.value}"
    return position.symbol


def position_keys(account: Account) -> tuple[str, ...]:
    """Keys of the account's positions, in position order."""
    return tuple(position_key(p, account) for p in account.positions)


def parse_stops(account: Account, stops: Mapping[str, float] | None) -> dict[str, float]:
    """Validate ``{position key: stop price}``: a known position, a price on its losing side.

    A long's stop must be below its entry price and a short's above it (a stop-loss
    closes a losing position; anything else would trigger at once).
    """
    if stops is None:
        return {}
    if not isinstance(stops, Mapping):
        raise TypeError(f"stops must be a mapping {{position: stop price}}, got {stops!r}")
    by_key = {position_key(p, account): p for p in account.positions}
    result = {}
    for raw_key, raw_price in stops.items():
        key = raw_key.strip().upper() if isinstance(raw_key, str) else raw_key
        if isinstance(key, str) and ":" in key:
            name, side = key.split(":", 1)
            key = f"{name}:{side.lower()}"
        if key not in by_key:
            known = ", ".join(repr(k) for k in by_key) or "none (the account has no position)"
            raise ValueError(f"stops: no open position {raw_key!r}; positions are {known}")
        price = _validate.positive(raw_price, f"stops[{raw_key!r}]", " USDT")
        position = by_key[key]
        if position.sign * (position.entry_price - price) <= 0:
            where = "below" if position.sign > 0 else "above"
            raise ValueError(
                f"stops[{raw_key!r}] must be {where} the entry price "
                f"{position.entry_price:,.2f} for a {position.side.value}, got {price:,.2f}"
            )
        result[key] = price
    return result


def parse_stop_fill(stop_fill: object) -> str:
    if stop_fill not in STOP_FILLS:
        raise ValueError(
            f"stop_fill must be 'stop' (fill at the stop price) or 'mark' (fill at the "
            f"first mark at or past the stop), got {stop_fill!r}"
        )
    return str(stop_fill)


def parse_slippage(slippage_rate: object) -> float:
    return _validate.in_range(
        slippage_rate, "slippage_rate", 0.0, MAX_SLIPPAGE_RATE, " (a fraction of the fill)"
    )


def parse_funding(
    account: Account, funding_rate: object, funding_interval_steps: object
) -> tuple[float, int | None]:
    """(rate per interval, interval in steps or None for no funding)."""
    if funding_interval_steps is None:
        return 0.0, None
    if isinstance(funding_interval_steps, bool) or not isinstance(
        funding_interval_steps, (int, np.integer)
    ):
        raise TypeError(
            "funding_interval_steps must be a whole number of steps (e.g. 8 for hourly steps "
            f"and 8-hour funding) or None, got {funding_interval_steps!r}"
        )
    if funding_interval_steps < 1:
        raise ValueError(f"funding_interval_steps must be at least 1, got {funding_interval_steps}")
    rate = account.funding_rate if funding_rate is None else funding_rate
    rate = _validate.in_range(rate, "funding_rate", -0.03, 0.03, " (a fraction per interval)")
    return rate, int(funding_interval_steps)


def is_funding_step(step: int, interval: int | None) -> bool:
    return interval is not None and step > 0 and step % interval == 0


def stop_triggered(sign: int, mark: float, stop: float) -> bool:
    """A long's stop triggers at a mark at or below it; a short's at or above it."""
    return mark <= stop if sign > 0 else mark >= stop


def stop_fill_price(
    position: Position,
    *,
    stop: float,
    mark: np.ndarray | float,
    stop_fill: str,
    slippage_rate: float,
    backing_usdt: np.ndarray | float,
    fee_rate: float,
) -> np.ndarray:
    """Where a triggered stop fills (USDT), for one mark or an array of marks.

    At the stop price (``stop_fill="stop"``) or at the mark that triggered it
    (``"mark"``: the first mark at or past the stop), then moved against the position by
    ``slippage_rate`` (a long sells lower, a short buys higher). Never past the price at
    which closing would lose more than ``backing_usdt`` (the isolated margin, or the
    cross wallet) after the fee, ``f = (s·Q·EP − backing) / (Q·(s − fee_rate))``: there
    the exchange would have liquidated the position first, and the Account refuses the
    close. The replay and the simulation both call this, so they fill alike.
    """
    s, q = position.sign, position.quantity
    base = np.full_like(np.asarray(mark, dtype=float), stop) if stop_fill == "stop" else mark
    fill = np.asarray(base, dtype=float) * (1.0 - s * slippage_rate)
    backing = np.maximum(np.asarray(backing_usdt, dtype=float), 0.0)
    limit = (s * q * position.entry_price - backing) / (q * (s - fee_rate))
    clamped = np.maximum(fill, limit) if s > 0 else np.minimum(fill, limit)
    return np.where(limit > 0, clamped, fill)
