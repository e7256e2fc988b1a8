"""Switching margin mode (guide §6): a sandbox account that enforces the rule.

The mode is chosen per pair. It may be switched while the pair has no position, never
while one is open: close, switch, re-open. Other pairs keep their own modes. The widget
holds one account (10,000 USDT) and lets the learner open and close a default order on
BTCUSDT or ETHUSDT and flip the pair's mode; the engine
(:meth:`Account.set_margin_mode`) decides, and every refusal is explained in plain words.

The chart is the price ladder of the selected pair: its open position in both modes (the
other mode as "the same position, had it been opened that way"), or, with no position,
the default order as it would be opened now.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Any

import ipywidgets

from marginlab.charts import Chart, Ladder, price_ladder_figure, update_price_ladder
from marginlab.charts import format as fmt
from marginlab.engine import (
    MODES,
    Account,
    InsufficientMarginError,
    MarginError,
    MarginMode,
    ModeSwitchError,
)
from marginlab.scenarios import GUIDE, two_positions_account
from marginlab.widgets._plotly import make_figure_widget
from marginlab.widgets.base import LessonWidget
from marginlab.widgets.controls import button, mode_toggle, toggle
from marginlab.widgets.trade import held_marks, ladder_of

__all__ = ["SwitchingModesWidget"]

TITLE = "Selected pair: liquidation price in each mode"
HISTORY_LINES = 6


def scenario_prices() -> dict[str, float]:
    """Symbol -> the scenario's price (USDT): BTC 60,000 and ETH 3,000."""
    return {p.symbol: p.entry_price for p in two_positions_account("cross").positions}


@dataclass(frozen=True)
class _Result:
    """One tick: the account to show, the selected pair and its ladder (USDT)."""

    account: Account
    symbol: str
    mode: str
    ladder: Ladder | None  # None: nothing to draw
    previewed: bool  # True: the ladder shows the default order, not an open position
    event: str  # a mode switch this tick made ("" if none)


class SwitchingModesWidget(LessonWidget):
    """A sandbox account: open, close and switch modes per pair, the rule enforced.

    Parameters
    ----------
    wallet_balance : the sandbox wallet (USDT).
    prices : symbol -> price (USDT) at which orders open and close; default the scenarios'.
    side, leverage, margin : the default order that "Open position" places.
    symbol : the pair selected at start.

    Controls: ``symbol`` (pair), ``mode`` (cross/isolated for that pair), ``open`` and
    ``close`` buttons.
    """

    def __init__(
        self,
        *,
        wallet_balance: float = GUIDE.wallet_balance,
        prices: dict[str, float] | None = None,
        side: str = GUIDE.side,
        leverage: float = GUIDE.leverage,
        margin: float = GUIDE.margin,
        symbol: str = GUIDE.symbol,
    ) -> None:
        self._prices = dict(scenario_prices() if prices is None else prices)
        self._order = {"side": side, "leverage": leverage, "margin": margin}
        self._account = Account(wallet_balance=wallet_balance)
        self._symbol = symbol
        self._last_event = ""
        self.history: list[str] = []  # what happened, newest last

        start = self._compute({"symbol": symbol, "mode": self._account.margin_mode(symbol).value})
        symbols = tuple(self._prices)
        controls = {
            "symbol": toggle(symbols, symbol, "Pair"),
            "mode": mode_toggle(start.mode),
            "open": button("Open position", f"Open {self._order_text()} at the pair's price"),
            "close": button("Close position", "Close the pair's position at its price"),
        }
        controls["open"].on_click(lambda _button: self.open_position())
        controls["close"].on_click(lambda _button: self.close_position())
        self.history_area = ipywidgets.HTML("")
        self.table_area = ipywidgets.HTML("")
        box = ipywidgets.VBox(
            [
                controls["symbol"],
                controls["mode"],
                ipywidgets.HBox([controls["open"], controls["close"]]),
                self.history_area,
            ]
        )
        figure = make_figure_widget(self._ladder_chart(start).figure)
        figures_box = ipywidgets.VBox([self.table_area, figure])
        super().__init__(controls, [figure], controls_box=box, figures_box=figures_box)

    # --- public ------------------------------------------------------------------------

    @property
    def account(self) -> Account:
        """The sandbox account as shown."""
        return self._account

    def open_position(self, symbol: str | None = None) -> str:
        """Open the default order on ``symbol`` (default: the selected pair); the message."""
        if symbol is not None and not self._select(symbol):
            return self.message
        name = self.controls["symbol"].value
        return self._run(lambda: self._open(name))

    def close_position(self, symbol: str | None = None) -> str:
        """Close the position on ``symbol`` (default: the selected pair); the message."""
        if symbol is not None and not self._select(symbol):
            return self.message
        name = self.controls["symbol"].value
        return self._run(lambda: self._close(name))

    def switch_mode(self, mode: str, symbol: str | None = None) -> str:
        """Switch ``symbol`` (default: the selected pair) to ``mode``; the message shown.

        A refusal (a position is open on the pair) contains "cannot switch" and leaves
        the account unchanged.
        """
        if symbol is not None and not self._select(symbol):
            return self.message
        try:
            wanted = MarginMode.parse(mode).value
        except ValueError as exc:
            self._show_error(exc)
            return self.message
        name = self.controls["symbol"].value
        if self._account.margin_mode(name).value == wanted:
            return self._record(f"{name} is already in {wanted} mode; nothing to switch.")
        self._last_event = ""
        self.controls["mode"].value = wanted  # a tick: the engine decides
        return self._last_event or self.message

    def static(self) -> Chart:
        """A plain price-ladder figure of the selected pair, and the summary."""
        return self._ladder_chart(self.drawn)

    # --- actions -----------------------------------------------------------------------

    def _select(self, symbol: str) -> bool:
        name = str(symbol).strip().upper()
        if name not in self._prices:
            known = ", ".join(self._prices)
            self._show_error(ValueError(f"symbol must be one of {known}, got {symbol!r}"))
            return False
        self.controls["symbol"].value = name
        return True

    def _run(self, action: Any) -> str:
        self._last_event = ""
        return self._last_event if self._act(action) else self.message

    def _open(self, symbol: str) -> None:
        mode = self._account.margin_mode(symbol).value
        price = self._prices[symbol]
        try:
            self._account = self._account.open(symbol, price=price, **self._order)
        except InsufficientMarginError:
            available = self._account.available_balance(held_marks(self._account, self._prices))
            raise InsufficientMarginError(
                f"Not enough available balance to open {symbol}: the order needs "
                f"{fmt.usdt(self._order['margin'])} of margin and {fmt.usdt(available)} is "
                "available. Close a position first."
            ) from None
        self._record(
            f"Opened {symbol}: a {self._order['side']} in {mode} mode, "
            f"{fmt.usdt(self._order['margin'])} at {fmt.leverage(self._order['leverage'])} "
            f"from {fmt.price(price)}. Its mode is now locked until the position is closed."
        )

    def _close(self, symbol: str) -> None:
        if not self._account.positions_of(symbol):
            raise MarginError(f"There is no {symbol} position to close.")
        position = self._account.position(symbol)
        price = self._prices[symbol]
        self._account = self._account.close(symbol, price=price)
        self._record(
            f"Closed the {symbol} {position.side} at {fmt.price(price)}; its margin is back in "
            f"the balance. {symbol} has no position now, so you may switch its mode."
        )

    def _record(self, text: str) -> str:
        self._last_event = text
        self.history.append(text)
        self._show_history()
        return text

    def _show_error(self, exc: BaseException, prefix: str = "") -> None:
        """The base's message beside the controls, and the refusal in the history."""
        super()._show_error(exc, prefix)
        lines = str(exc).strip().splitlines()
        self.history.append("Refused: " + (lines[0] if lines else type(exc).__name__))
        self._show_history()

    def _show_history(self) -> None:
        items = "".join(f"<li>{html.escape(t)}</li>" for t in self.history[-HISTORY_LINES:])
        self.history_area.value = f'<ol style="margin:0.5em 0;padding-left:1.5em">{items}</ol>'

    def _order_text(self) -> str:
        return (
            f"a {self._order['side']} at {fmt.leverage(self._order['leverage'])} with "
            f"{fmt.usdt(self._order['margin'])} of margin"
        )

    # --- the tick ----------------------------------------------------------------------

    def _compute(self, values: dict[str, Any]) -> _Result:
        symbol = values["symbol"]
        wanted = MarginMode.parse(values["mode"])
        account, event = self._account, ""
        current = account.margin_mode(symbol)
        if symbol == self._symbol and wanted is not current:  # the mode toggle moved
            try:
                account = account.set_margin_mode(symbol, wanted)
            except ModeSwitchError:
                raise ModeSwitchError(self._refusal(symbol, wanted.value)) from None
            event = (
                f"Switched {symbol} from {current} to {wanted}: it has no open position, so "
                "the switch is allowed. The other pairs keep their own modes."
            )
        ladder, previewed = self._ladder(account, symbol)
        return _Result(account, symbol, account.margin_mode(symbol).value, ladder, previewed, event)

    def _refusal(self, symbol: str, wanted: str) -> str:
        position = self._account.position(symbol)
        others = [s for s in self._prices if s != symbol]
        rest = ", ".join(f"{s} stays {self._account.margin_mode(s)}" for s in others)
        return (
            f"You cannot switch {symbol} to {wanted} while its {position.side} position is "
            f"open: close it, switch, then open again. Other pairs are not affected ({rest})."
        )

    def _ladder(self, account: Account, symbol: str) -> tuple[Ladder | None, bool]:
        """Ladder inputs of the pair's position in both modes, or of the default order."""
        price = self._prices[symbol]
        if account.positions_of(symbol):
            held = account.position(symbol)
            flat = account.close(symbol, price=held.entry_price)
            accounts = {held.margin_mode.value: account}
            for mode in MODES:
                accounts.setdefault(
                    mode,
                    flat.set_margin_mode(symbol, mode).open(
                        symbol,
                        side=held.side,
                        price=held.entry_price,
                        leverage=held.leverage,
                        quantity=held.quantity,
                    ),
                )
            return self._ladder_of(accounts, symbol), False
        try:
            accounts = {
                mode: account.set_margin_mode(symbol, mode).open(symbol, price=price, **self._order)
                for mode in MODES
            }
        except ValueError:  # the default order does not fit: nothing to preview
            return None, True
        return self._ladder_of(accounts, symbol), True

    def _ladder_of(self, accounts: dict[str, Account], symbol: str) -> Ladder:
        return ladder_of(accounts, symbol, self._prices)

    def _ladder_values(self, result: _Result) -> Ladder:
        if result.ladder is not None:
            return result.ladder
        price = self._prices[result.symbol]
        why = "the default order does not fit the available balance"
        return Ladder(
            {},
            mark_price=price,
            notes={mode: why for mode in MODES},
            entry_price=price,
            side=self._order["side"],
        )

    def _ladder_chart(self, result: _Result) -> Chart:
        chart = price_ladder_figure(self._ladder_values(result), title=TITLE)
        return Chart(chart.figure, self._summary(result, chart.summary))

    def _summary(self, result: _Result, ladder_summary: str) -> str:
        symbol, account = result.symbol, result.account
        if not result.previewed:
            side = account.position(symbol).side
            return (
                f"{symbol} is in {result.mode} mode with a {side} open, so its mode is locked "
                f"until the position is closed. {ladder_summary}"
            )
        head = f"{symbol} is in {result.mode} mode with no position, so you may switch it."
        if result.ladder is None:
            available = account.available_balance(held_marks(account, self._prices))
            return (
                f"{head} The default order ({fmt.usdt(self._order['margin'])} of margin) does "
                f"not fit the available {fmt.usdt(available)}, so there is nothing to draw."
            )
        return f"{head} If you open {self._order_text()}: {ladder_summary}"

    def _apply(self, result: _Result) -> str:
        self._account, self._symbol = result.account, result.symbol
        if result.event:
            self._record(result.event)
        if self.controls["mode"].value != result.mode:  # another pair selected: its mode
            self.controls["mode"].value = result.mode
        ladder_summary = update_price_ladder(self.figures[0], self._ladder_values(result))
        self._send_chart(self.figures[0])  # drawn while the table is written
        self.table_area.value = self._table(result.account)
        return self._summary(result, ladder_summary)

    def _table(self, account: Account) -> str:
        """The account as an HTML table: balances, then one row per pair."""
        state = account.state(held_marks(account, self._prices))
        by_symbol = {s.position.symbol: s for s in state.positions}
        rows = []
        for symbol in dict.fromkeys([*self._prices, *by_symbol]):
            mode = account.margin_mode(symbol).value
            held = by_symbol.get(symbol)
            if held is None:
                cells = [symbol, mode, "none", "", "", "yes"]
            else:
                p = held.position
                margin = p.isolated_margin if p.is_isolated else p.initial_margin
                cells = [
                    symbol,
                    mode,
                    f"{p.side} {p.quantity:.4g} at {fmt.price(p.entry_price)}, "
                    f"{fmt.leverage(p.leverage)}",
                    fmt.price(margin),
                    fmt.price(held.liquidation_price),
                    "no: close it first",
                ]
            rows.append("".join(f"<td>{html.escape(c)}</td>" for c in cells))
        head = "".join(
            f"<th>{h}</th>"
            for h in (
                "Pair",
                "Mode",
                "Position",
                "Margin (USDT)",
                "Liquidation price",
                "Can switch now?",
            )
        )
        body = "".join(f"<tr>{r}</tr>" for r in rows)
        balances = (
            f"Wallet balance {fmt.usdt(state.wallet_balance)} · cross wallet "
            f"{fmt.usdt(state.cross_wallet_balance)} · available "
            f"{fmt.usdt(state.available_balance)}"
        )
        return (
            f"<p style='margin:0.3em 0'>{html.escape(balances)}</p>"
            f'<table class="marginlab-table"><thead><tr>{head}</tr></thead>'
            f"<tbody>{body}</tbody></table>"
        )
