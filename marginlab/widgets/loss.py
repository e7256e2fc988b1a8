"""Comparison 2 of the guide: what liquidation costs in each mode.

A BTC price slider drives the guide's account (10,000 USDT wallet, 2,000 USDT margin on
a 10x BTC long from 60,000) down through liquidation, once isolated and once cross. The
bars split the wallet into what is lost and what is kept at the current price: before
liquidation the running loss and the margin balance (equity) left; after it, what the
engine's :meth:`~marginlab.engine.Account.liquidate` takes and leaves. A price ladder
shows where the mark is against both liquidation prices.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any

import ipywidgets

from marginlab.charts import (
    Chart,
    loss_at_liquidation_figure,
    price_ladder_figure,
    update_loss_at_liquidation,
    update_price_ladder,
)
from marginlab.charts import format as fmt
from marginlab.engine import (
    Account,
    AccountState,
    LiquidationOutcome,
    MarginMode,
)
from marginlab.scenarios import GUIDE, GuideExample, guide_account
from marginlab.widgets._plotly import make_figure_widget
from marginlab.widgets.base import LessonWidget

__all__ = ["LossAtLiquidationWidget"]

MODES = ("cross", "isolated")
CONTROL_STYLE = {"description_width": "initial"}
CONTROL_LAYOUT = {"width": "420px"}


@dataclass(frozen=True)
class _Loss:
    """The engine's numbers at one BTC mark price (USDT)."""

    example: GuideExample
    mark_price: float
    accounts: dict[str, Account]
    states: dict[str, AccountState]
    outcomes: dict[str, LiquidationOutcome]
    liquidation_price: dict[str, float]
    bankruptcy_price: dict[str, float]

    @property
    def liquidated(self) -> dict[str, bool]:
        return {m: self.outcomes[m].happened for m in MODES}

    @property
    def kept(self) -> dict[str, float]:
        """After liquidation the wallet left; before it the margin balance (equity)."""
        return {
            m: self.outcomes[m].kept_usdt if self.liquidated[m] else self.states[m].margin_balance
            for m in MODES
        }

    @property
    def lost(self) -> dict[str, float]:
        """After liquidation the wallet lost; before it the running loss (< 0: a gain)."""
        return {
            m: self.outcomes[m].loss_usdt if self.liquidated[m] else -self.states[m].unrealized_pnl
            for m in MODES
        }


@lru_cache(maxsize=128)
def _guide_accounts(
    leverage: float,
) -> tuple[GuideExample, dict[str, Account], dict[str, float], dict[str, float]]:
    """The guide's account at ``leverage`` per mode, with its liquidation and bankruptcy
    prices (USDT). They do not depend on the mark price: a price tick reuses them."""
    example = replace(GUIDE, leverage=leverage)
    accounts = {mode: guide_account(mode, example) for mode in MODES}
    levels = {m: accounts[m].levels(example.symbol) for m in MODES}
    liquidation = {m: levels[m].liquidation_price for m in MODES}
    bankruptcy = {m: levels[m].bankruptcy_price for m in MODES}
    return example, accounts, liquidation, bankruptcy


class LossAtLiquidationWidget(LessonWidget):
    """Lost vs kept per mode as the BTC price falls (guide, comparison 2).

    Controls: ``price`` (BTC mark price, USDT) and ``leverage`` (1..125x; the margin
    stays 2,000 USDT, so leverage sets the position size). Figures: the loss-at-
    liquidation bars, then the price ladder with the current mark.

    At 50,000 the isolated position is liquidated (2,000 lost, 8,000 kept) while the
    cross one is not (margin balance 6,666.67 USDT).
    """

    def __init__(
        self, *, price: float = GUIDE.entry_price, leverage: int = int(GUIDE.leverage)
    ) -> None:
        controls = {
            "price": ipywidgets.FloatSlider(
                value=price,
                min=20_000,
                max=80_000,
                step=100,
                description="BTC price (USDT)",
                readout_format=",.0f",
                continuous_update=True,
                style=CONTROL_STYLE,
                layout=CONTROL_LAYOUT,
            ),
            "leverage": ipywidgets.IntSlider(
                value=leverage,
                min=1,
                max=125,
                step=1,
                description="Leverage (x)",
                continuous_update=True,
                style=CONTROL_STYLE,
                layout=CONTROL_LAYOUT,
            ),
        }
        # The first state is built here (a bad argument raises) to give the figures data.
        first = self._compute({name: c.value for name, c in controls.items()})
        figures = [
            make_figure_widget(loss_at_liquidation_figure(**self._loss_inputs(first)).figure),
            make_figure_widget(price_ladder_figure(**self._ladder_inputs(first)).figure),
        ]
        super().__init__(controls=controls, figures=figures)

    # --- engine ------------------------------------------------------------------------

    def _compute(self, values: dict[str, Any]) -> _Loss:
        example, accounts, liquidation, bankruptcy = _guide_accounts(values["leverage"])
        marks = {example.symbol: values["price"]}
        return _Loss(
            example=example,
            mark_price=values["price"],
            accounts=accounts,
            states={m: accounts[m].state(marks) for m in MODES},
            outcomes={m: accounts[m].liquidate(marks) for m in MODES},
            liquidation_price=liquidation,
            bankruptcy_price=bankruptcy,
        )

    # --- charts ------------------------------------------------------------------------

    @staticmethod
    def _loss_inputs(result: _Loss) -> dict[str, Any]:
        # A negative loss is a gain: the chart draws it past the wallet, labelled "up".
        lost = result.lost
        return {
            "wallet_balance_usdt": result.example.wallet_balance,
            "cross_loss_usdt": lost["cross"],
            "isolated_loss_usdt": lost["isolated"],
            "cross_liquidated": result.liquidated["cross"],
            "isolated_liquidated": result.liquidated["isolated"],
        }

    @staticmethod
    def _ladder_inputs(result: _Loss) -> dict[str, Any]:
        return {
            "entry_price": result.example.entry_price,
            "mark_price": result.mark_price,
            "cross_liquidation_price": result.liquidation_price["cross"],
            "isolated_liquidation_price": result.liquidation_price["isolated"],
            "cross_bankruptcy_price": result.bankruptcy_price["cross"],
            "isolated_bankruptcy_price": result.bankruptcy_price["isolated"],
            "side": result.example.side,
        }

    @staticmethod
    def _summary(result: _Loss, loss_summary: str) -> str:
        gain = -min(result.lost.values())
        where = f"BTC at {fmt.price(result.mark_price)}"
        if gain > 0:  # the bars then show the equity, wallet plus the unrealized gain
            where += f" (the position is up {fmt.usdt(gain)})"
        return f"{where}: {loss_summary}"

    def _apply(self, result: _Loss) -> str:
        bars, ladder = self.figures
        summary = update_loss_at_liquidation(bars, **self._loss_inputs(result))
        update_price_ladder(ladder, **self._ladder_inputs(result))
        return self._summary(result, summary)

    def static(self) -> Chart:
        """A fresh plain figure of the loss bars for the current price, and the summary."""
        chart = loss_at_liquidation_figure(**self._loss_inputs(self._now))
        return Chart(chart.figure, self._summary(self._now, chart.summary))

    # --- the numbers of the current state ----------------------------------------------

    @property
    def _now(self) -> _Loss:
        return self._drawn_result

    @property
    def kept(self) -> dict[str, float]:
        """Mode -> USDT kept: the wallet left after liquidation, else the margin balance."""
        return self._now.kept

    @property
    def lost(self) -> dict[str, float]:
        """Mode -> USDT lost: the wallet lost at liquidation, else the running loss (< 0: gain)."""
        return self._now.lost

    @property
    def liquidated(self) -> dict[str, bool]:
        """Mode -> whether the account is liquidated at the current price."""
        return self._now.liquidated

    @property
    def liquidation_price(self) -> dict[str, float]:
        """Mode -> BTC mark price (USDT) that liquidates the position; NaN if none."""
        return dict(self._now.liquidation_price)

    def account(self, mode: str) -> Account:
        """The engine's account (before any liquidation) in ``mode`` ("cross"/"isolated")."""
        return self._now.accounts[MarginMode.parse(mode).value]
