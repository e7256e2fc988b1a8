"""Adding margin to an isolated position (guide §7; comparison 4, flexibility).

The guide's account twice: once with its BTC long isolated, once in cross. Pressing "Add
margin" moves USDT from the cross pool into the isolated position
(:meth:`Account.add_margin`) and its liquidation price moves away from entry; the cross
position needs no button, the whole balance already stands behind it. Moving the mark
price down through successive top-ups shows the risk of §7: if the direction is wrong,
liquidation still comes and takes *all* the assigned margin, top-ups included.

Also here: :func:`ladder_inputs`, the price-ladder inputs of one position in both modes
(used by the other widgets of this family), and the shared control builders.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
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
from marginlab.engine import Account, MarginError
from marginlab.scenarios import GUIDE, GuideExample, guide_account
from marginlab.widgets._plotly import make_figure_widget
from marginlab.widgets.base import LessonWidget

__all__ = ["AddingMarginWidget", "held_marks", "ladder_inputs"]

MODES = ("cross", "isolated")
TITLE = "Adding margin: liquidation price"
STYLE = {"description_width": "initial"}
CONTROL_WIDTH = "420px"  # each control gets its own Layout (shared Layouts hide together)


# --- shared by the widgets of this family -----------------------------------------------


def held_marks(account: Account, marks: Mapping[str, float] | None) -> dict[str, float]:
    """The marks of the symbols ``account`` holds a position on (the engine refuses a mark
    for a symbol without one: it would be ignored)."""
    return {s: m for s, m in (marks or {}).items() if account.positions_of(s)}


def ladder_inputs(
    accounts: Mapping[str, Account], symbol: str, marks: Mapping[str, float] | None = None
) -> dict[str, Any]:
    """The keyword inputs of ``price_ladder_figure`` for one symbol's position in each mode.

    ``accounts`` maps "cross" and "isolated" to an account holding that position in that
    mode; ``marks`` are the mark prices to draw at (default: entry prices). Every level
    comes from :meth:`Account.levels` (liquidation and bankruptcy prices, entry, mark,
    side). A mode missing from ``accounts`` (the position cannot be opened that way) gets
    NaN prices. Entry, side and mark are the position's (the isolated one's if both are
    given). All prices in USDT; one-way positions (a hedge-mode symbol's first leg).

    >>> from marginlab.scenarios import guide_account
    >>> accounts = {mode: guide_account(mode) for mode in ("cross", "isolated")}
    >>> inputs = ladder_inputs(accounts, "BTCUSDT")
    >>> round(inputs["isolated_liquidation_price"], 2), inputs["isolated_bankruptcy_price"]
    (54216.87, 54000.0)
    """
    name = symbol.strip().upper()
    if not any(mode in accounts for mode in MODES):
        raise MarginError(
            f"accounts must hold 'cross' or 'isolated' (or both), got {list(accounts)}"
        )
    inputs: dict[str, Any] = {}
    for mode in MODES:
        account = accounts.get(mode)
        if account is None:
            inputs[f"{mode}_liquidation_price"] = inputs[f"{mode}_bankruptcy_price"] = math.nan
            inputs.setdefault("unavailable_modes", []).append(mode)
            continue
        held = account.positions_of(name)
        if not held:
            raise MarginError(f"accounts[{mode!r}]: there is no open {name} position")
        levels = account.levels(name, held_marks(account, marks), side=held[0].side)
        if levels.margin_mode.value != mode:
            raise MarginError(
                f"accounts[{mode!r}]: its {name} position is "
                f"{levels.margin_mode.value}, expected {mode}"
            )
        inputs[f"{mode}_liquidation_price"] = levels.liquidation_price
        inputs[f"{mode}_bankruptcy_price"] = levels.bankruptcy_price
        inputs["entry_price"] = levels.entry_price
        inputs["side"] = levels.side.value
        inputs["mark_price"] = levels.mark_price
    return inputs


def leverage_slider(value: float, description: str = "Leverage (x)") -> ipywidgets.IntSlider:
    """The shared leverage control: 1x to 125x in steps of 1."""
    return ipywidgets.IntSlider(
        value=round(value),
        min=1,
        max=125,
        step=1,
        description=description,
        readout_format="d",
        continuous_update=True,
        style=STYLE,
        layout=ipywidgets.Layout(width=CONTROL_WIDTH),
    )


def price_slider(
    value: float, low: float, high: float, step: float, description: str
) -> ipywidgets.FloatSlider:
    """A mark-price slider in USDT."""
    return ipywidgets.FloatSlider(
        value=value,
        min=low,
        max=high,
        step=step,
        description=description,
        readout_format=",.0f",
        continuous_update=True,
        style=STYLE,
        layout=ipywidgets.Layout(width=CONTROL_WIDTH),
    )


def usdt_slider(
    value: float, low: float, high: float, step: float, description: str
) -> ipywidgets.FloatSlider:
    """An amount of USDT (margin, balance, top-up)."""
    return ipywidgets.FloatSlider(
        value=value,
        min=low,
        max=high,
        step=step,
        description=description,
        readout_format=",.0f",
        continuous_update=True,
        style=STYLE,
        layout=ipywidgets.Layout(width=CONTROL_WIDTH),
    )


def toggle(options: tuple[str, ...], value: str, description: str) -> ipywidgets.ToggleButtons:
    """ToggleButtons such as side (long/short) or mode (cross/isolated)."""
    return ipywidgets.ToggleButtons(
        options=list(options),
        value=value,
        description=description,
        style={**STYLE, "button_width": "90px"},
    )


def button(description: str, tooltip: str) -> ipywidgets.Button:
    """A push button with a tooltip that says what it does."""
    return ipywidgets.Button(description=description, tooltip=tooltip)


# --- the widget ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Result:
    """One tick's numbers, all from the engine (USDT)."""

    account: Account  # the isolated account drawn
    ladder: dict[str, Any]  # price_ladder_figure inputs
    wallet_usdt: float
    lost: dict[str, float]
    kept: dict[str, float]
    liquidated: dict[str, bool]
    top_ups: tuple[float, ...]


class AddingMarginWidget(LessonWidget):
    """The guide's isolated long beside the same long in cross, with an "Add margin" button.

    Parameters
    ----------
    price : the starting BTC mark price (USDT).
    margin : the starting top-up, USDT of margin to add.
    example : the scenario (default the guide's: 10,000 USDT, 2,000 on a 10x BTC long).

    Controls: ``price`` (mark), ``amount`` (USDT to add), ``add`` and ``reset`` buttons.
    """

    def __init__(
        self,
        *,
        price: float = GUIDE.entry_price,
        margin: float = 1_000.0,
        example: GuideExample = GUIDE,
    ) -> None:
        self.symbol = example.symbol
        self._initial = guide_account("isolated", example)
        self._cross = guide_account("cross", example)
        self._isolated = self._initial
        self._top_ups: tuple[float, ...] = ()
        self._shown: _Result | None = None

        entry = example.entry_price
        start = self._compute({"price": price})
        ladder = price_ladder_figure(**start.ladder, title=TITLE)
        loss = loss_at_liquidation_figure(**self._loss_inputs(start))
        controls = {
            "price": price_slider(
                price,
                round(entry * 0.3),
                round(entry * 1.2),
                100,
                f"{example.symbol.removesuffix('USDT')} mark price (USDT)",
            ),
            "amount": usdt_slider(
                margin, 0, self._initial.max_addable_margin(), 100, "Amount to add (USDT)"
            ),
            "add": button("Add margin", "Move the amount from the balance into the position"),
            "reset": button("Reset", "Back to the starting isolated margin"),
        }
        controls["add"].on_click(lambda _button: self.add_margin())
        controls["reset"].on_click(lambda _button: self.reset())
        buttons = ipywidgets.HBox([controls["add"], controls["reset"]])
        box = ipywidgets.VBox([controls["price"], controls["amount"], buttons])
        figures = [make_figure_widget(ladder.figure), make_figure_widget(loss.figure)]
        super().__init__(controls, figures, controls_box=box)

    # --- public ------------------------------------------------------------------------

    def add_margin(self, margin: float | None = None) -> None:
        """Press "Add margin": move ``margin`` USDT (default: the ``amount`` control) in.

        A refused amount (0, more than the available balance, a position already
        liquidated at the current mark) shows a message and changes nothing.
        """
        value = self.controls["amount"].value if margin is None else margin
        self._act(lambda: self._add(value))

    def reset(self) -> None:
        """Back to the scenario's isolated margin (no top-ups)."""

        def action() -> None:
            self._isolated, self._top_ups = self._initial, ()

        self._act(action)

    @property
    def account(self) -> Account:
        """The isolated account as drawn (after the accepted top-ups)."""
        return self._result.account

    @property
    def isolated_liquidation_price(self) -> float:
        """USDT; moves away from entry with every top-up."""
        return self._result.ladder["isolated_liquidation_price"]

    @property
    def cross_liquidation_price(self) -> float:
        """USDT; the whole balance backs the cross position, no top-up needed."""
        return self._result.ladder["cross_liquidation_price"]

    @property
    def at_risk(self) -> float:
        """USDT assigned to the isolated position: what its liquidation takes."""
        return self._result.account.position(self.symbol).isolated_margin

    @property
    def top_ups(self) -> tuple[float, ...]:
        """The accepted top-ups in USDT, in order."""
        return self._result.top_ups

    @property
    def lost(self) -> dict[str, float]:
        """Mode -> USDT lost at the current mark (all assigned margin once liquidated)."""
        return dict(self._result.lost)

    @property
    def kept(self) -> dict[str, float]:
        """Mode -> USDT of the wallet kept at the current mark."""
        return dict(self._result.kept)

    @property
    def liquidated(self) -> dict[str, bool]:
        """Mode -> whether the position is liquidated at the current mark."""
        return dict(self._result.liquidated)

    def static(self) -> Chart:
        """A plain figure of the price ladder for the current state, and the summary."""
        result = self._result
        ladder = price_ladder_figure(**result.ladder, title=TITLE)
        loss = loss_at_liquidation_figure(**self._loss_inputs(result))
        return Chart(ladder.figure, self._summary(result, ladder.summary, loss.summary))

    # --- the tick ----------------------------------------------------------------------

    @property
    def _result(self) -> _Result:
        if self._shown is None:  # only if the very first tick was refused
            raise RuntimeError("AddingMarginWidget has not drawn a state yet")
        return self._shown

    def _add(self, amount: float) -> None:
        price = self.controls["price"].value
        if self._isolated.liquidate({self.symbol: price}).happened:
            liquidation = self._isolated.liquidation_price(self.symbol)
            raise MarginError(
                f"price: at a mark of {fmt.price(price)} the isolated position is already "
                f"liquidated (at {fmt.price(liquidation)}); its margin is gone and there is "
                "nothing to add to. Raise the price or press Reset"
            )
        self._isolated = self._isolated.add_margin(self.symbol, amount)
        self._top_ups = (*self._top_ups, float(amount))

    def _compute(self, values: dict[str, Any]) -> _Result:
        marks = {self.symbol: values["price"]}
        accounts = {"cross": self._cross, "isolated": self._isolated}
        states = {mode: account.state(marks) for mode, account in accounts.items()}
        lost, kept, liquidated = {}, {}, {}
        for mode, account in accounts.items():
            outcome = account.liquidate(marks)
            liquidated[mode] = outcome.happened
            if outcome.happened:
                lost[mode], kept[mode] = outcome.loss_usdt, outcome.kept_usdt
            else:  # still open: the running loss (negative while in profit)
                lost[mode] = -states[mode].unrealized_pnl
                kept[mode] = states[mode].wallet_balance - lost[mode]
        return _Result(
            account=self._isolated,
            ladder=ladder_inputs(accounts, self.symbol, marks),
            wallet_usdt=self._isolated.wallet_balance,
            lost=lost,
            kept=kept,
            liquidated=liquidated,
            top_ups=self._top_ups,
        )

    @staticmethod
    def _loss_inputs(result: _Result) -> dict[str, Any]:
        return {
            "wallet_balance_usdt": result.wallet_usdt,
            "cross_loss_usdt": result.lost["cross"],
            "isolated_loss_usdt": result.lost["isolated"],
            "cross_liquidated": result.liquidated["cross"],
            "isolated_liquidated": result.liquidated["isolated"],
        }

    def _apply(self, result: _Result) -> str:
        self._shown = result
        ladder_summary = update_price_ladder(self.figures[0], **result.ladder)
        loss_summary = update_loss_at_liquidation(self.figures[1], **self._loss_inputs(result))
        return self._summary(result, ladder_summary, loss_summary)

    def _summary(self, result: _Result, ladder_summary: str, loss_summary: str) -> str:
        at_risk = result.account.position(self.symbol).isolated_margin
        count = len(result.top_ups)
        topped = f"after {count} top-up{'s' if count != 1 else ''}" if count else "no top-up yet"
        text = f"Isolated margin {fmt.usdt(at_risk)} ({topped}). {ladder_summary} {loss_summary}"
        if result.liquidated["isolated"] and count:
            initial = self._initial.position(self.symbol).isolated_margin
            text += (
                f" Without the top-ups this liquidation would have cost {fmt.usdt(initial)}: "
                "adding margin to a losing trade only delayed a larger loss."
            )
        return text
