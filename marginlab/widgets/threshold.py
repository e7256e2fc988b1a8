"""Comparison 1 of the guide: the same position liquidates further away in cross.

The learner moves leverage, margin, wallet and side; the entry stays at the guide's
60,000 USDT. Each tick opens the same position in an isolated and in a cross account
(the engine's :class:`~marginlab.engine.Account`, built like ``guide_account``) and
shows both liquidation prices on a price ladder, and the distance to liquidation over
every leverage from 1x to 125x, with a marker at the current leverage.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any

import ipywidgets
import numpy as np

from marginlab.charts import (
    Chart,
    liquidation_distance_figure,
    price_ladder_figure,
    update_liquidation_distance,
    update_price_ladder,
)
from marginlab.charts import format as fmt
from marginlab.engine import (
    Account,
    MarginMode,
    PositionLevels,
    load_tiers,
    tiered_liquidation_price,
)
from marginlab.scenarios import GUIDE, GuideExample, guide_account
from marginlab.widgets._plotly import make_figure_widget
from marginlab.widgets.base import LessonWidget

__all__ = ["LiquidationThresholdWidget"]

MODES = ("cross", "isolated")
LEVERAGE_GRID = np.arange(1.0, 126.0)  # 1x .. 125x: the leverage slider's range
CONTROL_STYLE = {"description_width": "initial"}
CONTROL_LAYOUT = {"width": "420px"}


@dataclass(frozen=True)
class _Threshold:
    """The engine's numbers for one set of control values (USDT; rates are fractions)."""

    example: GuideExample
    accounts: dict[str, Account]
    liquidation_price: dict[str, float]  # NaN: cannot be liquidated by price
    bankruptcy_price: dict[str, float]
    distance_rate: dict[str, float]
    grid_distance_rate: dict[str, np.ndarray]  # over LEVERAGE_GRID; NaN where not allowed


def _distance_rate(liquidation_price: Any, entry_price: float) -> Any:
    """How far the price may move before liquidation, as an unsigned fraction of entry."""
    return np.abs(liquidation_price - entry_price) / entry_price


@lru_cache(maxsize=512)
def _allowed_leverage(symbol: str, margin_usdt: float) -> np.ndarray:
    """Which leverages of LEVERAGE_GRID the brackets allow for this margin (bool array)."""
    table = load_tiers(symbol)
    allowed = np.array(
        [lev <= table.max_leverage(margin_usdt * lev) for lev in LEVERAGE_GRID.tolist()]
    )
    allowed.flags.writeable = False  # shared by the cache
    return allowed


@lru_cache(maxsize=512)
def _grid_distance(
    symbol: str, side: str, margin_usdt: float, wallet_usdt: float, entry_price: float
) -> np.ndarray:
    """Distance to liquidation of the same margin at every leverage of LEVERAGE_GRID.

    ``wallet_usdt`` is what backs the position (``Account.levels(...).backing_usdt``: its
    margin when isolated, the cross wallet when cross). NaN where the bracket does not
    allow that leverage. Cached: a drag of the leverage slider reuses the curves.
    """
    price = tiered_liquidation_price(
        load_tiers(symbol),
        side=side,
        quantity=margin_usdt * LEVERAGE_GRID / entry_price,
        entry_price=entry_price,
        wallet_balance=wallet_usdt,
    )
    allowed = _allowed_leverage(symbol, margin_usdt)
    distance = np.where(allowed, _distance_rate(price, entry_price), np.nan)
    distance.flags.writeable = False  # shared by the cache
    return distance


class LiquidationThresholdWidget(LessonWidget):
    """Isolated vs cross liquidation price of one position (guide, comparison 1).

    Controls: ``leverage`` (1..125x), ``margin`` (USDT assigned to the position, and in
    cross the initial margin it takes from the pool), ``balance`` (USDT wallet), ``side``
    (long/short). Entry is the guide's 60,000 USDT. Figures: the price ladder (mark =
    entry), then the distance to liquidation against leverage.

    The defaults are the guide's example: 10x long with 2,000 of a 10,000 USDT wallet,
    liquidated at 54,216.87 isolated and 30,120.48 cross.
    """

    def __init__(
        self,
        *,
        leverage: int = int(GUIDE.leverage),
        margin: float = GUIDE.margin,
        wallet_balance: float = GUIDE.wallet_balance,
        side: str = GUIDE.side,
    ) -> None:
        controls = {
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
            "margin": ipywidgets.FloatSlider(
                value=margin,
                min=50,
                max=20_000,
                step=50,
                description="Margin (USDT)",
                readout_format=",.0f",
                continuous_update=True,
                style=CONTROL_STYLE,
                layout=CONTROL_LAYOUT,
            ),
            "balance": ipywidgets.FloatSlider(
                value=wallet_balance,
                min=500,
                max=50_000,
                step=500,
                description="Wallet (USDT)",
                readout_format=",.0f",
                continuous_update=True,
                style=CONTROL_STYLE,
                layout=CONTROL_LAYOUT,
            ),
            "side": ipywidgets.ToggleButtons(
                options=["long", "short"], value=side, description="Side", style=CONTROL_STYLE
            ),
        }
        # The first state is built here (a bad argument raises) to give the figures data.
        first = self._compute({name: c.value for name, c in controls.items()})
        figures = [
            make_figure_widget(price_ladder_figure(**self._ladder_inputs(first)).figure),
            make_figure_widget(liquidation_distance_figure(**self._distance_inputs(first)).figure),
        ]
        super().__init__(controls=controls, figures=figures)

    # --- engine ------------------------------------------------------------------------

    def _compute(self, values: dict[str, Any]) -> _Threshold:
        example = replace(
            GUIDE,
            wallet_balance=values["balance"],
            margin=values["margin"],
            leverage=values["leverage"],
            side=values["side"],
        )
        accounts = {mode: guide_account(mode, example) for mode in MODES}
        levels: dict[str, PositionLevels] = {m: accounts[m].levels(example.symbol) for m in MODES}
        liquidation = {m: levels[m].liquidation_price for m in MODES}
        return _Threshold(
            example=example,
            accounts=accounts,
            liquidation_price=liquidation,
            bankruptcy_price={m: levels[m].bankruptcy_price for m in MODES},
            distance_rate={
                m: float(_distance_rate(liquidation[m], example.entry_price)) for m in MODES
            },
            grid_distance_rate={
                m: _grid_distance(
                    example.symbol,
                    example.side,
                    float(example.margin),
                    levels[m].backing_usdt,
                    example.entry_price,
                )
                for m in MODES
            },
        )

    # --- charts ------------------------------------------------------------------------

    @staticmethod
    def _ladder_inputs(result: _Threshold) -> dict[str, Any]:
        entry = result.example.entry_price
        return {
            "entry_price": entry,
            "mark_price": entry,
            "cross_liquidation_price": result.liquidation_price["cross"],
            "isolated_liquidation_price": result.liquidation_price["isolated"],
            "cross_bankruptcy_price": result.bankruptcy_price["cross"],
            "isolated_bankruptcy_price": result.bankruptcy_price["isolated"],
            "side": result.example.side,
        }

    @staticmethod
    def _distance_inputs(result: _Threshold) -> dict[str, Any]:
        return {
            "leverage": LEVERAGE_GRID,
            "cross_distance_rate": result.grid_distance_rate["cross"],
            "isolated_distance_rate": result.grid_distance_rate["isolated"],
            "current_leverage": result.example.leverage,
            "current_cross_distance_rate": result.distance_rate["cross"],
            "current_isolated_distance_rate": result.distance_rate["isolated"],
        }

    @staticmethod
    def _summary(result: _Threshold, ladder_summary: str) -> str:
        example = result.example
        return (
            f"{fmt.leverage(example.leverage)} {example.side} with {fmt.usdt(example.margin)} "
            f"margin in a {fmt.usdt(example.wallet_balance)} wallet: {ladder_summary}"
        )

    def _apply(self, result: _Threshold) -> str:
        ladder, distance = self.figures
        summary = update_price_ladder(ladder, **self._ladder_inputs(result))
        update_liquidation_distance(distance, **self._distance_inputs(result))
        return self._summary(result, summary)

    def static(self) -> Chart:
        """A fresh plain figure of the price ladder for the current values, and the summary."""
        chart = price_ladder_figure(**self._ladder_inputs(self._now))
        return Chart(chart.figure, self._summary(self._now, chart.summary))

    # --- the numbers of the current state ----------------------------------------------

    @property
    def _now(self) -> _Threshold:
        return self._drawn_result

    @property
    def isolated_liquidation_price(self) -> float:
        """Mark price (USDT) that liquidates the isolated position; NaN if none."""
        return self._now.liquidation_price["isolated"]

    @property
    def cross_liquidation_price(self) -> float:
        """Mark price (USDT) that liquidates the cross position; NaN if none."""
        return self._now.liquidation_price["cross"]

    @property
    def isolated_distance(self) -> float:
        """|liquidation − entry| / entry of the isolated position (unsigned fraction)."""
        return self._now.distance_rate["isolated"]

    @property
    def cross_distance(self) -> float:
        """|liquidation − entry| / entry of the cross position (unsigned fraction)."""
        return self._now.distance_rate["cross"]

    def account(self, mode: str) -> Account:
        """The engine's account for the current values in ``mode`` ("cross"/"isolated")."""
        return self._now.accounts[MarginMode.parse(mode).value]
