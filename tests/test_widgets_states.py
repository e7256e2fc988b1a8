"""Every state a control can reach is explained on the chart (issue 11).

Each control of the same-trade widgets is swept over its whole range, alone and with the
other side and the wallet at its ends, and after every move the charts must say what they
show: a liquidation level or a note why there is none (what covers a fall to zero, or why
the exchange refuses the order), a marker with its label, a summary without a bare "--"
or "nan". A valid slider value is never refused: the message area stays empty.
"""

from __future__ import annotations

import itertools
import math
import re

import numpy as np
import pytest

from marginlab.charts import find_trace
from marginlab.widgets.costs import TradingCostsWidget
from marginlab.widgets.loss import LossAtLiquidationWidget
from marginlab.widgets.margin import AddingMarginWidget
from marginlab.widgets.threshold import LiquidationThresholdWidget

POINTS = 9  # values per slider sweep: its ends and evenly between


def sweep(control) -> list:
    """The slider's range at POINTS values, snapped to its step (ends included)."""
    values = np.linspace(control.min, control.max, POINTS)
    step = control.step
    snapped = [control.min + round((v - control.min) / step) * step for v in values]
    return sorted({min(max(v, control.min), control.max) for v in snapped})


def assert_said(summary: str) -> None:
    assert summary and "--" not in summary and not re.search(r"\bnan\b", summary.lower()), summary


def assert_ladder_explains(figure) -> None:
    notes = list(find_trace(figure, "notes").text)
    for i, mode in enumerate(("cross", "isolated")):
        level = find_trace(figure, f"liquidation-{mode}").y[0]
        drawn = level is not None and math.isfinite(level)
        assert drawn or notes[i], f"{mode}: no level and no note"
        assert not (drawn and notes[i]), f"{mode}: a level and a note"


def assert_distance_explains(figure) -> None:
    for mode in ("cross", "isolated"):
        now = find_trace(figure, f"now-{mode}")
        assert now.y[0] is not None and math.isfinite(now.y[0]), mode
        assert now.text[0], mode


def combos(widget, names):
    """Side and wallet at their ends, then each other control over its range."""
    balance = widget.controls["balance"]
    for side, wallet in itertools.product(("long", "short"), (balance.min, balance.max)):
        for name in names:
            for value in sweep(widget.controls[name]):
                yield {"side": side, "balance": wallet, name: value}


def set_values(widget, values: dict) -> None:
    for name, value in values.items():
        widget.controls[name].value = value


@pytest.mark.slow
def test_threshold_every_reachable_state_is_explained():
    widget = LiquidationThresholdWidget()
    seen = set()
    for values in combos(widget, ("notional", "leverage")):
        set_values(widget, values)
        assert widget.message == "", (values, widget.message)
        assert_said(widget.summary)
        assert_ladder_explains(widget.figures[0])
        assert_distance_explains(widget.figures[1])
        seen.add(
            "refused"
            if widget.refusal
            else ("no price" if math.isnan(widget.cross_liquidation_price) else "priced")
        )
    assert seen == {"refused", "no price", "priced"}  # the sweep reached every kind of state


@pytest.mark.slow
def test_loss_every_reachable_state_is_explained():
    widget = LossAtLiquidationWidget()
    states = set()
    for values in combos(widget, ("notional", "leverage", "price")):
        set_values(widget, values)
        assert widget.message == "", (values, widget.message)
        assert_said(widget.summary)
        bars, curve = widget.figures
        for mode in ("cross", "isolated"):
            # A label too long for its segment is left to the hover (a huge gain leaves
            # "kept" too thin to write in); the bar still says something on it.
            parts = [find_trace(bars, f"{part}-{mode}") for part in ("lost", "kept", "gain")]
            assert any(trace.text[0] for trace in parts), mode
            assert parts[1].hovertext[0].startswith(("kept ", "no position: ")), mode
        if widget.refusal:
            assert find_trace(curve, "notes").text[0].startswith("no position:")
            states.add("refused")
        else:
            for mode in ("cross", "isolated"):
                assert math.isfinite(find_trace(curve, f"now-{mode}").y[0])
            states.add("liquidated" if any(widget.liquidated.values()) else "open")
    assert states == {"refused", "liquidated", "open"}


@pytest.mark.slow
def test_costs_every_reachable_state_is_explained():
    widget = TradingCostsWidget()
    for values in combos(widget, ("notional", "leverage", "funding_rate", "days")):
        set_values(widget, values)
        assert widget.message == "", (values, widget.message)
        assert_said(widget.summary)
        fees, funding = widget.figures
        assert find_trace(fees, "now").text[0]
        if widget.fees is None:  # refused: both charts say why
            assert "order refused" in find_trace(funding, "entry").text[0]
            continue
        for mode in ("cross", "isolated"):
            now = find_trace(funding, f"now-{mode}")
            gone = find_trace(funding, f"gone-{mode}")
            assert now.text[0] or gone.text[0] or "no liquidation price" in widget.summary


@pytest.mark.slow
def test_adding_margin_every_price_and_new_order_is_explained():
    widget = AddingMarginWidget()
    for price in sweep(widget.controls["price"]):
        for order in sweep(widget.controls["new_order"]):
            widget.controls["price"].value = price
            widget.controls["new_order"].value = order
            assert widget.message == "", (price, order, widget.message)
            assert_said(widget.summary)
            assert_ladder_explains(widget.figures[0])
            liquidated = widget.liquidated["isolated"]
            assert ("nothing to move" in widget.summary) is liquidated
