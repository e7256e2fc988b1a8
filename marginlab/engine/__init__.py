"""The margin engine: pure arithmetic of cross and isolated margin (numpy; no UI imports).

Everything a lesson, widget or chart shows is computed here first.
"""

from marginlab.engine.account import (
    Account,
    AccountState,
    LiquidationOutcome,
    Position,
    PositionState,
)
from marginlab.engine.errors import InsufficientMarginError, MarginError, ModeSwitchError
from marginlab.engine.liquidation import (
    bankruptcy_price,
    hedge_liquidation_price,
    liquidation_price,
    margin_ratio,
    side_sign,
    tiered_liquidation_price,
)
from marginlab.engine.tiers import Tier, TierTable, available_symbols, load_tiers
from marginlab.engine.types import MarginMode, Side

__all__ = [
    "Account",
    "AccountState",
    "InsufficientMarginError",
    "LiquidationOutcome",
    "MarginError",
    "MarginMode",
    "ModeSwitchError",
    "Position",
    "PositionState",
    "Side",
    "Tier",
    "TierTable",
    "available_symbols",
    "bankruptcy_price",
    "hedge_liquidation_price",
    "liquidation_price",
    "load_tiers",
    "margin_ratio",
    "side_sign",
    "tiered_liquidation_price",
]
