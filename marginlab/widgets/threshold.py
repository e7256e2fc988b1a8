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
    liquidation_distance_figure,
    price_ladder_figure,
    update_liquidation_distance,
    update_price_ladder,
)
from marginlab.engine import MODES, Account, LeverageCurve, MarginMode
from marginlab.scenarios import GUIDE, Trade
from marginlab.widgets._plotly import make_figure_widget
from marginlab.widgets.base import LessonWidget
from marginlab.widgets.controls import LEVERAGE_RANGE, order_controls
from marginlab.widgets.trade import Both, open_both

__all__ = ["LEVERAGE_GRID", "LiquidationThresholdWidget"]

LEVERAGE_GRID = np.arange(LEVERAGE_RANGE[0], LEVERAGE_RANGE[1] + 1.0)  # the slider's values
LEVERAGE_GRID.flags.writeable = False


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


class LiquidationThresholdWidget(LessonWidget):
    """Isolated vs cross liquidation price of one trade (guide, comparison 1).

    Controls: ``notional`` (the position's size, USDT), ``leverage`` (1..125x),
    ``balance`` (USDT wallet), ``side`` (long/short). Figures: the price ladder (mark =
    entry), then the distance to liquidation against leverage for the same size.

    The defaults are the guide's trade: a 20,000 USDT long at 10x (2,000 of margin) in a
    10,000 USDT wallet, liquidated at 54,216.87 isolated and 30,120.48 cross.
    """

    def __init__(
        self,
        *,
        notional: float = GUIDE.notional,
        leverage: int = int(GUIDE.leverage),
        wallet_balance: float = GUIDE.wallet_balance,
        side: str = GUIDE.side,
    ) -> None:
        controls = order_controls(
            notional=notional, leverage=leverage, balance=wallet_balance, side=side
        )
        # The first state is built here (a bad argument raises) to give the figures data.
        first = self._compute({name: c.value for name, c in controls.items()})
        figures = [
            make_figure_widget(price_ladder_figure(first.ladder).figure),
            make_figure_widget(liquidation_distance_figure(first.distance).figure),
        ]
        super().__init__(controls=controls, figures=figures)

    # --- engine ------------------------------------------------------------------------

    def _compute(self, values: dict[str, Any]) -> _Threshold:
        trade = Trade(
            notional=values["notional"],
            leverage=values["leverage"],
            wallet_balance=values["balance"],
            side=values["side"],
        )
        both = open_both(trade)
        curves = _curves(float(trade.notional), float(trade.wallet_balance), trade.side)
        return _Threshold(both, both.ladder(), DistanceCurves(curves, trade.leverage))

    # --- charts ------------------------------------------------------------------------

    @staticmethod
    def _summary(result: _Threshold, ladder_summary: str) -> str:
        text = f"{result.both.describe()}: {ladder_summary}"
        return f"{text} {result.both.refusal}" if result.both.refusal else text

    def _apply(self, result: _Threshold) -> str:
        ladder, distance = self.figures
        summary = update_price_ladder(ladder, result.ladder)
        update_liquidation_distance(distance, result.distance)
        return self._summary(result, summary)

    def static(self) -> Chart:
        """A fresh plain figure of the price ladder for the current values, and the summary."""
        chart = price_ladder_figure(self._now.ladder)
        return Chart(chart.figure, self._summary(self._now, chart.summary))

    # --- the numbers of the current state ----------------------------------------------

    @property
    def _now(self) -> _Threshold:
        return self._drawn_result

    def _level(self, mode: MarginMode) -> float:
        levels = self._now.ladder.levels.get(mode)
        return float("nan") if levels is None else levels.liquidation_price

    @property
    def isolated_liquidation_price(self) -> float:
        """Mark price (USDT) that liquidates the isolated position; NaN if none (or refused)."""
        return self._level(MarginMode.ISOLATED)

    @property
    def cross_liquidation_price(self) -> float:
        """Mark price (USDT) that liquidates the cross position; NaN if none (or refused)."""
        return self._level(MarginMode.CROSS)

    @property
    def isolated_distance(self) -> float:
        """|liquidation − entry| / entry of the isolated position (unsigned fraction)."""
        return self._distance(MarginMode.ISOLATED)

    @property
    def cross_distance(self) -> float:
        """|liquidation − entry| / entry of the cross position (unsigned fraction)."""
        return self._distance(MarginMode.CROSS)

    def _distance(self, mode: MarginMode) -> float:
        distance = self._now.distance
        return float(distance.curves[mode].distance_rate[distance.index])

    @property
    def refusal(self) -> str:
        """Why the exchange refuses the current order ("" when it is open)."""
        return self._now.both.refusal

    def account(self, mode: str) -> Account:
        """The engine's account for the current values in ``mode`` ("cross"/"isolated")."""
        both = self._now.both
        wanted = MarginMode.parse(mode)
        if not both.opened:
            raise ValueError(f"mode: no {wanted.value} account: {both.refusal}")
        return both.accounts[wanted]
