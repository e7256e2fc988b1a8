"""Comparison 3 of the guide: several positions, one shared pool or each on its own.

The scenario is ``two_positions_account``: the guide's BTC long (2,000 USDT at 10x from
60,000) and an ETH short (1,000 USDT at 10x from 3,000) in a 10,000 USDT wallet, once
all cross and once all isolated. Two price sliders move BTC and ETH. The cross map
shows the cross margin ratio over both prices (built once: the positions never change,
only the marker moves); the price ladder shows the BTC liquidation price in cross,
which moves with the ETH price (the ETH profit or loss is in the same pool), beside the
isolated one, which does not.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from marginlab.charts import (
    Chart,
    CrossMap,
    Ladder,
    cross_map_figure,
    price_ladder_figure,
    update_cross_map,
    update_price_ladder,
)
from marginlab.engine import MODES, Account, AccountState, MarginMode, PositionLevels
from marginlab.engine.errors import MarginError
from marginlab.scenarios import two_positions_account
from marginlab.widgets._plotly import make_figure_widget
from marginlab.widgets.base import LessonWidget
from marginlab.widgets.controls import price_slider

__all__ = ["SeveralPositionsWidget", "cross_ratio_grid"]

BTC, ETH = "BTCUSDT", "ETHUSDT"
# The map's grids span the sliders' ranges; the boundary is nearly straight, so a coarse
# grid draws it well and keeps the figure small (~110 kB to create).
BTC_GRID = np.linspace(20_000.0, 100_000.0, 81)  # every 1,000 USDT
ETH_GRID = np.linspace(1_000.0, 7_000.0, 61)  # every 100 USDT
LADDER_TITLE = "BTC liquidation price: Cross (moves with ETH) vs Isolated"


def cross_ratio_grid(
    account: Account, x_price_grid: np.ndarray, y_price_grid: np.ndarray
) -> np.ndarray:
    """Cross margin ratio (fraction; inf = pool used up) of a BTC + ETH cross account.

    ``result[j, i]`` is the ratio at BTC ``x_price_grid[i]`` and ETH ``y_price_grid[j]``
    (USDT): Σ maintenance margin / (cross wallet + Σ unrealized PnL), the value
    ``account.state(marks).cross_margin_ratio`` gives at each pair
    (:meth:`Account.cross_margin_ratio` over the grid).
    """
    btc, eth = account.position(BTC), account.position(ETH)
    if btc.is_isolated or eth.is_isolated:
        raise MarginError("account: both BTCUSDT and ETHUSDT positions must be cross")
    grid = account.cross_margin_ratio(
        {BTC: np.asarray(x_price_grid)[np.newaxis, :], ETH: np.asarray(y_price_grid)[:, np.newaxis]}
    )
    return np.asarray(grid)


@dataclass(frozen=True)
class _Positions:
    """The engine's numbers at one pair of marks (USDT; ratios are fractions)."""

    marks: dict[str, float]
    cross_state: AccountState
    liquidated: dict[str, tuple[str, ...]]  # mode -> symbols liquidated at the marks
    levels: dict[MarginMode, PositionLevels]  # the BTC long's, per mode, at the marks


class SeveralPositionsWidget(LessonWidget):
    """Two positions: the cross buffer vs isolated independence (guide, comparison 3).

    Controls: ``btc_price`` and ``eth_price`` (mark prices, USDT). Figures: the two-symbol
    cross map with the isolated liquidation lines and the current prices, then the BTC
    price ladder (cross at the current ETH price vs isolated).
    """

    def __init__(self, *, btc_price: float = 60_000.0, eth_price: float = 3_000.0) -> None:
        self.accounts = {mode: two_positions_account(mode) for mode in MODES}
        self._ratio_grid = cross_ratio_grid(self.accounts["cross"], BTC_GRID, ETH_GRID)
        isolated = self.accounts["isolated"]
        self._isolated = {s: isolated.levels(s).liquidation_price for s in (BTC, ETH)}
        controls = {
            "btc_price": price_slider(
                btc_price, BTC_GRID[0], BTC_GRID[-1], 100, "BTC price (USDT)"
            ),
            "eth_price": price_slider(eth_price, ETH_GRID[0], ETH_GRID[-1], 10, "ETH price (USDT)"),
        }
        # The first state is built here (a bad argument raises) to give the figures data.
        first = self._compute({name: c.value for name, c in controls.items()})
        figures = [
            make_figure_widget(cross_map_figure(self._map(first)).figure),
            make_figure_widget(price_ladder_figure(self._ladder(first), title=LADDER_TITLE).figure),
        ]
        super().__init__(controls=controls, figures=figures)

    # --- engine ------------------------------------------------------------------------

    def _compute(self, values: dict[str, Any]) -> _Positions:
        marks = {BTC: values["btc_price"], ETH: values["eth_price"]}
        return _Positions(
            marks=marks,
            cross_state=self.accounts["cross"].state(marks),
            liquidated={
                m: tuple(p.symbol for p in self.accounts[m].liquidate(marks).liquidated)
                for m in MODES
            },
            levels={m: self.accounts[m].levels(BTC, marks) for m in MODES},
        )

    # --- charts ------------------------------------------------------------------------

    def _map(self, result: _Positions) -> CrossMap:
        return CrossMap(
            BTC,
            ETH,
            BTC_GRID,
            ETH_GRID,
            self._ratio_grid,
            result.marks[BTC],
            result.marks[ETH],
            result.cross_state.cross_margin_ratio,
            isolated_liquidation_price=self._isolated,
        )

    @staticmethod
    def _ladder(result: _Positions) -> Ladder:
        return Ladder(result.levels, mark_price=result.marks[BTC])

    @staticmethod
    def _summary(result: _Positions, map_summary: str, ladder_summary: str) -> str:
        gone = ", ".join(
            f"{mode} {' and '.join(result.liquidated[mode]) or 'none'}" for mode in MODES
        )
        return f"{map_summary} BTC long: {ladder_summary} Liquidated at these prices: {gone}."

    def _apply(self, result: _Positions) -> str:
        cross_map, ladder = self.figures
        # Each chart leaves once updated: the page draws it while the kernel goes on.
        ladder_summary = update_price_ladder(ladder, self._ladder(result))
        self._send_chart(ladder)
        map_summary = update_cross_map(cross_map, self._map(result))
        self._send_chart(cross_map)
        return self._summary(result, map_summary, ladder_summary)

    def static(self) -> Chart:
        """A fresh plain figure of the cross map for the current prices, and the summary."""
        chart = cross_map_figure(self._map(self._now))
        ladder = price_ladder_figure(self._ladder(self._now), title=LADDER_TITLE)
        return Chart(chart.figure, self._summary(self._now, chart.summary, ladder.summary))

    # --- the numbers of the current state ----------------------------------------------

    @property
    def _now(self) -> _Positions:
        return self._drawn_result

    @property
    def cross_liquidation_price(self) -> float:
        """BTC mark price (USDT) that liquidates the cross account at the current ETH mark."""
        return self._now.levels[MarginMode.CROSS].liquidation_price

    @property
    def isolated_liquidation_price(self) -> float:
        """BTC mark price (USDT) that liquidates the isolated BTC position (ETH plays no part)."""
        return self._isolated[BTC]

    @property
    def cross_margin_ratio(self) -> float:
        """Margin ratio of the cross pool at the current marks (fraction; 1.0 = liquidation)."""
        return self._now.cross_state.cross_margin_ratio

    @property
    def liquidated(self) -> dict[str, tuple[str, ...]]:
        """Mode -> symbols liquidated at the current marks (empty: none)."""
        return dict(self._now.liquidated)

    def account(self, mode: str) -> Account:
        """The engine's account (both positions open) in ``mode`` ("cross"/"isolated")."""
        return self.accounts[MarginMode.parse(mode).value]

    def state(self, mode: str) -> AccountState:
        """The engine's state of the ``mode`` account at the current marks."""
        return self.account(mode).state(self._now.marks)
