"""An immutable futures account: positions in cross or isolated margin, per symbol.

Every operation returns a new :class:`Account`; a refused operation raises (a
``ValueError`` naming the parameter and the rule) and the original is untouched,
because nothing is ever modified in place.

Money model (Binance USDⓈ-M, shared/margin-facts.md §1):

* ``wallet_balance``: deposits + realized PnL − fees ± funding (USDT). It *includes*
  the margin assigned to isolated positions.
* ``cross_wallet_balance = wallet_balance − Σ isolated margins``: the pool shared by
  every cross position.
* An isolated position is backed by its own margin only; a cross position by the
  cross wallet together with the other cross positions' PnL and maintenance margin.
  One formula (:func:`~marginlab.engine.liquidation.liquidation_price`) serves both;
  only the wallet and the "other positions" terms differ.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from marginlab.engine import _validate
from marginlab.engine.errors import InsufficientMarginError, MarginError, ModeSwitchError
from marginlab.engine.liquidation import hedge_liquidation_price, tiered_liquidation_price
from marginlab.engine.tiers import TierTable, load_tiers
from marginlab.engine.types import MarginMode, Side

Marks = Mapping[str, float]


@dataclass(frozen=True)
class Position:
    """An open position: size in base units, entry price and leverage, in one margin mode."""

    symbol: str
    side: Side
    quantity: float
    entry_price: float
    leverage: float
    margin_mode: MarginMode
    isolated_margin: float = 0.0  # USDT assigned to an isolated position; 0 for cross

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


@dataclass(frozen=True)
class LiquidationOutcome:
    """What liquidation at given marks does: which positions go and the account after."""

    liquidated: tuple[Position, ...]
    account: Account
    loss_usdt: float  # wallet before − wallet after
    kept_usdt: float  # wallet after

    @property
    def happened(self) -> bool:
        return bool(self.liquidated)


def _check_mode_map(modes: object) -> tuple[tuple[str, MarginMode], ...]:
    items = modes.items() if isinstance(modes, Mapping) else modes
    return tuple(sorted((_validate.symbol(s), MarginMode.parse(m)) for s, m in items))


@dataclass(frozen=True)
class Account:
    """A USDT-margined futures account (immutable).

    Parameters
    ----------
    wallet_balance : USDT, >= 0. Includes the margin assigned to isolated positions.
    positions : open positions (normally built with :meth:`open`).
    margin_modes : per-symbol margin mode settings; a symbol not listed is cross.
    hedge_mode : False = one-way mode (one position per symbol), True = a long and a
        short leg per symbol.
    fee_rate : taker fee as a fraction of notional, charged on every open and close
        (default 0, so the guide's numbers come out exact; Binance regular: 0.0005).
    liquidation_fee_rate : fraction of notional charged at liquidation (reported by the
        simulation; the loss at liquidation is the margin in any case).
    funding_rate : default funding rate per interval for :meth:`apply_funding`.

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

    def __post_init__(self) -> None:
        wallet = _validate.non_negative(self.wallet_balance, "wallet_balance", " USDT")
        object.__setattr__(self, "wallet_balance", wallet)
        object.__setattr__(self, "margin_modes", _check_mode_map(self.margin_modes))
        if not isinstance(self.hedge_mode, bool):
            raise TypeError(f"hedge_mode must be True or False, got {self.hedge_mode!r}")
        for name, high in (("fee_rate", 0.01), ("liquidation_fee_rate", 0.05)):
            value = _validate.in_range(getattr(self, name), name, 0.0, high, " (a fraction)")
            object.__setattr__(self, name, value)
        rate = _validate.in_range(self.funding_rate, "funding_rate", -0.03, 0.03, " (a fraction)")
        object.__setattr__(self, "funding_rate", rate)
        object.__setattr__(self, "positions", tuple(self.positions))

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
            raise ValueError(f"side: {symbol} has a long and a short leg; pass side='long'/'short'")
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
        """The given marks, validated; a symbol left out is marked per position (see _mark)."""
        return {
            _validate.symbol(name): _validate.positive(price, f"marks[{name!r}]", " USDT")
            for name, price in (marks or {}).items()
        }

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
                    liquidation_price=self.liquidation_price(p.symbol, at, side=p.side),
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
        )

    def position_state(self, symbol: str, marks: Marks | None = None, side: object = None):
        """The :class:`PositionState` of one position at marks."""
        target = self.position(symbol, side)
        return next(s for s in self.state(marks).positions if s.position == target)

    def available_balance(self, marks: Marks | None = None) -> float:
        """USDT free for new initial margin: cross margin balance − cross initial margin."""
        upnl, _, im = self._cross_totals(self._marks(marks))
        return self.cross_wallet_balance + upnl - im

    # ------------------------------------------------------------- liquidation
    def liquidation_price(
        self, symbol: str, marks: Marks | None = None, side: object = None
    ) -> float:
        """Mark price (USDT) at which this position (or cross scope) is liquidated.

        Isolated: the position's own margin, no other terms. Cross: the cross wallet,
        minus the other cross positions' maintenance margin, plus their unrealized PnL,
        both at ``marks`` (default: their entry prices). The bracket is the one that
        holds the notional at the liquidation price (margin-facts §2.5). In hedge mode a
        cross symbol with two legs has one shared price (§2.1). NaN when none exists.
        """
        target = self.position(symbol, side)
        table = self.tiers(target.symbol)
        if target.is_isolated:
            return tiered_liquidation_price(
                table,
                side=target.side.value,
                quantity=target.quantity,
                entry_price=target.entry_price,
                wallet_balance=target.isolated_margin,
            )
        at = self._marks(marks)
        legs = [p for p in self.positions_of(target.symbol) if not p.is_isolated]
        others = [p for p in self.positions if not p.is_isolated and p.symbol != target.symbol]
        other_mm = sum(self._maintenance(p, self._mark(p, at)) for p in others)
        other_upnl = sum(p.unrealized_pnl(self._mark(p, at)) for p in others)
        if len(legs) == 2:
            return self._hedge_liquidation_price(legs, table, other_mm, other_upnl)
        return tiered_liquidation_price(
            table,
            side=target.side.value,
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
        liquidation price goes to the insurance fund, margin-facts §7.)
        """
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
            loss_usdt=self.wallet_balance - after.wallet_balance,
            kept_usdt=after.wallet_balance,
        )

    # -------------------------------------------------------------- operations
    def set_margin_mode(self, symbol: str, mode: object) -> Account:
        """Choose cross or isolated for a symbol; refused while it has a position."""
        name = _validate.symbol(symbol)
        load_tiers(name)
        new_mode = MarginMode.parse(mode)
        if self.positions_of(name) and new_mode is not self.margin_mode(name):
            raise ModeSwitchError(
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
            raise ModeSwitchError(
                "hedge_mode: cannot change position mode while positions are open"
            )
        return replace(self, hedge_mode=enabled)

    def deposit(self, amount: float) -> Account:
        """Transfer USDT into the futures wallet (raises the cross pool)."""
        value = _validate.positive(amount, "amount", " USDT")
        return replace(self, wallet_balance=self.wallet_balance + value)

    def open(
        self,
        symbol: str,
        *,
        side: object,
        price: float,
        leverage: float,
        margin: float | None = None,
        quantity: float | None = None,
    ) -> Account:
        """Open (or add to, or in one-way mode reduce) a position with a market order.

        Give exactly one of ``margin`` (USDT of initial margin) or ``quantity`` (base
        units). The notional is ``quantity × price`` and the initial margin
        ``notional / leverage``; it must be available in the cross pool (isolated margin
        leaves the pool). Leverage must be within the bracket's maximum for the
        resulting notional. In one-way mode an order on the opposite side reduces the
        position (and flips it if larger); in hedge mode it opens the other leg.
        """
        name = _validate.symbol(symbol)
        table = load_tiers(name)
        direction = Side.parse(side)
        fill = _validate.positive(price, "price", " USDT")
        lev = _validate.number(leverage, "leverage")
        top = table.tiers[0].max_leverage
        if not 1 <= lev <= top:
            raise ValueError(f"leverage must be between 1 and {top:g} for {name}, got {leverage!r}")
        if (margin is None) == (quantity is None):
            raise ValueError("margin, quantity: give exactly one of them")
        if quantity is None:
            qty = _validate.positive(margin, "margin", " USDT") * lev / fill
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
            raise ValueError(
                f"leverage: the {name} {side} position is open at {current.leverage:g}x; "
                f"add to it at {current.leverage:g}x (got {lev:g}x)"
            )
        notional = total_qty * price
        if notional > table.max_notional:
            raise ValueError(
                f"quantity: the position notional {notional:,.2f} USDT exceeds the largest "
                f"bracket cap {table.max_notional:,.0f} USDT for {name}"
            )
        allowed = table.max_leverage(notional)
        if lev > allowed:
            raise ValueError(
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
            raise ValueError(
                f"quantity must be at most the open {target.quantity:g} {target.symbol}, "
                f"got {qty:g}"
            )
        qty = min(qty, target.quantity)
        pnl = target.sign * qty * (fill - target.entry_price)
        fee = qty * fill * self.fee_rate
        share = qty / target.quantity
        released = target.isolated_margin * share
        if target.is_isolated and pnl - fee < -released - 1e-9:
            raise MarginError(
                f"price: closing at {fill:,.2f} loses {-(pnl - fee):,.2f} USDT, more than the "
                f"{released:,.2f} USDT isolated margin; the position is liquidated first"
            )
        if not target.is_isolated and self.cross_wallet_balance + pnl - fee < -1e-9:
            raise MarginError(
                f"price: closing at {fill:,.2f} loses more than the cross wallet balance "
                f"{self.cross_wallet_balance:,.2f} USDT; the position is liquidated first"
            )
        remaining = target.quantity - qty
        if remaining <= target.quantity * 1e-12:
            positions = tuple(p for p in self.positions if p != target)
        else:
            smaller = replace(
                target, quantity=remaining, isolated_margin=target.isolated_margin - released
            )
            positions = tuple(smaller if p == target else p for p in self.positions)
        wallet = max(self.wallet_balance + pnl - fee, 0.0)
        return replace(self, wallet_balance=wallet, positions=positions)

    def max_addable_margin(self, marks: Marks | None = None) -> float:
        """USDT that can move from the cross pool into an isolated position (margin-facts §6)."""
        upnl, mm, im = self._cross_totals(self._marks(marks))
        available = self.cross_wallet_balance + upnl - im
        return max(0.0, min(self.cross_wallet_balance - mm, available))

    def max_removable_margin(
        self, symbol: str, marks: Marks | None = None, side: object = None
    ) -> float:
        """USDT that can leave an isolated position (margin-facts §6), at marks (default entry)."""
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

    def add_margin(self, symbol: str, amount: float, side: object = None) -> Account:
        """Move ``amount`` USDT from the cross pool into an isolated position's margin."""
        target = self.position(symbol, side)
        if not target.is_isolated:
            raise MarginError(
                f"symbol: {target.symbol} is in cross mode; margin can be added only to an "
                "isolated position (the whole cross pool already backs it)"
            )
        value = _validate.positive(amount, "amount", " USDT")
        limit = self.max_addable_margin()
        if value > limit + 1e-9:
            raise InsufficientMarginError(
                f"amount must be at most {limit:,.2f} USDT (available), got {value:,.2f}"
            )
        return self._with_margin(target, target.isolated_margin + value)

    def remove_margin(
        self, symbol: str, amount: float, side: object = None, marks: Marks | None = None
    ) -> Account:
        """Move ``amount`` USDT from an isolated position back to the cross pool."""
        target = self.position(symbol, side)
        limit = self.max_removable_margin(symbol, marks, side)
        value = _validate.positive(amount, "amount", " USDT")
        if value > limit + 1e-9:
            raise InsufficientMarginError(
                f"amount must be at most {limit:,.2f} USDT (removable from {target.symbol}), "
                f"got {value:,.2f}"
            )
        return self._with_margin(target, target.isolated_margin - value)

    def _with_margin(self, target: Position, margin: float) -> Account:
        new = replace(target, isolated_margin=margin)
        return replace(self, positions=tuple(new if p == target else p for p in self.positions))

    def apply_funding(self, marks: Marks | None = None, rate: float | None = None) -> Account:
        """Settle one funding interval: each position pays ``s·Q·mark·rate`` (longs pay when > 0).

        Isolated positions settle into their own margin; cross into the wallet pool.
        """
        funding = self.funding_rate if rate is None else _validate.number(rate, "rate")
        at = self._marks(marks)
        wallet = self.wallet_balance
        positions = []
        for p in self.positions:
            payment = p.sign * p.quantity * self._mark(p, at) * funding
            wallet -= payment
            if p.is_isolated:
                p = replace(p, isolated_margin=max(p.isolated_margin - payment, 0.0))
            positions.append(p)
        return replace(self, wallet_balance=max(wallet, 0.0), positions=tuple(positions))


def _ratio(maintenance: float, balance: float) -> float:
    return maintenance / balance if balance > 0 else math.inf
