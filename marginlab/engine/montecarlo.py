"""Many price paths at once: liquidations, stop-loss exits, fees and funding, vectorized.

:func:`simulate_paths` follows exactly the rules of :func:`~marginlab.engine.replay.replay`
(the Account's arithmetic, the same order of events within a step) for every path at
once, without a Python loop per path.

How it stays fast: between two events a path's account does not change, so whether a
step holds an event is a comparison of the mark with a fixed threshold. For a scope
with one position (an isolated position, or a cross pool holding one position) the
threshold is the closed-form liquidation price (``Account.liquidation_price``); for a
stop it is the stop price. Their first crossing is found with ``argmax`` over a boolean
mask of a block of steps, for all paths at once. A cross pool with several positions
is checked with its own condition, ``Σ MM(marks) >= cross wallet + Σ uPnL(marks)``
(margin ratio >= 100 %), over the same block. Only at a step found this way is the
account updated (vectorized over the paths that have an event there), and those paths
are scanned again from the next step. Funding changes every account at fixed steps,
so blocks end at funding steps. Blocks are processed in row chunks, so temporaries
stay small next to the price array.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from marginlab.engine import _simulation as rules
from marginlab.engine.account import Account, Position
from marginlab.engine.liquidation import tiered_liquidation_price
from marginlab.engine.tiers import Tier, TierTable

if TYPE_CHECKING:  # pandas loads where a table is built: most lessons never need it
    import pandas as pd

_CHUNK_CELLS = 1 << 17  # (paths x steps) per window: temporaries of ~1 MB
_EPS = 1e-9  # thresholds widened by this fraction; the exact margin-ratio check decides


@dataclass(frozen=True, eq=False)
class SimulationResult:
    """Per-path outcome of :func:`simulate_paths` (arrays of length ``n_paths``).

    Per position key (the symbol; ``"SYMBOL:long"``/``"SYMBOL:short"`` in hedge mode):

    * ``liquidated_at``: 0-based step of the liquidation; -1 if never (int64).
    * ``stopped_at``: step at which its stop-loss closed it; -1 if never (int64).
    * ``exit_price``: the stop's fill or the liquidation mark, USDT; NaN while open.
    * ``loss_usdt``: what the position cost by the end, USDT (negative = gain):
      liquidated isolated, its margin; liquidated cross, the whole cross wallet lost in
      that liquidation (shared by every cross position liquidated with it); stopped,
      minus the realized PnL after the fee; still open, minus its unrealized PnL at the
      last mark. Funding is not included (see ``funding_usdt``).

    Per path: ``final_wallet_usdt``, ``final_equity_usdt`` (wallet + unrealized PnL at
    the last mark), ``fees_usdt`` (closing fees plus the liquidation-fee part of
    liquidation losses) and ``funding_usdt`` (received minus paid).
    ``start_equity_usdt`` is the account's equity at the entry prices.
    """

    keys: tuple[str, ...]
    liquidated_at: dict[str, np.ndarray]
    stopped_at: dict[str, np.ndarray]
    exit_price: dict[str, np.ndarray]
    loss_usdt: dict[str, np.ndarray]
    final_wallet_usdt: np.ndarray
    final_equity_usdt: np.ndarray
    fees_usdt: np.ndarray
    funding_usdt: np.ndarray
    start_equity_usdt: float
    n_steps: int

    @property
    def n_paths(self) -> int:
        return len(self.final_equity_usdt)

    @property
    def final_equity(self) -> np.ndarray:
        """Final equity per path, USDT: the same array as ``final_equity_usdt``."""
        return self.final_equity_usdt

    def liquidated(self, key: str | None = None) -> np.ndarray:
        """Boolean per path: that position (or, with no key, any position) was liquidated."""
        keys = self.keys if key is None else (key,)
        out = np.zeros(self.n_paths, dtype=bool)
        for k in keys:
            out |= self.liquidated_at[k] >= 0
        return out

    def stopped(self, key: str | None = None) -> np.ndarray:
        """Boolean per path: that position (or any position) was closed by its stop-loss."""
        keys = self.keys if key is None else (key,)
        out = np.zeros(self.n_paths, dtype=bool)
        for k in keys:
            out |= self.stopped_at[k] >= 0
        return out

    @property
    def loss_total_usdt(self) -> np.ndarray:
        """Start equity minus final equity per path (negative = the account gained)."""
        return self.start_equity_usdt - self.final_equity_usdt

    def to_frame(self) -> pd.DataFrame:
        """One row per path: final wallet and equity, fees, funding, and per-position columns."""
        import pandas as pd

        data: dict[str, np.ndarray] = {
            "final_wallet_usdt": self.final_wallet_usdt,
            "final_equity_usdt": self.final_equity_usdt,
            "fees_usdt": self.fees_usdt,
            "funding_usdt": self.funding_usdt,
        }
        for k in self.keys:
            data[f"{k}.liquidated_at"] = self.liquidated_at[k]
            data[f"{k}.stopped_at"] = self.stopped_at[k]
            data[f"{k}.exit_price"] = self.exit_price[k]
            data[f"{k}.loss_usdt"] = self.loss_usdt[k]
        frame = pd.DataFrame(data)
        frame.index.name = "path"
        return frame


@dataclass(frozen=True)
class _Leg:
    """Static data of one position for the vector code."""

    index: int
    key: str
    position: Position
    sign: int
    sq: float  # sign × quantity, computed as the Account does
    quantity: float
    entry_price: float
    isolated: bool
    table: TierTable
    stop: float  # NaN: no stop


def _price_arrays(account: Account, prices: object) -> tuple[dict[str, np.ndarray], int, int]:
    if not isinstance(prices, Mapping):
        raise TypeError(
            "prices must be a mapping {symbol: array of shape (n_paths, n_steps)}, "
            f"got {type(prices).__name__}"
        )
    arrays = {}
    for raw, values in prices.items():
        name = raw.strip().upper() if isinstance(raw, str) else raw
        try:
            arr = np.asarray(values, dtype=np.float64)
        except (TypeError, ValueError):
            raise TypeError(f"prices[{raw!r}] must be an array of prices") from None
        if arr.ndim != 2 or arr.shape[1] == 0:
            raise ValueError(
                f"prices[{raw!r}] must have shape (n_paths, n_steps) with n_steps >= 1, got "
                f"shape {arr.shape}; for one path use path[None, :]"
            )
        arrays[name] = arr
    needed = sorted({p.symbol for p in account.positions})
    missing = [s for s in needed if s not in arrays]
    if missing:
        raise ValueError(
            f"prices: no paths for {', '.join(missing)} (an open position's symbol); "
            f"got {', '.join(map(repr, prices)) or 'none'}"
        )
    used = {s: arrays[s] for s in needed} or arrays
    shapes = {a.shape for a in used.values()}
    if len(shapes) != 1:
        detail = ", ".join(f"{s}: {a.shape}" for s, a in used.items())
        raise ValueError(f"prices: every symbol needs the same (n_paths, n_steps), got {detail}")
    n_paths, n_steps = shapes.pop() if shapes else (0, 0)
    return {s: np.ascontiguousarray(a) for s, a in used.items()}, n_paths, n_steps


def _check_positive(arr: np.ndarray, name: str) -> None:
    """Every price finite and > 0, checked chunk by chunk (one pass over the array)."""
    rows = max(1, _CHUNK_CELLS // arr.shape[1])
    for r0 in range(0, arr.shape[0], rows):
        _check_window(arr[r0 : r0 + rows], name, r0, 0)


def _check_window(
    window: np.ndarray,
    name: str,
    row0: int,
    step0: int,
    low_high: tuple[float, float] | None = None,
) -> None:
    """Raise, naming the path and step, unless every price of the window is finite and > 0.

    ``low_high``: the window's (min, max) if already known.
    """
    low, high = low_high if low_high is not None else (window.min(), window.max())
    if low > 0 and high < np.inf:  # min is NaN if any value is
        return
    bad = np.argwhere(~((window > 0) & (window < np.inf)))[0]
    row, step = int(bad[0]), int(bad[1])
    raise ValueError(
        f"prices[{name!r}][path {row + row0}, step {step + step0}] must be a finite price "
        f"greater than 0 USDT, got {float(window[row, step])!r}"
    )


def simulate_paths(
    account: Account,
    prices: Mapping[str, np.ndarray],
    *,
    stops: Mapping[str, float] | None = None,
    stop_fill: str = "stop",
    slippage_rate: float = 0.0,
    funding_rate: float | None = None,
    funding_interval_steps: int | None = None,
) -> SimulationResult:
    """Run ``account`` along many mark-price paths at once; the rules of ``replay``.

    Parameters
    ----------
    account : the account with its positions already open.
    prices : ``{symbol: array of shape (n_paths, n_steps)}`` of mark prices in USDT, one
        per symbol with an open position, all of one shape; path ``i`` of every symbol
        is one joint scenario. Step 0 is the first mark after opening.
    stops, stop_fill, slippage_rate, funding_rate, funding_interval_steps : as in
        :func:`~marginlab.engine.replay.replay`: stop prices per position key, fill at
        the stop (``"stop"``) or at the mark that triggered it (``"mark"``), slippage as
        a fraction against the position, funding rate per interval and the interval in
        steps (None: no funding).

    Returns a :class:`SimulationResult`; ``liquidated_at[key][i]`` is the 0-based step
    (along ``n_steps``) at which position ``key`` was liquidated on path ``i``, or -1.

    >>> from marginlab.scenarios import guide_account
    >>> paths = np.array([[60_000, 55_000, 54_000, 61_000], [60_000, 59_000, 62_000, 63_000]])
    >>> result = simulate_paths(guide_account("isolated"), {"BTCUSDT": paths})
    >>> result.liquidated_at["BTCUSDT"].tolist(), result.final_equity_usdt.round(2).tolist()
    ([2, -1], [8000.0, 11000.0])
    """
    if not isinstance(account, Account):
        raise TypeError(f"account must be an Account, got {type(account).__name__}")
    arrays, n_paths, n_steps = _price_arrays(account, prices)
    stop_map = rules.parse_stops(account, stops)
    fill_mode = rules.parse_stop_fill(stop_fill)
    slippage = rules.parse_slippage(slippage_rate)
    rate, interval = rules.parse_funding(account, funding_rate, funding_interval_steps)
    # Without funding the first scan reads every price once, and checks them as it goes.
    check_in_scan = interval is None and bool(account.positions) and n_paths > 0
    if not check_in_scan:
        for name, arr in arrays.items():
            _check_positive(arr, name)
    engine = _Engine(account, arrays, n_paths, n_steps, stop_map, fill_mode, slippage, rate)
    if account.positions and n_paths:
        engine.run(interval, check_prices=check_in_scan)
    return engine.result()


class _Engine:
    """Per-path account state as arrays, advanced from event to event."""

    def __init__(
        self,
        account: Account,
        prices: dict[str, np.ndarray],
        n_paths: int,
        n_steps: int,
        stops: dict[str, float],
        stop_fill: str,
        slippage_rate: float,
        funding_rate: float,
    ) -> None:
        self.account = account
        self.prices = prices
        self.n_paths, self.n_steps = n_paths, n_steps
        self.stop_fill, self.slippage_rate, self.funding_rate = (
            stop_fill,
            slippage_rate,
            funding_rate,
        )
        self.fee_rate = account.fee_rate
        self.legs = []
        for i, p in enumerate(account.positions):
            key = rules.position_key(p, account)
            self.legs.append(
                _Leg(
                    index=i,
                    key=key,
                    position=p,
                    sign=p.sign,
                    sq=p.sign * p.quantity,
                    quantity=p.quantity,
                    entry_price=p.entry_price,
                    isolated=p.is_isolated,
                    table=account.tiers(p.symbol),
                    stop=stops.get(key, math.nan),
                )
            )
        self.cross_legs = [leg for leg in self.legs if not leg.isolated]
        self.symbols = sorted({leg.position.symbol for leg in self.legs})
        n = n_paths
        self.wallet = np.full(n, account.wallet_balance)
        self.margin = [np.full(n, leg.position.isolated_margin) for leg in self.legs]
        self.open = [np.ones(n, dtype=bool) for _ in self.legs]
        self.liquidated_at = [np.full(n, -1, dtype=np.int64) for _ in self.legs]
        self.stopped_at = [np.full(n, -1, dtype=np.int64) for _ in self.legs]
        self.exit_price = [np.full(n, math.nan) for _ in self.legs]
        self.loss = [np.zeros(n) for _ in self.legs]
        self.fees = np.zeros(n)
        self.funding = np.zeros(n)
        self._brackets: dict[int, tuple] = {}  # leg index -> (Tier, lowest, highest wallet)
        self._ranges: dict[str, tuple[float, float]] = {}  # symbol -> (lowest, highest) mark

    # ------------------------------------------------------------------ driver
    def run(self, interval: int | None, check_prices: bool = False) -> None:
        """Advance every path to the end; ``check_prices``: validate in the first scan."""
        bounds = [0, self.n_steps]
        if interval is not None:
            bounds = [0, *range(interval, self.n_steps, interval), self.n_steps]
        for b0, b1 in itertools.pairwise(bounds):
            rows = np.flatnonzero(self._any_open(slice(None)))
            if rows.size == 0:
                return
            if rules.is_funding_step(b0, interval):
                self._fund(rows, b0)
            if rows.size * 2 >= rows[-1] - rows[0] + 1:
                # Mostly active: scan the whole span of rows through views of the prices
                # rather than gathering copies; rows with nothing open find no event.
                rows = np.arange(rows[0], rows[-1] + 1)
            cursor = None
            while rows.size:
                first = self._scan(rows, cursor, b0, b1, check_prices)
                check_prices = False
                hit = first < b1
                rows, steps = rows[hit], first[hit]
                if rows.size == 0:
                    break
                self._step(rows, steps)
                keep = self._any_open(rows) & (steps + 1 < b1)
                rows, cursor = rows[keep], steps[keep] + 1

    def _any_open(self, rows: slice | np.ndarray) -> np.ndarray:
        out = self.open[0][rows].copy()
        for o in self.open[1:]:
            out |= o[rows]
        return out

    def _cross_wallet(self, rows: np.ndarray) -> np.ndarray:
        """``wallet − Σ isolated margins``, summed in position order as the Account does."""
        total = np.zeros(len(rows))
        for leg in self.legs:
            if leg.isolated:
                total = total + self.margin[leg.index][rows]
        return self.wallet[rows] - total

    # ----------------------------------------------------------------- funding
    def _fund(self, rows: np.ndarray, step: int) -> None:
        """Account.apply_funding on every row: each open position pays ``s·Q·mark·rate``."""
        marks = {s: self.prices[s][rows, step] for s in self.symbols}
        wallet = self.wallet[rows]
        for leg in self.legs:
            is_open = self.open[leg.index][rows]
            payment = np.where(
                is_open, leg.sq * marks[leg.position.symbol] * self.funding_rate, 0.0
            )
            wallet = wallet - payment
            self.funding[rows] -= payment
            if leg.isolated:
                margin = self.margin[leg.index][rows]
                self.margin[leg.index][rows] = np.where(
                    is_open, np.maximum(margin - payment, 0.0), margin
                )
        self.wallet[rows] = np.maximum(wallet, 0.0)

    # -------------------------------------------------------------------- scan
    def _liquidation_price(self, leg: _Leg, wallet: np.ndarray) -> np.ndarray:
        """Closed-form LP per row, as a scan threshold (rows differ only by their wallet).

        The LP of one bracket is affine in the wallet, ``(W + cum − s·Q·EP)/(Q·(MMR − s))``,
        and the bracket changes only where the LP crosses a bracket edge. So
        ``tiered_liquidation_price`` (what ``Account.liquidation_price`` uses) is asked for
        the smallest and largest wallet; when both are in one bracket, that bracket and
        the range of wallets it holds for are kept, and later calls inside the range use
        the affine form without asking again (funding moves wallets a little each time).
        """
        low, high = float(wallet.min()), float(wallet.max())
        known = self._brackets.get(leg.index)
        if known is None or not known[1] <= low <= high <= known[2]:
            ends = np.asarray(
                tiered_liquidation_price(
                    leg.table,
                    side=leg.sign,
                    quantity=leg.quantity,
                    entry_price=leg.entry_price,
                    wallet_balance=np.array([low, high]),
                ),
                dtype=float,
            )
            if low == high:
                return np.broadcast_to(ends[:1], wallet.shape)
            cap = leg.table.max_notional
            tiers = [leg.table.lookup(min(leg.quantity * p, cap)) for p in ends if p > 0]
            if len(tiers) < 2 or tiers[0] is not tiers[1]:
                return np.asarray(
                    tiered_liquidation_price(
                        leg.table,
                        side=leg.sign,
                        quantity=leg.quantity,
                        entry_price=leg.entry_price,
                        wallet_balance=wallet,
                    ),
                    dtype=float,
                )
            tier = tiers[0]
            # wallets at which this bracket's LP sits on its floor and on its cap
            edges = [
                price * leg.quantity * (tier.maintenance_rate - leg.sign)
                - tier.maintenance_amount
                + leg.sign * leg.quantity * leg.entry_price
                for price in (tier.floor / leg.quantity, tier.cap / leg.quantity)
            ]
            known = (tier, min(edges), max(edges))
            self._brackets[leg.index] = known
        tier = known[0]
        numerator = wallet + tier.maintenance_amount - leg.sign * leg.quantity * leg.entry_price
        return numerator / (leg.quantity * (tier.maintenance_rate - leg.sign))

    def _thresholds(self, rows: np.ndarray) -> tuple[dict, dict, np.ndarray]:
        """Per row and symbol: a mark at or below ``low`` or at or above ``high`` may be an event.

        Also returns which rows hold two or more open cross positions (checked in full).
        """
        n = len(rows)
        low = {s: np.full(n, -np.inf) for s in self.symbols}
        high = {s: np.full(n, np.inf) for s in self.symbols}
        n_cross = np.zeros(n, dtype=np.int64)
        for leg in self.cross_legs:
            n_cross += self.open[leg.index][rows]
        single = n_cross == 1
        cross_wallet = self._cross_wallet(rows) if self.cross_legs else None
        for leg in self.legs:
            is_open = self.open[leg.index][rows]
            valid = is_open if leg.isolated else is_open & single
            if valid.any():
                wallet = self.margin[leg.index][rows] if leg.isolated else cross_wallet
                price = np.full(n, np.nan)
                price[valid] = self._liquidation_price(leg, wallet[valid])
                self._widen(leg, low, high, price * (1.0 + leg.sign * _EPS), valid)
            if not math.isnan(leg.stop) and is_open.any():
                self._widen(leg, low, high, np.full(n, leg.stop), is_open)
        return low, high, n_cross >= 2

    @staticmethod
    def _widen(leg: _Leg, low: dict, high: dict, price: np.ndarray, where: np.ndarray) -> None:
        where = where & np.isfinite(price)
        symbol = leg.position.symbol
        if leg.sign > 0:
            low[symbol] = np.where(where, np.maximum(low[symbol], price), low[symbol])
        else:
            high[symbol] = np.where(where, np.minimum(high[symbol], price), high[symbol])

    def _scan(
        self,
        rows: np.ndarray,
        cursor: np.ndarray | None,
        b0: int,
        b1: int,
        check_prices: bool = False,
    ) -> np.ndarray:
        """First step in [cursor, b1) of each row that may hold an event; b1 where none.

        ``check_prices`` validates each window while it is in cache (the first scan of a
        run without funding covers every price). Work arrays are allocated once per scan
        and reused for every chunk: fresh large arrays cost page faults on first touch.
        """
        if cursor is not None:
            b0 = int(cursor.min())
        low, high, full = self._thresholds(rows)
        width = b1 - b0
        first = np.full(len(rows), b1, dtype=np.int64)
        chunk = max(1, _CHUNK_CELLS // width)
        size = min(chunk, len(rows))
        candidate_buffer = np.empty((size, width), dtype=bool)
        hit_buffer = np.empty((size, width), dtype=bool)
        work = np.empty((2, size, width)) if full.any() else None
        for c0 in range(0, len(rows), chunk):
            part = slice(c0, c0 + chunk)
            rr = rows[part]
            m = len(rr)
            contiguous = rr[-1] - rr[0] == m - 1
            windows = {
                s: self.prices[s][rr[0] : rr[-1] + 1, b0:b1]
                if contiguous
                else self.prices[s][rr, b0:b1]
                for s in self.symbols
            }
            many = full[part]
            ranges = {}
            if check_prices:
                for s, window in windows.items():
                    ranges[s] = (float(window.min()), float(window.max()))
                    _check_window(window, s, int(rr[0]), b0, ranges[s])
            candidate = None
            for s in self.symbols:
                for bound, compare in (
                    (low[s][part], np.less_equal),
                    (high[s][part], np.greater_equal),
                ):
                    if not np.isfinite(bound).any():
                        continue
                    target = candidate_buffer[:m] if candidate is None else hit_buffer[:m]
                    compare(windows[s], bound[:, None], out=target)
                    if candidate is None:
                        candidate = target
                    else:
                        np.logical_or(candidate, target, out=candidate)
            if many.any():
                if candidate is None:
                    candidate = candidate_buffer[:m]
                    candidate.fill(False)
                if 2 * np.count_nonzero(many) >= m:  # mostly pools: no copies, mask the rest
                    breach = self._cross_breach(rr, windows, ranges, work[:, :m], hit_buffer[:m])
                    if not many.all():
                        np.logical_and(breach, many[:, None], out=breach)
                    np.logical_or(candidate, breach, out=candidate)
                else:
                    sub = {s: w[many] for s, w in windows.items()}
                    candidate[many] |= self._cross_breach(rr[many], sub, ranges)
            if candidate is None:
                continue
            if cursor is not None:
                reached = np.greater_equal(
                    np.arange(width)[None, :], (cursor[part] - b0)[:, None], out=hit_buffer[:m]
                )
                np.logical_and(candidate, reached, out=candidate)
            at = candidate.argmax(axis=1)
            found = candidate[np.arange(m), at]
            first[part] = np.where(found, b0 + at, b1)
        return first

    def _cross_breach(
        self,
        rows: np.ndarray,
        windows: dict[str, np.ndarray],
        ranges: dict[str, tuple[float, float]],
        work: np.ndarray | None = None,
        out: np.ndarray | None = None,
    ) -> np.ndarray:
        """Steps at which the cross pool's margin ratio may reach 100 %, per row.

        The ratio reaches 100 % when margin balance − maintenance margin <= 0, i.e.
        ``cross wallet + Σ s·Q·(P − EP) − Σ (Q·P·MMR − cum) <= 0``. Within one bracket per
        position this is linear in the marks: ``C + Σ k·P`` with ``k = s·Q − Q·MMR`` and
        ``C = cross wallet + Σ (cum − s·Q·EP)``, a multiply-add per position and step. It
        is widened by a tolerance far above rounding; ``_step`` then decides exactly, with
        the Account's arithmetic. The bracket comes from bounds on the marks: ``ranges``
        (the windows' own, when known), else the whole price array's, else the window's.
        ``work`` (two float arrays shaped like a window) and ``out`` are optional buffers.
        """
        shape = next(iter(windows.values())).shape
        total, term = np.empty((2, *shape)) if work is None else work
        bounds = dict(ranges)
        constant = self._cross_wallet(rows)
        scale = np.abs(constant)
        for i, leg in enumerate(self.cross_legs):
            marks = windows[leg.position.symbol]
            is_open = self.open[leg.index][rows]
            symbol = leg.position.symbol
            if symbol not in bounds:  # the whole array's range first; the window's if needed
                bounds[symbol] = self._price_range(symbol)
                if not self._one_bracket(leg, *bounds[symbol]):
                    bounds[symbol] = (float(marks.min()), float(marks.max()))
            low, high = bounds[symbol]
            tier = self._one_bracket(leg, low, high)
            target = total if i == 0 else term
            if tier is not None:
                slope = np.where(is_open, leg.sq - leg.quantity * tier.maintenance_rate, 0.0)
                offset = tier.maintenance_amount - leg.sq * leg.entry_price
                np.multiply(marks, slope[:, None], out=target)
            else:  # the notional crosses a bracket edge in this window: rate per step
                rate, amount = leg.table.maintenance_terms(leg.quantity * marks)
                slope = np.where(is_open, abs(leg.sq) + 2 * leg.quantity, 0.0)  # bounds |term|/P
                offset = -leg.sq * leg.entry_price
                target[...] = leg.sq * marks - (leg.quantity * marks * rate - amount)
                target *= is_open[:, None]
            constant = constant + np.where(is_open, offset, 0.0)
            scale = scale + np.abs(slope) * high + np.where(is_open, abs(offset), 0.0)
            if i > 0:
                np.add(total, term, out=total)
        return np.less_equal(total, (_EPS * scale - constant)[:, None], out=out)

    def _price_range(self, symbol: str) -> tuple[float, float]:
        """(lowest, highest) mark of a symbol over every path and step (computed once)."""
        if symbol not in self._ranges:
            prices = self.prices[symbol]
            self._ranges[symbol] = (float(prices.min()), float(prices.max()))
        return self._ranges[symbol]

    @staticmethod
    def _one_bracket(leg: _Leg, low: float, high: float) -> Tier | None:
        """The bracket of the position's notional for every mark in [low, high], if one."""
        cap = leg.table.max_notional
        tier = leg.table.lookup(min(leg.quantity * low, cap))
        return tier if tier is leg.table.lookup(min(leg.quantity * high, cap)) else None

    # -------------------------------------------------------------------- step
    def _step(self, rows: np.ndarray, steps: np.ndarray) -> None:
        """One step on the given rows: Account.liquidate at the marks, then the stops."""
        marks = {s: self.prices[s][rows, steps] for s in self.symbols}
        upnl, maint, notional = {}, {}, {}
        for leg in self.legs:
            mark = marks[leg.position.symbol]
            upnl[leg.index] = leg.sq * (mark - leg.entry_price)
            notional[leg.index] = leg.quantity * mark
            rate, amount = leg.table.maintenance_terms(notional[leg.index])
            maint[leg.index] = notional[leg.index] * rate - amount
        self._liquidate(rows, steps, marks, upnl, maint, notional)
        for leg in self.legs:
            if not math.isnan(leg.stop):
                self._stop(leg, rows, steps, marks[leg.position.symbol])

    def _liquidate(self, rows, steps, marks, upnl, maint, notional) -> None:
        cross_wallet = self._cross_wallet(rows) if self.cross_legs else None
        lost = np.zeros(len(rows))
        with np.errstate(divide="ignore", invalid="ignore"):
            for leg in self.legs:
                if not leg.isolated:
                    continue
                i = leg.index
                margin = self.margin[i][rows]
                balance = margin + upnl[i]
                ratio = np.where(balance > 0, maint[i] / balance, np.inf)
                gone = self.open[i][rows] & (ratio >= 1)
                if gone.any():
                    lost = lost + np.where(gone, margin, 0.0)
                    left = np.maximum(margin + upnl[i], 0.0)
                    fee = np.minimum(self.account.liquidation_fee_rate * notional[i], left)
                    self._close(leg, rows[gone], steps[gone], marks[leg.position.symbol][gone])
                    self.loss[i][rows[gone]] = margin[gone]
                    self.fees[rows[gone]] += fee[gone]
            if self.cross_legs:
                open_cross = np.zeros(len(rows), dtype=bool)
                pool_upnl = np.zeros(len(rows))
                pool_mm = np.zeros(len(rows))
                pool_notional = np.zeros(len(rows))
                for leg in self.cross_legs:
                    is_open = self.open[leg.index][rows]
                    open_cross |= is_open
                    pool_upnl = pool_upnl + np.where(is_open, upnl[leg.index], 0.0)
                    pool_mm = pool_mm + np.where(is_open, maint[leg.index], 0.0)
                    pool_notional = pool_notional + np.where(is_open, notional[leg.index], 0.0)
                balance = cross_wallet + pool_upnl
                ratio = np.where(balance > 0, pool_mm / balance, np.inf)
                gone = open_cross & (ratio >= 1)
                if gone.any():
                    lost = lost + np.where(gone, cross_wallet, 0.0)
                    left = np.maximum(balance, 0.0)
                    fee = np.minimum(self.account.liquidation_fee_rate * pool_notional, left)
                    self.fees[rows[gone]] += fee[gone]
                    for leg in self.cross_legs:
                        leg_gone = gone & self.open[leg.index][rows]
                        self._close(
                            leg,
                            rows[leg_gone],
                            steps[leg_gone],
                            marks[leg.position.symbol][leg_gone],
                        )
                        self.loss[leg.index][rows[leg_gone]] = cross_wallet[leg_gone]
        if np.any(lost):
            self.wallet[rows] = np.maximum(self.wallet[rows] - lost, 0.0)

    def _close(self, leg: _Leg, rows: np.ndarray, steps: np.ndarray, price: np.ndarray) -> None:
        """Mark a liquidation: the position is gone, its isolated margin with it."""
        i = leg.index
        self.open[i][rows] = False
        self.margin[i][rows] = 0.0
        self.liquidated_at[i][rows] = steps
        self.exit_price[i][rows] = price

    def _stop(self, leg: _Leg, rows: np.ndarray, steps: np.ndarray, mark: np.ndarray) -> None:
        """Account.close at the stop's fill for the rows whose mark crossed the stop."""
        i = leg.index
        crossed = mark <= leg.stop if leg.sign > 0 else mark >= leg.stop
        hit = self.open[i][rows] & crossed
        if not hit.any():
            return
        sub = rows[hit]
        backing = self.margin[i][sub] if leg.isolated else self._cross_wallet(sub)
        fill = rules.stop_fill_price(
            leg.position,
            stop=leg.stop,
            mark=mark[hit],
            stop_fill=self.stop_fill,
            slippage_rate=self.slippage_rate,
            backing_usdt=backing,
            fee_rate=self.fee_rate,
        )
        pnl = leg.sq * (fill - leg.entry_price)
        fee = leg.quantity * fill * self.fee_rate
        self.wallet[sub] = np.maximum(self.wallet[sub] + pnl - fee, 0.0)
        self.open[i][sub] = False
        self.margin[i][sub] = 0.0
        self.stopped_at[i][sub] = steps[hit]
        self.exit_price[i][sub] = fill
        self.loss[i][sub] = -(pnl - fee)
        self.fees[sub] += fee

    # ------------------------------------------------------------------ result
    def result(self) -> SimulationResult:
        total_upnl = np.zeros(self.n_paths)
        for leg in self.legs:
            i = leg.index
            last = self.prices[leg.position.symbol][:, -1]
            u = np.where(self.open[i], leg.sq * (last - leg.entry_price), 0.0)
            total_upnl = total_upnl + u
            self.loss[i] = np.where(self.open[i], -u, self.loss[i])
        keys = tuple(leg.key for leg in self.legs)
        return SimulationResult(
            keys=keys,
            liquidated_at={leg.key: self.liquidated_at[leg.index] for leg in self.legs},
            stopped_at={leg.key: self.stopped_at[leg.index] for leg in self.legs},
            exit_price={leg.key: self.exit_price[leg.index] for leg in self.legs},
            loss_usdt={leg.key: self.loss[leg.index] for leg in self.legs},
            final_wallet_usdt=self.wallet,
            final_equity_usdt=self.wallet + total_upnl,
            fees_usdt=self.fees,
            funding_usdt=self.funding,
            start_equity_usdt=self.account.state().margin_balance,
            n_steps=self.n_steps,
        )
