"""The guide's worked example and the accounts built from it (docs/formulas.md §12.2).

A 10,000 USDT futures account; 2,000 USDT of margin on a BTC long at 10x from 60,000
(20,000 USDT notional, 1/3 BTC). Isolated: liquidation at 54,216.87, lose 2,000, keep
8,000. Cross: liquidation at 30,120.48, lose (about) the whole 10,000.
"""

from __future__ import annotations

from dataclasses import dataclass

from marginlab.engine import Account, LeverageCurve


@dataclass(frozen=True)
class GuideExample:
    """The guide's numbers, in USDT, USDT/BTC and x."""

    wallet_balance: float = 10_000.0
    margin: float = 2_000.0
    leverage: float = 10.0
    entry_price: float = 60_000.0
    symbol: str = "BTCUSDT"
    side: str = "long"

    @property
    def notional(self) -> float:
        return self.margin * self.leverage

    @property
    def quantity(self) -> float:
        return self.notional / self.entry_price


GUIDE = GuideExample()


def guide_account(mode: str = "isolated", example: GuideExample = GUIDE) -> Account:
    """The guide's account with its one BTC position, in ``mode`` ("isolated" or "cross")."""
    account = Account(wallet_balance=example.wallet_balance).set_margin_mode(example.symbol, mode)
    return account.open(
        example.symbol,
        side=example.side,
        price=example.entry_price,
        leverage=example.leverage,
        margin=example.margin,
    )


@dataclass(frozen=True)
class Trade:
    """One order as an exchange's order form takes it, from a wallet of ``wallet_balance``.

    The size is the ``notional`` (USDT) and the margin follows as ``notional / leverage``:
    moving the leverage changes the margin, never the position, so the two modes compare
    the same trade. Default: the guide's, a 20,000 USDT BTC long at 10x (2,000 of margin)
    from 60,000 in a 10,000 USDT wallet. ``fee_rate`` is the account's (0: no fees).

    >>> round(Trade(leverage=20).account("isolated").liquidation_price("BTCUSDT"), 2)
    57228.92
    >>> round(Trade(leverage=20).account("cross").liquidation_price("BTCUSDT"), 2)
    30120.48
    """

    notional: float = GUIDE.notional
    leverage: float = GUIDE.leverage
    wallet_balance: float = GUIDE.wallet_balance
    side: str = GUIDE.side
    symbol: str = GUIDE.symbol
    entry_price: float = GUIDE.entry_price
    fee_rate: float = 0.0

    def empty(self, mode: str) -> Account:
        """The account before the order, with ``symbol`` set to ``mode``."""
        account = Account(wallet_balance=self.wallet_balance, fee_rate=self.fee_rate)
        return account.set_margin_mode(self.symbol, mode)

    def account(self, mode: str) -> Account:
        """The account after the order, in ``mode`` (the engine refuses what it refuses)."""
        return self.empty(mode).open(
            self.symbol,
            side=self.side,
            price=self.entry_price,
            leverage=self.leverage,
            notional=self.notional,
        )

    def leverage_curve(self, mode: str, leverages: object) -> LeverageCurve:
        """The same order at every leverage of ``leverages`` (:meth:`Account.leverage_curve`)."""
        return self.empty(mode).leverage_curve(
            self.symbol,
            side=self.side,
            price=self.entry_price,
            notional=self.notional,
            leverages=leverages,
        )


def losing_neighbour_account(mode: str = "cross") -> Account:
    """The guide's BTC position beside a cross ETH long (10 ETH at 3,000, 10x).

    At an ETH mark of 2,100 the neighbour is down 9,000 USDT: in cross the BTC
    liquidation price moves to 57,481.93, closer than isolated (54,216.87).
    """
    account = Account(wallet_balance=GUIDE.wallet_balance).set_margin_mode(GUIDE.symbol, mode)
    account = account.open("ETHUSDT", side="long", price=3_000, leverage=10, quantity=10)
    return account.open(
        GUIDE.symbol,
        side=GUIDE.side,
        price=GUIDE.entry_price,
        leverage=GUIDE.leverage,
        margin=GUIDE.margin,
    )


NEIGHBOUR_LOSING_MARKS = {"ETHUSDT": 2_100.0}


def two_positions_account(mode: str = "cross") -> Account:
    """Two positions in one mode: the guide's BTC long and an ETH short (1,000 USDT, 10x, 3,000)."""
    account = Account(wallet_balance=GUIDE.wallet_balance)
    account = account.set_margin_mode("BTCUSDT", mode).set_margin_mode("ETHUSDT", mode)
    account = account.open(
        "BTCUSDT", side="long", price=GUIDE.entry_price, leverage=10, margin=2_000
    )
    return account.open("ETHUSDT", side="short", price=3_000, leverage=10, margin=1_000)
