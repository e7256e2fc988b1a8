"""Every lesson widget by name, each built with defaults from ``marginlab.scenarios``.

``catalog()["liquidation_threshold"]()`` builds one; lessons, tests and benchmarks use
this one list, so a new widget appears everywhere once it is registered here.
"""

from __future__ import annotations

from collections.abc import Callable

from marginlab.widgets.base import LessonWidget


def catalog() -> dict[str, Callable[[], LessonWidget]]:
    """{name: factory} for every lesson widget, in the guide's order."""
    from marginlab.widgets.calculator import CalculatorWidget
    from marginlab.widgets.costs import TradingCostsWidget
    from marginlab.widgets.loss import LossAtLiquidationWidget
    from marginlab.widgets.margin import AddingMarginWidget
    from marginlab.widgets.playground import PlaygroundWidget
    from marginlab.widgets.positions import SeveralPositionsWidget
    from marginlab.widgets.scenarios import WhenToUseWidget
    from marginlab.widgets.stoploss import StopLossWidget
    from marginlab.widgets.switching import SwitchingModesWidget
    from marginlab.widgets.threshold import LiquidationThresholdWidget

    return {
        "liquidation_threshold": LiquidationThresholdWidget,  # comparison 1
        "loss_at_liquidation": LossAtLiquidationWidget,  # comparison 2
        "several_positions": SeveralPositionsWidget,  # comparison 3
        "adding_margin": AddingMarginWidget,  # comparison 4, guide §7
        "switching_modes": SwitchingModesWidget,  # guide §6
        "when_to_use": WhenToUseWidget,  # guide §4-5
        "stop_loss": StopLossWidget,  # guide §8
        "trading_costs": TradingCostsWidget,  # fees and funding, both modes
        "calculator": CalculatorWidget,
        "playground": PlaygroundWidget,
    }
