"""SharedFigureWidget: plotly.js crosses the wire once per page request, not per chart.

Every comm message the kernel would send is captured in-process by replacing
``comm.create_comm`` (the hook ipykernel itself fills in) with a recording comm; the
browser's side of the protocol is played by calling the widget's comm message handler
with the message the loader (static/plotly_loader.js) sends.
"""

from __future__ import annotations

import gzip
import json
import re
from typing import ClassVar

import comm
import numpy as np
import plotly
import plotly.graph_objects as go
import pytest
from comm.base_comm import BaseComm

from marginlab.plotly_bundle import CHARTS_BUNDLE
from marginlab.widgets import SharedFigureWidget, make_figure_widget
from marginlab.widgets._plotly import _LOADER_JS, BUNDLE_REPLY, BUNDLE_REQUEST, plotly_bundle

# What the charts load with the pinned plotly: its front end with a partial plotly.js.
PLOTLY_BUNDLE = CHARTS_BUNDLE.read_bytes()


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
    """What the loader sends from the browser: a custom message on the figure's comm."""
    content = {"type": BUNDLE_REQUEST, "id": bundle_id or widget._plotly_bundle_id}
    content["encoding"] = encoding
    data = {"method": "custom", "content": content}
    widget.comm.handle_msg({"content": {"data": data}, "buffers": []})


def bundle_replies(messages: list[tuple[str, dict, list[bytes]]]) -> list[tuple[dict, bytes]]:
    """(reply content, its one buffer) of every bundle reply sent."""
    return [
        (data["content"], buffers[0])
        for _, data, buffers in messages
        if data.get("content", {}).get("type") == BUNDLE_REPLY
    ]


def bundle_copies(messages: list[tuple[str, dict, list[bytes]]]) -> int:
    """Buffers holding plotly's bundle, plain or gzipped."""
    plain = sum(buffer == PLOTLY_BUNDLE for _, _, buffers in messages for buffer in buffers)
    return plain + len([r for r in bundle_replies(messages) if r[0]["encoding"] == "gzip"])


def sent_bytes(messages: list[tuple[str, dict, list[bytes]]]) -> int:
    return sum(len(json.dumps(d)) + sum(map(len, b)) for _, d, b in messages)


def test_shared_figure_widget_creating_four_sends_no_bundle(sent):
    figures = [make_figure_widget(three_trace_figure()) for _ in range(4)]

    assert len(figures) == 4
    assert bundle_copies(sent) == 0
    # 4 x (loader ~5 KB + layout/template ~7 KB + 3 traces x 2 arrays x 4,000 B) ~ 0.2 MB;
    # plotly's own FigureWidget sends its ~5 MB bundle with each of the four.
    assert sent_bytes(sent) < 300_000 < len(PLOTLY_BUNDLE)


def test_shared_figure_widget_open_message_esm_is_the_small_loader(sent):
    make_figure_widget(three_trace_figure())

    opens = [data for msg_type, data, _ in sent if msg_type == "comm_open"]
    assert len(opens) == 1
    assert opens[0]["state"]["_esm"] == _LOADER_JS
    assert len(_LOADER_JS.encode()) < 20_000


def test_shared_figure_widget_one_page_request_gets_one_gzipped_bundle_for_four_charts(sent):
    figures = [make_figure_widget(three_trace_figure()) for _ in range(4)]

    page_requests_bundle(figures[0], encoding="gzip")

    replies = bundle_replies(sent)
    assert len(replies) == 1
    content, buffer = replies[0]
    assert content == {"type": BUNDLE_REPLY, "id": figures[0]._plotly_bundle_id, "encoding": "gzip"}
    assert gzip.decompress(buffer) == PLOTLY_BUNDLE
    assert len(buffer) < 0.35 * len(PLOTLY_BUNDLE)  # 0.43 MB of 1.32 MB with plotly 7.1
    assert bundle_copies(sent) == 1


@pytest.mark.parametrize("encoding", ["identity", "br", None])
def test_shared_figure_widget_request_without_gzip_gets_the_plain_bundle(sent, encoding):
    figure = make_figure_widget(three_trace_figure())

    page_requests_bundle(figure, encoding=encoding)

    [(content, buffer)] = bundle_replies(sent)
    assert content["encoding"] == "identity"
    assert buffer == PLOTLY_BUNDLE


def test_shared_figure_widget_each_page_request_is_answered_once(sent):
    # Two pages (a reload, a second browser tab) each ask once, through any figure.
    figures = [make_figure_widget(three_trace_figure()) for _ in range(2)]

    page_requests_bundle(figures[0])
    page_requests_bundle(figures[1])

    assert bundle_copies(sent) == 2


def test_shared_figure_widget_request_for_another_bundle_id_is_ignored(sent):
    figure = make_figure_widget(three_trace_figure())
    sent.clear()

    page_requests_bundle(figure, bundle_id="plotly-0.0.0-other")
    figure.comm.handle_msg(
        {"content": {"data": {"method": "custom", "content": {"type": "x"}}}, "buffers": []}
    )

    assert sent == []


def test_plotly_bundle_id_names_plotly_version_and_content():
    bundle_id, data, gzipped = plotly_bundle()

    assert data == PLOTLY_BUNDLE
    assert gzip.decompress(gzipped) == PLOTLY_BUNDLE
    assert bundle_id.startswith(f"plotly-{plotly.__version__}-")


def test_plotly_bundle_exports_the_default_widget_the_loader_calls():
    # The loader calls bundle.default() and uses its initialize/render (anywidget's API).
    tail = PLOTLY_BUNDLE[-20_000:].decode("utf-8", errors="replace")

    assert "as default}" in tail
    assert "initialize(" in tail and "render(" in tail


@pytest.mark.parametrize("message_type", [BUNDLE_REQUEST, BUNDLE_REPLY])
def test_loader_js_uses_the_python_message_types(message_type):
    assert f'"{message_type}"' in _LOADER_JS


def test_batch_update_three_500_point_traces_sends_one_binary_update(sent):
    figure = make_figure_widget(three_trace_figure())
    sent.clear()
    x = np.linspace(0.0, 1.0, 500)

    with figure.batch_update():
        for k, trace in enumerate(figure.data):
            trace.y = x * (k + 10)

    updates = [(d, b) for _, d, b in sent if d.get("state", {}).get("_py2js_update")]
    assert len(updates) == 1
    data, buffers = updates[0]
    # three y arrays of 500 float64 = 3 x 4,000 bytes, as binary buffers, not JSON text
    assert [len(b) for b in buffers] == [4_000, 4_000, 4_000]
    np.testing.assert_array_equal(np.frombuffer(buffers[2], dtype=np.float64), x * 12)
    assert data["state"]["_py2js_update"]["style_traces"] == [0, 1, 2]


def test_full_state_after_batch_update_carries_the_current_traces(sent):
    # A reloaded page asks for the full state; it must draw what the last tick left.
    figure = make_figure_widget(three_trace_figure(points=4))
    new_y = np.array([4.0, 3.0, 2.0, 1.0])
    with figure.batch_update():
        figure.data[0].y = new_y
        figure.layout.title.text = "after the tick"

    state = figure.get_state()

    y = state["_widget_data"][0]["y"]
    np.testing.assert_array_equal(np.frombuffer(y["buffer"], dtype=y["dtype"]), new_y)
    assert state["_widget_layout"]["title"]["text"] == "after the tick"


def test_make_figure_widget_dict_input_raises_typeerror():
    message = "fig must be a plotly.graph_objects.Figure, got dict"
    with pytest.raises(TypeError, match=re.escape(message)):
        make_figure_widget({"data": []})


def test_loader_drops_every_computed_state_message_plotlys_view_sends():
    # plotly's view sends the figure's computed state after each redraw under these
    # names; the loader's NOT_SENT must name each of them (and nothing the kernel needs).
    sent_by_view = set(re.findall(r'"(_js2py_\w*[dD]elta\w*)"', PLOTLY_BUNDLE.decode()))
    not_sent = re.search(r"const NOT_SENT = new Set\(\[(.*?)\]\);", _LOADER_JS).group(1)
    assert sent_by_view == {"_js2py_traceDeltas", "_js2py_widget_layoutDelta"}
    assert sent_by_view <= set(re.findall(r'"(\w+)"', not_sent))
    assert "_js2py_relayout" not in not_sent and "_js2py_restyle" not in not_sent
