"""Comparison 2 of the guide: what liquidation costs in each mode, for the same trade.

The order form of the threshold widget (size in USDT, leverage, wallet, side) places one
trade in an isolated and in a cross account; a BTC price slider moves the mark. The bars
split the wallet into what is lost and what is kept at the current price: before
liquidation the running loss and the equity left; after it, what the engine's
:meth:`~marginlab.engine.Account.liquidate` takes and leaves. The curve below shows the
loss at every price (:meth:`~marginlab.engine.Account.wallet_loss`): the two modes are
down exactly the same until the isolated position is liquidated; from there isolated
has lost its margin and stops, while cross keeps losing, up to the whole wallet.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np

from marginlab.charts import (
    Chart,
    LossBars,
    LossCurve,
    loss_at_liquidation_figure,
    loss_curve_figure,
    update_loss_at_liquidation,
    update_loss_curve,
)
from marginlab.charts import format as fmt
from marginlab.engine import Account, MarginError, MarginMode
from marginlab.scenarios import GUIDE, Trade
from marginlab.widgets.base import LessonWidget, figures_of, shown
from marginlab.widgets.controls import order_controls, price_slider
from marginlab.widgets.threshold import GUIDE_TRADE
from marginlab.widgets.trade import Both, open_both, trade_of

__all__ = ["PRICE_GRID", "LossAtLiquidationWidget"]

PRICE_RANGE = (10_000.0, 110_000.0, 100.0)  # the price slider, USDT: either side of 60,000
PRICE_GRID = np.arange(PRICE_RANGE[0], PRICE_RANGE[1] + 1.0, 200.0)  # the curve's marks
PRICE_GRID.flags.writeable = False


@dataclass(frozen=True, eq=False)
class _Trade:
    """What does not depend on the mark: the accounts and the loss at every grid price."""

    both: Both
    curves: dict[MarginMode, np.ndarray]
    liquidation_price: dict[MarginMode, float]


@lru_cache(maxsize=128)
def _trade(notional: float, leverage: float, balance: float, side: str) -> _Trade:
    trade = Trade(notional=notional, leverage=leverage, wallet_balance=balance, side=side)
    both = open_both(trade)
    curves = {m: a.wallet_loss({trade.symbol: PRICE_GRID}) for m, a in both.accounts.items()}
    prices = {m: a.liquidation_price(trade.symbol) for m, a in both.accounts.items()}
    return _Trade(both, curves, prices)


@dataclass(frozen=True, eq=False)
class _Loss:
    """The engine's numbers at one mark price (USDT)."""

    trade: _Trade
    mark_price: float
    lost: dict[MarginMode, float]
    kept: dict[MarginMode, float]
    liquidated: dict[MarginMode, bool]

    @property
    def bars(self) -> LossBars:
        return LossBars(
            self.trade.both.trade.wallet_balance,
            self.lost,
            self.liquidated,
            notes=self.trade.both.notes,
        )

    @property
    def curve(self) -> LossCurve:
        both = self.trade.both
        return LossCurve(
            PRICE_GRID,
            self.trade.curves,
            self.mark_price,
            self.lost,
            self.trade.liquidation_price,
            both.trade.wallet_balance,
            side=both.trade.side,
            notes=both.notes,
        )


class LossAtLiquidationWidget(LessonWidget):
    """Lost vs kept per mode as the BTC price moves, for one trade (guide, comparison 2).

    Controls: ``price`` (BTC mark price, USDT), then the order form set to ``trade``:
    ``notional`` (the position's size, USDT), ``leverage`` (1..125x), ``balance`` (wallet,
    USDT) and ``side``. Figures: the loss-at-liquidation bars at the price, then the loss
    against the price for both modes.

    The guide's trade at 50,000: the isolated position is liquidated (2,000 lost, 8,000
    kept) while the cross one is not (down 3,333.33: margin balance 6,666.67 USDT).
    """

    def __init__(self, trade: Trade = GUIDE_TRADE, *, price: float = GUIDE.entry_price) -> None:
        low, high, step = PRICE_RANGE
        price_control = price_slider(price, low, high, step, "BTC price (USDT)")
        controls = {"price": price_control, **order_controls(trade)}
        first = self._compute({name: c.value for name, c in controls.items()})
        figures = figures_of(loss_at_liquidation_figure(first.bars), loss_curve_figure(first.curve))
        super().__init__(controls=controls, figures=figures)

    def _compute(self, values: dict[str, Any]) -> _Loss:
        order = trade_of(values)
        trade = _trade(
            float(order.notional), float(order.leverage), float(order.wallet_balance), order.side
        )
        mark = values["price"]
        if not (isinstance(mark, int | float) and math.isfinite(mark) and mark > 0):
            raise MarginError(f"price must be a finite price above 0 USDT, got {mark!r}")
        lost, kept, liquidated = {}, {}, {}
        for mode, account in trade.both.accounts.items():
            marks = {account.positions[0].symbol: mark}
            outcome = account.liquidate(marks)
            liquidated[mode] = outcome.happened
            if outcome.happened:
                lost[mode], kept[mode] = outcome.loss_usdt, outcome.kept_usdt
            else:  # still open: the running loss (negative while in profit) and the equity
                state = account.state(marks)
                lost[mode], kept[mode] = -state.unrealized_pnl, state.margin_balance
        return _Loss(trade, mark, lost, kept, liquidated)

    @staticmethod
    def _summary(result: _Loss, bars: str, curve: str) -> str:
        both = result.trade.both
        where = f"BTC at {fmt.price(result.mark_price)}"
        gain = -min(result.lost.values(), default=0.0)
        if gain > 0:  # the bars then show the equity, wallet plus the unrealized gain
            where += f" (the position is up {fmt.usdt(gain)})"
        text = f"{both.describe()}. {where}: {bars} {curve}"
        return f"{text} {both.refusal}" if both.refusal else text

    def _apply(self, result: _Loss) -> str:
        bars, curve = self.figures
        # Each chart leaves once updated: the page draws it while the kernel goes on.
        curve_summary = update_loss_curve(curve, result.curve)
        self._send_chart(curve)
        bars_summary = update_loss_at_liquidation(bars, result.bars)
        self._send_chart(bars)
        return self._summary(result, bars_summary, curve_summary)

    def static(self) -> Chart:
        """A fresh plain figure of the loss bars for the current price, and the summary."""
        now = self.drawn
        bars = loss_at_liquidation_figure(now.bars)
        curve = loss_curve_figure(now.curve)
        return Chart(bars.figure, self._summary(now, bars.summary, curve.summary))

    # --- the numbers of the current state ----------------------------------------------

    kept = shown(
        lambda now: now.kept,
        "Mode -> USDT kept: the wallet left after liquidation, else the margin balance.",
    )
    lost = shown(
        lambda now: now.lost,
        "Mode -> USDT lost: the wallet lost at liquidation, else the running loss (< 0: gain).",
    )
    liquidated = shown(lambda now: now.liquidated, "Mode -> liquidated at the current price.")
    liquidation_price = shown(
        lambda now: now.trade.liquidation_price,
        "Mode -> BTC mark price (USDT) that liquidates the position; NaN if none.",
    )
    loss_curve = shown(
        lambda now: now.trade.curves,
        "Mode -> the loss (USDT) at each price of PRICE_GRID (the curve drawn).",
    )
    refusal = shown(lambda now: now.trade.both.refusal, "Why the order is refused ('': open).")

    def account(self, mode: str) -> Account:
        """The engine's account (before any liquidation) in ``mode`` ("cross"/"isolated")."""
        return self.drawn.trade.both.account(mode)
