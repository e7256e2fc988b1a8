"""One colour-blind-safe palette for every chart (Okabe & Ito, 2008).

Cross and Isolated always have the same two colours, in every chart; the price levels
(entry, liquidation, bankruptcy, stop, mark price) have one colour each. The eight
Okabe-Ito colours stay distinguishable under the common forms of colour blindness;
charts also vary line dash and marker symbol, so nothing relies on colour alone.
"""

from __future__ import annotations

from marginlab.engine.errors import MarginError

# The Okabe-Ito colours, by name.
BLACK = "#000000"
ORANGE = "#E69F00"
SKY_BLUE = "#56B4E9"
BLUISH_GREEN = "#009E73"
YELLOW = "#F0E442"
BLUE = "#0072B2"
VERMILLION = "#D55E00"
REDDISH_PURPLE = "#CC79A7"
GREY = "#7F7F7F"  # neutral, for reference lines

# Margin modes (and strategies built on them).
CROSS = BLUE
ISOLATED = ORANGE
ISOLATED_STOP = BLUISH_GREEN  # "isolated with a stop-loss" in Monte Carlo outcomes
CROSS_STOP = SKY_BLUE  # "cross with a stop-loss"

# Price levels and events.
ENTRY = GREY
LIQUIDATION = VERMILLION
BANKRUPTCY = REDDISH_PURPLE
STOP = BLUISH_GREEN
PRICE = BLACK

MODE_COLORS: dict[str, str] = {"cross": CROSS, "isolated": ISOLATED}
MODE_NAMES: dict[str, str] = {"cross": "Cross", "isolated": "Isolated"}


def with_alpha(color: str, alpha: float) -> str:
    """``"#RRGGBB"`` as an ``rgba(...)`` string with opacity ``alpha`` in [0, 1].

    >>> with_alpha(CROSS, 0.25)
    'rgba(0, 114, 178, 0.25)'
    """
    if not (isinstance(color, str) and len(color) == 7 and color.startswith("#")):
        raise MarginError(f"color must be '#RRGGBB', got {color!r}")
    if not 0.0 <= alpha <= 1.0:
        raise MarginError(f"alpha must be between 0 and 1, got {alpha!r}")
    red, green, blue = (int(color[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgba({red}, {green}, {blue}, {alpha:g})"
