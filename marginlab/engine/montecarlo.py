"""Many price paths at once: liquidations, stop-loss exits, fees and funding, vectorized.

:func:`simulate_paths` follows exactly the rules of :func:`~marginlab.engine.replay.replay`
(the Account's arithmetic, the same order of events within a step) for every path at
once, without a Python loop per path.

How it stays fast: between two events a path's account does not change, so whether a
step holds an event is a comparison of a price with a fixed threshold. For a scope
with one position (an isolated position, or a cross pool holding one position) the
threshold is the closed-form liquidation price (``Account.liquidation_price``), compared
with the mark; for a stop it is the stop price, compared with the price the stop watches
(the last price or the mark). Their first crossing is found with ``argmax`` over a boolean
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
from marginlab.engine.errors import MarginError
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
      liquidated isolated, its margin (what funding left of it); liquidated cross, the
      whole cross wallet lost in that liquidation (shared by every cross position
      liquidated with it); stopped, minus the realized PnL after the fee, never more than
      what backed it (the insurance fund covers a fill past bankruptcy); still open,
      minus its unrealized PnL at the last mark. Funding is not included (see
      ``funding_usdt``): a scope liquidated because it could not pay funding has paid
      its whole margin as funding and shows a loss of 0 here.

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
        return self._happened(self.liquidated_at, key)

    def stopped(self, key: str | None = None) -> np.ndarray:
        """Boolean per path: that position (or any position) was closed by its stop-loss."""
        return self._happened(self.stopped_at, key)

    def _happened(self, steps: dict[str, np.ndarray], key: str | None) -> np.ndarray:
        out = np.zeros(self.n_paths, dtype=bool)
        for k in self.keys if key is None else (key,):
            out |= steps[k] >= 0
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
        arr = _array(values, f"prices[{raw!r}]")
        if arr.ndim != 2 or arr.shape[1] == 0:
            raise MarginError(
                f"prices[{raw!r}] must have shape (n_paths, n_steps) with n_steps >= 1, got "
                f"shape {arr.shape}; for one path use path[None, :]"
            )
        arrays[name] = arr
    needed = sorted({p.symbol for p in account.positions})
    missing = [s for s in needed if s not in arrays]
    if missing:
        raise MarginError(
            f"prices: no paths for {', '.join(missing)} (an open position's symbol); "
            f"got {', '.join(map(repr, prices)) or 'none'}"
        )
    extra = sorted(set(arrays) - set(needed)) if needed else []
    if extra:
        raise MarginError(
            f"prices[{extra[0]!r}]: there is no open position on {extra[0]}, so its paths "
            f"would be ignored; give paths for {', '.join(needed)}"
        )
    used = {s: arrays[s] for s in needed} or arrays
    shapes = {a.shape for a in used.values()}
    if len(shapes) != 1:
        detail = ", ".join(f"{s}: {a.shape}" for s, a in used.items())
        raise MarginError(f"prices: every symbol needs the same (n_paths, n_steps), got {detail}")
    n_paths, n_steps = shapes.pop() if shapes else (0, 0)
    return used, n_paths, n_steps


def _array(values: object, name: str) -> np.ndarray:
    try:
        return np.ascontiguousarray(np.asarray(values, dtype=np.float64))
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be an array of prices") from None


def _check_positive(arr: np.ndarray, name: str, label: str = "prices") -> None:
    """Every price finite and > 0, checked chunk by chunk (one pass over the array)."""
    rows = max(1, _CHUNK_CELLS // arr.shape[1])
    for r0 in range(0, arr.shape[0], rows):
        _check_window(arr[r0 : r0 + rows], name, r0, 0, label=label)


def _check_window(
    window: np.ndarray,
    name: str,
    row0: int,
    step0: int,
    low_high: tuple[float, float] | None = None,
    label: str = "prices",
) -> None:
    """Raise, naming the path and step, unless every price of the window is finite and > 0.

    ``low_high``: the window's (min, max) if already known.
    """
    low, high = low_high if low_high is not None else (window.min(), window.max())
    if low > 0 and high < np.inf:  # min is NaN if any value is
        return
    bad = np.argwhere(~((window > 0) & (window < np.inf)))[0]
    row, step = int(bad[0]), int(bad[1])
    raise MarginError(
        f"{label}[{name!r}][path {row + row0}, step {step + step0}] must be a finite price "
        f"greater than 0 USDT, got {float(window[row, step])!r}"
    )


def simulate_paths(
    account: Account,
    prices: Mapping[str, np.ndarray],
    *,
    last_prices: Mapping[str, np.ndarray] | None = None,
    stops: Mapping[str, float] | None = None,
    stop_trigger: str = "last",
    stop_fill: str = "market",
    slippage_rate: float = 0.0,
    funding_rate: float | None = None,
    funding_interval_steps: int | None = None,
) -> SimulationResult:
    """Run ``account`` along many price paths at once; the rules of ``replay``.

    Parameters
    ----------
    account : the account with its positions already open.
    prices : ``{symbol: array of shape (n_paths, n_steps)}`` of **mark** prices in USDT,
        one per symbol with an open position (and no other), all of one shape; path ``i``
        of every symbol is one joint scenario. Step 0 is the first mark after opening.
    last_prices : ``{symbol: array}`` of **last** (traded) prices of the same shape, one
        per symbol of ``prices``; default: the last price is the mark.
    stops, stop_trigger, stop_fill, slippage_rate, funding_rate, funding_interval_steps :
        as in :func:`~marginlab.engine.replay.replay`: stop prices per position key, the
        price a stop watches (``"last"`` or ``"mark"``), the fill (``"market"``: the worse
        of the stop and the step's last price; ``"stop"``: idealised, at the stop price),
        slippage as a fraction against the position, funding rate per interval and the
        interval in steps (None: no funding).

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
    lasts = rules.parse_last_prices(last_prices, arrays, _array)
    stop_map = rules.parse_stops(account, stops)
    trigger = rules.parse_stop_trigger(stop_trigger)
    fill_mode = rules.parse_stop_fill(stop_fill)
    slippage = rules.parse_slippage(slippage_rate)
    rate, interval = rules.parse_funding(account, funding_rate, funding_interval_steps)
    # Without funding the first scan reads every mark once, and checks them as it goes
    # (and the last prices a stop watches); any other prices are checked here.
    check_in_scan = interval is None and bool(account.positions) and n_paths > 0
    if not check_in_scan:
        for name, arr in arrays.items():
            _check_positive(arr, name)
    if lasts is not None:
        keys = rules.position_keys(account)
        scanned = {
            p.symbol for p, key in zip(account.positions, keys, strict=True) if key in stop_map
        }
        for name, arr in lasts.items():
            if not (check_in_scan and trigger == "last" and name in scanned):
                _check_positive(arr, name, "last_prices")
    engine = _Engine(
        account,
        arrays,
        lasts,
        n_paths,
        n_steps,
        stop_map,
        trigger,
        fill_mode,
        slippage,
        rate,
    )
    if account.positions and n_paths:
        engine.run(interval, check_prices=check_in_scan)
    return engine.result()


class _Engine:
    """Per-path account state as arrays, advanced from event to event."""

    def __init__(
        self,
        account: Account,
        prices: dict[str, np.ndarray],
        lasts: dict[str, np.ndarray] | None,
        n_paths: int,
        n_steps: int,
        stops: dict[str, float],
        stop_trigger: str,
        stop_fill: str,
        slippage_rate: float,
        funding_rate: float,
    ) -> None:
        self.account = account
        self.prices = prices
        # the traded price (fills) and the price the stops watch: marks when not given
        self.lasts = prices if lasts is None else lasts
        self.watched = self.lasts if stop_trigger == "last" else prices
        self.n_paths, self.n_steps = n_paths, n_steps
        self.stop_fill, self.slippage_rate, self.funding_rate = (
            stop_fill,
            slippage_rate,
            funding_rate,
        )
        self.fee_rate = account.fee_rate
        self.liquidation_fee_rate = account.liquidation_fee_rate
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
        # The series a scan compares: marks (liquidation) and, when stops watch separate
        # last prices, those too. Keys are (series, symbol).
        self.series: dict[tuple[str, str], np.ndarray] = {
            ("mark", s): prices[s] for s in self.symbols
        }
        if self.watched is not prices:
            for leg in self.legs:
                if not math.isnan(leg.stop):
                    self.series[("last", leg.position.symbol)] = self.watched[leg.position.symbol]
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
                rows = rows[self._any_open(rows)]
                if rows.size == 0:
                    return
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
        """``Account._settle_funding`` on every row: each open position pays
        ``s·Q·mark·rate`` from its backing; a scope that cannot pay is liquidated."""
        marks = {s: self.prices[s][rows, step] for s in self.symbols}
        pay = {}
        cross_due = np.zeros(len(rows))
        has_cross = np.zeros(len(rows), dtype=bool)
        for leg in self.legs:
            is_open = self.open[leg.index][rows]
            pay[leg.index] = np.where(
                is_open, leg.sq * marks[leg.position.symbol] * self.funding_rate, 0.0
            )
            if not leg.isolated:
                cross_due = cross_due + pay[leg.index]
                has_cross |= is_open
        cross_wallet = self._cross_wallet(rows) if self.cross_legs else np.zeros(len(rows))
        cross_gone = has_cross & (cross_due > 0) & (cross_due >= cross_wallet)
        wallet = self.wallet[rows]
        gone_legs = []
        for leg in self.legs:
            i = leg.index
            is_open = self.open[i][rows]
            if leg.isolated:
                margin = self.margin[i][rows]
                gone = is_open & (pay[i] >= margin)
                paid = np.where(gone, margin, pay[i])
                self.margin[i][rows] = np.where(is_open & ~gone, margin - pay[i], margin)
                if gone.any():
                    gone_legs.append((leg, gone))
            else:
                paid = np.where(cross_gone, 0.0, pay[i])
            wallet = wallet - paid
            self.funding[rows] -= paid
        if cross_gone.any():
            wallet = np.where(cross_gone, wallet - cross_wallet, wallet)
            self.funding[rows] -= np.where(cross_gone, cross_wallet, 0.0)
        self.wallet[rows] = np.maximum(wallet, 0.0)
        if not gone_legs and not cross_gone.any():
            return
        # The scopes that could not pay are liquidated with nothing left behind them.
        steps = np.full(len(rows), step, dtype=np.int64)
        upnl, _, notional = self._terms(marks)
        for leg, gone in gone_legs:
            left = np.maximum(0.0 + upnl[leg.index], 0.0)
            fee = np.minimum(self.liquidation_fee_rate * notional[leg.index], left)
            self.fees[rows[gone]] += fee[gone]
            self._close(leg, rows[gone], steps[gone], marks[leg.position.symbol][gone])
            self.loss[leg.index][rows[gone]] = 0.0
        if cross_gone.any():
            self._liquidate_pool(rows, steps, marks, upnl, notional, cross_gone, 0.0)

    def _terms(self, marks: dict[str, np.ndarray]) -> tuple[dict, dict, dict]:
        """Per leg at the marks: unrealized PnL, maintenance margin and notional (USDT)."""
        upnl, maint, notional = {}, {}, {}
        for leg in self.legs:
            mark = marks[leg.position.symbol]
            upnl[leg.index] = leg.sq * (mark - leg.entry_price)
            notional[leg.index] = leg.quantity * mark
            rate, amount = leg.table.maintenance_terms(notional[leg.index])
            maint[leg.index] = notional[leg.index] * rate - amount
        return upnl, maint, notional

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
        """Per row and series: a price at or below ``low`` or at or above ``high`` may be an
        event (keys as ``self.series``: liquidation on the marks, stops on what they watch).

        Also returns which rows hold two or more open cross positions (checked in full).
        """
        n = len(rows)
        low = {key: np.full(n, -np.inf) for key in self.series}
        high = {key: np.full(n, np.inf) for key in self.series}
        n_cross = np.zeros(n, dtype=np.int64)
        for leg in self.cross_legs:
            n_cross += self.open[leg.index][rows]
        single = n_cross == 1
        cross_wallet = self._cross_wallet(rows) if self.cross_legs else None
        stop_series = "mark" if self.watched is self.prices else "last"
        for leg in self.legs:
            symbol = leg.position.symbol
            is_open = self.open[leg.index][rows]
            valid = is_open if leg.isolated else is_open & single
            if valid.any():
                wallet = self.margin[leg.index][rows] if leg.isolated else cross_wallet
                price = np.full(n, np.nan)
                price[valid] = self._liquidation_price(leg, np.maximum(wallet[valid], 0.0))
                key = ("mark", symbol)
                self._widen(leg, low, high, key, price * (1.0 + leg.sign * _EPS), valid)
            if not math.isnan(leg.stop) and is_open.any():
                key = (stop_series, symbol)
                self._widen(leg, low, high, key, np.full(n, leg.stop), is_open)
        return low, high, n_cross >= 2

    @staticmethod
    def _widen(
        leg: _Leg, low: dict, high: dict, key: tuple, price: np.ndarray, where: np.ndarray
    ) -> None:
        where = where & np.isfinite(price)
        if leg.sign > 0:
            low[key] = np.where(where, np.maximum(low[key], price), low[key])
        else:
            high[key] = np.where(where, np.minimum(high[key], price), high[key])

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
                key: array[rr[0] : rr[-1] + 1, b0:b1] if contiguous else array[rr, b0:b1]
                for key, array in self.series.items()
            }
            many = full[part]
            ranges = {}
            if check_prices:
                for (series, s), window in windows.items():
                    bounds = (float(window.min()), float(window.max()))
                    label = "prices" if series == "mark" else "last_prices"
                    _check_window(window, s, int(rr[0]), b0, bounds, label=label)
                    if series == "mark":
                        ranges[s] = bounds
            candidate = None
            for key in self.series:
                for bound, compare in (
                    (low[key][part], np.less_equal),
                    (high[key][part], np.greater_equal),
                ):
                    if not np.isfinite(bound).any():
                        continue
                    target = candidate_buffer[:m] if candidate is None else hit_buffer[:m]
                    compare(windows[key], bound[:, None], out=target)
                    if candidate is None:
                        candidate = target
                    else:
                        np.logical_or(candidate, target, out=candidate)
            if many.any():
                if candidate is None:
                    candidate = candidate_buffer[:m]
                    candidate.fill(False)
                marks = {s: windows[("mark", s)] for s in self.symbols}
                if 2 * np.count_nonzero(many) >= m:  # mostly pools: no copies, mask the rest
                    breach = self._cross_breach(rr, marks, ranges, work[:, :m], hit_buffer[:m])
                    if not many.all():
                        np.logical_and(breach, many[:, None], out=breach)
                    np.logical_or(candidate, breach, out=candidate)
                else:
                    sub = {s: w[many] for s, w in marks.items()}
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
        """One step on the given rows: the stops reached first, then Account.liquidate."""
        marks = {s: self.prices[s][rows, steps] for s in self.symbols}
        lasts = (
            marks
            if self.lasts is self.prices
            else {s: self.lasts[s][rows, steps] for s in self.symbols}
        )
        watched = lasts if self.watched is self.lasts else marks
        upnl, maint, notional = self._terms(marks)
        for leg in self.legs:
            if math.isnan(leg.stop):
                continue
            symbol = leg.position.symbol
            price = watched[symbol]
            crossed = price <= leg.stop if leg.sign > 0 else price >= leg.stop
            hit = np.flatnonzero(self.open[leg.index][rows] & crossed)
            if hit.size == 0:
                continue
            first = self._liquidation_first(leg, rows[hit], {s: m[hit] for s, m in marks.items()})
            fire = hit[~first]
            if fire.size:
                self._stop(leg, rows[fire], steps[fire], lasts[symbol][fire])
        self._liquidate(rows, steps, marks, upnl, maint, notional)

    def _scope_breached(
        self, leg: _Leg, rows: np.ndarray, marks: dict[str, np.ndarray]
    ) -> np.ndarray:
        """Whether the scope backing ``leg`` is at or above 100 % margin ratio at ``marks``
        (``Account._scope_ratio(...) >= 1``, the same arithmetic)."""
        upnl, maint, _ = self._terms(marks)
        with np.errstate(divide="ignore", invalid="ignore"):
            if leg.isolated:
                balance = self.margin[leg.index][rows] + upnl[leg.index]
                ratio = np.where(balance > 0, maint[leg.index] / balance, np.inf)
                return ratio >= 1
            pool_upnl = np.zeros(len(rows))
            pool_mm = np.zeros(len(rows))
            for other in self.cross_legs:
                is_open = self.open[other.index][rows]
                pool_upnl = pool_upnl + np.where(is_open, upnl[other.index], 0.0)
                pool_mm = pool_mm + np.where(is_open, maint[other.index], 0.0)
            balance = self._cross_wallet(rows) + pool_upnl
            ratio = np.where(balance > 0, pool_mm / balance, np.inf)
            return ratio >= 1

    def _liquidation_first(
        self, leg: _Leg, rows: np.ndarray, marks: dict[str, np.ndarray]
    ) -> np.ndarray:
        """Rows where the price reaches the scope's liquidation before ``leg``'s stop: the
        scope is breached at the marks and also with the leg's mark at its stop price."""
        first = self._scope_breached(leg, rows, marks)
        if first.any():
            at_stop = dict(marks)
            at_stop[leg.position.symbol] = np.full(len(rows), leg.stop)
            first &= self._scope_breached(leg, rows, at_stop)
        return first

    def _liquidate(self, rows, steps, marks, upnl, maint, notional) -> None:
        """Account.liquidate at the marks: each isolated scope, then the cross pool."""
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
                    fee = np.minimum(self.liquidation_fee_rate * notional[i], left)
                    self._close(leg, rows[gone], steps[gone], marks[leg.position.symbol][gone])
                    self.loss[i][rows[gone]] = margin[gone]
                    self.fees[rows[gone]] += fee[gone]
            if self.cross_legs:
                cross_wallet = self._cross_wallet(rows)
                open_cross = np.zeros(len(rows), dtype=bool)
                pool_upnl = np.zeros(len(rows))
                pool_mm = np.zeros(len(rows))
                for leg in self.cross_legs:
                    is_open = self.open[leg.index][rows]
                    open_cross |= is_open
                    pool_upnl = pool_upnl + np.where(is_open, upnl[leg.index], 0.0)
                    pool_mm = pool_mm + np.where(is_open, maint[leg.index], 0.0)
                balance = cross_wallet + pool_upnl
                ratio = np.where(balance > 0, pool_mm / balance, np.inf)
                gone = open_cross & (ratio >= 1)
                if gone.any():
                    lost = lost + np.where(gone, cross_wallet, 0.0)
                    self._liquidate_pool(rows, steps, marks, upnl, notional, gone, cross_wallet)
        if np.any(lost):
            self.wallet[rows] = np.maximum(self.wallet[rows] - lost, 0.0)

    def _liquidate_pool(self, rows, steps, marks, upnl, notional, gone, cross_wallet) -> None:
        """Close every open cross leg on the ``gone`` rows; ``cross_wallet`` is what the pool
        held (its loss), 0 when funding used it up. The wallet is settled by the caller."""
        pool_upnl = np.zeros(len(rows))
        pool_notional = np.zeros(len(rows))
        for leg in self.cross_legs:
            is_open = self.open[leg.index][rows]
            pool_upnl = pool_upnl + np.where(is_open, upnl[leg.index], 0.0)
            pool_notional = pool_notional + np.where(is_open, notional[leg.index], 0.0)
        left = np.maximum(cross_wallet + pool_upnl, 0.0)
        fee = np.minimum(self.liquidation_fee_rate * pool_notional, left)
        self.fees[rows[gone]] += fee[gone]
        lost = np.broadcast_to(np.asarray(cross_wallet, dtype=float), (len(rows),))
        for leg in self.cross_legs:
            leg_gone = gone & self.open[leg.index][rows]
            self._close(leg, rows[leg_gone], steps[leg_gone], marks[leg.position.symbol][leg_gone])
            self.loss[leg.index][rows[leg_gone]] = lost[leg_gone]

    def _close(self, leg: _Leg, rows: np.ndarray, steps: np.ndarray, price: np.ndarray) -> None:
        """Mark a liquidation: the position is gone, its isolated margin with it."""
        i = leg.index
        self.open[i][rows] = False
        self.margin[i][rows] = 0.0
        self.liquidated_at[i][rows] = steps
        self.exit_price[i][rows] = price

    def _stop(self, leg: _Leg, rows: np.ndarray, steps: np.ndarray, last: np.ndarray) -> None:
        """Account._settle_close at the stop's fill (where the market is) on these rows."""
        i = leg.index
        backing = self.margin[i][rows] if leg.isolated else self._cross_wallet(rows)
        fill = rules.stop_fill_price(
            leg.sign,
            stop=leg.stop,
            last=last,
            stop_fill=self.stop_fill,
            slippage_rate=self.slippage_rate,
        )
        pnl = leg.sq * (fill - leg.entry_price)
        fee = leg.quantity * fill * self.fee_rate
        change = np.maximum(pnl - fee, -backing)  # the insurance fund covers the rest
        self.wallet[rows] = np.maximum(self.wallet[rows] + change, 0.0)
        self.open[i][rows] = False
        self.margin[i][rows] = 0.0
        self.stopped_at[i][rows] = steps
        self.exit_price[i][rows] = fill
        self.loss[i][rows] = -change
        self.fees[rows] += fee

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


def simulated_timelines(
    account: Account, prices: Mapping[str, np.ndarray], result: SimulationResult
) -> dict[str, np.ndarray]:
    """Every path's timeline at once, as :func:`~marginlab.engine.replay` records one.

    From a :func:`simulate_paths` ``result`` of ``account`` on ``prices`` (without
    funding): between two of its events a path's account does not change, so the events
    the result reports (each position's liquidation or stop step and what it cost) give
    the wallet at every step, and the marks give the rest. Returns arrays of shape
    ``(n_paths, n_steps)``: ``"equity_usdt"`` (wallet + unrealized PnL after each step's
    events) and ``"<key>.margin_ratio"`` per position key (of its scope: itself, or the
    cross pool; NaN once it is closed), what ``replay(...).timeline`` holds for each path.
    A widget that shows any path picks a row instead of replaying it.

    >>> from marginlab.scenarios import guide_account
    >>> paths = np.array([[60_000.0, 55_000.0, 54_000.0, 61_000.0]])
    >>> acct, prices = guide_account("isolated"), {"BTCUSDT": paths}
    >>> lines = simulated_timelines(acct, prices, simulate_paths(acct, prices))
    >>> lines["equity_usdt"].round(2).tolist()
    [[10000.0, 8333.33, 8000.0, 8000.0]]
    """
    if not isinstance(result, SimulationResult):
        raise TypeError(f"result must be a SimulationResult, got {type(result).__name__}")
    if np.any(result.funding_usdt != 0):
        raise MarginError(
            "result: it paid funding, which changes the account between events; replay a "
            "path with funding instead"
        )
    arrays, n_paths, n_steps = _price_arrays(account, prices)
    if (n_paths, n_steps) != (result.n_paths, result.n_steps):
        raise MarginError(
            f"prices: shape {(n_paths, n_steps)} is not the result's "
            f"{(result.n_paths, result.n_steps)}"
        )
    keys = rules.position_keys(account)
    if tuple(keys) != tuple(result.keys):
        raise MarginError(f"result: its positions {result.keys} are not the account's {keys}")
    steps = np.arange(n_steps)
    rows = np.arange(n_paths)
    exits, upnl, maintenance = {}, {}, {}
    delta = np.zeros((n_paths, n_steps))
    pool_done = np.zeros(n_paths, dtype=bool)
    for p, key in zip(account.positions, keys, strict=True):
        liquidated, stopped = result.liquidated_at[key], result.stopped_at[key]
        exit_step = np.where(liquidated >= 0, liquidated, np.where(stopped >= 0, stopped, n_steps))
        exits[key] = exit_step
        marks = arrays[p.symbol]
        upnl[key] = p.sign * p.quantity * (marks - p.entry_price)
        notional = p.quantity * marks
        rate, amount = account.tiers(p.symbol).maintenance_terms(notional)
        maintenance[key] = notional * rate - amount
        # what the wallet gave up at the exit: a stop's realized loss, an isolated margin,
        # or (once per pool liquidation) the whole cross wallet
        paid = exit_step < n_steps
        if not p.is_isolated:
            pool = liquidated >= 0
            paid = paid & ~(pool & pool_done)
            pool_done |= pool
        np.add.at(delta, (rows[paid], exit_step[paid]), -result.loss_usdt[key][paid])
    wallet = np.cumsum(
        np.concatenate([np.full((n_paths, 1), account.wallet_balance), delta], axis=1), axis=1
    )[:, 1:]
    open_ = {key: steps[None, :] < exits[key][:, None] for key in keys}
    total = np.zeros((n_paths, n_steps))
    for key in keys:
        total = total + np.where(open_[key], upnl[key], 0.0)
    lines = {"equity_usdt": wallet + total}
    isolated = np.zeros((n_paths, n_steps))
    for p, key in zip(account.positions, keys, strict=True):
        if p.is_isolated:
            isolated = isolated + np.where(open_[key], p.isolated_margin, 0.0)
    cross = [(p, key) for p, key in zip(account.positions, keys, strict=True) if not p.is_isolated]
    pool_upnl = np.zeros((n_paths, n_steps))
    pool_mm = np.zeros((n_paths, n_steps))
    for _p, key in cross:
        pool_upnl = pool_upnl + np.where(open_[key], upnl[key], 0.0)
        pool_mm = pool_mm + np.where(open_[key], maintenance[key], 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        balance = (wallet - isolated) + pool_upnl
        pool_ratio = np.where(balance > 0, pool_mm / np.where(balance > 0, balance, 1.0), np.inf)
        for p, key in zip(account.positions, keys, strict=True):
            if p.is_isolated:
                own = p.isolated_margin + upnl[key]
                ratio = np.where(own > 0, maintenance[key] / np.where(own > 0, own, 1.0), np.inf)
            else:
                ratio = pool_ratio
            lines[f"{key}.margin_ratio"] = np.where(open_[key], ratio, np.nan)
    return lines
