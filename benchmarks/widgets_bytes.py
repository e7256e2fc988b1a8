"""Bytes a chart costs the learner's browser, plotly's FigureWidget vs SharedFigureWidget.

Printed, not asserted (issue 4, "Speed and bytes"). Every message the kernel would send
on a widget comm is captured in-process: ``count_comm_messages()`` (called by each
benchmark's ``main``) replaces ``comm.create_comm`` (the hook ipykernel fills in) with a
comm that packs each message's content with jupyter_client's own
JSON packer and adds its binary buffers. The few hundred bytes of Jupyter message header
per message are not counted (the number of messages is printed).

Cases, each with a 3-trace x 500-point scatter figure (plotly's default template):
- create 1 and 4 charts on one page: plotly's ``go.FigureWidget`` sends its module (the
  ~5 MB widget bundle with plotly.js) with every instance; ``SharedFigureWidget`` sends a
  small loader, and the page's one bundle request is answered once (gzipped: browsers
  with ``DecompressionStream`` ask for gzip; the plain size is printed too);
- a browser reload of that page: every model's full state again (plus the one bundle);
- a tick: three traces' y swapped inside one ``batch_update`` (server-side time p50/p95,
  bytes), and a ``LessonWidget`` tick with the real engine (the guide's isolated long);
- every widget of ``marginlab.widgets.catalog()``, once that exists.

Run:  .venv/bin/python benchmarks/widgets_bytes.py
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import comm
import ipywidgets
import numpy as np
import plotly
import plotly.graph_objects as go
from comm.base_comm import BaseComm
from jupyter_client.session import json_packer

import marginlab.widgets as mw
from marginlab.engine import Account
from marginlab.widgets import LessonWidget, SharedFigureWidget, make_figure_widget
from marginlab.widgets._plotly import BUNDLE_REQUEST

TICKS = 300
WARMUP = 20
POINTS = 500


class CountingComm(BaseComm):
    """Counts what a kernel comm would publish: messages and bytes (JSON + buffers)."""

    messages = 0
    nbytes = 0

    def publish_msg(self, msg_type, data=None, metadata=None, buffers=None, **keys):
        CountingComm.messages += 1
        CountingComm.nbytes += len(json_packer(data or {}))
        CountingComm.nbytes += sum(memoryview(b).nbytes for b in buffers or [])


def count_comm_messages() -> None:
    """Make every widget comm created from now on a :class:`CountingComm` (a benchmark's
    ``main`` calls it; importing this module changes nothing)."""
    comm.create_comm = CountingComm


def plotly_widget_bundle() -> bytes:
    """plotly's own FigureWidget module (its front end with the full plotly.js)."""
    return (Path(plotly.__file__).parent / "package_data" / "widgetbundle.js").read_bytes()


def measure(action: Callable[[], Any]) -> tuple[Any, int, int]:
    """Run ``action``; return its result, the bytes and the messages it sent."""
    CountingComm.messages = CountingComm.nbytes = 0
    result = action()
    return result, CountingComm.nbytes, CountingComm.messages


def three_traces() -> go.Figure:
    x = np.linspace(0.0, 1.0, POINTS)
    return go.Figure([go.Scatter(x=x, y=x * k) for k in (1.0, 2.0, 3.0)])


def plain(n: int) -> list[go.FigureWidget]:
    return [go.FigureWidget(three_traces()) for _ in range(n)]


def shared(n: int) -> list[SharedFigureWidget]:
    figures = [make_figure_widget(three_traces()) for _ in range(n)]
    page_requests_bundle(figures[0])
    return figures


def page_requests_bundle(figure: SharedFigureWidget, encoding: str = "gzip") -> None:
    """What the loader in the browser sends once per page (gzip: any current browser)."""
    content = {"type": BUNDLE_REQUEST, "id": figure._plotly_bundle_id, "encoding": encoding}
    data = {"method": "custom", "content": content}
    figure.comm.handle_msg({"content": {"data": data}, "buffers": []})


def reload_page(figures: list) -> None:
    """A reloaded page asks for every model's full state (ipywidgets' request_state)."""
    for figure in figures:
        figure.comm.handle_msg({"content": {"data": {"method": "request_state"}}, "buffers": []})
    if isinstance(figures[0], SharedFigureWidget):
        page_requests_bundle(figures[0])


def tick_stats(tick: Callable[[int], None]) -> tuple[float, float, float]:
    """p50 and p95 server-side milliseconds and mean bytes of ``tick(i)``."""
    for i in range(WARMUP):
        tick(i)
    times_ms, sizes = [], []
    for i in range(TICKS):
        CountingComm.nbytes = 0
        start = time.perf_counter()
        tick(WARMUP + i)
        times_ms.append((time.perf_counter() - start) * 1e3)
        sizes.append(CountingComm.nbytes)
    p50, p95 = np.percentile(times_ms, [50, 95])
    return float(p50), float(p95), float(np.mean(sizes))


def batch_tick(figure: go.FigureWidget) -> Callable[[int], None]:
    x = np.linspace(0.0, 1.0, POINTS)

    def tick(i: int) -> None:
        with figure.batch_update():
            for k, trace in enumerate(figure.data):
                trace.y = np.sin(x * (k + 1) + i * 0.01)

    return tick


class IsolatedLong(LessonWidget):
    """The guide's isolated BTC long: a leverage slider, the engine, one line."""

    def __init__(self) -> None:
        slider = ipywidgets.FloatSlider(value=10, min=1, max=100, step=0.5)
        figure = make_figure_widget(go.Figure(go.Scatter(x=[0.0, 1.0], y=[0.0, 0.0])))
        super().__init__({"leverage": slider}, [figure])

    def _compute(self, values: dict[str, Any]) -> float:
        account = Account(wallet_balance=10_000).set_margin_mode("BTCUSDT", "isolated")
        account = account.open(
            "BTCUSDT", side="long", price=60_000, leverage=values["leverage"], margin=2_000
        )
        return account.liquidation_price("BTCUSDT")

    def _apply(self, result: float) -> str:
        self.figures[0].data[0].y = np.array([result, result])
        return f"Isolated long liquidates at {result:,.2f} USDT."


def lesson_tick(widget: IsolatedLong) -> Callable[[int], None]:
    def tick(i: int) -> None:
        widget.controls["leverage"].value = 2 + (i % 80)  # a new value every tick

    return tick


def mb(nbytes: float) -> str:
    return f"{nbytes / 1e6:7.2f} MB"


def main() -> None:
    count_comm_messages()
    print(f"plotly FigureWidget vs SharedFigureWidget, 3 traces x {POINTS} points each\n")
    print(f"{'create on one page':<34}{'before (plotly)':>18}{'after (shared)':>18}")
    for n in (1, 4):
        before, b_bytes, b_msgs = measure(lambda n=n: plain(n))
        after, a_bytes, a_msgs = measure(lambda n=n: shared(n))
        label = f"{n} chart{'s' if n > 1 else ''}"
        print(f"  {label:<32}{mb(b_bytes):>13} ({b_msgs:>2})  {mb(a_bytes):>11} ({a_msgs:>2})")
        _, b_reload, _ = measure(lambda before=before: reload_page(before))
        _, a_reload, _ = measure(lambda after=after: reload_page(after))
        print(f"  {label + ', browser reload':<32}{mb(b_reload):>13}{mb(a_reload):>18}")
    print("  (messages in parentheses; 'after' includes the page's one bundle reply)")
    page = make_figure_widget(three_traces())
    for encoding in ("gzip", "identity"):
        _, nbytes, _ = measure(lambda encoding=encoding: page_requests_bundle(page, encoding))
        print(f"  the bundle reply alone, {encoding:<17}{mb(nbytes):>31}")
    print()

    print(f"{'tick':<34}{'p50 ms':>8}{'p95 ms':>8}{'bytes/tick':>12}")
    for label, figure in (
        ("batch_update 3 x 500, plotly", plain(1)[0]),
        ("batch_update 3 x 500, shared", make_figure_widget(three_traces())),
    ):
        p50, p95, nbytes = tick_stats(batch_tick(figure))
        print(f"  {label:<32}{p50:>8.2f}{p95:>8.2f}{nbytes:>12,.0f}")
    p50, p95, nbytes = tick_stats(lesson_tick(IsolatedLong()))
    print(f"  {'LessonWidget tick incl. engine':<32}{p50:>8.2f}{p95:>8.2f}{nbytes:>12,.0f}")

    catalog = getattr(mw, "catalog", None)
    if catalog is None:
        print("\nmarginlab.widgets.catalog() does not exist yet: no per-widget figures.")
        return
    print(f"\n{'catalogued widget (one kernel)':<34}{'charts':>7}{'create':>12}")
    total = charts = 0
    for name, factory in catalog().items():
        widget, nbytes, _ = measure(factory)
        total += nbytes
        charts += len(widget.figures)
        print(f"  {name:<32}{len(widget.figures):>7}{mb(nbytes):>12}")
    page = make_figure_widget(three_traces())
    _, gzipped, _ = measure(lambda: page_requests_bundle(page, "gzip"))
    _, plain_bundle, _ = measure(lambda: page_requests_bundle(page, "identity"))
    print(f"  {'+ the page bundle once, gzip':<39}{mb(gzipped):>12}")
    print(f"  {'total, gzip':<39}{mb(total + gzipped):>12}  (goal <= 6 MB)")
    print(f"  {'total, a browser without gzip':<39}{mb(total + plain_bundle):>12}")
    # plotly's FigureWidget: each chart's module carries plotly's own (full) bundle.
    before = total + charts * len(plotly_widget_bundle())
    print(f"  {'plotly FigureWidget (bundle per chart)':<39}{mb(before):>12}")


if __name__ == "__main__":
    main()
