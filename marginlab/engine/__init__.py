"""The margin engine: pure arithmetic of cross and isolated margin (numpy; no UI imports).

Everything a lesson, widget or chart shows is computed here first.
"""

from marginlab.engine._simulation import STOP_FILLS, STOP_TRIGGERS
from marginlab.engine.account import (
    MAX_FUNDING_RATE,
    MAX_WALLET_USDT,
    Account,
    AccountState,
    LiquidationOutcome,
    MaxOpen,
    Position,
    PositionLevels,
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
from marginlab.engine.montecarlo import SimulationResult, simulate_paths
from marginlab.engine.paths import (
    TEACHING_PATHS,
    correlated_gbm_paths,
    gbm_paths,
    load_prices,
    teaching_path,
)
from marginlab.engine.replay import EVENT_KINDS, Event, ReplayResult, replay
from marginlab.engine.risk import RISK_MODES, risk_outcomes, risk_summary, summarize
from marginlab.engine.tiers import Tier, TierTable, available_symbols, load_tiers
from marginlab.engine.types import MarginMode, Side

__all__ = [
    "EVENT_KINDS",
    "MAX_FUNDING_RATE",
    "MAX_WALLET_USDT",
    "RISK_MODES",
    "STOP_FILLS",
    "STOP_TRIGGERS",
    "TEACHING_PATHS",
    "Account",
    "AccountState",
    "Event",
    "InsufficientMarginError",
    "LiquidationOutcome",
    "MarginError",
    "MarginMode",
    "MaxOpen",
    "ModeSwitchError",
    "Position",
    "PositionLevels",
    "PositionState",
    "ReplayResult",
    "Side",
    "SimulationResult",
    "Tier",
    "TierTable",
    "available_symbols",
    "bankruptcy_price",
    "correlated_gbm_paths",
    "gbm_paths",
    "hedge_liquidation_price",
    "liquidation_price",
    "load_prices",
    "load_tiers",
    "margin_ratio",
    "replay",
    "risk_outcomes",
    "risk_summary",
    "side_sign",
    "simulate_paths",
    "summarize",
    "teaching_path",
    "tiered_liquidation_price",
]
