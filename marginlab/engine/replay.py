"""Replay one account along one price path, step by step, with the Account's own rules.

This is the reference the many-path simulation (:mod:`marginlab.engine.montecarlo`) is
tested against: every state change is an :class:`~marginlab.engine.account.Account`
operation (funding, stop closes, ``liquidate``) and every timeline row is
``Account.state`` at that step's marks.

Each step has a mark price per symbol (liquidation follows it) and a last price (what
trades; a stop may watch it). The order within a step, written out in
:mod:`marginlab.engine._simulation` and docs/formulas.md §10: funding (at its interval;
a scope that cannot cover it is liquidated), then the stop-losses the price reaches
before any liquidation (in position order), then the liquidation of every scope whose
margin ratio is at or above 100 % at the marks. A long's stop above its liquidation price
fires first even when one step gaps through both; it fills where the market is.

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
from marginlab.engine.errors import MarginError

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
      isolated margin, or the whole cross wallet (0 when funding had used it up). After
      a stop that filled past the bankruptcy price it is positive: the part of the loss
      beyond what backed the position, which the fund covers.
    * ``stop``: ``s·Q·(fill − entry)``, realized at the stop's fill.
    * ``fee``: ``−Q·fill·fee_rate`` on closing at the stop (only when ``fee_rate > 0``).

    A funding payment the cross pool cannot cover is one ``funding`` event with
    ``symbol`` None (the pool's whole wallet), followed by the pool's liquidation.
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
    * per symbol ``"<SYMBOL>.mark_price"`` and ``"<SYMBOL>.last_price"`` (the mark when
      no last prices were given);
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
        raise MarginError(
            f"{name} must be one path (1-D, n_steps prices), got shape {arr.shape}; "
            "use simulate_paths for many paths"
        )
    if arr.size == 0:
        raise MarginError(f"{name} must hold at least 1 price, got none")
    bad = np.flatnonzero(~(np.isfinite(arr) & (arr > 0)))
    if bad.size:
        i = int(bad[0])
        raise MarginError(
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
        raise MarginError(
            f"prices: no path for {', '.join(missing)} (an open position's symbol); "
            f"got {', '.join(map(repr, prices)) or 'none'}"
        )
    extra = sorted(set(paths) - needed) if needed else []
    if extra:
        raise MarginError(
            f"prices[{extra[0]!r}]: there is no open position on {extra[0]}, so its path "
            f"would be ignored; give paths for {', '.join(sorted(needed))}"
        )
    lengths = {len(paths[s]) for s in needed} or {len(v) for v in paths.values()}
    if len(lengths) > 1:
        detail = ", ".join(f"{s}: {len(paths[s])}" for s in sorted(needed))
        raise MarginError(f"prices: every path must have the same number of steps, got {detail}")
    if index is not None and len(index) != lengths.pop():
        index = None
    return paths, index


def replay(
    account: Account,
    prices: Mapping[str, object],
    *,
    last_prices: Mapping[str, object] | None = None,
    stops: Mapping[str, float] | None = None,
    stop_trigger: str = "last",
    stop_fill: str = "market",
    slippage_rate: float = 0.0,
    funding_rate: float | None = None,
    funding_interval_steps: int | None = None,
) -> ReplayResult:
    """Walk ``account`` along one price path per symbol, using the Account's rules.

    At each step: funding (at its interval), then the stop-losses that the price reaches
    before any liquidation, then the liquidation of every scope at or above 100 % margin
    ratio (see the module docstring and docs/formulas.md §7-§10). Returns a
    :class:`ReplayResult` (timeline and events).

    Parameters
    ----------
    account : the account with its positions already open (open fees already paid).
    prices : ``{symbol: path}`` of **mark** prices in USDT, a 1-D array-like or pandas
        Series per symbol with an open position (and no other), all of one length
        ``n_steps``; step 0 is the first mark after opening. Liquidation follows these.
    last_prices : ``{symbol: path}`` of **last** (traded) prices, one per symbol of
        ``prices`` and of the same length, for a path where the two differ (a wick on
        the last price that the mark does not follow). Default: the last price is the
        mark.
    stops : ``{position key: stop price}`` in USDT; a long's stop below its entry, a
        short's above. Keys are symbols (``"SYMBOL:long"``/``"SYMBOL:short"`` in hedge mode).
    stop_trigger : the price a stop watches: ``"last"`` (default, as the exchange's
        default) or ``"mark"``.
    stop_fill : ``"market"`` (default) fills at the worse of the stop price and the step's
        last price (a gap fills at the gap); ``"stop"`` is the idealised fill exactly at
        the stop price. Then slippage.
    slippage_rate : fraction by which the fill moves against the position, in [0, 0.2].
    funding_rate : rate per funding interval (default: the account's ``funding_rate``);
        only with ``funding_interval_steps``.
    funding_interval_steps : pay funding every this many steps (at steps k, 2k, ...);
        None (default) means no funding.

    >>> from marginlab.scenarios import guide_account
    >>> from marginlab.engine.paths import teaching_path
    >>> path = teaching_path("steady_decline", start_price=60_000, n_steps=101)
    >>> result = replay(guide_account("isolated"), {"BTCUSDT": path})
    >>> result.liquidated_at, round(result.final_equity_usdt, 2)
    ({'BTCUSDT': 33}, 8000.0)

    A wick on the last price fires a stop while the mark never reaches liquidation:

    >>> marks = [60_000.0, 59_000.0, 58_500.0, 59_500.0]
    >>> lasts = [60_000.0, 59_000.0, 53_000.0, 59_500.0]  # one trade prints far lower
    >>> wick = replay(guide_account("isolated"), {"BTCUSDT": marks},
    ...               last_prices={"BTCUSDT": lasts}, stops={"BTCUSDT": 57_000})
    >>> wick.stopped_at, wick.liquidated_at, round(wick.final_equity_usdt, 2)
    ({'BTCUSDT': 2}, {'BTCUSDT': -1}, 8000.0)
    """
    import pandas as pd

    if not isinstance(account, Account):
        raise TypeError(f"account must be an Account, got {type(account).__name__}")
    paths, index = _prices(account, prices)
    lasts = rules.parse_last_prices(last_prices, paths, lambda v, n: _path(v, n)[0]) or paths
    stop_map = rules.parse_stops(account, stops)
    trigger = rules.parse_stop_trigger(stop_trigger)
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
        last = {s: float(lasts[s][step]) for s in symbols}
        if rules.is_funding_step(step, interval) and acct.positions:
            acct, new = _funding(acct, _held(acct, marks), rate, step)
            events += new
        for position in acct.positions:
            stop = stop_map.get(rules.position_key(position, acct))
            watched = last if trigger == "last" else marks
            if stop is None or not rules.stop_triggered(
                position.sign, watched[position.symbol], stop
            ):
                continue
            current = acct.position(position.symbol, position.side)
            if _liquidation_first(acct, current, _held(acct, marks), stop):
                continue
            acct, new = _stop(acct, current, stop, marks, last, fill_mode, slippage, step)
            events += new
        before = acct
        state = acct.state(_held(acct, marks))
        if _breached(state):  # Account.liquidate's own test, read from the state; it decides
            outcome = acct.liquidate(_held(acct, marks))
            if outcome.happened:
                events += _liquidation_events(acct, _scopes(acct, outcome.liquidated), marks, step)
                acct = outcome.account
        if acct is not before:
            state = acct.state(_held(acct, marks))
        rows.append(_row(state, acct, marks, last, keys))

    timeline = pd.DataFrame(rows)
    timeline.index.name = "step"
    if index is not None:
        timeline.insert(0, "timestamp", index)
    return ReplayResult(
        timeline=timeline, events=tuple(events), start=account, final=acct, keys=keys
    )


def _held(acct: Account, marks: dict[str, float]) -> dict[str, float]:
    """The marks of the symbols the account still holds (the Account refuses the rest)."""
    return {p.symbol: marks[p.symbol] for p in acct.positions}


def _funding(
    acct: Account, marks: dict[str, float], rate: float, step: int
) -> tuple[Account, list[Event]]:
    """Account funding at the marks, as events; a scope that cannot pay is liquidated."""
    settled = acct._settle_funding(marks, rate)
    events = [
        Event(step, "funding", rules.position_key(p, acct), -paid, marks[p.symbol], marks[p.symbol])
        for p, paid in settled.paid
    ]
    if settled.cross_paid:
        events.append(Event(step, "funding", None, -settled.cross_paid, math.nan, math.nan))
    if settled.liquidated:
        # funding used the backing up: the scopes are liquidated with nothing left behind them
        scopes = [
            (scope, positions, 0.0) for scope, positions, _ in _scopes(acct, settled.liquidated)
        ]
        events += _liquidation_events(acct, scopes, marks, step)
    return settled.account, events


def _liquidation_first(
    acct: Account, position: Position, marks: dict[str, float], stop: float
) -> bool:
    """Whether the price reaches the position's liquidation before its triggered stop.

    True when its scope is at or above 100 % margin ratio at the step's marks and would
    already be there with the position's mark at the stop price (docs/formulas.md §10).
    """
    if acct._scope_ratio(position, marks) < 1:
        return False
    return acct._scope_ratio(position, {**marks, position.symbol: stop}) >= 1


def _stop(
    acct: Account,
    position: Position,
    stop: float,
    marks: dict[str, float],
    last: dict[str, float],
    fill_mode: str,
    slippage: float,
    step: int,
) -> tuple[Account, list[Event]]:
    """Close ``position`` at its stop's fill: stop (PnL), fee and insurance-fund events."""
    key = rules.position_key(position, acct)
    mark = marks[position.symbol]
    fill = float(
        rules.stop_fill_price(
            position.sign,
            stop=stop,
            last=last[position.symbol],
            stop_fill=fill_mode,
            slippage_rate=slippage,
        )
    )
    pnl = position.sign * position.quantity * (fill - position.entry_price)
    fee = position.quantity * fill * acct.fee_rate
    after, covered = acct._settle_close(position, position.quantity, pnl - fee)
    events = [Event(step, "stop", key, pnl, fill, mark)]
    if fee:
        events.append(Event(step, "fee", key, -fee, fill, mark))
    if covered:
        events.append(Event(step, "insurance_fund", key, covered, fill, mark))
    return after, events


def _scopes(
    acct: Account, gone: tuple[Position, ...]
) -> list[tuple[str | None, list[Position], float]]:
    """Liquidated positions grouped by scope: (key or None for the pool, positions, wallet)."""
    scopes: list[tuple[str | None, list[Position], float]] = [
        (rules.position_key(p, acct), [p], p.isolated_margin) for p in gone if p.is_isolated
    ]
    cross = [p for p in gone if not p.is_isolated]
    if cross:
        scopes.append((None, cross, acct.cross_wallet_balance))
    return scopes


def _liquidation_events(
    acct: Account,
    scopes: list[tuple[str | None, list[Position], float]],
    marks: dict[str, float],
    step: int,
) -> list[Event]:
    """Split each liquidated scope's loss into realized PnL, liquidation fee, insurance fund."""
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
    state: AccountState,
    acct: Account,
    marks: dict[str, float],
    last: dict[str, float],
    keys: tuple[str, ...],
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
        row[f"{symbol}.last_price"] = last[symbol]
    by_key = {rules.position_key(s.position, acct): s for s in state.positions}
    for key in keys:
        s = by_key.get(key)
        row[f"{key}.open"] = s is not None
        row[f"{key}.unrealized_pnl_usdt"] = s.unrealized_pnl if s else 0.0
        row[f"{key}.margin_ratio"] = s.margin_ratio if s else math.nan
        row[f"{key}.liquidation_price"] = s.liquidation_price if s else math.nan
    return row
