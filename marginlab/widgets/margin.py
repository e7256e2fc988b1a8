"""Adding and removing margin (guide §7; comparison 4, flexibility).

The guide's account twice: its BTC long isolated, and the same long in cross. "Add
margin" moves USDT from the available balance into the isolated position
(:meth:`Account.add_margin`) and its liquidation price moves away from entry; "Remove
margin" takes some back (:meth:`Account.remove_margin`, within what the position can
spare at the mark) and the price moves toward entry. The cross position needs neither:
the whole cross wallet already stands behind it. A new order (an ETH long whose margin
the learner sets) takes its margin from the available balance in both accounts: in
isolated that leaves less to top the BTC position up with, in cross the two positions
share one pool. The third chart shows where the wallet is in each mode.

Moving the mark price down through successive top-ups shows the risk of §7: if the
direction is wrong, liquidation still comes and takes *all* the assigned margin, top-ups
included.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import ipywidgets

from marginlab.charts import (
    BalanceSplit,
    Chart,
    Ladder,
    LossBars,
    balance_figure,
    loss_at_liquidation_figure,
    price_ladder_figure,
    update_balance,
    update_loss_at_liquidation,
    update_price_ladder,
)
from marginlab.charts import format as fmt
from marginlab.engine import MODES, Account, AccountState, MarginError, MarginMode
from marginlab.scenarios import GUIDE, GuideExample, guide_account
from marginlab.widgets._plotly import make_figure_widget
from marginlab.widgets.base import LessonWidget, shown
from marginlab.widgets.controls import button, price_slider, usdt_slider
from marginlab.widgets.trade import held_marks, ladder_of

__all__ = ["NEW_ORDER", "AddingMarginWidget"]

TITLE = "Adding margin: liquidation price"
CROSS, ISOLATED = MODES
NEW_ORDER = {"symbol": "ETHUSDT", "side": "long", "price": 3_000.0, "leverage": 10}
"""The order the ``new_order`` slider places (its margin in USDT), in each account's mode."""


def _with_order(account: Account, new_order: float) -> Account:
    """``account`` plus the new order (in the account's mode) when its margin is above 0."""
    if not new_order:
        return account
    mode = account.positions[0].margin_mode
    account = account.set_margin_mode(NEW_ORDER["symbol"], mode)
    return account.open(**NEW_ORDER, margin=new_order)


@lru_cache(maxsize=64)
def _cross(example: GuideExample, new_order: float) -> Account:
    """The guide's cross account with the new order (cached: a price tick reuses it)."""
    return _with_order(guide_account("cross", example), new_order)


@dataclass(frozen=True)
class _Result:
    """One tick's numbers, all from the engine (USDT)."""

    accounts: dict[MarginMode, Account]  # as drawn: the isolated one after the transfers
    transfers: tuple[tuple[str, float, float], ...]  # ("add"/"remove", USDT, mark)
    ladder: Ladder
    states: dict[MarginMode, AccountState]
    lost: dict[MarginMode, float]
    kept: dict[MarginMode, float]
    liquidated: dict[MarginMode, bool]
    addable: float  # what the isolated account could still add (max_addable_margin)
    removable: float  # what its BTC position could give back at the mark (0 if liquidated)

    def moved(self, kind: str) -> tuple[float, ...]:
        """The accepted transfers of ``kind`` ("add"/"remove"), USDT, in order."""
        return tuple(amount for done, amount, _ in self.transfers if done == kind)

    @property
    def bars(self) -> LossBars:
        wallet = self.accounts[MarginMode.ISOLATED].wallet_balance
        return LossBars(wallet, self.lost, self.liquidated)


class AddingMarginWidget(LessonWidget):
    """The guide's isolated long beside the same long in cross: add, remove, a new order.

    Parameters
    ----------
    price : the starting BTC mark price (USDT).
    margin : the starting amount to add or remove (USDT).
    new_order : the starting margin of the new ETH order (USDT; 0: none).
    example : the scenario (default the guide's: 10,000 USDT, 2,000 on a 10x BTC long).

    Controls: ``price`` (mark), ``amount`` (USDT to move), ``new_order`` (USDT of margin
    for a 10x ETH long from 3,000), and the ``add``, ``remove`` and ``reset`` buttons.
    """

    def __init__(
        self,
        *,
        price: float = GUIDE.entry_price,
        margin: float = 1_000.0,
        new_order: float = 0.0,
        example: GuideExample = GUIDE,
    ) -> None:
        self.symbol = example.symbol
        self.example = example
        self._transfers: tuple[tuple[str, float, float], ...] = ()
        entry = example.entry_price
        available = guide_account("isolated", example).max_addable_margin()
        controls = {
            "price": price_slider(
                price,
                round(entry * 0.3),
                round(entry * 1.2),
                100,
                f"{example.symbol.removesuffix('USDT')} mark price (USDT)",
            ),
            "amount": usdt_slider(margin, 0, available, 100, "Amount to move (USDT)"),
            "new_order": usdt_slider(new_order, 0, available, 500, "New ETH order: margin (USDT)"),
            "add": button("Add margin", "Move the amount from the available balance into BTC"),
            "remove": button(
                "Remove margin", "Move the amount from BTC back to the available balance"
            ),
            "reset": button("Reset", "Back to the starting isolated margin"),
        }
        start = self._compute({n: c.value for n, c in controls.items() if c.has_trait("value")})
        controls["add"].on_click(lambda _button: self.add_margin())
        controls["remove"].on_click(lambda _button: self.remove_margin())
        controls["reset"].on_click(lambda _button: self.reset())
        buttons = ipywidgets.HBox([controls["add"], controls["remove"], controls["reset"]])
        box = ipywidgets.VBox(
            [controls["price"], controls["amount"], buttons, controls["new_order"]]
        )
        figures = [
            make_figure_widget(price_ladder_figure(start.ladder, title=TITLE).figure),
            make_figure_widget(loss_at_liquidation_figure(start.bars).figure),
            make_figure_widget(balance_figure(BalanceSplit(start.states)).figure),
        ]
        super().__init__(controls, figures, controls_box=box)

    # --- public ------------------------------------------------------------------------

    def add_margin(self, margin: float | None = None) -> None:
        """Press "Add margin": move ``margin`` USDT (default: the ``amount`` control) in.

        A refused amount (0, more than the available balance, a position already liquidated at
        the current mark) shows a message and changes nothing.
        """
        value = self.controls["amount"].value if margin is None else margin
        self._act(lambda: self._transfer("add", value))

    def remove_margin(self, margin: float | None = None) -> None:
        """Press "Remove margin": move ``margin`` USDT (default: ``amount``) back out.

        Refused (a message, nothing changed) beyond what the position can spare at the
        current mark (:meth:`Account.max_removable_margin`).
        """
        value = self.controls["amount"].value if margin is None else margin
        self._act(lambda: self._transfer("remove", value))

    def reset(self) -> None:
        """Back to the scenario's isolated margin (no top-ups, no removals)."""

        def action() -> None:
            self._transfers = ()

        self._act(action)

    # Money in USDT, per mode where keyed by "cross"/"isolated", at the current mark.
    account = shown(lambda r: r.accounts[ISOLATED], "The isolated account as drawn.")
    isolated_liquidation_price = shown(lambda r: r.ladder.levels[ISOLATED].liquidation_price, "LP")
    cross_liquidation_price = shown(lambda r: r.ladder.levels[CROSS].liquidation_price, "Cross LP")
    at_risk = shown(lambda r: r.accounts[ISOLATED].positions[0].isolated_margin, "BTC margin.")
    top_ups = shown(lambda r: r.moved("add"), "The accepted top-ups, in order.")
    removals = shown(lambda r: r.moved("remove"), "The accepted removals, in order.")
    addable = shown(lambda r: r.addable, "What the available balance could still add to BTC.")
    removable = shown(lambda r: r.removable, "What BTC could give back at the mark.")
    available = shown(
        lambda r: {m: s.available_balance for m, s in r.states.items()}, "Available balance."
    )
    lost = shown(lambda r: r.lost, "Lost at the mark (all assigned margin once liquidated).")
    kept = shown(lambda r: r.kept, "Of the wallet, kept at the mark.")
    liquidated = shown(lambda r: r.liquidated, "Whether BTC is liquidated at the mark.")

    def accounts(self) -> dict[str, Account]:
        """Mode -> the account as drawn."""
        return {m.value: a for m, a in self.drawn.accounts.items()}

    def static(self) -> Chart:
        """A plain figure of the price ladder for the current state, and the summary."""
        result = self.drawn
        ladder = price_ladder_figure(result.ladder, title=TITLE)
        loss = loss_at_liquidation_figure(result.bars)
        split = balance_figure(BalanceSplit(result.states))
        return Chart(
            ladder.figure, self._summary(result, ladder.summary, loss.summary, split.summary)
        )

    # --- the tick ----------------------------------------------------------------------

    def _isolated(self, new_order: float, transfers: tuple) -> Account:
        """The isolated account after every transfer, in order, then the new order (so a
        new order that does not fit what the transfers left available is what is refused)."""
        account = guide_account("isolated", self.example)
        for kind, amount, mark in transfers:
            if kind == "add":
                account = account.add_margin(self.symbol, amount)
            else:
                account = account.remove_margin(self.symbol, amount, marks={self.symbol: mark})
        return _with_order(account, float(new_order))

    def _transfer(self, kind: str, amount: float) -> None:
        values = self.control_values()
        price = values["price"]
        account = self._isolated(values["new_order"], self._transfers)
        if account.liquidate({self.symbol: price}).happened:
            raise MarginError(
                f"price: at a mark of {fmt.price(price)} the isolated position is already "
                f"liquidated (at {fmt.price(account.liquidation_price(self.symbol))}); its "
                "margin is gone and there is nothing to move. Raise the price or press Reset"
            )
        transfers = (*self._transfers, (kind, float(amount), float(price)))
        self._isolated(values["new_order"], transfers)  # the engine accepts it, or raises
        self._transfers = transfers

    def _compute(self, values: dict[str, Any]) -> _Result:
        marks = {self.symbol: values["price"]}
        accounts = {
            MarginMode.CROSS: _cross(self.example, float(values["new_order"])),
            MarginMode.ISOLATED: self._isolated(values["new_order"], self._transfers),
        }
        states, lost, kept, liquidated = {}, {}, {}, {}
        for mode, account in accounts.items():
            outcome = account.liquidate(marks)
            after = outcome.account  # the account as it stands at this mark
            states[mode] = after.state(held_marks(after, marks))
            liquidated[mode] = any(p.symbol == self.symbol for p in outcome.liquidated)
            lost[mode] = account.wallet_loss(marks)
            kept[mode] = outcome.kept_usdt if outcome.happened else states[mode].margin_balance
        isolated = accounts[MarginMode.ISOLATED]
        removable = (
            0.0
            if liquidated[MarginMode.ISOLATED]
            else isolated.max_removable_margin(self.symbol, marks)
        )
        return _Result(
            accounts=accounts,
            transfers=self._transfers,
            ladder=ladder_of(accounts, self.symbol, marks),
            states=states,
            lost=lost,
            kept=kept,
            liquidated=liquidated,
            addable=isolated.max_addable_margin(marks),
            removable=removable,
        )

    def _apply(self, result: _Result) -> str:
        ladder, bars, split = self.figures
        # Each chart leaves once updated: the page draws it while the kernel goes on.
        split_summary = update_balance(split, BalanceSplit(result.states))
        self._send_chart(split)
        loss_summary = update_loss_at_liquidation(bars, result.bars)
        self._send_chart(bars)
        ladder_summary = update_price_ladder(ladder, result.ladder)
        self._send_chart(ladder)
        return self._summary(result, ladder_summary, loss_summary, split_summary)

    def _summary(self, result: _Result, ladder: str, loss: str, split: str) -> str:
        isolated = result.accounts[MarginMode.ISOLATED]
        at_risk = isolated.position(self.symbol).isolated_margin
        adds = len(result.moved("add"))
        removes = len(result.transfers) - adds
        moved = (
            f"after {adds} top-up{'s' if adds != 1 else ''} and {removes} "
            f"removal{'s' if removes != 1 else ''}"
            if result.transfers
            else "nothing moved yet"
        )
        if result.liquidated[MarginMode.ISOLATED]:
            room = "it is liquidated at this mark, so there is nothing to move"
        else:
            room = (
                f"it can take {fmt.usdt(result.addable)} more from the available balance and "
                f"give back {fmt.usdt(result.removable)} at this mark"
            )
        text = (
            f"Isolated margin {fmt.usdt(at_risk)} ({moved}); {room}. Cross needs neither: the "
            f"whole cross wallet already backs it. {ladder} {loss} {split}"
        )
        if result.liquidated[MarginMode.ISOLATED] and adds:
            initial = guide_account("isolated", self.example).position(self.symbol).isolated_margin
            text += (
                f" Without the top-ups this liquidation would have cost {fmt.usdt(initial)}: "
                "adding margin to a losing trade only delayed a larger loss."
            )
        return text
