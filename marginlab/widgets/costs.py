"""What a trade costs besides the price: fees at open and close, and funding over days.

The order form of the comparison widgets (size in USDT, leverage, wallet, side) places one
trade in both margin modes, with the exchange's fee for the chosen order type
(:data:`~marginlab.engine.FEE_RATES`: maker 0.02 %, taker 0.05 % of the notional per
fill). The first chart shows the fees of opening and closing as a share of the margin at
every leverage (:func:`~marginlab.engine.fee_share_of_margin`): the same fee is a larger
share of a smaller margin. The second holds the position at its entry price while funding
is paid every 8 hours (:func:`~marginlab.engine.hold_with_funding`): the isolated margin
pays it, so its liquidation price creeps toward entry day by day and the margin left
shrinks by a large share of itself; in cross the wallet pays the same USDT, which moves
its price by as much but from much further away and takes a small share of the wallet.
Each number is the engine's; the fee and
funding rates are the engine's parameters (``Account.fee_rate``, the funding ``rate``).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from marginlab.charts import (
    Chart,
    FeeCurves,
    FundingCurves,
    fees_figure,
    funding_figure,
    update_fees,
    update_funding,
)
from marginlab.engine import (
    FEE_RATES,
    FundingHold,
    MarginMode,
    fee_share_of_margin,
    hold_with_funding,
    round_trip_fees,
)
from marginlab.scenarios import Trade
from marginlab.widgets.base import LessonWidget, figures_of, shown
from marginlab.widgets.controls import int_slider, order_controls, toggle, usdt_slider
from marginlab.widgets.threshold import GUIDE_TRADE, LEVERAGE_GRID
from marginlab.widgets.trade import Both, open_both, trade_of

__all__ = ["FUNDING_INTERVAL_HOURS", "TradingCostsWidget"]

FUNDING_INTERVAL_HOURS = 8.0  # the usual settlement interval (docs/formulas.md §7)
SETTLEMENTS_PER_DAY = 3
MAX_DAYS = 30
FUNDING_RANGE = (-0.001, 0.003, 0.00005)  # per 8 hours, a fraction: -0.1 % .. 0.3 %
DEFAULT_FUNDING_RATE = 0.0001  # 0.01 % per 8 hours: the interest term alone


@lru_cache(maxsize=4)
def _shares() -> dict[str, object]:
    """Round-trip fees as a share of the margin at every leverage, per order type."""
    return {kind: fee_share_of_margin(LEVERAGE_GRID, rate) for kind, rate in FEE_RATES.items()}


@dataclass(frozen=True, eq=False)
class _Costs:
    """One tick: the trade in both modes, its fees and the funding hold."""

    both: Both
    fees: FeeCurves
    funding: FundingCurves


class TradingCostsWidget(LessonWidget):
    """Fees and funding of one trade, in both margin modes.

    Controls: the order form (``notional``, ``leverage``, ``balance``, ``side``), then
    ``order_type`` (maker/taker: the fee at open and close), ``funding_rate`` (a fraction
    per 8 hours, shown in percent; positive: longs pay shorts) and ``days`` (how long the
    position is held, 0 to 30). Figures: fees against leverage, then the liquidation
    price over the days held in each mode.
    """

    def __init__(
        self,
        trade: Trade = GUIDE_TRADE,
        *,
        order_type: str = "taker",
        funding_rate: float = DEFAULT_FUNDING_RATE,
        days: int = 10,
    ) -> None:
        low, high, step = FUNDING_RANGE
        funding = usdt_slider(funding_rate, low, high, step, "Funding per 8 h")
        funding.readout_format = ".3%"
        controls = {
            **order_controls(trade),
            "order_type": toggle(("maker", "taker"), order_type, "Order type"),
            "funding_rate": funding,
            "days": int_slider(days, 0, MAX_DAYS, "Days held"),
        }
        first = self._compute({name: c.value for name, c in controls.items()})
        super().__init__(
            controls, figures_of(fees_figure(first.fees), funding_figure(first.funding))
        )

    # --- engine ------------------------------------------------------------------------

    @staticmethod
    @lru_cache(maxsize=64)
    def _hold(trade: Trade, rate: float) -> tuple[Both, dict]:
        """The trade in both modes and each held through the month's funding (cached: a
        ``days`` tick only moves the marker)."""
        both = open_both(trade)
        holds = {
            mode: hold_with_funding(account, intervals=MAX_DAYS * SETTLEMENTS_PER_DAY, rate=rate)
            for mode, account in both.accounts.items()
        }
        return both, holds

    def _compute(self, values: dict[str, Any]) -> _Costs:
        order_type = values["order_type"]
        if order_type not in FEE_RATES:
            raise ValueError(f"order_type must be 'maker' or 'taker', got {order_type!r}")
        trade = trade_of(values, fee_rate=FEE_RATES[order_type])
        both, holds = self._hold(trade, float(values["funding_rate"]))
        fees = None
        if both.opened:
            fees = round_trip_fees(both.accounts[MarginMode.ISOLATED], trade.symbol)
        return _Costs(
            both,
            FeeCurves(LEVERAGE_GRID, _shares(), trade.leverage, order_type, fees, both.reason),
            FundingCurves(
                holds,
                trade.entry_price,
                float(values["funding_rate"]),
                FUNDING_INTERVAL_HOURS,
                float(values["days"]),
                both.reason,
            ),
        )

    # --- charts ------------------------------------------------------------------------

    @staticmethod
    def _summary(costs: _Costs, fees: str, funding: str) -> str:
        text = f"{costs.both.describe()}. {fees} {funding}"
        return f"{text} {costs.both.refusal}" if costs.both.refusal else text

    def _apply(self, costs: _Costs) -> str:
        fees, funding = self.figures
        # Each chart leaves once updated: the page draws it while the kernel goes on.
        funding_summary = update_funding(funding, costs.funding)
        self._send_chart(funding)
        fees_summary = update_fees(fees, costs.fees)
        self._send_chart(fees)
        return self._summary(costs, fees_summary, funding_summary)

    def static(self) -> Chart:
        """A fresh plain figure of the funding chart for the current values, and the summary."""
        now = self.drawn
        fees, funding = fees_figure(now.fees), funding_figure(now.funding)
        return Chart(funding.figure, self._summary(now, fees.summary, funding.summary))

    # --- the numbers of the current state ----------------------------------------------

    fees = shown(
        lambda now: now.fees.fees, "The round trip's fees (RoundTripFees; None if refused)."
    )

    def liquidation_price(self, mode: str) -> float:
        """The ``mode`` position's liquidation price (USDT) on the day shown; NaN if none."""
        return self._on_day(mode).liquidation_price[self.drawn.funding.now]

    def backing(self, mode: str) -> float:
        """What backs the ``mode`` position on the day shown (USDT): its isolated margin,
        or the cross wallet, after the funding paid so far; NaN once liquidated."""
        return self._on_day(mode).backing_usdt[self.drawn.funding.now]

    def _on_day(self, mode: str) -> FundingHold:
        return self.drawn.funding.holds[MarginMode.parse(mode)]
