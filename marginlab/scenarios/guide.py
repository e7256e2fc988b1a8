"""The guide's worked example and the accounts built from it (docs/formulas.md §12.2).

A 10,000 USDT futures account; 2,000 USDT of margin on a BTC long at 10x from 60,000
(20,000 USDT notional, 1/3 BTC). Isolated: liquidation at 54,216.87, lose 2,000, keep
8,000. Cross: liquidation at 30,120.48, lose (about) the whole 10,000.
"""

from __future__ import annotations

from dataclasses import dataclass

from marginlab.engine import Account


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
