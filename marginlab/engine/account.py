"""An immutable futures account: positions in cross or isolated margin, per symbol.

Every operation returns a new :class:`Account`; a refused operation raises a
:class:`~marginlab.engine.errors.MarginError` naming the parameter and the rule, and the
original is untouched, because nothing is ever modified in place.

Money model (Binance USDⓈ-M, docs/formulas.md §1):

* ``wallet_balance``: deposits + realized PnL − fees ± funding (USDT). It *includes*
  the margin assigned to isolated positions.
* ``cross_wallet_balance = wallet_balance − Σ isolated margins``: the pool shared by
  every cross position.
* An isolated position is backed by its own margin only; a cross position by the
  cross wallet together with the other cross positions' PnL and maintenance margin.
  One formula (:func:`~marginlab.engine.liquidation.liquidation_price`) serves both;
  only the wallet and the "other positions" terms differ.

Consistency (docs/formulas.md §1.1): a :class:`Position` checks its own numbers when it
is built (size, entry price and leverage > 0, an isolated margin > 0 exactly when it is
isolated), and an :class:`Account` checks its positions against itself (each in the
margin mode the account sets for its symbol, one position per symbol and side, isolated
margins within the wallet). So an inconsistent position cannot exist inside an account,
however it was built; :meth:`Account.open` is the usual way to make one.

:meth:`Account.levels` is the one place a position's levels come from (entry, mark,
liquidation and bankruptcy prices, what backs it, its margin ratio): widgets, charts and
lessons read them there instead of re-deriving them.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

import numpy as np

from marginlab.engine import _validate, errors
from marginlab.engine.errors import InsufficientMarginError, MarginError
from marginlab.engine.liquidation import (
    bankruptcy_price,
    hedge_liquidation_price,
    tiered_liquidation_price,
)
from marginlab.engine.tiers import TierTable, load_tiers
from marginlab.engine.types import MarginMode, Side

Marks = Mapping[str, float]

MAX_WALLET_USDT = 1e12
"""Largest wallet balance (USDT) the engine accepts. Below it float64 holds every USDT
amount to better than a thousandth of a cent, so results print exactly to the cent
(docs/formulas.md §14); above it a loss of 2,000 could vanish in rounding."""

MAX_FUNDING_RATE = 0.03
"""Largest funding rate per interval, either sign (a fraction: 0.03 = 3 %)."""

_ROUNDING = 1e-9  # relative: how far a sum may stray from its exact value by rounding


@dataclass(frozen=True)
class Position:
    """An open position: size in base units, entry price and leverage, in one margin mode.

    Built by :meth:`Account.open` (or directly, for a test or a lesson). It checks its own
    numbers: ``quantity``, ``entry_price`` > 0, ``leverage`` >= 1, and ``isolated_margin``
    (USDT) > 0 for an isolated position and 0 for a cross one; a bad value raises a
    :class:`MarginError` naming it. ``side`` and ``margin_mode`` accept their strings.
    """

    symbol: str
    side: Side
    quantity: float
    entry_price: float
    leverage: float
    margin_mode: MarginMode
    isolated_margin: float = 0.0  # USDT assigned to an isolated position; 0 for cross

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        set_(self, "symbol", _validate.symbol(self.symbol))
        set_(self, "side", Side.parse(self.side))
        set_(self, "margin_mode", MarginMode.parse(self.margin_mode, "margin_mode"))
        set_(self, "quantity", _validate.positive(self.quantity, "quantity", " (base units)"))
        set_(self, "entry_price", _validate.positive(self.entry_price, "entry_price", " USDT"))
        leverage = _validate.number(self.leverage, "leverage")
        if leverage < 1:
            raise MarginError(f"leverage must be at least 1, got {self.leverage!r}")
        set_(self, "leverage", leverage)
        margin = _validate.number(self.isolated_margin, "isolated_margin")
        if self.margin_mode is MarginMode.ISOLATED and margin <= 0:
            raise MarginError(
                f"isolated_margin must be greater than 0 USDT for an isolated position, "
                f"got {self.isolated_margin!r}"
            )
        if self.margin_mode is MarginMode.CROSS and margin != 0:
            raise MarginError(
                "isolated_margin must be 0 for a cross position (the cross wallet backs it), "
                f"got {self.isolated_margin!r}"
            )
        set_(self, "isolated_margin", margin)

    @property
    def sign(self) -> int:
        return self.side.sign

    @property
    def entry_notional(self) -> float:
        """Notional at entry, USDT."""
        return self.quantity * self.entry_price

    @property
    def initial_margin(self) -> float:
        """Initial margin at entry, USDT: entry notional / leverage."""
        return self.entry_notional / self.leverage

    @property
    def is_isolated(self) -> bool:
        return self.margin_mode is MarginMode.ISOLATED

    def unrealized_pnl(self, mark_price: float) -> float:
        """``s·Q·(mark − entry)`` in USDT."""
        return self.sign * self.quantity * (mark_price - self.entry_price)


@dataclass(frozen=True)
class PositionLevels:
    """Where one position stands at marks: the levels a chart or a lesson shows.

    Prices in USDT (mark prices), ``backing_usdt`` in USDT, ``margin_ratio`` a fraction
    (1.0 = liquidation; ``inf`` once the scope's margin balance is 0 or less). See
    :meth:`Account.levels` and docs/formulas.md §2-§3.
    """

    symbol: str
    side: Side
    margin_mode: MarginMode
    quantity: float  # base units
    entry_price: float
    mark_price: float
    liquidation_price: float  # NaN: no positive price liquidates it
    bankruptcy_price: float  # NaN: no positive price uses its backing up
    backing_usdt: float  # isolated: its margin; cross: wallet − others' MM + others' uPnL
    margin_ratio: float  # of its scope: the position (isolated) or the cross pool


@dataclass(frozen=True)
class MaxOpen:
    """The largest order an account can open on a symbol (:meth:`Account.max_open`).

    ``max_quantity`` in base units and ``max_notional_usdt`` at the order's price; the
    two limits behind it (USDT): the available balance and the cap of the last bracket
    that allows the leverage; ``limited_by`` says which one binds ("balance"/"bracket").
    With the bracket binding, the order must stay *below* the cap (at the cap itself the
    next, stricter bracket applies).
    """

    max_quantity: float
    max_notional_usdt: float
    available_balance_usdt: float
    bracket_cap_usdt: float
    limited_by: str


@dataclass(frozen=True, eq=False)
class LeverageCurve:
    """One order (a notional in USDT) at every leverage of a grid (:meth:`Account.leverage_curve`).

    Arrays have one value per ``leverage``: ``liquidation_price`` (USDT; NaN where no
    positive price liquidates it, or where the order is refused), ``backing_usdt`` (what
    would back it: the margin ``notional / leverage`` when isolated, the cross wallet when
    cross), and why the account would refuse it: ``refused_by_balance`` (the margin plus
    the opening fee exceed the available balance) and ``refused_by_bracket`` (the
    leverage is above the maximum of the notional's bracket).
    """

    symbol: str
    side: Side
    margin_mode: MarginMode
    entry_price: float
    notional_usdt: float
    leverage: np.ndarray
    liquidation_price: np.ndarray
    backing_usdt: np.ndarray
    refused_by_balance: np.ndarray
    refused_by_bracket: np.ndarray

    @property
    def refused(self) -> np.ndarray:
        """Where the account refuses the order (either reason)."""
        return self.refused_by_balance | self.refused_by_bracket

    @property
    def distance_rate(self) -> np.ndarray:
        """``|liquidation − entry| / entry``: how far the price may move, a fraction."""
        return np.abs(self.liquidation_price - self.entry_price) / self.entry_price


@dataclass(frozen=True)
class PositionState:
    """One position evaluated at a mark price. Money in USDT; ratios are fractions."""

    position: Position
    mark_price: float
    notional: float
    initial_margin: float
    maintenance_margin: float
    unrealized_pnl: float
    roe: float
    margin_balance: float  # isolated: its margin + uPnL; cross: the cross margin balance
    margin_ratio: float  # maintenance / margin balance of its scope; 1.0 = liquidation
    liquidation_price: float  # NaN when no positive price liquidates it


@dataclass(frozen=True)
class AccountState:
    """The whole account evaluated at marks (USDT; ratios are fractions)."""

    wallet_balance: float
    cross_wallet_balance: float
    unrealized_pnl: float
    margin_balance: float
    cross_margin_balance: float
    cross_maintenance_margin: float
    cross_initial_margin: float
    available_balance: float
    cross_margin_ratio: float  # 0 when there is no cross position
    positions: tuple[PositionState, ...]
    isolated_margin: float = 0.0  # assigned to isolated positions: wallet − cross wallet


@dataclass(frozen=True)
class LiquidationOutcome:
    """What liquidation at given marks does: which positions go and the account after."""

    liquidated: tuple[Position, ...]
    account: Account
    loss_usdt: float  # the wallet balance lost: the scopes' margins (summed, not a difference)
    kept_usdt: float  # wallet after

    @property
    def happened(self) -> bool:
        return bool(self.liquidated)


@dataclass(frozen=True)
class _Funding:
    """One funding settlement (:meth:`Account._settle_funding`), for the replay's events.

    ``paid``: (position, USDT it paid; negative = received) for each position still
    settled one by one; ``liquidated``: the positions whose backing could not cover the
    payment; ``cross_paid``: USDT the cross pool paid as a whole when it could not cover
    its positions' payments (its whole wallet; 0 otherwise).
    """

    account: Account
    paid: tuple[tuple[Position, float], ...]
    liquidated: tuple[Position, ...]
    cross_paid: float


def _check_mode_map(modes: object) -> tuple[tuple[str, MarginMode], ...]:
    items = modes.items() if isinstance(modes, Mapping) else modes
    return tuple(sorted((_validate.symbol(s), MarginMode.parse(m)) for s, m in items))


@dataclass(frozen=True)
class Account:
    """A USDT-margined futures account (immutable).

    Parameters
    ----------
    wallet_balance : USDT, 0 to :data:`MAX_WALLET_USDT`. Includes the margin assigned to
        isolated positions.
    positions : open positions (normally built with :meth:`open`); each must agree with
        the account (its symbol's margin mode; one per symbol, or per side in hedge mode;
        isolated margins within the wallet).
    margin_modes : per-symbol margin mode settings; a symbol not listed is cross.
    hedge_mode : False = one-way mode (one position per symbol), True = a long and a
        short leg per symbol.
    fee_rate : taker fee as a fraction of notional, charged on every open and close
        (default 0, so the guide's numbers come out exact; Binance regular: 0.0005).
    liquidation_fee_rate : fraction of notional charged at liquidation (reported by the
        simulation; the loss at liquidation is the margin in any case).
    funding_rate : default funding rate per interval for :meth:`apply_funding`, within
        ±:data:`MAX_FUNDING_RATE`.

    >>> acct = Account(wallet_balance=10_000).set_margin_mode("BTCUSDT", "isolated")
    >>> acct = acct.open("BTCUSDT", side="long", price=60_000, leverage=10, margin=2_000)
    >>> round(acct.liquidation_price("BTCUSDT"), 2), acct.cross_wallet_balance
    (54216.87, 8000.0)
    """

    wallet_balance: float = 10_000.0
    positions: tuple[Position, ...] = ()
    margin_modes: tuple[tuple[str, MarginMode], ...] = ()
    hedge_mode: bool = False
    fee_rate: float = 0.0
    liquidation_fee_rate: float = 0.0
    funding_rate: float = 0.0
    _tables: dict = field(default_factory=dict, repr=False, compare=False, hash=False)
    # Liquidation prices no mark moves (_fixed_price), by (symbol, side): the account is
    # immutable, so each is worked out once. Not passed on by ``replace``.
    _fixed_prices: dict = field(
        default_factory=dict, init=False, repr=False, compare=False, hash=False
    )

    def __post_init__(self) -> None:
        wallet = _validate.non_negative(self.wallet_balance, "wallet_balance", " USDT")
        if wallet > MAX_WALLET_USDT:
            raise MarginError(
                f"wallet_balance must be at most {MAX_WALLET_USDT:,.0f} USDT, the range in "
                f"which every amount is exact to the cent, got {self.wallet_balance!r}"
            )
        object.__setattr__(self, "wallet_balance", wallet)
        object.__setattr__(self, "margin_modes", _check_mode_map(self.margin_modes))
        if not isinstance(self.hedge_mode, bool):
            raise TypeError(f"hedge_mode must be True or False, got {self.hedge_mode!r}")
        for name, high in (("fee_rate", 0.01), ("liquidation_fee_rate", 0.05)):
            value = _validate.in_range(getattr(self, name), name, 0.0, high, " (a fraction)")
            object.__setattr__(self, name, value)
        rate = _validate.in_range(
            self.funding_rate, "funding_rate", -MAX_FUNDING_RATE, MAX_FUNDING_RATE, " (a fraction)"
        )
        object.__setattr__(self, "funding_rate", rate)
        object.__setattr__(self, "positions", tuple(self.positions))
        self._check_positions()

    def _check_positions(self) -> None:
        """Every position agrees with the account (docs/formulas.md §1.1)."""
        seen: set[tuple[str, Side | None]] = set()
        for p in self.positions:
            if not isinstance(p, Position):
                raise TypeError(f"positions must hold Position objects, got {type(p).__name__}")
            load_tiers(p.symbol)  # a symbol with no bracket table is refused here
            mode = self.margin_mode(p.symbol)
            if p.margin_mode is not mode:
                raise MarginError(
                    f"positions: the {p.symbol} position is {p.margin_mode} but the account "
                    f"sets {p.symbol} to {mode}; a position is held in its symbol's mode"
                )
            key = (p.symbol, p.side if self.hedge_mode else None)
            if key in seen:
                rule = "one leg per side" if self.hedge_mode else "one position per symbol"
                raise MarginError(f"positions: two {p.symbol} positions; {rule} is allowed")
            seen.add(key)
        total = self.isolated_margin_total
        if total - self.wallet_balance > _ROUNDING * max(1.0, total):
            raise MarginError(
                f"positions: the isolated margins add up to {total:,.2f} USDT, more than the "
                f"wallet balance {self.wallet_balance:,.2f} USDT that includes them"
            )

    # ----------------------------------------------------------------- lookups
    def margin_mode(self, symbol: str) -> MarginMode:
        """The symbol's margin mode setting (cross unless set otherwise)."""
        return dict(self.margin_modes).get(_validate.symbol(symbol), MarginMode.CROSS)

    def tiers(self, symbol: str) -> TierTable:
        """The bracket table used for a symbol."""
        return load_tiers(symbol)

    def positions_of(self, symbol: str) -> tuple[Position, ...]:
        """Open positions on a symbol (one in one-way mode, up to two legs in hedge mode)."""
        name = _validate.symbol(symbol)
        return tuple(p for p in self.positions if p.symbol == name)

    def position(self, symbol: str, side: object = None) -> Position:
        """The open position on a symbol (give ``side`` for a hedge-mode leg)."""
        found = self.positions_of(symbol)
        if side is not None:
            wanted = Side.parse(side)
            found = tuple(p for p in found if p.side is wanted)
        if not found:
            where = f" {Side.parse(side)}" if side is not None else ""
            raise MarginError(f"symbol: there is no open{where} position on {symbol!r}")
        if len(found) > 1:
            raise MarginError(
                f"side: {symbol} has a long and a short leg; pass side='long'/'short'"
            )
        return found[0]

    @property
    def isolated_margin_total(self) -> float:
        """USDT assigned to isolated positions (part of the wallet, not of the cross pool)."""
        return sum(p.isolated_margin for p in self.positions if p.is_isolated)

    @property
    def cross_wallet_balance(self) -> float:
        """The pool shared by cross positions: wallet minus isolated margins (USDT)."""
        return self.wallet_balance - self.isolated_margin_total

    def _marks(self, marks: Marks | None) -> dict[str, float]:
        """The given marks, validated; a symbol left out is marked per position (see _mark).

        A mark for a symbol with no open position is refused: it would be ignored.
        """
        if marks is None:
            return {}
        if not isinstance(marks, Mapping):
            raise TypeError(
                "marks must be a mapping {symbol: mark price in USDT} such as "
                f"{{'BTCUSDT': 54000}}, got {type(marks).__name__}"
            )
        held = {p.symbol for p in self.positions}
        result = {}
        for name, price in marks.items():
            symbol = _validate.symbol(name)
            if symbol not in held:
                where = ", ".join(sorted(held)) or "none (the account has no position)"
                raise MarginError(
                    f"marks[{name!r}]: there is no open position on {symbol}, so its mark "
                    f"would be ignored; open positions are on {where}"
                )
            result[symbol] = _validate.positive(price, f"marks[{name!r}]", " USDT")
        return result

    @staticmethod
    def _mark(position: Position, at: Mapping[str, float]) -> float:
        """A position's mark: its symbol's mark if given, else its own entry price (two
        hedge legs opened at different prices each keep theirs: no PnL by default)."""
        return at.get(position.symbol, position.entry_price)

    def _maintenance(self, position: Position, mark: float) -> float:
        return self.tiers(position.symbol).maintenance_margin(position.quantity * mark)

    # ------------------------------------------------------------------ states
    def _cross_totals(self, at: Mapping[str, float]) -> tuple[float, float, float]:
        """(unrealized PnL, maintenance margin, initial margin) of the cross positions, USDT."""
        cross = [p for p in self.positions if not p.is_isolated]
        upnl = sum((p.unrealized_pnl(self._mark(p, at)) for p in cross), 0.0)
        mm = sum((self._maintenance(p, self._mark(p, at)) for p in cross), 0.0)
        im = sum((p.quantity * self._mark(p, at) / p.leverage for p in cross), 0.0)
        return upnl, mm, im

    def _cross_ratio(self, upnl: float, mm: float) -> float:
        """The cross scope's margin ratio (0 when there is no cross position)."""
        has_cross = any(not p.is_isolated for p in self.positions)
        return _ratio(mm, self.cross_wallet_balance + upnl) if has_cross else 0.0

    def _isolated_ratio(self, position: Position, mark: float) -> float:
        balance = position.isolated_margin + position.unrealized_pnl(mark)
        return _ratio(self._maintenance(position, mark), balance)

    def _scope_ratio(self, position: Position, at: Mapping[str, float]) -> float:
        """Margin ratio of the scope that backs ``position``: itself, or the cross pool."""
        if position.is_isolated:
            return self._isolated_ratio(position, self._mark(position, at))
        upnl, mm, _ = self._cross_totals(at)
        return self._cross_ratio(upnl, mm)

    def _other_cross(self, target: Position) -> list[Position]:
        """The cross positions on symbols other than ``target``'s."""
        return [p for p in self.positions if not p.is_isolated and p.symbol != target.symbol]

    def _cross_others(self, target: Position, at: Mapping[str, float]) -> tuple[float, float]:
        """(maintenance margin, unrealized PnL) of the cross positions on other symbols."""
        others = self._other_cross(target)
        other_mm = sum(self._maintenance(p, self._mark(p, at)) for p in others)
        other_upnl = sum(p.unrealized_pnl(self._mark(p, at)) for p in others)
        return other_mm, other_upnl

    def state(self, marks: Marks | None = None) -> AccountState:
        """Every quantity of the account and its positions at marks (default: entry prices)."""
        at = self._marks(marks)
        cross_upnl, cross_mm, cross_im = self._cross_totals(at)
        cross_balance = self.cross_wallet_balance + cross_upnl
        cross_ratio = self._cross_ratio(cross_upnl, cross_mm)
        states = []
        for p in self.positions:
            mark = self._mark(p, at)
            upnl = p.unrealized_pnl(mark)
            mm = self._maintenance(p, mark)
            if p.is_isolated:
                balance, ratio = p.isolated_margin + upnl, self._isolated_ratio(p, mark)
            else:
                balance, ratio = cross_balance, cross_ratio
            states.append(
                PositionState(
                    position=p,
                    mark_price=mark,
                    notional=p.quantity * mark,
                    initial_margin=p.quantity * mark / p.leverage,
                    maintenance_margin=mm,
                    unrealized_pnl=upnl,
                    roe=upnl / p.initial_margin,
                    margin_balance=balance,
                    margin_ratio=ratio,
                    liquidation_price=self._liquidation_price(p, at),
                )
            )
        total_upnl = sum(s.unrealized_pnl for s in states)
        return AccountState(
            wallet_balance=self.wallet_balance,
            cross_wallet_balance=self.cross_wallet_balance,
            unrealized_pnl=total_upnl,
            margin_balance=self.wallet_balance + total_upnl,
            cross_margin_balance=cross_balance,
            cross_maintenance_margin=cross_mm,
            cross_initial_margin=cross_im,
            available_balance=cross_balance - cross_im,
            cross_margin_ratio=cross_ratio,
            positions=tuple(states),
            isolated_margin=self.isolated_margin_total,
        )

    def _mark_arrays(self, marks: Mapping[str, object] | None) -> dict[str, np.ndarray]:
        """Marks that may be arrays, validated like :meth:`_marks` (a symbol left out: its
        positions at their entry prices)."""
        held = {p.symbol for p in self.positions}
        at: dict[str, np.ndarray] = {}
        for name, value in (marks or {}).items():
            symbol = _validate.symbol(name)
            if symbol not in held:
                raise MarginError(
                    f"marks[{name!r}]: there is no open position on {symbol}, so its marks "
                    "would be ignored"
                )
            arr = np.asarray(value, dtype=float)
            if arr.size and not (arr.min() > 0 and arr.max() < np.inf):
                raise MarginError(
                    f"marks[{name!r}] must be finite prices greater than 0 USDT, got "
                    f"{float(arr[~((arr > 0) & (arr < np.inf))].flat[0])!r}"
                )
            at[symbol] = arr
        return at

    def _array_terms(self, position: Position, at: Mapping[str, np.ndarray]) -> tuple:
        """(unrealized PnL, maintenance margin) of a position at marks that may be arrays."""
        mark = at.get(position.symbol, np.asarray(position.entry_price))
        table = self.tiers(position.symbol)
        notional = position.quantity * mark
        if notional.max() > table.max_notional:
            raise MarginError(
                f"marks[{position.symbol!r}]: a mark of {float(mark.max()):,.2f} puts the "
                f"{position.symbol} notional above the last bracket cap "
                f"{table.max_notional:,.0f} USDT"
            )
        rate, amount = table.maintenance_terms(notional)
        return position.unrealized_pnl(mark), notional * rate - amount

    def cross_margin_ratio(self, marks: Mapping[str, object] | None = None) -> float | np.ndarray:
        """The cross pool's margin ratio at marks that may be arrays: a whole grid at once.

        ``Σ MM / (cross wallet + Σ uPnL)`` over the cross positions, each at its symbol's
        mark (arrays broadcast together; a symbol left out is at its entry price): the
        value ``state(marks).cross_margin_ratio`` gives at each point, with the same
        arithmetic. ``inf`` where the pool's margin balance is 0 or less; 0 with no cross
        position. For a chart of the ratio over a grid of prices (docs/formulas.md §1).

        >>> from marginlab.scenarios import two_positions_account
        >>> acct = two_positions_account("cross")  # BTC long 2,000 at 10x, ETH short 1,000
        >>> acct.cross_margin_ratio({"BTCUSDT": np.array([60_000.0, 40_000.0])}).round(4).tolist()
        [0.012, 0.028]
        """
        at = self._mark_arrays(marks)
        cross = [p for p in self.positions if not p.is_isolated]
        if not cross:
            return 0.0
        upnl, mm = self._pool_terms(cross, at)
        ratio = _ratios(mm, self.cross_wallet_balance + upnl)
        return float(ratio) if ratio.ndim == 0 else ratio

    def _pool_terms(self, positions: list[Position], at: Mapping[str, np.ndarray]) -> tuple:
        """(Σ uPnL, Σ maintenance margin) of ``positions``, broadcast to one shape."""
        upnl: object = 0.0
        mm: object = 0.0
        for p in positions:
            p_upnl, p_mm = self._array_terms(p, at)
            upnl, mm = upnl + p_upnl, mm + p_mm
        upnl, mm = np.broadcast_arrays(np.asarray(upnl, dtype=float), np.asarray(mm, dtype=float))
        return upnl, mm

    def wallet_loss(self, marks: Mapping[str, object] | None = None) -> float | np.ndarray:
        """What the wallet stands to lose (USDT) at marks that may be arrays: a curve at once.

        At each point every scope whose margin ratio is at or above 100 % is liquidated
        and loses what backs it, as :meth:`liquidate` (an isolated position its margin;
        the cross pool its whole cross wallet); every position still open counts its
        running loss, −uPnL (negative: a gain). So it is
        ``liquidate(marks).loss_usdt − Σ uPnL of the positions left open``, and it shows
        where the two modes part: until the isolated position is liquidated the same
        trade is down exactly the same in both. Marks as in :meth:`cross_margin_ratio`.

        >>> from marginlab.scenarios import guide_account
        >>> marks = {"BTCUSDT": np.array([66_000.0, 57_000.0, 54_000.0, 30_000.0])}
        >>> guide_account("isolated").wallet_loss(marks).round(2).tolist()
        [-2000.0, 1000.0, 2000.0, 2000.0]
        >>> guide_account("cross").wallet_loss(marks).round(2).tolist()
        [-2000.0, 1000.0, 2000.0, 10000.0]
        """
        at = self._mark_arrays(marks)
        loss: object = 0.0
        for p in self.positions:
            if p.is_isolated:
                upnl, mm = self._array_terms(p, at)
                gone = _ratios(mm, p.isolated_margin + upnl) >= 1
                loss = loss + np.where(gone, p.isolated_margin, -upnl)
        cross = [p for p in self.positions if not p.is_isolated]
        if cross:
            upnl, mm = self._pool_terms(cross, at)
            gone = _ratios(mm, self.cross_wallet_balance + upnl) >= 1
            loss = loss + np.where(gone, self.cross_wallet_balance, -upnl)
        result = np.asarray(loss, dtype=float)
        return float(result) if result.ndim == 0 else result

    def position_state(
        self, symbol: str, marks: Marks | None = None, side: object = None
    ) -> PositionState:
        """The :class:`PositionState` of one position at marks."""
        target = self.position(symbol, side)
        return next(s for s in self.state(marks).positions if s.position == target)

    def available_balance(self, marks: Marks | None = None) -> float:
        """USDT free for new initial margin: cross margin balance − cross initial margin."""
        upnl, _, im = self._cross_totals(self._marks(marks))
        return self.cross_wallet_balance + upnl - im

    # ------------------------------------------------------------------ levels
    def levels(
        self, symbol: str, marks: Marks | None = None, *, side: object = None
    ) -> PositionLevels:
        """A position's levels at ``marks``, in the mode the account holds it.

        The one place a lesson, widget or chart reads these numbers from (docs/formulas.md
        §2-§3). Returns a frozen :class:`PositionLevels`:

        * ``entry_price`` and ``mark_price`` (the symbol's mark in ``marks``; default its
          entry price);
        * ``liquidation_price``: :meth:`liquidation_price` (NaN where no price liquidates);
        * ``backing_usdt``: what stands behind the position in the liquidation formula.
          Isolated: its margin. Cross: the cross wallet, minus the other cross positions'
          maintenance margin, plus their unrealized PnL, at ``marks``;
        * ``bankruptcy_price``: where the scope's margin balance reaches 0 (no
          maintenance margin anywhere): isolated ``EP − s·margin/Q``; cross
          ``EP − s·(cross wallet + others' uPnL)/Q``, one shared price for two hedge legs;
        * ``margin_ratio`` of its scope at ``marks`` (the position, or the cross pool).

        ``side`` picks a hedge-mode leg.

        The guide's example (10,000 USDT wallet, 2,000 USDT on a 10x BTC long from 60,000):

        >>> from marginlab.scenarios import guide_account
        >>> iso = guide_account("isolated").levels("BTCUSDT")
        >>> round(iso.liquidation_price, 2), iso.bankruptcy_price, iso.backing_usdt
        (54216.87, 54000.0, 2000.0)
        >>> cross = guide_account("cross").levels("BTCUSDT")
        >>> round(cross.liquidation_price, 2), cross.bankruptcy_price, cross.backing_usdt
        (30120.48, 30000.0, 10000.0)
        """
        target = self.position(symbol, side)
        at = self._marks(marks)
        if target.is_isolated:
            backing = target.isolated_margin
            bankrupt = bankruptcy_price(
                side=target.sign,
                quantity=target.quantity,
                entry_price=target.entry_price,
                wallet_balance=backing,
            )
        else:
            other_mm, other_upnl = self._cross_others(target, at)
            backing = self.cross_wallet_balance - other_mm + other_upnl
            bankrupt = self._cross_bankruptcy(target, other_upnl)
        return PositionLevels(
            symbol=target.symbol,
            side=target.side,
            margin_mode=target.margin_mode,
            quantity=target.quantity,
            entry_price=target.entry_price,
            mark_price=self._mark(target, at),
            liquidation_price=self._liquidation_price(target, at),
            bankruptcy_price=float(bankrupt),
            backing_usdt=backing,
            margin_ratio=self._scope_ratio(target, at),
        )

    def _cross_bankruptcy(self, target: Position, other_upnl: float) -> float:
        """Price at which the cross pool's margin balance is 0 (shared by two hedge legs)."""
        legs = [p for p in self.positions_of(target.symbol) if not p.is_isolated]
        if len(legs) == 2:
            long_leg = next(p for p in legs if p.side is Side.LONG)
            short_leg = next(p for p in legs if p.side is Side.SHORT)
            return float(
                hedge_liquidation_price(
                    long_quantity=long_leg.quantity,
                    long_entry_price=long_leg.entry_price,
                    short_quantity=short_leg.quantity,
                    short_entry_price=short_leg.entry_price,
                    wallet_balance=self.cross_wallet_balance,
                    long_maintenance_rate=0.0,
                    short_maintenance_rate=0.0,
                    other_unrealized_pnl=other_upnl,
                )
            )
        return float(
            bankruptcy_price(
                side=target.sign,
                quantity=target.quantity,
                entry_price=target.entry_price,
                wallet_balance=self.cross_wallet_balance,
                other_unrealized_pnl=other_upnl,
            )
        )

    # ------------------------------------------------------------- liquidation
    def liquidation_price(
        self, symbol: str, marks: Marks | None = None, side: object = None
    ) -> float:
        """Mark price (USDT) at which this position (or cross scope) is liquidated.

        Isolated: the position's own margin, no other terms. Cross: the cross wallet,
        minus the other cross positions' maintenance margin, plus their unrealized PnL,
        both at ``marks`` (default: their entry prices). The bracket is the one that
        holds the notional at the liquidation price (docs/formulas.md §2.5). In hedge mode
        a cross symbol with two legs has one shared price (§2.4). NaN when none exists.
        """
        return self._liquidation_price(self.position(symbol, side), self._marks(marks))

    def _liquidation_price(self, target: Position, at: Mapping[str, float]) -> float:
        if not self._fixed_price(target):
            return self._tiered_price(target, at)
        key = (target.symbol, target.side)
        if key not in self._fixed_prices:
            self._fixed_prices[key] = self._tiered_price(target, at)
        return self._fixed_prices[key]

    def _fixed_price(self, target: Position) -> bool:
        """Whether no mark moves ``target``'s liquidation price: isolated (its own margin
        only), or cross with no cross position on another symbol (the only mark-dependent
        terms of the cross formula are theirs)."""
        return target.is_isolated or not self._other_cross(target)

    def _tiered_price(self, target: Position, at: Mapping[str, float]) -> float:
        table = self.tiers(target.symbol)
        if target.is_isolated:
            return tiered_liquidation_price(
                table,
                side=target.sign,
                quantity=target.quantity,
                entry_price=target.entry_price,
                wallet_balance=target.isolated_margin,
            )
        legs = [p for p in self.positions_of(target.symbol) if not p.is_isolated]
        other_mm, other_upnl = self._cross_others(target, at)
        if len(legs) == 2:
            return self._hedge_liquidation_price(legs, table, other_mm, other_upnl)
        return tiered_liquidation_price(
            table,
            side=target.sign,
            quantity=target.quantity,
            entry_price=target.entry_price,
            wallet_balance=self.cross_wallet_balance,
            other_maintenance=other_mm,
            other_unrealized_pnl=other_upnl,
        )

    def _hedge_liquidation_price(
        self, legs: list[Position], table: TierTable, other_mm: float, other_upnl: float
    ) -> float:
        """Shared price of two cross legs; brackets re-chosen at that price until stable."""
        long_leg = next(p for p in legs if p.side is Side.LONG)
        short_leg = next(p for p in legs if p.side is Side.SHORT)
        price_l, price_s = long_leg.entry_price, short_leg.entry_price
        price = math.nan
        for _ in range(2 * len(table.tiers) + 2):
            tier_l = table.lookup(min(long_leg.quantity * price_l, table.max_notional))
            tier_s = table.lookup(min(short_leg.quantity * price_s, table.max_notional))
            price = hedge_liquidation_price(
                long_quantity=long_leg.quantity,
                long_entry_price=long_leg.entry_price,
                short_quantity=short_leg.quantity,
                short_entry_price=short_leg.entry_price,
                wallet_balance=self.cross_wallet_balance,
                long_maintenance_rate=tier_l.maintenance_rate,
                short_maintenance_rate=tier_s.maintenance_rate,
                long_maintenance_amount=tier_l.maintenance_amount,
                short_maintenance_amount=tier_s.maintenance_amount,
                other_maintenance=other_mm,
                other_unrealized_pnl=other_upnl,
            )
            if math.isnan(price) or (price_l == price and price_s == price):
                break
            price_l = price_s = price
        return price

    def liquidate(self, marks: Marks) -> LiquidationOutcome:
        """Liquidate every scope whose margin ratio is at or above 100 % at ``marks``.

        Isolated: that position is closed and its margin is lost, nothing else. Cross:
        all cross positions are closed and the whole cross wallet balance is lost;
        isolated positions are untouched. (What remains of the collateral at the
        liquidation price goes to the insurance fund, docs/formulas.md §8.) ``marks`` is
        required: ``{symbol: mark price}`` for symbols with an open position (a symbol
        left out is at its entry price).
        """
        if marks is None:
            raise MarginError(
                "marks: liquidate needs the mark prices to check, such as "
                "{'BTCUSDT': 54000} (USDT), got None"
            )
        at = self._marks(marks)
        gone = [
            p
            for p in self.positions
            if p.is_isolated and self._isolated_ratio(p, self._mark(p, at)) >= 1
        ]
        upnl, mm, _ = self._cross_totals(at)
        cross_gone = self._cross_ratio(upnl, mm) >= 1 and any(
            not p.is_isolated for p in self.positions
        )
        if cross_gone:
            gone += [p for p in self.positions if not p.is_isolated]
        lost = sum(p.isolated_margin for p in gone if p.is_isolated)
        if cross_gone:
            lost += self.cross_wallet_balance
        kept = tuple(p for p in self.positions if p not in gone)
        after = replace(self, wallet_balance=max(self.wallet_balance - lost, 0.0), positions=kept)
        return LiquidationOutcome(
            liquidated=tuple(gone),
            account=after,
            loss_usdt=float(lost),
            kept_usdt=after.wallet_balance,
        )

    # -------------------------------------------------------------- operations
    def set_margin_mode(self, symbol: str, mode: object) -> Account:
        """Choose cross or isolated for a symbol; refused while it has a position."""
        name = _validate.symbol(symbol)
        load_tiers(name)
        new_mode = MarginMode.parse(mode)
        if self.positions_of(name) and new_mode is not self.margin_mode(name):
            raise errors.ModeSwitchError(
                f"mode: cannot switch {name} to {new_mode} while a position is open on it; "
                "close it, switch, then re-open (other symbols are unaffected)"
            )
        modes = dict(self.margin_modes)
        modes[name] = new_mode
        return replace(self, margin_modes=tuple(modes.items()))

    def set_hedge_mode(self, enabled: bool) -> Account:
        """One-way (False) or hedge (True) position mode; refused while any position is open."""
        if not isinstance(enabled, bool):
            raise TypeError(f"enabled must be True or False, got {enabled!r}")
        if self.positions and enabled != self.hedge_mode:
            raise errors.ModeSwitchError(
                "hedge_mode: cannot change position mode while positions are open"
            )
        return replace(self, hedge_mode=enabled)

    def deposit(self, amount: float) -> Account:
        """Transfer ``amount`` USDT into the futures wallet (raises the cross pool)."""
        value = _validate.positive(amount, "amount", " USDT")
        if self.wallet_balance + value > MAX_WALLET_USDT:
            raise MarginError(
                f"amount: depositing {value:,.2f} USDT would take the wallet balance above "
                f"{MAX_WALLET_USDT:,.0f} USDT, the range in which amounts are exact to the cent"
            )
        return replace(self, wallet_balance=self.wallet_balance + value)

    def _leverage(self, name: str, table: TierTable, leverage: object) -> float:
        lev = _validate.number(leverage, "leverage")
        top = table.tiers[0].max_leverage
        if not 1 <= lev <= top:
            raise MarginError(
                f"leverage must be between 1 and {top:g} for {name}, got {leverage!r}"
            )
        return lev

    def open(
        self,
        symbol: str,
        *,
        side: object,
        price: float,
        leverage: float,
        margin: float | None = None,
        quantity: float | None = None,
        notional: float | None = None,
    ) -> Account:
        """Open (or add to, or in one-way mode reduce) a position with a market order.

        Give exactly one of ``margin`` (USDT of initial margin), ``quantity`` (base units)
        or ``notional`` (USDT: the position's size, as an exchange's order form takes it;
        the margin then follows as ``notional / leverage``). The notional is
        ``quantity × price`` and the initial margin ``notional / leverage``; it must be
        available in the cross pool (isolated margin leaves the pool). Leverage must be
        within the bracket's maximum for the resulting notional. In one-way mode an order
        on the opposite side reduces the position (and flips it if larger); in hedge mode
        it opens the other leg.

        >>> acct = Account(wallet_balance=10_000).set_margin_mode("BTCUSDT", "isolated")
        >>> acct.open("BTCUSDT", side="long", price=60_000, leverage=20, notional=20_000
        ...     ).position("BTCUSDT").isolated_margin
        1000.0
        """
        name = _validate.symbol(symbol)
        table = load_tiers(name)
        direction = Side.parse(side)
        fill = _validate.positive(price, "price", " USDT")
        lev = self._leverage(name, table, leverage)
        if sum(value is not None for value in (margin, quantity, notional)) != 1:
            raise MarginError("margin, quantity, notional: give exactly one of them")
        if margin is not None:
            qty = _validate.positive(margin, "margin", " USDT") * lev / fill
        elif notional is not None:
            qty = _validate.positive(notional, "notional", " USDT") / fill
        else:
            qty = _validate.positive(quantity, "quantity", " (base units)")

        if not self.hedge_mode:
            existing = self.positions_of(name)
            if existing and existing[0].side is not direction:
                held = existing[0].quantity
                reduced = self.close(name, price=fill, quantity=min(qty, held))
                if qty <= held * (1 + 1e-12):  # same tolerance as close(): no dust flip
                    return reduced
                return reduced.open(
                    name, side=direction, price=fill, leverage=lev, quantity=qty - held
                )
        return self._increase(name, table, direction, fill, lev, qty)

    def _increase(
        self, name: str, table: TierTable, side: Side, price: float, lev: float, qty: float
    ) -> Account:
        current = next((p for p in self.positions_of(name) if p.side is side), None)
        mode = self.margin_mode(name)
        total_qty = qty + (current.quantity if current else 0.0)
        if current is not None and current.leverage != lev:
            raise MarginError(
                f"leverage: the {name} {side} position is open at {current.leverage:g}x; "
                f"add to it at {current.leverage:g}x (got {lev:g}x)"
            )
        notional = total_qty * price
        if notional > table.max_notional:
            raise errors.BracketError(
                f"quantity: the position notional {notional:,.2f} USDT exceeds the largest "
                f"bracket cap {table.max_notional:,.0f} USDT for {name}"
            )
        allowed = table.max_leverage(notional)
        if lev > allowed:
            raise errors.BracketError(
                f"leverage must be at most {allowed:g}x for a {name} notional of "
                f"{notional:,.2f} USDT (bracket {table.lookup(notional).bracket}), got {lev:g}x"
            )
        initial = qty * price / lev
        fee = qty * price * self.fee_rate
        available = self.available_balance()
        if initial + fee > available + 1e-9:
            raise InsufficientMarginError(
                f"margin: the initial margin {initial:,.2f} USDT"
                + (f" plus fee {fee:,.2f}" if fee else "")
                + f" exceeds the available balance {available:,.2f} USDT"
            )
        if current is None:
            new = Position(
                name, side, qty, price, lev, mode, initial if mode is MarginMode.ISOLATED else 0.0
            )
            positions = (*self.positions, new)
        else:
            entry = (current.quantity * current.entry_price + qty * price) / total_qty
            added = initial if current.is_isolated else 0.0
            new = replace(
                current,
                quantity=total_qty,
                entry_price=entry,
                isolated_margin=current.isolated_margin + added,
            )
            positions = tuple(new if p == current else p for p in self.positions)
        return replace(self, wallet_balance=self.wallet_balance - fee, positions=positions)

    def close(
        self, symbol: str, *, price: float, quantity: float | None = None, side: object = None
    ) -> Account:
        """Close all (or ``quantity`` of) a position at ``price``; realized PnL and fee settle.

        Refused where the loss would exceed what backs the position (past its
        bankruptcy price): the exchange would have liquidated it first (see
        :meth:`liquidate`).
        """
        target = self.position(symbol, side)
        fill = _validate.positive(price, "price", " USDT")
        qty = target.quantity if quantity is None else _validate.positive(quantity, "quantity")
        if qty > target.quantity * (1 + 1e-12):
            raise MarginError(
                f"quantity must be at most the open {target.quantity:g} {target.symbol}, "
                f"got {qty:g}"
            )
        qty = min(qty, target.quantity)
        pnl = target.sign * qty * (fill - target.entry_price)
        fee = qty * fill * self.fee_rate
        backing = self._close_backing(target, qty)
        if target.is_isolated and pnl - fee < -backing - 1e-9:
            raise MarginError(
                f"price: closing at {fill:,.2f} loses {-(pnl - fee):,.2f} USDT, more than the "
                f"{backing:,.2f} USDT isolated margin; the position is liquidated first"
            )
        if not target.is_isolated and pnl - fee < -backing - 1e-9:
            raise MarginError(
                f"price: closing at {fill:,.2f} loses more than the cross wallet balance "
                f"{backing:,.2f} USDT; the position is liquidated first"
            )
        return self._settle_close(target, qty, pnl - fee)[0]

    def _close_backing(self, target: Position, qty: float) -> float:
        """USDT standing behind the closed part: its share of the isolated margin, or the
        cross wallet."""
        if target.is_isolated:
            return target.isolated_margin * (qty / target.quantity)
        return self.cross_wallet_balance

    def _settle_close(self, target: Position, qty: float, realized: float) -> tuple[Account, float]:
        """Close ``qty`` of ``target`` with ``realized`` USDT (PnL − fee) into the wallet.

        The wallet never loses more than what backs the closed part (its share of the
        isolated margin, or the cross wallet): a fill past the bankruptcy price costs that
        backing and the insurance fund covers the rest (docs/formulas.md §8, §10).
        Returns the account and the USDT the insurance fund covered (0 if none).
        """
        backing = self._close_backing(target, qty)
        change = max(realized, -backing)
        remaining = target.quantity - qty
        if remaining <= target.quantity * 1e-12:
            positions = tuple(p for p in self.positions if p != target)
        else:
            released = backing if target.is_isolated else 0.0
            smaller = replace(
                target, quantity=remaining, isolated_margin=target.isolated_margin - released
            )
            positions = tuple(smaller if p == target else p for p in self.positions)
        wallet = self.wallet_balance + change
        return replace(self, wallet_balance=max(wallet, 0.0), positions=positions), (
            change - realized
        )

    def max_addable_margin(self, marks: Marks | None = None) -> float:
        """USDT that can move from the cross pool into an isolated position
        (docs/formulas.md §5)."""
        upnl, mm, im = self._cross_totals(self._marks(marks))
        available = self.cross_wallet_balance + upnl - im
        return max(0.0, min(self.cross_wallet_balance - mm, available))

    def max_removable_margin(
        self, symbol: str, marks: Marks | None = None, side: object = None
    ) -> float:
        """USDT that can leave an isolated position (docs/formulas.md §5), at marks
        (default entry)."""
        target = self.position(symbol, side)
        if not target.is_isolated:
            raise MarginError(
                f"symbol: {target.symbol} is in cross mode; margin can be removed only from an "
                "isolated position (cross margin is shared, not assigned)"
            )
        mark = self._mark(target, self._marks(marks))
        mm = self._maintenance(target, mark)
        by_maintenance = target.isolated_margin - mm
        by_initial = (
            target.isolated_margin
            + target.unrealized_pnl(mark)
            - mark * target.quantity / target.leverage
        )
        return max(0.0, min(by_maintenance, by_initial))

    def add_margin(self, symbol: str, margin: float, side: object = None) -> Account:
        """Move ``margin`` USDT from the cross pool into an isolated position's margin."""
        target = self.position(symbol, side)
        if not target.is_isolated:
            raise MarginError(
                f"symbol: {target.symbol} is in cross mode; margin can be added only to an "
                "isolated position (the whole cross pool already backs it)"
            )
        value = _validate.positive(margin, "margin", " USDT")
        limit = self.max_addable_margin()
        if value > limit + 1e-9:
            raise InsufficientMarginError(
                f"margin must be at most {limit:,.2f} USDT (available), got {value:,.2f}"
            )
        return self._with_margin(target, target.isolated_margin + value)

    def remove_margin(
        self, symbol: str, margin: float, side: object = None, marks: Marks | None = None
    ) -> Account:
        """Move ``margin`` USDT from an isolated position back to the cross pool."""
        target = self.position(symbol, side)
        limit = self.max_removable_margin(symbol, marks, side)
        value = _validate.positive(margin, "margin", " USDT")
        if value > limit + 1e-9:
            raise InsufficientMarginError(
                f"margin must be at most {limit:,.2f} USDT (removable from {target.symbol}), "
                f"got {value:,.2f}"
            )
        return self._with_margin(target, target.isolated_margin - value)

    def _with_margin(self, target: Position, margin: float) -> Account:
        new = replace(target, isolated_margin=margin)
        return replace(self, positions=tuple(new if p == target else p for p in self.positions))

    # ----------------------------------------------------------------- funding
    def apply_funding(self, marks: Marks | None = None, rate: float | None = None) -> Account:
        """Settle one funding interval: each position pays ``s·Q·mark·rate`` (longs pay
        when the rate is > 0), ``rate`` within ±:data:`MAX_FUNDING_RATE` (default: the
        account's ``funding_rate``).

        Funding never breaks isolation (docs/formulas.md §7): an isolated position settles
        from its own margin and a cross position from the cross pool. A scope that cannot
        cover its payment (the payment is at least its margin, or at least the cross
        wallet) is liquidated: its margin (or the whole cross wallet) is gone and nothing
        more leaves the wallet.

        >>> from marginlab.scenarios import guide_account
        >>> acct = guide_account("isolated")  # 2,000 USDT isolated of a 10,000 wallet
        >>> after = acct.apply_funding({"BTCUSDT": 60_000}, rate=0.0001)  # pays 2 USDT
        >>> after.position("BTCUSDT").isolated_margin, after.wallet_balance
        (1998.0, 9998.0)
        """
        return self._settle_funding(self._marks(marks), self._funding_rate(rate)).account

    def _funding_rate(self, rate: object) -> float:
        if rate is None:
            return self.funding_rate
        return _validate.in_range(
            rate,
            "rate",
            -MAX_FUNDING_RATE,
            MAX_FUNDING_RATE,
            " (a fraction per funding interval, as funding_rate)",
        )

    def _settle_funding(self, at: Mapping[str, float], rate: float) -> _Funding:
        """Funding at validated marks; the simulation repeats this arithmetic step by step."""
        payments = [p.sign * p.quantity * self._mark(p, at) * rate for p in self.positions]
        cross_wallet = self.cross_wallet_balance
        pairs = list(zip(self.positions, payments, strict=True))
        cross_due = sum((pay for p, pay in pairs if not p.is_isolated), 0.0)
        has_cross = any(not p.is_isolated for p in self.positions)
        cross_gone = has_cross and cross_due > 0 and cross_due >= cross_wallet
        wallet = self.wallet_balance
        kept: list[Position] = []
        paid: list[tuple[Position, float]] = []
        gone: list[Position] = []
        for p, pay in pairs:
            if p.is_isolated and pay >= p.isolated_margin:
                wallet -= p.isolated_margin
                paid.append((p, p.isolated_margin))
                gone.append(p)
            elif p.is_isolated:
                wallet -= pay
                paid.append((p, pay))
                kept.append(replace(p, isolated_margin=p.isolated_margin - pay))
            elif cross_gone:
                gone.append(p)
            else:
                wallet -= pay
                paid.append((p, pay))
                kept.append(p)
        if cross_gone:
            wallet -= cross_wallet
        after = replace(self, wallet_balance=max(wallet, 0.0), positions=tuple(kept))
        return _Funding(after, tuple(paid), tuple(gone), cross_wallet if cross_gone else 0.0)

    # ------------------------------------------------------- order-form helpers
    def price_for_roe(self, symbol: str, roe: float, *, side: object = None) -> float:
        """The mark price (USDT) at which a position shows ``roe`` (a fraction: 0.5 = 50 %).

        ROE is ``s·Q·(P − EP) / IM`` (:attr:`PositionState.roe`, docs/formulas.md §11);
        solved for P: ``EP + s·roe·IM/Q``. Refused (MarginError naming ``roe``) where that
        price is 0 or below (a long cannot lose more than 100 % × leverage).

        >>> from marginlab.scenarios import guide_account
        >>> guide_account().price_for_roe("BTCUSDT", 0.5)  # 60,000 + 0.5 × 2,000 / (1/3)
        63000.0
        """
        target = self.position(symbol, side)
        wanted = _validate.number(roe, "roe")
        price = target.entry_price + target.sign * wanted * target.initial_margin / target.quantity
        if not price > 0:
            raise MarginError(
                f"roe: a {target.side} at {target.leverage:g}x cannot reach "
                f"{wanted * 100:,.2f}% ROE: the price would have to be {price:,.2f} USDT "
                "(0 or below)"
            )
        return price

    def max_open(
        self, symbol: str, *, leverage: float, price: float, side: object = "long"
    ) -> MaxOpen:
        """The largest order on ``symbol`` at ``leverage`` and ``price`` (docs/formulas.md §11).

        Two limits: the initial margin plus the opening fee,
        ``notional × (1/leverage + fee_rate)``, must fit :meth:`available_balance`; and the
        position's notional must stay below the cap of the last bracket whose maximum
        leverage allows ``leverage``. An addition to an open position on the same side
        counts that position's notional at ``price`` against the cap (and must use its
        leverage). An opposite order in one-way mode would first reduce the position, so
        it is refused here.

        >>> result = Account(wallet_balance=10_000).max_open("BTCUSDT", leverage=10, price=60_000)
        >>> result.max_notional_usdt, round(result.max_quantity, 6), result.limited_by
        (100000.0, 1.666667, 'balance')
        """
        name = _validate.symbol(symbol)
        table = load_tiers(name)
        lev = self._leverage(name, table, leverage)
        fill = _validate.positive(price, "price", " USDT")
        direction = Side.parse(side)
        held = 0.0
        for p in self.positions_of(name):
            if p.side is not direction and not self.hedge_mode:
                raise MarginError(
                    f"side: {name} holds a {p.side} position; a {direction} order would first "
                    "reduce it, so max_open answers only for a new position or the same side"
                )
            if p.side is direction:
                if p.leverage != lev:
                    raise MarginError(
                        f"leverage: the {name} {p.side} position is open at {p.leverage:g}x; "
                        f"an addition uses {p.leverage:g}x (got {lev:g}x)"
                    )
                held = p.quantity * fill
        cap = max(tier.cap for tier in table.tiers if tier.max_leverage >= lev)
        available = self.available_balance()
        by_balance = max(available, 0.0) * lev / (1.0 + lev * self.fee_rate)
        by_bracket = max(cap - held, 0.0)
        notional = min(by_balance, by_bracket)
        return MaxOpen(
            max_quantity=notional / fill,
            max_notional_usdt=notional,
            available_balance_usdt=available,
            bracket_cap_usdt=cap,
            limited_by="balance" if by_balance < by_bracket else "bracket",
        )

    def leverage_curve(
        self,
        symbol: str,
        *,
        side: object,
        price: float,
        notional: float,
        leverages: object,
        marks: Marks | None = None,
    ) -> LeverageCurve:
        """The same order at every leverage of a grid: its liquidation price, and whether
        this account would open it (docs/formulas.md §11).

        The order is ``open(symbol, side=side, price=price, notional=notional,
        leverage=L)`` for each ``L`` in ``leverages`` (1 up to the symbol's maximum), in
        the account's mode for ``symbol``, which must hold no position yet. Each
        liquidation price is what that ``open`` would give, with the same arithmetic:
        isolated, the margin ``notional / L`` backs it (the price moves toward entry as
        ``L`` rises); cross, the cross wallet does (less the opening fee), the same at
        every leverage. The other cross positions count at ``marks`` (default: entry).

        >>> acct = Account(wallet_balance=10_000)
        >>> curve = acct.leverage_curve("BTCUSDT", side="long", price=60_000,
        ...     notional=20_000, leverages=[1, 2, 10, 125])
        >>> curve.refused_by_balance.tolist(), curve.liquidation_price.round(2).tolist()
        ([True, False, False, False], [nan, 30120.48, 30120.48, 30120.48])
        """
        name = _validate.symbol(symbol)
        table = load_tiers(name)
        direction = Side.parse(side)
        fill = _validate.positive(price, "price", " USDT")
        size = _validate.positive(notional, "notional", " USDT")
        try:
            lev = np.array(leverages, dtype=float, ndmin=1)
        except (TypeError, ValueError):
            raise TypeError(f"leverages must be an array of numbers, got {leverages!r}") from None
        top = table.tiers[0].max_leverage
        if lev.ndim != 1 or not (np.all(np.isfinite(lev)) and lev.min() >= 1 and lev.max() <= top):
            raise MarginError(f"leverages must be 1-D, each between 1 and {top:g} for {name}")
        if self.positions_of(name):
            raise MarginError(
                f"symbol: {name} already holds a position; leverage_curve answers for a new "
                "order on a symbol without one"
            )
        mode = self.margin_mode(name)
        qty = size / fill
        initial = qty * fill / lev  # as open() computes the margin
        fee = qty * fill * self.fee_rate
        by_balance = initial + fee > self.available_balance(marks) + 1e-9
        too_large = qty * fill > table.max_notional
        by_bracket = np.full(lev.shape, True) if too_large else lev > table.max_leverage(qty * fill)
        other_mm = other_upnl = 0.0
        if mode is MarginMode.ISOLATED:
            wallet: object = initial
        else:  # the cross wallet after open() charged the fee, and the other cross positions
            at = self._marks(marks)
            others = [p for p in self.positions if not p.is_isolated]
            other_mm = sum(self._maintenance(p, self._mark(p, at)) for p in others)
            other_upnl = sum(p.unrealized_pnl(self._mark(p, at)) for p in others)
            wallet = (self.wallet_balance - fee) - self.isolated_margin_total
        backing = np.broadcast_to(
            np.asarray(wallet, dtype=float) - other_mm + other_upnl, lev.shape
        )
        price_at = np.full(lev.shape, math.nan)
        if not too_large:
            price_at = np.broadcast_to(
                tiered_liquidation_price(
                    table,
                    side=direction.sign,
                    quantity=qty,
                    entry_price=fill,
                    wallet_balance=wallet,
                    other_maintenance=other_mm,
                    other_unrealized_pnl=other_upnl,
                ),
                lev.shape,
            )
        refused = by_balance | by_bracket
        return LeverageCurve(
            symbol=name,
            side=direction,
            margin_mode=mode,
            entry_price=fill,
            notional_usdt=size,
            leverage=lev,
            liquidation_price=np.where(refused, math.nan, price_at),
            backing_usdt=np.asarray(backing, dtype=float),
            refused_by_balance=by_balance,
            refused_by_bracket=by_bracket,
        )


def one_position(account: object, why: str) -> Account:
    """``account``, checked to be an :class:`Account` holding exactly one position
    (``why``: what to use instead, for the error message)."""
    if not isinstance(account, Account):
        raise TypeError(f"account must be an Account, got {type(account).__name__}")
    if len(account.positions) != 1:
        raise MarginError(
            f"account must hold exactly one position (it holds {len(account.positions)}); {why}"
        )
    return account


def _ratio(maintenance: float, balance: float) -> float:
    return maintenance / balance if balance > 0 else math.inf


def _ratios(maintenance: np.ndarray, balance: np.ndarray) -> np.ndarray:
    """:func:`_ratio` element by element (``inf`` where the balance is 0 or less)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        safe = np.where(balance > 0, balance, 1.0)
        return np.where(balance > 0, maintenance / safe, np.inf)
