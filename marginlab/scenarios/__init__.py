"""Canonical accounts and numbers used by lessons, widgets and tests, defined once.

Lessons, widget defaults and tests import these, so the numbers a learner sees are
the numbers under test.
"""

from marginlab.scenarios.guide import (
    GUIDE,
    GuideExample,
    guide_account,
    losing_neighbour_account,
    two_positions_account,
)

__all__ = [
    "GUIDE",
    "GuideExample",
    "guide_account",
    "losing_neighbour_account",
    "two_positions_account",
]
