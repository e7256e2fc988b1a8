"""Replay one account along one price path, step by step, with the Account's own rules.

This is the reference the many-path simulation (:mod:`marginlab.engine.montecarlo`) is
tested against: every state change is an :class:`~marginlab.engine.account.Account`
operation (``apply_funding``, ``liquidate``, ``close``) and every timeline row is
``Account.state`` at that step's marks.

Within a step the order is: funding (at its interval), liquidation of every scope whose
margin ratio is at or above 100 % (an isolated position alone; the cross pool as a
whole), then stop-losses of the positions still open. A stop that the mark jumps past
in the same step as the liquidation price does not save the position.

Money events (:class:`Event`) carry the change they make to the wallet balance, so the
wallet moves by exactly the sum of a step's events. Two kinds *realize* profit and loss
already counted in equity (``stop``, ``liquidation``); the others are cash that leaves
or enters the account and moves equity by their amount (``fee``, ``funding``,
``liquidation_fee``, ``insurance_fund``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from marginlab.engine import _simulation as rules
from marginlab.engine.account import Account, AccountState, Position

if TYPE_CHECKING:  # pandas loads where a table is built: most lessons never need it
    import pandas as pd

EVENT_KINDS: tuple[str, ...] = (
    "funding",
    "liquidation",
    "liquidation_fee",
    "insurance_fund",
    "stop",
    "fee",
)
"""Kinds of :class:`Event`, in the order they can happen within a step."""

REALIZING_KINDS = frozenset({"liquidation", "stop"})
"""Event kinds that turn unrealized PnL into wallet balance (equity moves only by the fill)."""


@dataclass(frozen=True)
class Event:
    """One money movement during a replay.

    ``step`` is the 0-based index along the path; ``symbol`` the position key (the
    symbol, or ``"SYMBOL:side"`` in hedge mode), or None for the cross pool as a whole;
    ``amount_usdt`` the change of the wallet balance (negative = paid); ``price`` the
    fill (stop) or the mark (other kinds) in USDT, and ``mark_price`` that step's mark.

    * ``funding``: ``−s·Q·mark·rate`` (longs pay when the rate is positive).
    * ``liquidation``: the position's PnL at the mark, ``s·Q·(mark − entry)``, realized.
    * ``liquidation_fee``: ``−liquidation_fee_rate × notional`` at the mark, capped at the
      collateral left in the scope at that mark.
    * ``insurance_fund``: the rest of the scope's collateral, which the insurance fund
      takes (positive if the mark had gone past bankruptcy and the fund covers the gap).
      The three amounts of a liquidation add up to minus the scope's wallet: the
      isolated margin, or the whole cross wallet.
    * ``stop``: ``s·Q·(fill − entry)``, realized at the stop's fill.
    * ``fee``: ``−Q·fill·fee_rate`` on closing at the stop (only when ``fee_rate > 0``).
    """

    step: int
    kind: str
    symbol: str | None
    amount_usdt: float
    price: float
    mark_price: float


@dataclass(frozen=True, eq=False)
class ReplayResult:
    """The timeline (one row per step) and the events of a replay.

    ``timeline`` columns (index ``step``):

    * ``wallet_usdt``, ``cross_wallet_usdt``, ``unrealized_pnl_usdt``, ``equity_usdt``
      (margin balance: wallet + unrealized PnL), ``cross_margin_ratio`` (0 with no cross
      position), and ``timestamp`` when the prices came with one;
    * per symbol ``"<SYMBOL>.mark_price"``;
    * per position key ``"<key>.open"``, ``"<key>.unrealized_pnl_usdt"``,
      ``"<key>.margin_ratio"`` and ``"<key>.liquidation_price"`` (NaN once closed, or when
      no positive price liquidates it). A cross liquidation price moves with the
      neighbours' marks; every liquidation price moves with funding.

    Each row is the account after that step's events.
    """

    timeline: pd.DataFrame
    events: tuple[Event, ...]
    start: Account
    final: Account
    keys: tuple[str, ...]

    def events_frame(self) -> pd.DataFrame:
        """The events as a DataFrame (one row per event)."""
        import pandas as pd

        columns = ["step", "kind", "symbol", "amount_usdt", "price", "mark_price"]
        return pd.DataFrame([e.__dict__ for e in self.events], columns=columns)

    def first_step(self, kind: str, symbol: str | None = None) -> int:
        """Step of the first event of ``kind`` (for ``symbol``, if given); -1 if none."""
        for event in self.events:
            if event.kind == kind and (symbol is None or event.symbol == symbol):
                return event.step
        return -1

    @property
    def liquidated_at(self) -> dict[str, int]:
        """Step at which each position was liquidated; -1 if never."""
        return {k: self.first_step("liquidation", k) for k in self.keys}

    @property
    def stopped_at(self) -> dict[str, int]:
        """Step at which each position's stop-loss closed it; -1 if never."""
        return {k: self.first_step("stop", k) for k in self.keys}

    @property
    def final_equity_usdt(self) -> float:
        """Equity (wallet + unrealized PnL) after the last step."""
        return float(self.timeline["equity_usdt"].iloc[-1])


def _path(values: object, name: str) -> tuple[np.ndarray, pd.Index | None]:
    import pandas as pd

    index = None
    if isinstance(values, pd.Series):
        if not isinstance(values.index, pd.RangeIndex):
            index = values.index
        values = values.to_numpy()
    try:
        arr = np.asarray(values, dtype=float)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be an array of prices, got {type(values).__name__}") from None
    if arr.ndim != 1:
        raise ValueError(
            f"{name} must be one path (1-D, n_steps prices), got shape {arr.shape}; "
            "use simulate_paths for many paths"
        )
    if arr.size == 0:
        raise ValueError(f"{name} must hold at least 1 price, got none")
    bad = np.flatnonzero(~(np.isfinite(arr) & (arr > 0)))
    if bad.size:
        i = int(bad[0])
        raise ValueError(
            f"{name}[{i}] must be a finite price greater than 0 USDT, got {float(arr[i])!r}"
        )
    return arr, index


def _prices(account: Account, prices: object) -> tuple[dict[str, np.ndarray], pd.Index | None]:
    if not isinstance(prices, Mapping):
        raise TypeError(
            "prices must be a mapping {symbol: price path}, such as {'BTCUSDT': path}, "
            f"got {type(prices).__name__}"
        )
    paths, index = {}, None
    for raw, values in prices.items():
        name = raw.strip().upper() if isinstance(raw, str) else raw
        arr, idx = _path(values, f"prices[{raw!r}]")
        paths[name] = arr
        index = index if index is not None else idx
    needed = {p.symbol for p in account.positions}
    missing = sorted(needed - set(paths))
    if missing:
        raise ValueError(
            f"prices: no path for {', '.join(missing)} (an open position's symbol); "
            f"got {', '.join(map(repr, prices)) or 'none'}"
        )
    lengths = {len(paths[s]) for s in needed} or {len(v) for v in paths.values()}
    if len(lengths) > 1:
        detail = ", ".join(f"{s}: {len(paths[s])}" for s in sorted(needed))
        raise ValueError(f"prices: every path must have the same number of steps, got {detail}")
    if index is not None and len(index) != lengths.pop():
        index = None
    return paths, index


def replay(
    account: Account,
    prices: Mapping[str, object],
    *,
    stops: Mapping[str, float] | None = None,
    stop_fill: str = "stop",
    slippage_rate: float = 0.0,
    funding_rate: float | None = None,
    funding_interval_steps: int | None = None,
) -> ReplayResult:
    """Walk ``account`` along one mark-price path per symbol, using the Account's rules.

    At each step: funding (at its interval), then liquidation of every scope at or above
    100 % margin ratio, then the stop-losses of the positions still open (see the module
    docstring). Returns a :class:`ReplayResult` (timeline and events).

    Parameters
    ----------
    account : the account with its positions already open (open fees already paid).
    prices : ``{symbol: path}``, a 1-D array-like or pandas Series of mark prices in USDT
        per symbol with an open position, all of the same length ``n_steps``; step 0 is
        the first mark after opening.
    stops : ``{position key: stop price}`` in USDT; a long's stop below its entry, a
        short's above. Keys are symbols (``"SYMBOL:long"``/``"SYMBOL:short"`` in hedge mode).
    stop_fill : ``"stop"`` fills at the stop price; ``"mark"`` at the first mark at or
        past it (worse when the price gaps through the stop).
    slippage_rate : fraction by which the fill moves against the position, in [0, 0.2].
    funding_rate : rate per funding interval (default: the account's ``funding_rate``).
    funding_interval_steps : pay funding every this many steps (at steps k, 2k, ...);
        None (default) means no funding.

    >>> from marginlab.scenarios import guide_account
    >>> from marginlab.engine.paths import teaching_path
    >>> path = teaching_path("steady_decline", start_price=60_000, n_steps=101)
    >>> result = replay(guide_account("isolated"), {"BTCUSDT": path})
    >>> result.liquidated_at, round(result.final_equity_usdt, 2)
    ({'BTCUSDT': 33}, 8000.0)
    """
    import pandas as pd

    if not isinstance(account, Account):
        raise TypeError(f"account must be an Account, got {type(account).__name__}")
    paths, index = _prices(account, prices)
    stop_map = rules.parse_stops(account, stops)
    fill_mode = rules.parse_stop_fill(stop_fill)
    slippage = rules.parse_slippage(slippage_rate)
    rate, interval = rules.parse_funding(account, funding_rate, funding_interval_steps)
    keys = rules.position_keys(account)
    symbols = sorted({p.symbol for p in account.positions}) or sorted(paths)
    n_steps = len(paths[symbols[0]]) if symbols else 0

    acct = account
    events: list[Event] = []
    rows: list[dict[str, object]] = []
    for step in range(n_steps):
        marks = {s: float(paths[s][step]) for s in symbols}
        if rules.is_funding_step(step, interval) and acct.positions:
            events += _funding_events(acct, marks, rate, step)
            acct = acct.apply_funding(marks, rate)
        state = acct.state(marks)
        before = acct
        if _breached(state):  # Account.liquidate's own test, read from the state; it decides
            outcome = acct.liquidate(marks)
            if outcome.happened:
                events += _liquidation_events(acct, outcome.liquidated, marks, step)
                acct = outcome.account
        for position in acct.positions:
            key = rules.position_key(position, acct)
            stop = stop_map.get(key)
            mark = marks[position.symbol]
            if stop is None or not rules.stop_triggered(position.sign, mark, stop):
                continue
            current = acct.position(position.symbol, position.side)
            backing = current.isolated_margin if current.is_isolated else acct.cross_wallet_balance
            fill = float(
                rules.stop_fill_price(
                    current,
                    stop=stop,
                    mark=mark,
                    stop_fill=fill_mode,
                    slippage_rate=slippage,
                    backing_usdt=backing,
                    fee_rate=acct.fee_rate,
                )
            )
            pnl = current.sign * current.quantity * (fill - current.entry_price)
            events.append(Event(step, "stop", key, pnl, fill, mark))
            fee = current.quantity * fill * acct.fee_rate
            if fee:
                events.append(Event(step, "fee", key, -fee, fill, mark))
            acct = acct.close(position.symbol, price=fill, side=position.side)
        rows.append(_row(state if acct is before else acct.state(marks), acct, marks, keys))

    timeline = pd.DataFrame(rows)
    timeline.index.name = "step"
    if index is not None:
        timeline.insert(0, "timestamp", index)
    return ReplayResult(
        timeline=timeline, events=tuple(events), start=account, final=acct, keys=keys
    )


def _funding_events(acct: Account, marks: dict[str, float], rate: float, step: int) -> list[Event]:
    events = []
    for p in acct.positions:
        mark = marks[p.symbol]
        payment = p.sign * p.quantity * mark * rate
        events.append(Event(step, "funding", rules.position_key(p, acct), -payment, mark, mark))
    return events


def _liquidation_events(
    acct: Account, gone: tuple[Position, ...], marks: dict[str, float], step: int
) -> list[Event]:
    """Split each liquidated scope's loss into realized PnL, liquidation fee, insurance fund."""
    scopes: list[tuple[str | None, list[Position], float]] = [
        (rules.position_key(p, acct), [p], p.isolated_margin) for p in gone if p.is_isolated
    ]
    cross = [p for p in gone if not p.is_isolated]
    if cross:
        scopes.append((None, cross, acct.cross_wallet_balance))
    events = []
    for scope_key, positions, wallet in scopes:
        realized = 0.0
        notional = 0.0
        for p in positions:
            mark = marks[p.symbol]
            pnl = p.unrealized_pnl(mark)
            events.append(Event(step, "liquidation", rules.position_key(p, acct), pnl, mark, mark))
            realized += pnl
            notional += p.quantity * mark
        left = wallet + realized
        fee = min(acct.liquidation_fee_rate * notional, max(left, 0.0))
        mark = marks[positions[0].symbol] if scope_key is not None else math.nan
        if fee:
            events.append(Event(step, "liquidation_fee", scope_key, -fee, mark, mark))
        events.append(Event(step, "insurance_fund", scope_key, -(left - fee), mark, mark))
    return events


def _breached(state: AccountState) -> bool:
    """Whether any scope's margin ratio is at or above 100 % (isolated alone; the cross pool)."""
    isolated = any(s.position.is_isolated and s.margin_ratio >= 1 for s in state.positions)
    cross = any(not s.position.is_isolated for s in state.positions)
    return isolated or (cross and state.cross_margin_ratio >= 1)


def _row(
    state: AccountState, acct: Account, marks: dict[str, float], keys: tuple[str, ...]
) -> dict[str, object]:
    row: dict[str, object] = {
        "wallet_usdt": state.wallet_balance,
        "cross_wallet_usdt": state.cross_wallet_balance,
        "unrealized_pnl_usdt": state.unrealized_pnl,
        "equity_usdt": state.margin_balance,
        "cross_margin_ratio": state.cross_margin_ratio,
    }
    for symbol, mark in marks.items():
        row[f"{symbol}.mark_price"] = mark
    by_key = {rules.position_key(s.position, acct): s for s in state.positions}
    for key in keys:
        s = by_key.get(key)
        row[f"{key}.open"] = s is not None
        row[f"{key}.unrealized_pnl_usdt"] = s.unrealized_pnl if s else 0.0
        row[f"{key}.margin_ratio"] = s.margin_ratio if s else math.nan
        row[f"{key}.liquidation_price"] = s.liquidation_price if s else math.nan
    return row
