"""Comparison 1 of the guide: the same trade liquidates further away in cross.

The learner fills in an order form: the position's size in USDT (``notional``),
``leverage``, the ``balance`` it is placed from and the ``side``; the margin follows as
notional / leverage and the entry stays at the guide's 60,000 USDT. Each tick places
the same order in an isolated and in a cross account (:class:`~marginlab.scenarios.Trade`)
and shows both liquidation prices on a price ladder, and the distance to liquidation of
that same order at every leverage from 1x to 125x, with a marker at the current one.

With the size held, moving the leverage moves only the isolated liquidation price (its
margin shrinks toward entry); the cross one stays where it is, because the whole wallet
backs it whatever the leverage. Every state says what it is: no liquidation price (what
covers a fall to zero), or an order the exchange refuses (and why).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np

from marginlab.charts import (
    Chart,
    DistanceCurves,
    Ladder,
    price_ladder_figure,
    update_liquidation_distance,
    update_price_ladder,
)
from marginlab.charts import liquidation_distance_figure as distance_figure
from marginlab.engine import MODES, Account, LeverageCurve, MarginMode
from marginlab.scenarios import Trade
from marginlab.widgets.base import LessonWidget, figures_of, shown
from marginlab.widgets.controls import LEVERAGE_RANGE, order_controls
from marginlab.widgets.trade import Both, open_both, trade_of

__all__ = ["LEVERAGE_GRID", "LiquidationThresholdWidget"]

LEVERAGE_GRID = np.arange(LEVERAGE_RANGE[0], LEVERAGE_RANGE[1] + 1.0)  # the slider's values
LEVERAGE_GRID.flags.writeable = False
CROSS, ISOLATED = MODES
GUIDE_TRADE = Trade()  # the guide's: 20,000 USDT long at 10x from a 10,000 USDT wallet


@lru_cache(maxsize=256)
def _curves(notional: float, balance: float, side: str) -> dict[MarginMode, LeverageCurve]:
    """The order at every leverage of the grid, per mode (a leverage drag reuses them)."""
    trade = Trade(notional=notional, wallet_balance=balance, side=side)
    return {mode: trade.leverage_curve(mode, LEVERAGE_GRID) for mode in MODES}


@dataclass(frozen=True, eq=False)
class _Threshold:
    """The engine's numbers for one set of control values."""

    both: Both
    ladder: Ladder
    distance: DistanceCurves

    def liquidation_price(self, mode: MarginMode) -> float:
        levels = self.ladder.levels.get(mode)
        return float("nan") if levels is None else levels.liquidation_price

    def distance_rate(self, mode: MarginMode) -> float:
        return float(self.distance.curves[mode].distance_rate[self.distance.index])


class LiquidationThresholdWidget(LessonWidget):
    """Isolated vs cross liquidation price of one trade (guide, comparison 1).

    Controls: ``notional`` (the position's size, USDT), ``leverage`` (1..125x),
    ``balance`` (USDT wallet), ``side`` (long/short), set first to ``trade``. Figures: the
    price ladder (mark = entry), then the distance to liquidation against leverage for
    the same size.

    The default is the guide's trade: a 20,000 USDT long at 10x (2,000 of margin) in a
    10,000 USDT wallet, liquidated at 54,216.87 isolated and 30,120.48 cross.
    """

    def __init__(self, trade: Trade = GUIDE_TRADE) -> None:
        controls = order_controls(trade)
        first = self._compute({name: c.value for name, c in controls.items()})
        figures = figures_of(price_ladder_figure(first.ladder), distance_figure(first.distance))
        super().__init__(controls=controls, figures=figures)

    def _compute(self, values: dict[str, Any]) -> _Threshold:
        trade = trade_of(values)
        both = open_both(trade)
        curves = _curves(float(trade.notional), float(trade.wallet_balance), trade.side)
        return _Threshold(both, both.ladder(), DistanceCurves(curves, trade.leverage))

    @staticmethod
    def _summary(result: _Threshold, ladder_summary: str) -> str:
        text = f"{result.both.describe()}: {ladder_summary}"
        return f"{text} {result.both.refusal}" if result.both.refusal else text

    def _apply(self, result: _Threshold) -> str:
        ladder, distance = self.figures
        # Each chart leaves once updated: the page draws it while the kernel goes on.
        update_liquidation_distance(distance, result.distance)
        self._send_chart(distance)
        summary = update_price_ladder(ladder, result.ladder)
        self._send_chart(ladder)
        return self._summary(result, summary)

    def static(self) -> Chart:
        """A fresh plain figure of the price ladder for the current values, and the summary."""
        chart = price_ladder_figure(self.drawn.ladder)
        return Chart(chart.figure, self._summary(self.drawn, chart.summary))

    # --- the numbers of the current state ----------------------------------------------

    # Prices in USDT, distances as |liquidation − entry| / entry; NaN: none, or refused.
    isolated_liquidation_price = shown(lambda n: n.liquidation_price(ISOLATED), "Isolated LP.")
    cross_liquidation_price = shown(lambda n: n.liquidation_price(CROSS), "Cross LP.")
    isolated_distance = shown(lambda n: n.distance_rate(ISOLATED), "Isolated distance.")
    cross_distance = shown(lambda n: n.distance_rate(CROSS), "Cross distance.")
    refusal = shown(lambda n: n.both.refusal, "Why the exchange refuses the order ('': open).")

    def account(self, mode: str) -> Account:
        """The engine's account for the current values in ``mode`` ("cross"/"isolated")."""
        return self.drawn.both.account(mode)
