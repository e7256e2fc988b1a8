"""Canonical accounts and numbers used by lessons, widgets and tests, defined once.

Lessons, widget defaults and tests import these, so the numbers a learner sees are
the numbers under test.
"""

from marginlab.scenarios.guide import (
    GUIDE,
    GuideExample,
    Trade,
    guide_account,
    losing_neighbour_account,
    two_positions_account,
)
from marginlab.scenarios.when_to_use import (
    WHEN_TO_USE,
    WhenToUse,
    hedge,
    high_leverage_short_term,
    large_account_small_positions,
    several_independent_positions,
    strategy_with_limited_capital,
    trend_trade_through_drawdown,
    when_to_use,
)

__all__ = [
    "GUIDE",
    "WHEN_TO_USE",
    "GuideExample",
    "Trade",
    "WhenToUse",
    "guide_account",
    "hedge",
    "high_leverage_short_term",
    "large_account_small_positions",
    "losing_neighbour_account",
    "several_independent_positions",
    "strategy_with_limited_capital",
    "trend_trade_through_drawdown",
    "two_positions_account",
    "when_to_use",
]
