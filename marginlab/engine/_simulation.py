"""Rules shared by the single-path replay and the many-path simulation.

Both walk the same steps with the same order of events, so they must agree on how a
position is named, which stop-losses are valid, where a stop fills and when funding is
paid. Only these rules live here; the money arithmetic is the Account's. The rules are
written out with their sources in docs/formulas.md §7 (funding), §9 (mark vs last
price) and §10 (stops).

Each step ``k`` has a mark price per symbol (``prices[..., k]``; liquidation follows it)
and a last price (``last_prices[..., k]``, the traded price; the mark when none is given).
Order of events within the step:

1. **Funding**, if ``funding_interval_steps`` is set and ``k > 0`` is a multiple of it:
   each position pays ``s·Q·mark·rate`` from what backs it (its isolated margin, or the
   cross pool). A scope that cannot cover its payment (payment >= its margin, or the
   cross positions' net payment >= the cross wallet) is liquidated: its margin (or the
   whole cross wallet) is gone, nothing more.
2. **Stop-losses**, in the account's position order. A stop *triggers* when the trigger
   price (``stop_trigger``: the last price, as the exchange's default, or the mark) is at
   or past it. The price passes levels in order, so a triggered stop *fires* unless the
   liquidation comes first: its scope is at or above 100 % margin ratio at the step's
   marks **and** would already be there with its mark at the stop price (a long's stop
   below its liquidation price; then the stop is cancelled with the liquidation). A
   long's stop above its liquidation price therefore fires first even when one step
   gaps through both. It **fills** (``stop_fill="market"``, the default) at the worse of
   the stop price and the step's last price (a gap through the stop fills at the gap),
   then ``slippage_rate`` against the position; ``stop_fill="stop"`` is the idealised
   fill at the stop price (then slippage), for a lesson that contrasts the two. A fill
   past the bankruptcy price costs what backs the position and no more: the insurance
   fund covers the rest (``insurance_fund`` event).
3. **Liquidation** of every scope whose margin ratio is >= 100 % at the step's marks
   (Account.liquidate): an isolated position alone, the cross pool as a whole.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np

from marginlab.engine import _validate
from marginlab.engine.account import MAX_FUNDING_RATE, Account, Position
from marginlab.engine.errors import MarginError

STOP_FILLS = ("market", "stop")
"""``stop_fill`` values: "market" (where the market is: the worse of the stop and the
step's last price; the default) and "stop" (idealised: exactly at the stop price)."""

STOP_TRIGGERS = ("last", "mark")
"""``stop_trigger`` values: the price a stop watches (the exchange's default is "last")."""

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
            raise MarginError(f"stops: no open position {raw_key!r}; positions are {known}")
        price = _validate.positive(raw_price, f"stops[{raw_key!r}]", " USDT")
        position = by_key[key]
        if position.sign * (position.entry_price - price) <= 0:
            where = "below" if position.sign > 0 else "above"
            raise MarginError(
                f"stops[{raw_key!r}] must be {where} the entry price "
                f"{position.entry_price:,.2f} for a {position.side.value}, got {price:,.2f}"
            )
        result[key] = price
    return result


def parse_last_prices(
    last_prices: object,
    marks: Mapping[str, np.ndarray],
    to_array: Callable[[object, str], np.ndarray],
) -> dict[str, np.ndarray] | None:
    """Last-price paths, one per symbol of ``marks`` and of its shape; None: the marks.

    ``to_array(values, name)`` turns one entry into an array (and checks it as the caller
    checks its marks). A symbol without marks, or a symbol's marks without last prices,
    is refused: nothing is silently ignored or silently filled in.
    """
    if last_prices is None:
        return None
    if not isinstance(last_prices, Mapping):
        raise TypeError(
            "last_prices must be a mapping {symbol: last prices} shaped like prices, "
            f"got {type(last_prices).__name__}"
        )
    arrays = {}
    for raw, values in last_prices.items():
        name = raw.strip().upper() if isinstance(raw, str) else raw
        if name not in marks:
            raise MarginError(
                f"last_prices[{raw!r}]: no mark prices for it in prices, so it would be "
                f"ignored; last prices go with the marks of {', '.join(sorted(marks))}"
            )
        arr = to_array(values, f"last_prices[{raw!r}]")
        if arr.shape != marks[name].shape:
            raise MarginError(
                f"last_prices[{raw!r}] must have the shape of its mark prices "
                f"{marks[name].shape}, got {arr.shape}"
            )
        arrays[name] = arr
    missing = sorted(set(marks) - set(arrays))
    if missing:
        raise MarginError(
            f"last_prices: none for {', '.join(missing)}; give them for every symbol of "
            "prices (or leave last_prices out: the last price is then the mark)"
        )
    return arrays


def parse_stop_fill(stop_fill: object) -> str:
    if stop_fill not in STOP_FILLS:
        raise MarginError(
            "stop_fill must be 'market' (fill at the worse of the stop price and the step's "
            "last price, as a stop-market order does) or 'stop' (the idealised fill exactly "
            f"at the stop price), got {stop_fill!r}"
        )
    return str(stop_fill)


def parse_stop_trigger(stop_trigger: object) -> str:
    if stop_trigger not in STOP_TRIGGERS:
        raise MarginError(
            "stop_trigger must be 'last' (the stop watches the last traded price) or 'mark' "
            f"(it watches the mark price, as liquidation does), got {stop_trigger!r}"
        )
    return str(stop_trigger)


def parse_slippage(slippage_rate: object) -> float:
    return _validate.in_range(
        slippage_rate, "slippage_rate", 0.0, MAX_SLIPPAGE_RATE, " (a fraction of the fill)"
    )


def parse_funding(
    account: Account, funding_rate: object, funding_interval_steps: object
) -> tuple[float, int | None]:
    """(rate per interval, interval in steps or None for no funding).

    A ``funding_rate`` without ``funding_interval_steps`` is refused: no funding would be
    paid, and the rate would be silently ignored.
    """
    if funding_interval_steps is None:
        if funding_rate is not None:
            raise MarginError(
                f"funding_rate: {funding_rate!r} was given without funding_interval_steps, so "
                "no funding would ever be paid; set funding_interval_steps (e.g. 8 for hourly "
                "steps and funding every 8 hours) or leave funding_rate out"
            )
        return 0.0, None
    if isinstance(funding_interval_steps, bool) or not isinstance(
        funding_interval_steps, (int, np.integer)
    ):
        raise TypeError(
            "funding_interval_steps must be a whole number of steps (e.g. 8 for hourly steps "
            f"and 8-hour funding) or None, got {funding_interval_steps!r}"
        )
    if funding_interval_steps < 1:
        raise MarginError(
            f"funding_interval_steps must be at least 1, got {funding_interval_steps}"
        )
    rate = account.funding_rate if funding_rate is None else funding_rate
    rate = _validate.in_range(
        rate, "funding_rate", -MAX_FUNDING_RATE, MAX_FUNDING_RATE, " (a fraction per interval)"
    )
    return rate, int(funding_interval_steps)


def is_funding_step(step: int, interval: int | None) -> bool:
    return interval is not None and step > 0 and step % interval == 0


def stop_triggered(sign: int, price: float, stop: float) -> bool:
    """A long's stop triggers at a price at or below it; a short's at or above it."""
    return price <= stop if sign > 0 else price >= stop


def stop_fill_price(
    sign: int,
    *,
    stop: float,
    last: np.ndarray | float,
    stop_fill: str,
    slippage_rate: float,
) -> np.ndarray:
    """Where a triggered stop fills (USDT), for one last price or an array of them.

    ``"market"``: the worse of the stop price and the step's last price (a long sells at
    the lower, a short buys at the higher: a gap through the stop fills at the gap);
    ``"stop"``: the stop price itself (idealised). Then moved against the position by
    ``slippage_rate``. The replay and the simulation both call this, so they fill alike.
    What a fill past the bankruptcy price costs is capped by the Account (the insurance
    fund covers the rest), not here: the fill is where the market is.
    """
    last = np.asarray(last, dtype=float)
    if stop_fill == "stop":
        base = np.full_like(last, stop)
    elif sign > 0:
        base = np.minimum(last, stop)
    else:
        base = np.maximum(last, stop)
    return base * (1.0 - sign * slippage_rate)
