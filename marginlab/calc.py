"""The numbers behind ``marginlab calc``: one position, isolated vs cross, from the engine.

Every number here comes from the engine: the account is built with
:func:`marginlab.scenarios.guide_account` (plus an optional cross neighbour), the
liquidation and bankruptcy prices from :meth:`Account.levels`, the loss and what is kept
from :meth:`Account.liquidate` just past the liquidation price (the loss is the sum of
what the liquidated scopes held, not a difference of two large balances, so it stays exact
for any balance the engine accepts: up to ``MAX_WALLET_USDT``). This module only arranges
them; printing lives in :mod:`marginlab.cli`. Prices are mark prices in USDT; fees and
funding are not included.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

from marginlab.engine import MODES as ENGINE_MODES
from marginlab.engine import Account, MarginError, MarginMode, Position, Side
from marginlab.scenarios import GUIDE, GuideExample, guide_account

MODES: tuple[str, ...] = tuple(m.value for m in reversed(ENGINE_MODES))  # isolated first
# Relative step past the liquidation price at which the engine is asked to liquidate:
# far below a cent at any price, far above floating-point noise.
_NUDGE = 1e-9


@dataclass(frozen=True)
class Neighbour:
    """Another position in the same account, always in cross margin (USDT, base units)."""

    symbol: str
    side: str
    quantity: float
    entry_price: float
    leverage: float = 10.0
    mark_price: float | None = None  # None: at its entry price (no PnL yet)

    @property
    def mark(self) -> float:
        """The neighbour's mark price in USDT (its entry price unless given)."""
        return self.entry_price if self.mark_price is None else self.mark_price


@dataclass(frozen=True)
class ModeResult:
    """One margin mode's outcome for the main position. Money in USDT; rates are fractions.

    Every price-dependent field is NaN when no positive price liquidates the position.
    """

    mode: str
    liquidation_price: float
    distance_from_entry_rate: float  # (liquidation − entry) / entry: negative = below entry
    bankruptcy_price: float
    maintenance_margin_usdt: float  # the main position's, at the liquidation price
    margin_ratio_at_liquidation: float  # of its scope, just past liquidation (1.0 = 100 %)
    loss_usdt: float  # wallet balance lost when liquidated there
    kept_usdt: float  # wallet balance left afterwards
    liquidated: tuple[str, ...]  # symbols closed by that liquidation
    liquidated_at_entry: tuple[str, ...]  # already past liquidation before the main moves
    loss_at_entry_usdt: float  # what those lose on their own (part of loss_usdt)


@dataclass(frozen=True)
class CalcResult:
    """The inputs, the position they make, and one :class:`ModeResult` per mode asked for."""

    symbol: str
    side: str
    wallet_balance: float  # USDT
    margin: float  # USDT of initial margin
    leverage: float
    entry_price: float
    quantity: float  # base units (BTC, ETH)
    notional_usdt: float
    neighbour: Neighbour | None
    neighbour_unrealized_pnl_usdt: float  # 0 without a neighbour
    results: tuple[ModeResult, ...]

    def to_dict(self) -> dict:
        """A JSON-ready dict: same numbers, NaN as None, modes keyed by name."""
        data = asdict(self)
        data["results"] = {r["mode"]: r for r in data.pop("results")}
        if self.neighbour is not None:
            data["neighbour"]["mark_price"] = self.neighbour.mark
        return _nan_to_none(data)


def parse_neighbour(text: str) -> Neighbour:
    """A neighbour from ``SYMBOL:SIDE:QUANTITY@ENTRY``, e.g. ``ETHUSDT:long:10@3000``.

    >>> parse_neighbour("ethusdt:long:10@3000")
    Neighbour(symbol='ETHUSDT', side='long', quantity=10.0, entry_price=3000.0, leverage=10.0, \
mark_price=None)
    """
    form = "SYMBOL:SIDE:QUANTITY@ENTRY such as ETHUSDT:long:10@3000"
    parts = text.split(":")
    if len(parts) != 3 or parts[2].count("@") != 1:
        raise MarginError(f"neighbour must look like {form}, got {text!r}")
    symbol, side, size = (p.strip() for p in parts)
    quantity, entry = size.split("@")
    try:
        return Neighbour(
            symbol=symbol.upper(),
            side=Side.parse(side, "neighbour side").value,
            quantity=float(quantity),
            entry_price=float(entry),
        )
    except ValueError:
        raise MarginError(f"neighbour must look like {form}, got {text!r}") from None


def calculate(
    *,
    wallet_balance: float = GUIDE.wallet_balance,
    margin: float = GUIDE.margin,
    leverage: float = GUIDE.leverage,
    entry_price: float = GUIDE.entry_price,
    side: str = GUIDE.side,
    symbol: str = GUIDE.symbol,
    modes: tuple[str, ...] = MODES,
    neighbour: Neighbour | None = None,
) -> CalcResult:
    """Liquidation price, bankruptcy price, loss and what is kept, per margin mode.

    The defaults are the guide's example (10,000 USDT wallet, 2,000 USDT on a BTC long
    at 10x from 60,000). Raises ValueError/TypeError (from the engine) for bad input.

    >>> result = calculate()
    >>> [(r.mode, round(r.liquidation_price, 2), r.loss_usdt, r.kept_usdt) for r in result.results]
    [('isolated', 54216.87, 2000.0, 8000.0), ('cross', 30120.48, 10000.0, 0.0)]
    """
    wanted = tuple(MarginMode.parse(m).value for m in modes)
    if not wanted:
        raise MarginError("modes must name at least one of 'isolated', 'cross'")
    example = GuideExample(
        wallet_balance=wallet_balance,
        margin=margin,
        leverage=leverage,
        entry_price=entry_price,
        symbol=symbol,
        side=side,
    )
    accounts = {mode: _account(mode, example, neighbour) for mode in wanted}
    first = accounts[wanted[0]]
    main = first.position(symbol)
    neighbour_pnl = 0.0
    if neighbour is not None:
        neighbour_pnl = first.position_state(
            neighbour.symbol, _marks(main, neighbour)
        ).unrealized_pnl
    return CalcResult(
        symbol=main.symbol,
        side=main.side.value,
        wallet_balance=first.wallet_balance,
        margin=main.initial_margin,
        leverage=main.leverage,
        entry_price=main.entry_price,
        quantity=main.quantity,
        notional_usdt=main.entry_notional,
        neighbour=neighbour,
        neighbour_unrealized_pnl_usdt=neighbour_pnl,
        results=tuple(
            _mode_result(mode, accounts[mode], main.symbol, neighbour) for mode in wanted
        ),
    )


def _account(mode: str, example: GuideExample, neighbour: Neighbour | None) -> Account:
    account = guide_account(mode, example)
    if neighbour is None:
        return account
    name = account.position(example.symbol).symbol
    if neighbour.symbol.strip().upper() == name:
        raise MarginError(
            f"neighbour symbol must differ from the main position's symbol {name}, "
            f"got {neighbour.symbol!r}"
        )
    try:
        return account.set_margin_mode(neighbour.symbol, "cross").open(
            neighbour.symbol,
            side=neighbour.side,
            price=neighbour.entry_price,
            leverage=neighbour.leverage,
            quantity=neighbour.quantity,
        )
    except ValueError as error:  # say which position the engine refused
        raise MarginError(f"neighbour: {error}") from None


def _marks(
    main: Position, neighbour: Neighbour | None, main_price: float | None = None
) -> dict[str, float]:
    marks = {main.symbol: main.entry_price if main_price is None else main_price}
    if neighbour is not None:
        marks[neighbour.symbol.strip().upper()] = neighbour.mark
    return marks


def _mode_result(
    mode: str, account: Account, symbol: str, neighbour: Neighbour | None
) -> ModeResult:
    main = account.position(symbol)
    at_entry = _marks(main, neighbour)
    before = account.liquidate(at_entry)
    already = tuple(p.symbol for p in before.liquidated)
    levels = account.levels(symbol, at_entry)
    price, bankrupt = levels.liquidation_price, levels.bankruptcy_price
    if math.isnan(price):
        nan = math.nan
        return ModeResult(
            mode, nan, nan, bankrupt, nan, nan, nan, nan, (), already, before.loss_usdt
        )
    at_liquidation = _marks(main, neighbour, price)
    at_price = account.position_state(symbol, at_liquidation)
    past = _marks(main, neighbour, price * (1 - main.sign * _NUDGE))
    outcome = account.liquidate(past)
    if main not in outcome.liquidated:
        raise RuntimeError(f"engine did not liquidate {symbol} just past {price!r} (a bug)")
    return ModeResult(
        mode=mode,
        liquidation_price=price,
        distance_from_entry_rate=(price - main.entry_price) / main.entry_price,
        bankruptcy_price=bankrupt,
        maintenance_margin_usdt=at_price.maintenance_margin,
        margin_ratio_at_liquidation=at_price.margin_ratio,
        loss_usdt=outcome.loss_usdt,
        kept_usdt=outcome.kept_usdt,
        liquidated=tuple(p.symbol for p in outcome.liquidated),
        liquidated_at_entry=already,
        loss_at_entry_usdt=before.loss_usdt,
    )


def _nan_to_none(value: object) -> object:
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, dict):
        return {k: _nan_to_none(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_nan_to_none(v) for v in value]
    return value
