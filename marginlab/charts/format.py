"""Number formatting for chart labels and summaries, in one place.

USDT amounts and prices get thousands separators and 2 decimals; rates (fractions)
are shown as percent with 2 decimals. NaN becomes "--" (how exchanges show a missing
liquidation price) and infinity "∞".

>>> usdt(54216.867), price(30120.481), percent(0.0964), leverage(12.5)
('54,216.87 USDT', '30,120.48', '9.64%', '12.5x')
"""

from __future__ import annotations

import math
import textwrap

MISSING = "--"


def _special(value: float) -> str | None:
    if math.isnan(value):
        return MISSING
    if math.isinf(value):
        return "∞" if value > 0 else "-∞"
    return None


def number(value: float, decimals: int = 2) -> str:
    """``value`` with thousands separators and ``decimals`` decimals; never "-0.00".

    >>> number(1234.5), number(-0.001), number(float("nan"))
    ('1,234.50', '0.00', '--')
    """
    value = float(value)
    special = _special(value)
    if special is not None:
        return special
    rounded = round(value, decimals) + 0.0  # + 0.0 turns -0.0 into 0.0
    return f"{rounded:,.{decimals}f}"


def price(value: float) -> str:
    """A price in USDT without the unit: ``price(54216.867) == "54,216.87"``."""
    return number(value, 2)


def usdt(value: float) -> str:
    """An amount of money: ``usdt(54216.867) == "54,216.87 USDT"``; NaN stays "--".

    >>> usdt(-2000), usdt(float("nan"))
    ('-2,000.00 USDT', '--')
    """
    text = number(value, 2)
    return text if text == MISSING else f"{text} USDT"


def percent(rate: float, decimals: int = 2) -> str:
    """A fraction as a percentage: ``percent(0.0964) == "9.64%"``; infinity is "∞%".

    >>> percent(1.0), percent(float("inf")), percent(0.12345, 1)
    ('100.00%', '∞%', '12.3%')
    """
    value = float(rate)
    special = _special(value)
    if special == MISSING:
        return MISSING
    return f"{special}%" if special else f"{number(100.0 * value, decimals)}%"


def leverage(value: float) -> str:
    """Leverage as shown by exchanges: ``leverage(10) == "10x"``, ``leverage(12.5) == "12.5x"``."""
    value = float(value)
    return f"{value:g}x"


def wrap(text: str, width: int = 24) -> str:
    """``text`` in lines of at most ``width`` characters for a chart label (``<br>``).

    >>> wrap("no liquidation price: its margin covers a fall to zero")
    'no liquidation price:<br>its margin covers a fall<br>to zero'
    """
    return "<br>".join(textwrap.wrap(text, width)) if text else ""
