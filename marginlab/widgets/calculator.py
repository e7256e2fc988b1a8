"""A futures calculator like the exchanges' tabs, every number from the engine.

Five tools share one set of position inputs (pair, side, leverage, entry price, quantity,
wallet balance) and add their own:

* **PnL & ROE** at an exit price: :meth:`Account.state` of the position at that mark.
* **Target price** for a desired ROE (:meth:`Account.price_for_roe`; the engine's ROE
  at that price is reported alongside as the check).
* **Liquidation price** in the chosen mode (the ladder shows both modes).
* **Max open** (:meth:`Account.max_open`): the largest quantity whose initial margin
  fits the available balance and whose notional fits a bracket that allows the leverage.
* **Average entry** of two fills: the engine's one-way position after two opens.

Every tool except "max open" draws its position on the price ladder, its price as the
mark. Positions are built with :meth:`Account.open` on an account holding the wallet
balance, so what the engine refuses (a notional above the leverage's bracket, more margin
than the balance) is refused here too, with the engine's reason.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

import ipywidgets

from marginlab.charts import Chart, Ladder, price_ladder_figure, update_price_ladder
from marginlab.charts import format as fmt
from marginlab.engine import MODES, Account, MarginMode
from marginlab.engine.account import Position
from marginlab.engine.errors import MarginError
from marginlab.scenarios import GUIDE
from marginlab.widgets._plotly import make_figure_widget
from marginlab.widgets.base import LessonWidget
from marginlab.widgets.controls import (
    STYLE,
    leverage_slider,
    mode_toggle,
    number_box,
    side_toggle,
    toggle,
)
from marginlab.widgets.trade import ladder_of

__all__ = ["TOOLS", "CalculatorWidget"]

TOOLS = {
    "pnl": "PnL & ROE",
    "target": "Target price",
    "liquidation": "Liquidation price",
    "max_open": "Max open",
    "average": "Average entry",
}
COMMON = ("symbol", "side", "leverage", "entry_price", "quantity", "balance")
# The controls each tool shows (the others are hidden while it is selected).
SHOWN = {
    "pnl": (*COMMON, "exit_price"),
    "target": (*COMMON, "target_roe"),
    "liquidation": (*COMMON, "mode"),
    "max_open": ("symbol", "leverage", "entry_price", "balance"),
    "average": (*COMMON, "fill_price", "fill_quantity"),
}
TITLE = "Calculator: the position on the price ladder"


@dataclass(frozen=True)
class _Result:
    """One tick: the tool, its outputs by name, the ladder inputs (None: no ladder)."""

    tool: str
    outputs: dict[str, Any]
    summary: str
    ladder: Ladder | None = field(default=None)


class CalculatorWidget(LessonWidget):
    """The exchanges' futures calculator: PnL/ROE, target, liquidation, max open, average.

    Parameters
    ----------
    tool : the tool shown first, one of :data:`TOOLS` ("pnl", "target", "liquidation",
        "max_open", "average").
    symbol, side, leverage, entry_price, quantity, wallet_balance : the position and the
        wallet (default: the guide's 1/3 BTC long at 10x from 60,000, 10,000 USDT).
    exit_price, target_roe_percent, fill_price, fill_quantity, mode : the tools' own
        inputs (prices in USDT, ROE in percent, quantity in base units).

    Controls: ``tool``, ``symbol``, ``side``, ``leverage``, ``entry_price``, ``quantity``,
    ``balance``, ``exit_price``, ``target_roe``, ``mode``, ``fill_price``, ``fill_quantity``.
    """

    def __init__(
        self,
        *,
        tool: str = "pnl",
        symbol: str = GUIDE.symbol,
        side: str = GUIDE.side,
        leverage: float = GUIDE.leverage,
        entry_price: float = GUIDE.entry_price,
        quantity: float = GUIDE.quantity,
        wallet_balance: float = GUIDE.wallet_balance,
        exit_price: float = 63_000.0,
        target_roe_percent: float = 50.0,
        mode: str = "isolated",
        fill_price: float = 57_000.0,
        fill_quantity: float = GUIDE.quantity,
    ) -> None:
        self._ladder_drawn: Ladder | None = None  # what the ladder figure holds
        controls: dict[str, ipywidgets.Widget] = {
            "tool": ipywidgets.ToggleButtons(
                options=[(label, name) for name, label in TOOLS.items()],
                value=tool,
                description="Tool",
                style={**STYLE, "button_width": "130px"},
            ),
            "symbol": toggle(("BTCUSDT", "ETHUSDT"), symbol, "Pair"),
            "side": side_toggle(side),
            "leverage": leverage_slider(leverage),
            "entry_price": number_box(entry_price, "Entry price (USDT)", 100),
            "quantity": number_box(quantity, "Quantity (coins)", 0.001),
            "balance": number_box(wallet_balance, "Wallet balance (USDT)", 500),
            "exit_price": number_box(exit_price, "Exit price (USDT)", 100),
            "target_roe": number_box(target_roe_percent, "Target ROE (%)", 5),
            "mode": mode_toggle(mode),
            "fill_price": number_box(fill_price, "Second fill price (USDT)", 100),
            "fill_quantity": number_box(fill_quantity, "Second fill quantity (coins)", 0.001),
        }
        values = {name: control.value for name, control in controls.items()}
        start = self._compute(values)
        if start.ladder is None:  # "max open" draws none: start from the position's ladder
            start = self._compute({**values, "tool": "liquidation"})
        self._ladder_drawn = start.ladder
        figure = make_figure_widget(price_ladder_figure(start.ladder, title=TITLE).figure)
        self.results_area = ipywidgets.HTML("")
        self.figure_box = ipywidgets.VBox([figure])
        super().__init__(
            controls,
            [figure],
            figures_box=ipywidgets.VBox([self.results_area, self.figure_box]),
        )

    # --- public ------------------------------------------------------------------------

    @property
    def tool(self) -> str:
        """The tool shown (a key of :data:`TOOLS`)."""
        return self.drawn.tool

    @property
    def result(self) -> dict[str, Any]:
        """The current tool's outputs by name (USDT, prices in USDT, ROE a fraction)."""
        return dict(self.drawn.outputs)

    def static(self) -> Chart:
        """A plain price-ladder figure as the live one holds it, and the summary.

        "Max open" draws no ladder: its figure is the last tool's, as in the live widget.
        """
        chart = price_ladder_figure(self._ladder_shown(), title=TITLE)
        return Chart(chart.figure, self.drawn.summary)

    # --- the tick ----------------------------------------------------------------------

    def _ladder_shown(self) -> Ladder:
        if self._ladder_drawn is None:
            raise RuntimeError("CalculatorWidget has no ladder yet")
        return self._ladder_drawn

    def _compute(self, values: dict[str, Any]) -> _Result:
        tool = values["tool"]
        if tool == "max_open":
            return self._max_open(values)
        if tool == "average":
            return self._average(values)
        accounts = self._accounts(values)
        position = accounts["isolated"].position(values["symbol"])
        if tool == "pnl":
            return self._pnl(values, accounts, position)
        if tool == "target":
            return self._target(values, accounts, position)
        return self._liquidation(values, accounts, position)

    def _accounts(self, values: dict[str, Any], second_fill: bool = False) -> dict[str, Account]:
        """The position in each mode, opened on an account holding the wallet balance."""
        symbol = values["symbol"]
        order = {"side": values["side"], "leverage": values["leverage"]}
        accounts = {}
        for mode in MODES:
            account = Account(wallet_balance=values["balance"]).set_margin_mode(symbol, mode)
            account = account.open(
                symbol, price=values["entry_price"], quantity=values["quantity"], **order
            )
            if second_fill:
                account = account.open(
                    symbol, price=values["fill_price"], quantity=values["fill_quantity"], **order
                )
            accounts[mode] = account
        return accounts

    @staticmethod
    def _ladder(accounts: dict[str, Account], symbol: str, mark_price: float) -> Ladder:
        return ladder_of(accounts, symbol, {symbol: mark_price})

    @staticmethod
    def _describe(position: Position) -> str:
        return (
            f"a {position.side} of {fmt.number(position.quantity, 4)} {position.symbol} at "
            f"{fmt.leverage(position.leverage)} from {fmt.price(position.entry_price)}"
        )

    def _pnl(
        self, values: dict[str, Any], accounts: dict[str, Account], position: Position
    ) -> _Result:
        exit_price = values["exit_price"]
        ladder = self._ladder(accounts, position.symbol, exit_price)
        state = accounts["isolated"].position_state(position.symbol, {position.symbol: exit_price})
        outputs = {
            "exit_price": float(exit_price),
            "initial_margin_usdt": position.initial_margin,
            "pnl_usdt": state.unrealized_pnl,
            "roe": state.roe,
        }
        summary = (
            f"A{self._describe(position)[1:]} to {fmt.price(exit_price)}: PnL "
            f"{fmt.usdt(state.unrealized_pnl)} on {fmt.usdt(position.initial_margin)} of "
            f"initial margin, ROE {fmt.percent(state.roe)}."
        )
        if accounts["isolated"].liquidate({position.symbol: exit_price}).happened:
            summary += (
                " Isolated, it would be liquidated on the way, at "
                f"{fmt.price(ladder.levels[MarginMode.ISOLATED].liquidation_price)}."
            )
        return _Result("pnl", outputs, summary, ladder)

    def _target(
        self, values: dict[str, Any], accounts: dict[str, Account], position: Position
    ) -> _Result:
        percent = values["target_roe"]
        if not math.isfinite(percent):
            raise MarginError(f"target_roe must be a finite number of percent, got {percent!r}")
        target = accounts["isolated"].price_for_roe(position.symbol, percent / 100)
        state = accounts["isolated"].position_state(position.symbol, {position.symbol: target})
        outputs = {
            "target_price": target,
            "roe": state.roe,
            "pnl_usdt": state.unrealized_pnl,
            "initial_margin_usdt": position.initial_margin,
        }
        summary = (
            f"For an ROE of {fmt.percent(state.roe)}, {self._describe(position)} needs a "
            f"price of {fmt.price(target)} (PnL {fmt.usdt(state.unrealized_pnl)} on "
            f"{fmt.usdt(position.initial_margin)} of initial margin)."
        )
        return _Result("target", outputs, summary, self._ladder(accounts, position.symbol, target))

    def _liquidation(
        self, values: dict[str, Any], accounts: dict[str, Account], position: Position
    ) -> _Result:
        mode = values["mode"]
        other = "cross" if mode == "isolated" else "isolated"
        ladder = self._ladder(accounts, position.symbol, position.entry_price)
        levels = ladder.levels
        outputs = {
            "mode": mode,
            "liquidation_price": levels[mode].liquidation_price,
            "bankruptcy_price": levels[mode].bankruptcy_price,
            "cross_liquidation_price": levels[MarginMode.CROSS].liquidation_price,
            "isolated_liquidation_price": levels[MarginMode.ISOLATED].liquidation_price,
            "initial_margin_usdt": position.initial_margin,
        }
        summary = (
            f"In {mode} mode {self._describe(position)} with a "
            f"{fmt.usdt(values['balance'])} wallet liquidates at "
            f"{fmt.price(outputs['liquidation_price'])} (bankruptcy at "
            f"{fmt.price(outputs['bankruptcy_price'])}); in {other} mode at "
            f"{fmt.price(levels[other].liquidation_price)}."
        )
        return _Result("liquidation", outputs, summary, ladder)

    def _max_open(self, values: dict[str, Any]) -> _Result:
        account = Account(wallet_balance=values["balance"])
        outputs = asdict(
            account.max_open(
                values["symbol"], leverage=values["leverage"], price=values["entry_price"]
            )
        )
        coin = values["symbol"].removesuffix("USDT")
        lev = fmt.leverage(values["leverage"])
        head = (
            f"With {fmt.usdt(outputs['available_balance_usdt'])} available at {lev}, the "
            f"largest {values['symbol']} order at {fmt.price(values['entry_price'])}"
        )
        if outputs["limited_by"] == "balance":
            summary = (
                f"{head} is {fmt.number(outputs['max_quantity'], 4)} {coin} "
                f"({fmt.usdt(outputs['max_notional_usdt'])}), limited by the balance."
            )
        else:
            summary = (
                f"{head} stays below {fmt.number(outputs['max_quantity'], 4)} {coin} "
                f"({fmt.usdt(outputs['max_notional_usdt'])}), limited by the bracket: at {lev} "
                f"a {values['symbol']} position must stay below that notional."
            )
        return _Result("max_open", outputs, summary, None)

    def _average(self, values: dict[str, Any]) -> _Result:
        accounts = self._accounts(values, second_fill=True)
        position = accounts["isolated"].position(values["symbol"])
        outputs = {
            "average_entry_price": position.entry_price,
            "quantity": position.quantity,
            "notional_usdt": position.entry_notional,
            "initial_margin_usdt": position.initial_margin,
        }
        summary = (
            f"Two fills, {fmt.number(values['quantity'], 4)} at "
            f"{fmt.price(values['entry_price'])} and {fmt.number(values['fill_quantity'], 4)} "
            f"at {fmt.price(values['fill_price'])}, make one {position.side} of "
            f"{fmt.number(position.quantity, 4)} {position.symbol} at an average entry of "
            f"{fmt.price(position.entry_price)} ({fmt.usdt(position.initial_margin)} of "
            f"initial margin at {fmt.leverage(position.leverage)})."
        )
        ladder = self._ladder(accounts, position.symbol, values["fill_price"])
        return _Result("average", outputs, summary, ladder)

    def _apply(self, result: _Result) -> str:
        for name, control in self.controls.items():
            if name != "tool":
                control.layout.display = "" if name in SHOWN[result.tool] else "none"
        # hidden, not removed: plotly.js draws a figure laid out while display:none at 0 px
        self.figure_box.layout.visibility = "hidden" if result.ladder is None else "visible"
        self.results_area.value = self._results_html(result)
        if result.ladder is not None:
            self._ladder_drawn = result.ladder
            update_price_ladder(self.figures[0], result.ladder)
        return result.summary

    @staticmethod
    def _results_html(result: _Result) -> str:
        rows = []
        for name, value in result.outputs.items():
            if isinstance(value, str):
                shown = value
            elif name == "roe":
                shown = fmt.percent(value)
            elif name.endswith("_usdt"):
                shown = fmt.usdt(value)
            elif name.endswith("_price"):
                shown = fmt.price(value)
            else:
                shown = fmt.number(value, 6)
            label = name.removesuffix("_usdt").replace("_", " ")
            rows.append(f"<tr><th style='text-align:left'>{label}</th><td>{shown}</td></tr>")
        return f"<table class='marginlab-table'>{''.join(rows)}</table>"
