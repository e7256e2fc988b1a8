"""The margin engine: pure arithmetic of cross and isolated margin (numpy; no UI imports).

Everything a lesson, widget or chart shows is computed here first.
"""

from marginlab.engine._simulation import STOP_FILLS, STOP_TRIGGERS
from marginlab.engine.account import (
    MAX_FUNDING_RATE,
    MAX_WALLET_USDT,
    Account,
    AccountState,
    LeverageCurve,
    LiquidationOutcome,
    MaxOpen,
    Position,
    PositionLevels,
    PositionState,
)
from marginlab.engine.costs import (
    FEE_RATES,
    FundingHold,
    RoundTripFees,
    fee_share_of_margin,
    hold_with_funding,
    round_trip_fees,
)
from marginlab.engine.errors import (
    BracketError,
    InsufficientMarginError,
    MarginError,
    ModeSwitchError,
)
from marginlab.engine.liquidation import (
    bankruptcy_price,
    hedge_liquidation_price,
    liquidation_price,
    margin_ratio,
    side_sign,
    tiered_liquidation_price,
)
from marginlab.engine.montecarlo import SimulationResult, simulate_paths, simulated_timelines
from marginlab.engine.paths import (
    TEACHING_PATHS,
    PathModel,
    correlated_gbm_paths,
    gbm_paths,
    load_prices,
    teaching_path,
)
from marginlab.engine.replay import EVENT_KINDS, Event, ReplayResult, replay
from marginlab.engine.risk import RISK_MODES, risk_outcomes, risk_summary, summarize
from marginlab.engine.stoplevels import StopLevels, simulate_stop_levels
from marginlab.engine.tiers import Tier, TierTable, available_symbols, load_tiers
from marginlab.engine.types import MODES, MarginMode, Side

__all__ = [
    "EVENT_KINDS",
    "FEE_RATES",
    "MAX_FUNDING_RATE",
    "MAX_WALLET_USDT",
    "MODES",
    "RISK_MODES",
    "STOP_FILLS",
    "STOP_TRIGGERS",
    "TEACHING_PATHS",
    "Account",
    "AccountState",
    "BracketError",
    "Event",
    "FundingHold",
    "InsufficientMarginError",
    "LeverageCurve",
    "LiquidationOutcome",
    "MarginError",
    "MarginMode",
    "MaxOpen",
    "ModeSwitchError",
    "PathModel",
    "Position",
    "PositionLevels",
    "PositionState",
    "ReplayResult",
    "RoundTripFees",
    "Side",
    "SimulationResult",
    "StopLevels",
    "Tier",
    "TierTable",
    "available_symbols",
    "bankruptcy_price",
    "correlated_gbm_paths",
    "fee_share_of_margin",
    "gbm_paths",
    "hedge_liquidation_price",
    "hold_with_funding",
    "liquidation_price",
    "load_prices",
    "load_tiers",
    "margin_ratio",
    "replay",
    "risk_outcomes",
    "risk_summary",
    "round_trip_fees",
    "side_sign",
    "simulate_paths",
    "simulate_stop_levels",
    "simulated_timelines",
    "summarize",
    "teaching_path",
    "tiered_liquidation_price",
]
