"""LessonWidget: one tick per control change, batched trace swaps, refusals that keep state.

The test widget is the guide's isolated BTC long (docs/formulas.md §12.2): leverage and margin
controls, the real engine, and a one-trace figure holding the liquidation price.
Comm messages are captured in-process by replacing ``comm.create_comm``.
"""

from __future__ import annotations

from typing import Any, ClassVar

import comm
import ipywidgets
import numpy as np
import plotly.graph_objects as go
import pytest
from comm.base_comm import BaseComm

from marginlab.engine import Account
from marginlab.widgets import LessonWidget, make_figure_widget
from marginlab.widgets._plotly import FIGURE_UPDATE

TOL_USDT = 0.005
# Isolated long, 60,000 entry, 2,000 USDT margin, MMR 0.004 (bracket 1):
# LP = (WB - Q*EP) / (Q*(MMR - 1)), Q = margin * leverage / 60,000.
LP_10X = 54_216.87  # Q = 1/3: (2,000 - 20,000) / (1/3 * -0.996) = 54,216.87
LP_20X = 57_228.92  # Q = 2/3: (2,000 - 40,000) / (2/3 * -0.996) = 57,228.92


class RecordingComm(BaseComm):
    sent: ClassVar[list[dict]] = []

    def publish_msg(self, msg_type, data=None, metadata=None, buffers=None, **keys):
        RecordingComm.sent.append(data or {})


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> list[dict]:
    RecordingComm.sent = []
    monkeypatch.setattr(comm, "create_comm", RecordingComm)
    return RecordingComm.sent


class IsolatedLong(LessonWidget):
    """The guide's isolated long; counts engine calls."""

    def __init__(self, fail_chart_above_usdt: float = float("inf")) -> None:
        self.computed = 0
        self.fail_chart_above_usdt = fail_chart_above_usdt
        controls = {
            "leverage": ipywidgets.FloatSlider(value=10, min=1, max=200, step=1),
            "margin_usdt": ipywidgets.FloatText(value=2_000, continuous_update=False),
        }
        figure = make_figure_widget(go.Figure(go.Scatter(x=[0.0, 1.0], y=[0.0, 0.0])))
        super().__init__(controls, [figure])

    def _compute(self, values: dict[str, Any]) -> float:
        self.computed += 1
        account = Account(wallet_balance=10_000).set_margin_mode("BTCUSDT", "isolated")
        account = account.open(
            "BTCUSDT",
            side="long",
            price=60_000,
            leverage=values["leverage"],
            margin=values["margin_usdt"],
        )
        return account.liquidation_price("BTCUSDT")

    def _apply(self, result: float) -> str:
        self.figures[0].data[0].y = np.array([result, result])
        if result > self.fail_chart_above_usdt:
            raise RuntimeError("chart bug")
        return f"Isolated long liquidates at {result:,.2f} USDT."


def drawn_price(widget: LessonWidget) -> float:
    y = widget.figures[0].data[0].y
    assert y[0] == y[1]
    return float(y[0])


def test_lesson_widget_initial_tick_draws_the_engine_price():
    widget = IsolatedLong()

    assert abs(drawn_price(widget) - LP_10X) < TOL_USDT
    assert widget.summary == "Isolated long liquidates at 54,216.87 USDT."
    assert "54,216.87 USDT" in widget.summary_area.value
    assert widget.message == ""


def test_lesson_widget_slider_move_updates_trace_and_summary():
    widget = IsolatedLong()

    widget.controls["leverage"].value = 20

    assert abs(drawn_price(widget) - LP_20X) < TOL_USDT
    assert widget.summary == "Isolated long liquidates at 57,228.92 USDT."


def test_lesson_widget_tick_sends_one_batched_update_and_no_restyle(sent):
    widget = IsolatedLong()
    sent.clear()

    widget.controls["leverage"].value = 20

    customs = [d["content"] for d in sent if d.get("method") == "custom"]
    figure_messages = [c for c in customs if c.get("type", "").startswith("marginlab:figure")]
    assert len(figure_messages) == 1
    assert figure_messages[0]["type"] == FIGURE_UPDATE
    assert [index for index, _ in figure_messages[0]["traces"]] == [0]
    assert figure_messages[0]["layout"] == {}


def test_lesson_widget_refused_leverage_shows_message_and_keeps_last_good():
    widget = IsolatedLong()
    widget.controls["leverage"].value = 20

    # 150x on 2,000 USDT is a 300,000 USDT notional: bracket 2, at most 100x.
    widget.controls["leverage"].value = 150

    assert widget.message.startswith("leverage must be at most 100x")
    assert widget.message.endswith("(kept the last good values)")
    assert "leverage must be at most 100x" in widget.message_area.value
    assert isinstance(widget.last_error, ValueError)
    assert widget.controls["leverage"].value == 20
    assert abs(drawn_price(widget) - LP_20X) < TOL_USDT
    assert widget.summary == "Isolated long liquidates at 57,228.92 USDT."


@pytest.mark.parametrize(
    ("margin_usdt", "reason"),
    [
        (-5.0, "margin must be greater than 0 USDT, got -5"),
        (float("nan"), "margin must be a finite number, got nan"),
        (20_000.0, "exceeds the available balance 10,000.00 USDT"),
    ],
    ids=["negative", "nan", "more-than-balance"],
)
def test_lesson_widget_refused_margin_restores_margin_box(margin_usdt, reason):
    widget = IsolatedLong()

    widget.controls["margin_usdt"].value = margin_usdt

    assert reason in widget.message
    assert widget.controls["margin_usdt"].value == 2_000
    assert abs(drawn_price(widget) - LP_10X) < TOL_USDT


def test_lesson_widget_good_value_after_refusal_clears_message():
    widget = IsolatedLong()
    widget.controls["leverage"].value = 150

    widget.controls["leverage"].value = 20

    assert widget.message == ""
    assert widget.message_area.value == ""
    assert widget.last_error is None
    assert abs(drawn_price(widget) - LP_20X) < TOL_USDT


def test_lesson_widget_refusal_restore_costs_no_extra_engine_call():
    widget = IsolatedLong()
    assert widget.computed == 1

    widget.controls["leverage"].value = 150  # one refused call; the restore is skipped

    assert widget.computed == 2


def test_lesson_widget_update_with_values_already_drawn_is_skipped():
    widget = IsolatedLong()

    widget._update()
    widget._update()

    assert widget.computed == 1
    widget._update(force=True)
    assert widget.computed == 2


def test_lesson_widget_chart_error_shows_message_and_redraws_last_good():
    widget = IsolatedLong(fail_chart_above_usdt=55_000)

    widget.controls["leverage"].value = 20  # 57,228.92 > 55,000: _apply raises mid-tick

    assert widget.message.startswith("The chart could not be updated: chart bug")
    assert isinstance(widget.last_error, RuntimeError)
    assert widget.controls["leverage"].value == 10
    assert abs(drawn_price(widget) - LP_10X) < TOL_USDT
    assert widget.summary == "Isolated long liquidates at 54,216.87 USDT."


def test_lesson_widget_refused_action_shows_message_and_returns_false():
    widget = IsolatedLong()
    account = Account(wallet_balance=10_000)

    ran = widget._act(lambda: account.deposit(-1))

    assert ran is False
    assert "amount" in widget.message
    assert widget.computed == 1


def test_lesson_widget_accepted_action_ticks_again():
    widget = IsolatedLong()

    ran = widget._act(lambda: None)

    assert ran is True
    assert widget.computed == 2


def test_lesson_widget_layout_puts_message_beside_controls_and_summary_last():
    widget = IsolatedLong()

    top, figures_box, summary_area = widget.children

    assert top.children[1] is widget.message_area
    assert list(top.children[0].children) == list(widget.controls.values())
    assert figures_box.children == widget.figures
    assert summary_area is widget.summary_area


def test_lesson_widget_plain_figure_widget_raises_typeerror():
    with pytest.raises(TypeError, match=r"figures\[0\] must be made with make_figure_widget"):
        LessonWidget({}, [go.FigureWidget()])


def test_lesson_widget_base_without_compute_shows_message_not_traceback():
    widget = LessonWidget({"x": ipywidgets.IntSlider(1)})

    assert (
        widget.message
        == "Unexpected NotImplementedError: LessonWidget must implement _compute(values)"
    )
