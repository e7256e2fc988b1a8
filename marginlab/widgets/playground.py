"""A free playground account: up to three orders, two mark prices, every number shown.

Each row is an order (pair, side, mode, leverage, margin, entry price) that the engine
opens in turn with :meth:`Account.open` on an account holding the wallet balance. In
one-way mode (the default) a second row on the same pair adds to that position or reduces
it; with hedge mode on, a long and a short on one pair are two legs. A row the engine
refuses (more margin than is available, leverage above the bracket, a pair switched to
another mode while it has a position) shows the engine's reason and the last good state
stays.

Shown: every quantity of :meth:`Account.state` at the marks (an HTML table), what
:meth:`Account.liquidate` would do at those marks, and the price ladder of the first
position (its mode beside the same orders with that pair in the other mode).
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import ipywidgets

from marginlab.charts import Chart, Ladder, price_ladder_figure, update_price_ladder
from marginlab.charts import format as fmt
from marginlab.engine import (
    MODES,
    Account,
    AccountState,
    LiquidationOutcome,
    available_symbols,
)
from marginlab.engine.errors import MarginError
from marginlab.scenarios import losing_neighbour_account
from marginlab.widgets._plotly import make_figure_widget
from marginlab.widgets.base import LessonWidget, shown
from marginlab.widgets.controls import (
    STYLE,
    button,
    checkbox,
    dropdown,
    leverage_slider,
    number_box,
    price_slider,
    toggle,
    usdt_slider,
)
from marginlab.widgets.trade import held_marks, ladder_of

__all__ = ["MAX_ROWS", "PlaygroundWidget", "Row"]

MAX_ROWS = 3
TITLE = "First position: liquidation price in each mode"
FIELDS = ("symbol", "side", "mode", "leverage", "margin", "entry")
PRICE_RANGES = {  # mark-price slider range and step per pair, USDT
    "BTCUSDT": (10_000.0, 120_000.0, 100.0),
    "ETHUSDT": (500.0, 6_000.0, 10.0),
}


@dataclass(frozen=True)
class Row:
    """One order of the playground: margin in USDT, entry price in USDT."""

    symbol: str
    side: str
    mode: str
    leverage: float
    margin: float
    entry: float


def default_rows() -> tuple[Row, ...]:
    """The guide's BTC long (isolated) beside a cross ETH long, plus a hidden third row.

    Rows 1-2 are :func:`marginlab.scenarios.losing_neighbour_account` ("isolated"); row 3
    (shown only after "Add row") adds 1,000 USDT to the BTC long at 57,000.
    """
    account = losing_neighbour_account("isolated")
    ordered = sorted(account.positions, key=lambda p: p.symbol != "BTCUSDT")
    rows = tuple(
        Row(
            p.symbol,
            p.side.value,
            p.margin_mode.value,
            p.leverage,
            p.isolated_margin if p.is_isolated else p.initial_margin,
            p.entry_price,
        )
        for p in ordered
    )
    first = rows[0]
    return (*rows, Row(first.symbol, first.side, first.mode, first.leverage, 1_000.0, 57_000.0))


@dataclass(frozen=True)
class _Built:
    """The orders opened: the account, and the same with the first pair's mode flipped."""

    account: Account
    flipped: Account | None  # None: the engine refuses the orders in the other mode


@dataclass(frozen=True)
class _Result:
    """One tick's result. ``state`` and ``outcome`` are computed when first read: after
    the ladder has been sent (the browser draws it while the table is computed)."""

    rows: int
    account: Account
    marks: dict[str, float]  # USDT per pair, as the sliders give them
    ladder: Ladder
    flipped: bool  # the other mode's column could be drawn

    @cached_property
    def state(self) -> AccountState:
        return self.account.state(held_marks(self.account, self.marks))

    @cached_property
    def outcome(self) -> LiquidationOutcome:
        return self.account.liquidate(held_marks(self.account, self.marks))


class PlaygroundWidget(LessonWidget):
    """A free account with up to three orders and mark-price sliders per pair.

    Parameters
    ----------
    rows : the orders (up to three; default :func:`default_rows`).
    shown : how many rows are active at start (default 2).
    wallet_balance : the wallet (USDT).
    hedge : hedge mode (a long and a short leg per pair) instead of one-way.
    marks : pair -> starting mark price (USDT); default the first row's entry per pair.

    Controls: ``balance``, ``hedge``, ``btc_price``, ``eth_price``, per row ``i`` (1-3)
    ``symbol_i``, ``side_i``, ``mode_i``, ``leverage_i``, ``margin_i``, ``entry_i``, and
    the buttons ``add_row`` and ``remove_row``.
    """

    def __init__(
        self,
        *,
        rows: tuple[Row, ...] | None = None,
        shown: int = 2,
        wallet_balance: float = 10_000.0,
        hedge: bool = False,
        marks: dict[str, float] | None = None,
    ) -> None:
        orders = tuple(default_rows() if rows is None else rows)
        if not 1 <= len(orders) <= MAX_ROWS:
            raise MarginError(f"rows must hold 1 to {MAX_ROWS} orders, got {len(orders)}")
        if not 1 <= shown <= len(orders):
            raise MarginError(f"shown must be between 1 and {len(orders)}, got {shown!r}")
        orders = orders + (orders[-1],) * (MAX_ROWS - len(orders))
        self._rows = shown
        self._built_key: tuple | None = None
        self._built: _Built | None = None

        symbols = available_symbols()
        start_marks = {s: next((r.entry for r in orders if r.symbol == s), None) for s in symbols}
        start_marks.update(marks or {})
        controls: dict[str, ipywidgets.Widget] = {
            "balance": usdt_slider(wallet_balance, 500, 100_000, 500, "Wallet balance (USDT)"),
            "hedge": checkbox(hedge, "Hedge mode (a long and a short per pair)"),
        }
        for symbol in symbols:
            low, high, step = PRICE_RANGES.get(symbol, (1.0, 100_000.0, 1.0))
            value = start_marks[symbol] or low
            name = f"{symbol.removesuffix('USDT').lower()}_price"
            label = f"{symbol.removesuffix('USDT')} mark price (USDT)"
            controls[name] = price_slider(value, low, high, step, label)
        self._mark_controls = {
            symbol: f"{symbol.removesuffix('USDT').lower()}_price" for symbol in symbols
        }
        self.row_boxes = []
        for index, row in enumerate(orders, start=1):
            row_controls = self._row_controls(row, symbols)
            controls.update({f"{field}_{index}": c for field, c in row_controls.items()})
            self.row_boxes.append(self._row_box(index, row_controls))
        controls["add_row"] = button("Add row", "Add an order (up to three)")
        controls["remove_row"] = button("Remove row", "Remove the last order")
        controls["add_row"].on_click(lambda _button: self.add_row())
        controls["remove_row"].on_click(lambda _button: self.remove_row())

        start = self._compute({n: c.value for n, c in controls.items() if c.has_trait("value")})
        figure = make_figure_widget(price_ladder_figure(start.ladder, title=TITLE).figure)
        self.table_area = ipywidgets.HTML("")
        self.liquidation_area = ipywidgets.HTML("")
        marks_box = ipywidgets.VBox([controls[n] for n in self._mark_controls.values()])
        box = ipywidgets.VBox(
            [
                controls["balance"],
                controls["hedge"],
                marks_box,
                *self.row_boxes,
                ipywidgets.HBox([controls["add_row"], controls["remove_row"]]),
            ]
        )
        figures_box = ipywidgets.VBox([self.table_area, self.liquidation_area, figure])
        super().__init__(controls, [figure], controls_box=box, figures_box=figures_box)

    # --- public ------------------------------------------------------------------------

    account = shown(lambda r: r.account, "The account the active rows open (as drawn).")
    state = shown(lambda r: r.state, "Account.state at the current marks.")
    outcome = shown(lambda r: r.outcome, "What Account.liquidate does at the current marks.")
    rows = shown(lambda r: r.rows, "How many rows (orders) are active.")

    def marks(self) -> dict[str, float]:
        """Pair -> the mark price (USDT) the sliders give."""
        return {s: self.controls[n].value for s, n in self._mark_controls.items()}

    def add_row(self) -> None:
        """Activate the next row; refused (with a message) at three or if the engine refuses."""
        self._act(lambda: self._set_rows(self._rows + 1))

    def remove_row(self) -> None:
        """Deactivate the last row; at least one row stays."""
        self._act(lambda: self._set_rows(self._rows - 1))

    def static(self) -> Chart:
        """A plain price-ladder figure of the first position, and the summary."""
        result = self.drawn
        chart = price_ladder_figure(result.ladder, title=TITLE)
        return Chart(chart.figure, self._summary(result, chart.summary))

    # --- controls ----------------------------------------------------------------------

    @staticmethod
    def _row_controls(row: Row, symbols: tuple[str, ...]) -> dict[str, ipywidgets.Widget]:
        narrow = {**STYLE, "button_width": "70px"}
        side = toggle(("long", "short"), row.side, "")
        mode = toggle([m.value for m in MODES], row.mode, "")
        side.style, mode.style = narrow, narrow
        leverage = leverage_slider(row.leverage)
        leverage.layout.width = "300px"
        margin = usdt_slider(row.margin, 50, 50_000, 50, "Margin (USDT)")
        margin.layout.width = "360px"
        entry = number_box(row.entry, "Entry (USDT)", 10)
        entry.layout.width = "220px"
        symbol = dropdown(list(symbols), row.symbol, "Pair", width="180px")
        return {
            "symbol": symbol,
            "side": side,
            "mode": mode,
            "leverage": leverage,
            "margin": margin,
            "entry": entry,
        }

    @staticmethod
    def _row_box(index: int, row: dict[str, ipywidgets.Widget]) -> ipywidgets.VBox:
        title = ipywidgets.HTML(f"<b>Order {index}</b>")
        first = ipywidgets.HBox([row["symbol"], row["side"], row["mode"]])
        second = ipywidgets.HBox([row["leverage"], row["margin"], row["entry"]])
        return ipywidgets.VBox([title, first, second])

    def _set_rows(self, count: int) -> None:
        if not 1 <= count <= MAX_ROWS:
            raise MarginError(f"rows: the playground holds 1 to {MAX_ROWS} orders, got {count}")
        self._build(self.control_values(), count)  # the engine must accept them first
        self._rows = count

    # --- the tick ----------------------------------------------------------------------

    def _orders(self, values: dict[str, Any], count: int) -> tuple[Row, ...]:
        return tuple(
            Row(*(values[f"{field}_{i}"] for field in FIELDS)) for i in range(1, count + 1)
        )

    @staticmethod
    def _open(
        balance: float, hedge: bool, orders: tuple[Row, ...], flip: str | None = None
    ) -> Account:
        """The orders opened in turn; ``flip`` opens that pair in the other mode."""
        account = Account(wallet_balance=balance, hedge_mode=hedge)
        for index, row in enumerate(orders, start=1):
            mode = row.mode
            if row.symbol == flip:
                mode = "isolated" if mode == "cross" else "cross"
            try:
                account = account.set_margin_mode(row.symbol, mode).open(
                    row.symbol,
                    side=row.side,
                    price=row.entry,
                    leverage=row.leverage,
                    margin=row.margin,
                )
            except (ValueError, TypeError) as exc:
                raise type(exc)(f"order {index}: {exc}") from None
        return account

    def _build(self, values: dict[str, Any], count: int) -> _Built:
        """Open the orders (cached: a mark-price move reuses the accounts)."""
        orders = self._orders(values, count)
        key = (values["balance"], values["hedge"], orders)
        if key == self._built_key and self._built is not None:
            return self._built
        account = self._open(values["balance"], values["hedge"], orders)
        flipped = None
        if account.positions:
            try:
                flipped = self._open(
                    values["balance"], values["hedge"], orders, account.positions[0].symbol
                )
            except ValueError:
                flipped = None
        built = _Built(account, flipped)
        self._built_key, self._built = key, built
        return built

    def _compute(self, values: dict[str, Any]) -> _Result:
        built = self._build(values, self._rows)
        marks = {s: values[n] for s, n in self._mark_controls.items()}
        if built.account.positions:
            first = built.account.positions[0]
            accounts = {first.margin_mode.value: built.account}
            if built.flipped is not None:
                other = built.flipped.positions[0].margin_mode.value
                accounts[other] = built.flipped
            notes = {
                mode: "these orders cannot be opened in this mode"
                for mode in MODES
                if mode not in accounts
            }
            ladder = ladder_of(accounts, first.symbol, marks, notes=notes)
        else:  # the orders cancel out: nothing open
            row = self._orders(values, 1)[0]
            ladder = Ladder(
                {},
                mark_price=marks[row.symbol],
                notes={mode: "no position: the orders cancel out" for mode in MODES},
                entry_price=row.entry,
                side=row.side,
            )
        return _Result(self._rows, built.account, marks, ladder, built.flipped is not None)

    def _apply(self, result: _Result) -> str:
        ladder_summary = update_price_ladder(self.figures[0], result.ladder)
        self._send_chart(self.figures[0])  # drawn while the rows and the table are set
        for index, box in enumerate(self.row_boxes, start=1):
            box.layout.display = "" if index <= result.rows else "none"
        self.table_area.value = _table(result.state)
        self.liquidation_area.value = f"<p>{html.escape(_liquidation_text(result))}</p>"
        return self._summary(result, ladder_summary)

    def _summary(self, result: _Result, ladder_summary: str) -> str:
        state = result.state
        head = (
            f"Wallet {fmt.usdt(state.wallet_balance)} (cross wallet "
            f"{fmt.usdt(state.cross_wallet_balance)}), margin balance "
            f"{fmt.usdt(state.margin_balance)}, available {fmt.usdt(state.available_balance)}, "
            f"cross margin ratio {fmt.percent(state.cross_margin_ratio)}. "
            f"{_liquidation_text(result)}"
        )
        if not result.account.positions:
            return f"{head} No position is open: the orders cancel out."
        first = result.account.positions[0]
        where = f"First position ({first.symbol} {first.side}, {first.margin_mode})"
        if not result.flipped:
            where += f"; these orders cannot be opened with {first.symbol} in the other mode"
        return f"{head} {where}: {ladder_summary}"


def _liquidation_text(result: _Result) -> str:
    outcome = result.outcome
    if not outcome.happened:
        return "At these marks nothing is liquidated."
    closed = ", ".join(f"{p.symbol} {p.side} ({p.margin_mode})" for p in outcome.liquidated)
    return (
        f"At these marks liquidation closes {closed}: the wallet loses "
        f"{fmt.usdt(outcome.loss_usdt)} and keeps {fmt.usdt(outcome.kept_usdt)}."
    )


def _table(state: AccountState) -> str:
    """Every quantity of the state: the account line, then one row per position."""
    account_cells = (
        ("Wallet", fmt.usdt(state.wallet_balance)),
        ("Cross wallet", fmt.usdt(state.cross_wallet_balance)),
        ("Unrealized PnL", fmt.usdt(state.unrealized_pnl)),
        ("Margin balance", fmt.usdt(state.margin_balance)),
        ("Cross margin balance", fmt.usdt(state.cross_margin_balance)),
        ("Cross initial margin", fmt.usdt(state.cross_initial_margin)),
        ("Cross maintenance margin", fmt.usdt(state.cross_maintenance_margin)),
        ("Available balance", fmt.usdt(state.available_balance)),
        ("Cross margin ratio", fmt.percent(state.cross_margin_ratio)),
    )
    account_rows = "".join(
        f"<tr><th style='text-align:left'>{k}</th><td>{html.escape(v)}</td></tr>"
        for k, v in account_cells
    )
    heads = (
        "Pair",
        "Side",
        "Mode",
        "Quantity",
        "Entry",
        "Mark",
        "Notional",
        "Initial margin",
        "Maintenance margin",
        "Unrealized PnL",
        "ROE",
        "Margin ratio",
        "Liquidation price",
    )
    rows = []
    for s in state.positions:
        p = s.position
        cells = (
            p.symbol,
            p.side.value,
            p.margin_mode.value,
            fmt.number(p.quantity, 4),
            fmt.price(p.entry_price),
            fmt.price(s.mark_price),
            fmt.price(s.notional),
            fmt.price(s.initial_margin),
            fmt.price(s.maintenance_margin),
            fmt.price(s.unrealized_pnl),
            fmt.percent(s.roe),
            fmt.percent(s.margin_ratio),
            fmt.price(s.liquidation_price),
        )
        rows.append("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in cells) + "</tr>")
    head = "".join(f"<th>{h}</th>" for h in heads)
    return (
        f"<table class='marginlab-table'>{account_rows}</table>"
        f"<table class='marginlab-table'><thead><tr>{head}</tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table>"
        "<p style='margin:0.2em 0'>Money in USDT; margin ratio = maintenance margin / "
        "margin balance of its scope (liquidation at 100%).</p>"
    )
