"""SharedFigureWidget: plotly.js crosses the wire once per page request, not per chart, and
each change travels once, as only what changed, numeric arrays as binary buffers.

Every comm message the kernel would send is captured in-process by replacing
``comm.create_comm`` (the hook ipykernel itself fills in) with a recording comm; the
browser's side of the protocol is played by calling the widget's comm message handler
with the message the front end (static/figure.js) sends. What the front end draws from
these messages is checked in a real browser by tests/browser/test_figure_redraw.py.
"""

from __future__ import annotations

import gzip
import inspect
import json
import re
from typing import ClassVar

import comm
import numpy as np
import plotly
import plotly.graph_objects as go
import pytest
from comm.base_comm import BaseComm
from plotly.basedatatypes import BaseFigure

from marginlab.charts import Ladder, find_trace, price_ladder_figure, update_price_ladder
from marginlab.engine import MODES
from marginlab.plotly_bundle import CHARTS_BUNDLE, bundle_version
from marginlab.scenarios import guide_account
from marginlab.widgets import SharedFigureWidget, _plotly, make_figure_widget
from marginlab.widgets._plotly import (
    BUNDLE_REPLY,
    BUNDLE_REQUEST,
    FIGURE,
    FIGURE_UPDATE,
    FRONT_END_ID,
    FRONT_END_JS,
    LOADER_JS,
    figure_front_end,
    plotly_bundle,
    wire,
)

PLOTLY_JS = CHARTS_BUNDLE.read_bytes()


class RecordingComm(BaseComm):
    """A comm that keeps every message it would publish: (msg_type, data, buffers)."""

    sent: ClassVar[list[tuple[str, dict, list[bytes]]]] = []

    def publish_msg(self, msg_type, data=None, metadata=None, buffers=None, **keys):
        RecordingComm.sent.append((msg_type, data or {}, [bytes(b) for b in buffers or []]))


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, dict, list[bytes]]]:
    RecordingComm.sent = []
    monkeypatch.setattr(comm, "create_comm", RecordingComm)
    return RecordingComm.sent


def three_trace_figure(points: int = 500) -> go.Figure:
    x = np.linspace(0.0, 1.0, points)
    return go.Figure([go.Scatter(x=x, y=x * k) for k in (1.0, 2.0, 3.0)])


def page_requests_bundle(
    widget: SharedFigureWidget, bundle_id: str | None = None, encoding: str = "gzip"
) -> None:
    """What the front end sends from the browser: a custom message on the figure's comm."""
    content = {"type": BUNDLE_REQUEST, "id": bundle_id or widget._plotly_bundle_id}
    content["encoding"] = encoding
    data = {"method": "custom", "content": content}
    widget.comm.handle_msg({"content": {"data": data}, "buffers": []})


def customs(messages, kind: str) -> list[tuple[dict, list[bytes]]]:
    """(content, buffers) of every custom message of type ``kind``."""
    return [
        (data["content"], buffers)
        for _, data, buffers in messages
        if data.get("method") == "custom" and data["content"].get("type") == kind
    ]


def bundle_copies(messages) -> int:
    """Buffers holding plotly.js, plain or gzipped."""
    plain = sum(buffer == PLOTLY_JS for _, _, buffers in messages for buffer in buffers)
    return plain + len([c for c, _ in customs(messages, BUNDLE_REPLY) if c["encoding"] == "gzip"])


def sent_bytes(messages) -> int:
    return sum(len(json.dumps(d, default=str)) + sum(map(len, b)) for _, d, b in messages)


def decoded(value, buffers):
    """A wire value back as Python: binary arrays as numpy arrays."""
    if isinstance(value, dict) and {"dtype", "shape", "buffer"} <= set(value):
        data = (
            value["buffer"] if isinstance(value["buffer"], memoryview) else buffers[value["buffer"]]
        )
        return np.frombuffer(bytes(data), dtype=value["dtype"]).reshape(value["shape"])
    if isinstance(value, dict):
        return {k: decoded(v, buffers) for k, v in value.items()}
    if isinstance(value, list):
        return [decoded(v, buffers) for v in value]
    return value


# ------------------------------------------------------------------------- plotly.js once
def test_shared_figure_widget_creating_four_sends_no_plotly_js(sent):
    figures = [make_figure_widget(three_trace_figure()) for _ in range(4)]

    assert len(figures) == 4
    assert bundle_copies(sent) == 0
    # 4 x (front end ~25 KB + plotly's default template ~10 KB + 3 traces x 2 x 4,000 B);
    # plotly's own FigureWidget sends its ~5 MB bundle with each of the four.
    assert sent_bytes(sent) < 400_000 < len(PLOTLY_JS)


def test_shared_figure_widgets_of_a_kernel_send_the_front_end_once(sent, monkeypatch):
    monkeypatch.setattr(_plotly, "_front_end", None)  # a fresh kernel
    figures = [make_figure_widget(three_trace_figure()) for _ in range(4)]

    opens = [data["state"] for msg_type, data, _ in sent if msg_type == "comm_open"]
    front_ends = [state for state in opens if state["_model_name"] == "WidgetModel"]
    assert len(opens) == 5 and len(front_ends) == 1
    assert front_ends[0]["source"] == FRONT_END_JS
    # Each figure carries the small loader and names the one front end.
    holder = f"IPY_MODEL_{figures[0]._front_end.model_id}"
    for state in opens[1:]:
        assert state["_esm"] == LOADER_JS
        assert (state["_front_end"], state["_front_end_id"]) == (holder, FRONT_END_ID)
    assert len(LOADER_JS.encode()) < 4_000 < 30_000 < len(FRONT_END_JS.encode()) < 40_000


def test_shared_figure_widget_after_its_front_end_closed_gets_a_new_one(sent):
    before = make_figure_widget(three_trace_figure())._front_end
    before.close()  # as ipywidgets.Widget.close_all() does

    after = make_figure_widget(three_trace_figure())._front_end
    assert before.comm is None and after.comm is not None
    assert after is figure_front_end()


def test_shared_figure_widget_one_page_request_gets_one_gzipped_bundle_for_four_charts(sent):
    figures = [make_figure_widget(three_trace_figure()) for _ in range(4)]

    page_requests_bundle(figures[0], encoding="gzip")

    replies = customs(sent, BUNDLE_REPLY)
    assert len(replies) == 1
    content, [buffer] = replies[0]
    assert content == {"type": BUNDLE_REPLY, "id": figures[0]._plotly_bundle_id, "encoding": "gzip"}
    assert gzip.decompress(buffer) == PLOTLY_JS
    assert len(buffer) < 0.4 * len(PLOTLY_JS)  # 0.42 MB of 1.2 MB with plotly.js 4.1
    assert bundle_copies(sent) == 1


@pytest.mark.parametrize("encoding", ["identity", "br", None])
def test_shared_figure_widget_request_without_gzip_gets_the_plain_bundle(sent, encoding):
    figure = make_figure_widget(three_trace_figure())

    page_requests_bundle(figure, encoding=encoding)

    [(content, [buffer])] = customs(sent, BUNDLE_REPLY)
    assert content["encoding"] == "identity"
    assert buffer == PLOTLY_JS


def test_shared_figure_widget_each_page_request_is_answered_once(sent):
    # Two pages (a reload, a second browser tab) each ask once, through any figure.
    figures = [make_figure_widget(three_trace_figure()) for _ in range(2)]

    page_requests_bundle(figures[0])
    page_requests_bundle(figures[1])

    assert bundle_copies(sent) == 2


def test_shared_figure_widget_request_for_another_bundle_id_is_ignored(sent):
    figure = make_figure_widget(three_trace_figure())
    sent.clear()

    page_requests_bundle(figure, bundle_id="plotly.js-0.0.0-other")
    figure.comm.handle_msg(
        {"content": {"data": {"method": "custom", "content": {"type": "x"}}}, "buffers": []}
    )

    assert sent == []


def test_plotly_bundle_id_names_plotly_js_version_and_content():
    bundle_id, data, gzipped = plotly_bundle()

    assert data == PLOTLY_JS
    assert gzip.decompress(gzipped) == PLOTLY_JS
    assert bundle_id.startswith(f"plotly.js-{bundle_version()}-")


@pytest.mark.parametrize("message_type", [BUNDLE_REQUEST, BUNDLE_REPLY, FIGURE, FIGURE_UPDATE])
def test_front_end_uses_the_python_message_types(message_type):
    assert f'"{message_type}"' in FRONT_END_JS


def test_front_end_draws_with_plotly_js_public_api_only():
    calls = set(re.findall(r"Plotly\.(\w+(?:\.\w+)?)\(", FRONT_END_JS))
    assert calls == {"newPlot", "react", "relayout", "animate", "purge", "Plots.resize"}
    assert "_fullLayout" not in FRONT_END_JS and "_fullData" not in FRONT_END_JS


# ------------------------------------------------------------------------- the figure
def test_shared_figure_widget_is_a_plotly_figure_the_chart_updaters_change():
    def ladder(mark: float) -> Ladder:  # the guide's BTC long in both modes, USDT
        return Ladder({m: guide_account(m).levels("BTCUSDT", {"BTCUSDT": mark}) for m in MODES})

    chart = price_ladder_figure(ladder(60_000))
    widget = make_figure_widget(chart.figure)
    assert isinstance(widget, go.Figure)
    assert widget.to_dict() == chart.figure.to_dict() and widget is not chart.figure

    with widget.batch_update():
        summary = update_price_ladder(widget, ladder(58_000))

    assert "58,000.00" in summary
    assert list(find_trace(widget, "mark").y) == [58_000, 58_000]


def test_batch_update_three_500_point_traces_sends_one_binary_update(sent):
    figure = make_figure_widget(three_trace_figure())
    sent.clear()
    x = np.linspace(0.0, 1.0, 500)

    with figure.batch_update():
        for k, trace in enumerate(figure.data):
            trace.y = x * (k + 10)

    assert len(sent) == 1
    [(content, buffers)] = customs(sent, FIGURE_UPDATE)
    # three y arrays of 500 float64 = 3 x 4,000 bytes, as binary buffers, not JSON text
    assert [len(b) for b in buffers] == [4_000, 4_000, 4_000]
    assert [index for index, _ in content["traces"]] == [0, 1, 2]
    assert all(set(props) == {"y"} for _, props in content["traces"])  # x did not move
    np.testing.assert_array_equal(decoded(content["traces"][2][1]["y"], buffers), x * 12)
    assert content["layout"] == {}


def test_update_carries_whole_top_level_properties_and_the_layout_keys(sent):
    figure = make_figure_widget(three_trace_figure(points=4))
    sent.clear()

    with figure.batch_update():
        figure.data[1].marker.color = "red"
        figure.layout.xaxis.range = [0, 2]

    [(content, buffers)] = customs(sent, FIGURE_UPDATE)
    assert buffers == []
    assert content["traces"] == [[1, {"marker": {"color": "red"}}]]
    assert content["layout"] == {"xaxis": {"range": [0, 2]}}
    assert content["layout_keys"] == list(figure.layout.to_plotly_json())


def test_update_lists_its_layout_properties_in_sorted_order(sent):
    # The same change sends the same message in every kernel, whatever its hash seed.
    figure = make_figure_widget(three_trace_figure(points=4))
    sent.clear()

    with figure.batch_update():
        for axis in ("yaxis2", "xaxis", "yaxis", "xaxis2", "title"):
            figure.layout[axis] = {"title": {"text": axis}} if axis != "title" else {"text": "t"}

    [(content, _)] = customs(sent, FIGURE_UPDATE)
    assert list(content["layout"]) == ["title", "xaxis", "xaxis2", "yaxis", "yaxis2"]


def test_restyles_inside_a_batch_go_in_its_one_message(sent):
    # charts._common.apply writes trace values with plotly_restyle, which plotly sends at
    # once; inside a batch (a widget's tick) they must go with the batch's layout change.
    figure = make_figure_widget(three_trace_figure(points=4))
    sent.clear()

    with figure.batch_update():
        with figure.batch_update():  # nested, as apply's own batch inside a tick's
            figure.plotly_restyle({"y": [[5.0, 6.0, 7.0, 8.0]], "name": ["two"]}, [2])
        figure.plotly_restyle({"y": [[1.0, 2.0, 3.0, 4.0]]}, [0])
        figure.layout.xaxis.range = [0, 2]
        assert sent == []  # nothing before the batch ends

    [(content, buffers)] = customs(sent, FIGURE_UPDATE)
    assert len(sent) == 1
    assert [(index, sorted(props)) for index, props in content["traces"]] == [
        (0, ["y"]),
        (2, ["name", "y"]),
    ]
    assert decoded(content["traces"][1][1]["y"], buffers) == [5.0, 6.0, 7.0, 8.0]
    assert content["layout"] == {"xaxis": {"range": [0, 2]}}


def test_restyle_alone_in_a_batch_is_sent_when_it_ends_and_outside_one_at_once(sent):
    figure = make_figure_widget(three_trace_figure(points=4))
    sent.clear()

    with figure.batch_update():
        figure.plotly_restyle({"name": "first"}, [0])  # plotly has no edits of its own here
        assert sent == []
    figure.plotly_restyle({"name": "second"}, [1])
    figure.plotly_relayout({"title.text": "now"})

    updates = [content for content, _ in customs(sent, FIGURE_UPDATE)]
    assert [u["traces"] for u in updates] == [
        [[0, {"name": "first"}]],
        [[1, {"name": "second"}]],
        [],
    ]
    assert updates[2]["layout"] == {"title": {"text": "now"}}


def test_single_assignment_outside_a_batch_is_sent_at_once(sent):
    figure = make_figure_widget(three_trace_figure(points=4))
    sent.clear()

    figure.data[0].name = "first"
    figure.layout.title.text = "now"

    updates = [content for content, _ in customs(sent, FIGURE_UPDATE)]
    assert [u["traces"] for u in updates] == [[[0, {"name": "first"}]], []]
    assert updates[1]["layout"] == {"title": {"text": "now"}}


def test_unchanged_values_send_nothing(sent):
    figure = make_figure_widget(three_trace_figure(points=4))
    sent.clear()

    with figure.batch_update():
        figure.data[0].y = np.linspace(0.0, 1.0, 4)  # the same values

    assert sent == []


def test_adding_deleting_or_moving_traces_sends_the_whole_figure(sent):
    figure = make_figure_widget(three_trace_figure(points=4))
    sent.clear()

    figure.add_trace(go.Scatter(x=[1, 2], y=[3, 4], name="new"))
    figure.data = [figure.data[3], figure.data[0]]

    figures = [decoded(content["figure"], buffers) for content, buffers in customs(sent, FIGURE)]
    assert [len(f["data"]) for f in figures] == [4, 2, 2]  # added; deleted; moved
    assert [t.get("name") for t in figures[-1]["data"]] == ["new", None]
    assert figures[-1]["data"][0]["y"] == [3, 4]


def test_full_state_carries_the_figure_as_it_is_now(sent):
    # A reloaded page asks for the full state; it must draw what the last tick left.
    figure = make_figure_widget(three_trace_figure(points=4))
    new_y = np.array([4.0, 3.0, 2.0, 1.0])
    with figure.batch_update():
        figure.data[0].y = new_y
        figure.layout.title.text = "after the tick"

    state = figure.get_state()

    shown = decoded(state["_figure"], [])
    np.testing.assert_array_equal(shown["data"][0]["y"], new_y)
    assert shown["layout"]["title"]["text"] == "after the tick"
    assert state["_plotly_bundle_id"] == plotly_bundle()[0]


def test_widget_displays_as_a_widget_view_not_plotly_json():
    figure = make_figure_widget(three_trace_figure(points=4))

    data, _ = figure._repr_mimebundle_()

    assert set(data) == {"text/plain", "application/vnd.jupyter.widget-view+json"}
    assert data["application/vnd.jupyter.widget-view+json"]["model_id"] == figure.model_id


def test_every_plotly_front_end_hook_is_overridden():
    # plotly.basedatatypes.BaseFigure tells its front end about each change through these
    # stubs. If a plotly upgrade adds or renames one, changes would stop reaching the page.
    hooks = {
        name for name, _ in inspect.getmembers(BaseFigure) if re.fullmatch(r"_send_\w+_msg", name)
    }
    assert hooks == {
        "_send_addTraces_msg",
        "_send_animate_msg",
        "_send_deleteTraces_msg",
        "_send_moveTraces_msg",
        "_send_relayout_msg",
        "_send_restyle_msg",
        "_send_update_msg",
    }
    assert all(getattr(SharedFigureWidget, hook) is not getattr(BaseFigure, hook) for hook in hooks)
    assert plotly.__version__  # the hooks above are those of this plotly


def test_make_figure_widget_dict_input_raises_typeerror():
    message = "fig must be a plotly.graph_objects.Figure, got dict"
    with pytest.raises(TypeError, match=re.escape(message)):
        make_figure_widget({"data": []})


# ------------------------------------------------------------------------------ the wire
@pytest.mark.parametrize(
    ("array", "dtype"),
    [
        (np.array([1.5, 2.5]), "float64"),
        (np.array([1.5, 2.5], dtype=np.float32), "float32"),
        (np.array([1, 2], dtype=np.int32), "int32"),
        (np.array([1, 2], dtype=np.int64), "float64"),  # no 64-bit integers in the page
        (np.array([1.5, 2.5], dtype=">f8"), "float64"),  # little-endian on the wire
        (np.array([1.5, 2.5], dtype=np.float16), "float64"),
    ],
)
def test_wire_numeric_arrays_are_little_endian_buffers(array, dtype):
    buffers: list[memoryview] = []

    spec = wire(array, buffers)

    assert spec == {"dtype": dtype, "shape": [2], "buffer": 0}
    little = np.dtype(dtype).newbyteorder("<")
    np.testing.assert_array_equal(np.frombuffer(bytes(buffers[0]), dtype=little), array)


def test_wire_two_dimensional_array_keeps_its_shape():
    buffers: list[memoryview] = []
    grid = np.arange(6.0).reshape(2, 3)

    spec = wire({"z": grid}, buffers)

    assert spec == {"z": {"dtype": "float64", "shape": [2, 3], "buffer": 0}}
    np.testing.assert_array_equal(decoded(spec["z"], buffers), grid)


def test_wire_other_values_become_json():
    buffers: list[memoryview] = []
    value = {
        "nan": float("nan"),
        "list": [1.0, float("inf"), None],
        "scalar": np.float64(2.5),
        "bools": np.array([True, False]),
        "dates": np.array(["2024-03-01T12:00"], dtype="datetime64[m]"),
        "huge": np.array([2**60], dtype=np.int64),
        "tuple": (1, "a"),
    }

    assert wire(value, buffers) == {
        "nan": None,  # JSON has no NaN: a gap
        "list": [1.0, None, None],
        "scalar": 2.5,
        "bools": [True, False],
        "dates": ["2024-03-01T12:00"],
        "huge": [2**60],  # not exact as a float64
        "tuple": [1, "a"],
    }
    assert buffers == []
    json.dumps(wire(value, buffers), allow_nan=False)


def test_a_tick_sends_its_charts_before_its_texts(sent):
    # The stop-loss widget rewrites a table on every tick: the page gets the charts'
    # updates first, so it redraws them before it lays out the new table.
    from marginlab.widgets.stoploss import StopLossWidget

    widget = StopLossWidget()
    sent.clear()
    widget.controls["stop"].value = widget.controls["stop"].value - 1_000
    kinds = [
        "chart" if data.get("method") == "custom" else "text"
        for _, data, _ in sent
        if data.get("method") == "custom" or "<table" in str(data.get("state", {}).get("value"))
    ]
    assert kinds.count("text") == 1 and kinds.index("text") == len(kinds) - 1 >= 1, kinds


def test_a_scenario_switch_sends_its_outcomes_before_the_path_and_the_controls(sent):
    from marginlab.widgets.scenarios import WhenToUseWidget

    widget = WhenToUseWidget()
    sent.clear()
    scenario = widget.controls["scenario"]
    scenario.index = (scenario.index + 1) % len(scenario.options)
    order = [
        "chart" if data.get("method") == "custom" else "max"
        for _, data, _ in sent
        if data.get("method") == "custom" or "max" in data.get("state", {})
    ]
    # The outcomes first, then the path's new range and the controls' new ends, then the
    # path itself.
    assert order[0] == "chart" and order.count("chart") == 2, order
    assert order.index("max") < len(order) - 1 - order[::-1].index("chart"), order


def test_a_step_of_the_replay_sends_its_chart_then_the_play_value(sent):
    # The play button follows the step slider from the kernel (no link in the browser,
    # which sent the kernel the play's value ahead of every step): after the chart.
    from marginlab.widgets.scenarios import WhenToUseWidget

    widget = WhenToUseWidget()
    sent.clear()
    widget.controls["step"].set_state({"value": 100})  # as the browser's message sets it
    order = [
        "chart" if data["method"] == "custom" else "play"
        for _, data, _ in sent
        if data.get("method") == "custom"
        or (data.get("method") == "update" and data["state"] == {"value": 100})
    ]  # (the slider's own value comes back as an echo_update, before both)
    assert order == ["chart", "play"] and widget.play.value == 100, order


def test_a_stop_loss_tick_sends_its_outcomes_before_it_computes_its_paths(sent, monkeypatch):
    # The outcomes chart's update leaves as soon as it is computed: the page draws it while
    # the kernel computes the two path charts (LessonWidget._send_chart).
    from marginlab.widgets import stoploss

    widget = stoploss.StopLossWidget()
    outcomes = widget.figures[2]
    real = stoploss.charts.update_equity_path
    seen = []

    def update_equity_path(*args, **kwargs):
        charts_sent = sum(data.get("method") == "custom" for _, data, _ in sent)
        seen.append((charts_sent, id(outcomes) in widget._held_charts))
        return real(*args, **kwargs)

    monkeypatch.setattr(stoploss.charts, "update_equity_path", update_equity_path)
    sent.clear()
    widget.controls["stop"].value = widget.controls["stop"].value - 1_000
    assert seen == [(1, False), (1, False)]  # one chart sent: the outcomes, no longer held
    # Then the path with the stop (the one without it does not change with the stop).
    assert sum(data.get("method") == "custom" for _, data, _ in sent) == 2
    assert widget._held_charts == {}
    with pytest.raises(RuntimeError, match="inside _apply"):
        widget._send_chart(outcomes)


@pytest.mark.parametrize(
    ("name", "control"),
    [
        ("liquidation_threshold", "leverage"),
        ("loss_at_liquidation", "price"),
        ("several_positions", "btc_price"),
        ("adding_margin", "price"),
        ("trading_costs", "leverage"),
    ],
)
def test_a_tick_sends_each_chart_before_it_computes_the_next(sent, monkeypatch, name, control):
    # Each chart's update leaves once it is written (LessonWidget._send_chart): the page
    # draws it while the kernel writes the next chart.
    from marginlab.charts import _common
    from marginlab.widgets.catalog import catalog

    widget = catalog()[name]()
    real = _common.apply
    seen = []

    def apply(fig, *args, **kwargs):
        seen.append(sum(data.get("method") == "custom" for _, data, _ in sent))
        return real(fig, *args, **kwargs)

    monkeypatch.setattr(_common, "apply", apply)
    sent.clear()
    moved = widget.controls[control]
    moved.value = moved.value + moved.step
    assert sum(data.get("method") == "custom" for _, data, _ in sent) == len(widget.figures)
    assert seen == list(range(len(widget.figures))), seen


@pytest.mark.parametrize(
    ("name", "control"), [("playground", "btc_price"), ("switching_modes", "symbol")]
)
def test_a_one_chart_tick_sends_its_chart_before_it_writes_its_table(
    sent, monkeypatch, name, control
):
    import sys

    from marginlab.widgets.catalog import catalog

    widget = catalog()[name]()
    # The table's writer: a module function (playground) or a method (switching modes).
    module = sys.modules[type(widget).__module__]
    owner = module if hasattr(module, "_table") else type(widget)
    real = owner._table
    seen = []

    def write_table(*args, **kwargs):
        seen.append(sum(data.get("method") == "custom" for _, data, _ in sent))
        return real(*args, **kwargs)

    monkeypatch.setattr(owner, "_table", write_table)
    sent.clear()
    moved = widget.controls[control]
    if hasattr(moved, "options"):
        moved.index = (moved.index + 1) % len(moved.options)
    else:
        moved.value = moved.value + moved.step
    assert seen and seen[0] == 1, seen  # the ladder's update, already sent


@pytest.mark.parametrize("control", ["btc_price", "leverage_1"])
def test_the_playground_sends_its_ladder_before_it_computes_the_account_state(
    sent, monkeypatch, control
):
    # The table's account state (every position at the marks) is computed once the ladder's
    # update has left: the page draws the ladder meanwhile.
    from marginlab.engine import Account
    from marginlab.widgets.playground import PlaygroundWidget
    from marginlab.widgets.trade import held_marks

    widget = PlaygroundWidget()
    seen = []
    for name in ("state", "liquidate"):
        real = getattr(Account, name)

        def counted(self, *args, _real=real, **kwargs):
            seen.append(sum(data.get("method") == "custom" for _, data, _ in sent))
            return _real(self, *args, **kwargs)

        monkeypatch.setattr(Account, name, counted)
    sent.clear()
    moved = widget.controls[control]
    moved.value = moved.value + moved.step
    assert seen and set(seen) == {1}, seen  # the ladder's update, already sent
    drawn = widget.drawn
    assert widget.state == drawn.account.state(held_marks(drawn.account, drawn.marks))
