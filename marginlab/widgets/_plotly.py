"""Live plotly figures whose plotly.js crosses the wire once per page and whose updates
carry only what changed.

:class:`SharedFigureWidget` is a ``go.Figure`` and an anywidget at once: Python code reads
and changes it exactly like any plotly figure (``fig.data[0].y = ...``,
``fig.layout.xaxis.range = ...``, inside ``with fig.batch_update():`` for one message
per batch), and every change is sent to the browser, where ``static/figure.js`` draws it
with plotly.js's public API (``Plotly.newPlot``/``react``/``animate``; see that file for
when it takes plotly.js's fast path).

What travels:

* the module: ``static/figure.js`` (~35 KB) once per kernel, in the state of one
  :class:`FigureFrontEnd` model that every figure names; each figure's own ``_esm`` is
  ``static/figure-loader.js`` (~3 KB), which imports figure.js once per page. plotly.js itself
  (:func:`marginlab.plotly_bundle.plotly_bundle_source`: the official plotly.js built
  with the charts' trace types only, 1.2 MB, gzipped 0.42 MB) at most once per page:
  the first figure of a page asks its kernel with a custom message
  ``{"type": BUNDLE_REQUEST, "id", "encoding"}``, the kernel answers that request once
  with ``{"type": BUNDLE_REPLY, "id", "encoding"}`` and the bundle (gzipped or not) as
  the one binary buffer, and the page keeps it in a page-global registry for every later
  figure (this notebook, another notebook, a new cell). A reloaded page asks again. In a
  Voila page served by ``marginlab present`` the bundle usually arrives first over HTTP
  (``marginlab.serve``). Nothing comes from another host: offline in JupyterLab,
  Notebook 7 and Voila alike;
* the figure, in full, in the model state ``_figure`` when the widget opens (and when a
  page asks for the state again, e.g. after a reload: the figure as it is now);
* each change, as the end of a ``batch_update`` (with the ``plotly_restyle`` and
  ``plotly_relayout`` calls made inside it, which chart updates use) or a single
  assignment makes it: a custom message ``{"type": FIGURE_UPDATE, "traces": [[index,
  {property: value}], ...], "layout": {property: value}, "layout_keys": [...]}`` with
  the changed top-level properties of the changed traces and of the layout, as they
  now are (None: removed); adding, deleting or moving traces sends the whole figure
  (``FIGURE``).

Numeric arrays travel as binary buffers: ``{"dtype", "shape", "buffer"}``, the buffer
being the array's bytes (in the state) or the index of the message buffer holding them
(in a message). Non-finite numbers in lists travel as null (JSON has no NaN).

The browser sends nothing back: no computed state after a redraw, no echo. Python-side
defaults such as an autoranged axis's range stay unknown to the kernel, and a user's zoom
stays in the page.

Two consequences: the kernel answers the bundle request between cell executions, so
during a long "Run All" the first chart of a page appears when the kernel is next idle;
and a page without a running kernel (a notebook exported with its widget state) shows no
chart -- lessons display each live widget with ``marginlab.widgets.show``, whose output
also carries the widget's current chart as static HTML, drawn only where no kernel runs.
"""

from __future__ import annotations

import datetime
import gzip
import hashlib
import json
import math
import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Any

import anywidget
import ipywidgets
import numpy as np
import plotly.graph_objects as go
import plotly.io as pio
import traitlets
from plotly.basedatatypes import Undefined

from marginlab.plotly_bundle import plotly_bundle_source

__all__ = [
    "BUNDLE_REPLY",
    "BUNDLE_REQUEST",
    "FIGURE",
    "FIGURE_UPDATE",
    "FigureFrontEnd",
    "SharedFigureWidget",
    "figure_front_end",
    "make_figure_widget",
]

BUNDLE_REQUEST = "marginlab:plotly-bundle-request"  # browser -> kernel: type, id, encoding
BUNDLE_REPLY = "marginlab:plotly-bundle"  # kernel -> browser: type, id, encoding + 1 buffer
FIGURE = "marginlab:figure"  # kernel -> browser: the whole figure
FIGURE_UPDATE = "marginlab:figure-update"  # kernel -> browser: what changed
GZIP_LEVEL = 6  # 1.2 MB -> 0.42 MB in ~0.1 s, once per kernel

_STATIC = Path(__file__).parent / "static"
FRONT_END_JS = (_STATIC / "figure.js").read_text(encoding="utf-8")
FRONT_END_ID = "figure.js-" + hashlib.sha256(FRONT_END_JS.encode()).hexdigest()[:16]
LOADER_JS = (_STATIC / "figure-loader.js").read_text(encoding="utf-8")
# numpy dtypes with a typed array in the browser (figure.js's DTYPES)
_WIRE_DTYPES = frozenset(
    ("float64", "float32", "int32", "uint32", "int16", "uint16", "int8", "uint8")
)
_PATH_HEAD = re.compile(r"^[^.\[]+")  # "marker.color" -> "marker", "y[3]" -> "y"


@cache
def plotly_bundle() -> tuple[str, bytes, bytes]:
    """plotly.js for the charts: id, bytes, gzipped bytes.

    The id is :func:`marginlab.plotly_bundle.plotly_bundle_source`'s. Compressed once,
    when the kernel makes its first figure (not when a page waits).
    """
    bundle_id, data = plotly_bundle_source()
    gzipped = gzip.compress(data, compresslevel=GZIP_LEVEL, mtime=0)
    return bundle_id, data, gzipped


def _array(value: np.ndarray, buffers: list[memoryview] | None) -> Any:
    """A numeric array for the wire: binary when the browser has a typed array of its
    dtype (int64 goes as float64 while exact), else a list."""
    kind = value.dtype.kind
    if kind == "M":
        return np.datetime_as_string(value).tolist()
    if kind in "iu" and value.dtype.name not in _WIRE_DTYPES:
        if value.size and np.abs(value.astype(float)).max() > 2**53:
            return wire(value.tolist(), buffers)
        value = value.astype(np.float64)
    elif kind == "f" and value.dtype.name not in _WIRE_DTYPES:
        value = value.astype(np.float64)
    elif kind not in "fiu":
        return wire(value.tolist(), buffers)
    native = np.ascontiguousarray(value, dtype=value.dtype.newbyteorder("<"))
    data = memoryview(native).cast("B")
    spec: dict[str, Any] = {"dtype": native.dtype.name, "shape": list(native.shape)}
    if buffers is None:
        spec["buffer"] = data
    else:
        spec["buffer"] = len(buffers)
        buffers.append(data)
    return spec


def wire(value: Any, buffers: list[memoryview] | None = None) -> Any:
    """``value`` (a figure's data or layout, or part of it) as the front end reads it.

    Numeric arrays become ``{"dtype", "shape", "buffer"}``: with ``buffers`` None the
    buffer is the bytes themselves (the widget state, whose buffers ipywidgets lifts
    out), else the index of the bytes appended to ``buffers`` (a custom message).
    """
    if isinstance(value, dict):
        return {key: wire(item, buffers) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [wire(item, buffers) for item in value]
    if isinstance(value, np.ndarray):
        return _array(value, buffers)
    if isinstance(value, np.generic):
        return wire(value.item(), buffers)
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if value is None or isinstance(value, str | int | bool):
        return value
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    return json.loads(pio.to_json(value, validate=False))  # anything else plotly can encode


def _heads(paths: Iterable[str]) -> set[str]:
    """Top-level property names of plotly property paths ("marker.color" -> "marker")."""
    return {match.group(0) for path in paths if (match := _PATH_HEAD.match(str(path)))}


class FigureFrontEnd(ipywidgets.Widget):
    """figure.js, the charts' front end, once per kernel: every figure's loader
    (``static/figure-loader.js``) imports it from this model's state, once per page.

    A model without a view; get the kernel's one with :func:`figure_front_end`.
    """

    source = traitlets.Unicode(FRONT_END_JS).tag(sync=True)


_front_end: FigureFrontEnd | None = None


def figure_front_end() -> FigureFrontEnd:
    """The kernel's open :class:`FigureFrontEnd` (a new one if it was closed, e.g. by
    ``ipywidgets.Widget.close_all()``)."""
    global _front_end
    if _front_end is None or _front_end.comm is None:
        _front_end = FigureFrontEnd()
    return _front_end


class SharedFigureWidget(go.Figure, anywidget.AnyWidget):
    """A ``go.Figure`` shown live in the browser; plotly.js crosses the wire once per page.

    Build it with :func:`make_figure_widget` and change it like any figure, inside
    ``with fig.batch_update():`` for one message per batch. The widget protocol is in the
    module docstring.
    """

    _esm = LOADER_JS
    _front_end = traitlets.Instance(FigureFrontEnd).tag(
        sync=True, **ipywidgets.widget_serialization
    )
    _front_end_id = traitlets.Unicode(FRONT_END_ID).tag(sync=True)  # the page's registry key
    _plotly_bundle_id = traitlets.Unicode().tag(sync=True)
    _figure = traitlets.Dict().tag(sync=True)  # filled by get_state from the figure

    def __init__(self, data: Any = None, layout: Any = None, **kwargs: Any) -> None:
        self._opened = False  # plotly's constructor opens the widget before the data exist
        self._held_traces: dict[int, set[str]] = {}  # changed in this batch: index -> names
        self._held_layout: set[str] = set()  # layout properties changed in this batch
        super().__init__(data=data, layout=layout, **kwargs)
        self._opened = True
        self.open()
        self.on_msg(self._answer_bundle_request)

    def open(self) -> None:
        """Open the comm once the figure exists (its state carries the figure)."""
        if self._opened:
            super().open()

    @traitlets.default("_front_end")
    def _default_front_end(self) -> FigureFrontEnd:
        return figure_front_end()

    @traitlets.default("_plotly_bundle_id")
    def _default_bundle_id(self) -> str:
        return plotly_bundle()[0]

    # --- display: a widget, not plotly's figure renderers ---------------------------------

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None, **kwargs: Any) -> Any:
        return anywidget.AnyWidget._repr_mimebundle_(self, **kwargs)

    def _ipython_display_(self) -> None:
        from IPython.display import display

        data, metadata = anywidget.AnyWidget._repr_mimebundle_(self)
        display(data, metadata=metadata, raw=True)

    def _repr_html_(self) -> None:
        return None

    def show(self, *args: Any, **kwargs: Any) -> SharedFigureWidget:
        return self

    def __repr__(self) -> str:  # cheap: anywidget puts it in every display
        return f"<{type(self).__name__} {self._model_id}>"

    # --- state and messages ----------------------------------------------------------------

    def get_state(self, key: Any = None, drop_defaults: bool = False) -> dict[str, Any]:
        """The widget state; ``_figure`` is the figure as it is now."""
        state = super().get_state(key=key, drop_defaults=drop_defaults)
        if "_figure" in state:
            state["_figure"] = {"data": wire(self._data), "layout": wire(self._layout)}
        return state

    def _answer_bundle_request(self, _widget: object, content: Any, _buffers: list) -> None:
        if not isinstance(content, dict) or content.get("type") != BUNDLE_REQUEST:
            return
        bundle_id, data, gzipped = plotly_bundle()
        if content.get("id") != bundle_id:
            return
        encoding = "gzip" if content.get("encoding") == "gzip" else "identity"
        reply = {"type": BUNDLE_REPLY, "id": bundle_id, "encoding": encoding}
        self.send(reply, buffers=[gzipped if encoding == "gzip" else data])

    def _send_changes(self, traces: dict[int, set[str]], layout: set[str]) -> None:
        """Send the named top-level properties (trace index -> names; layout names) as
        the figure now holds them."""
        if self.comm is None:  # not open yet: the state will carry the figure
            return
        buffers: list[memoryview] = []
        # Sorted: the same change sends the same bytes in every kernel (a set's order
        # follows the process's string hash seed).
        changed = [
            [index, {name: wire(self._data[index].get(name), buffers) for name in sorted(names)}]
            for index, names in sorted(traces.items())
            if names
        ]
        relayout = {name: wire(self._layout.get(name), buffers) for name in sorted(layout)}
        if not changed and not relayout:
            return
        message: dict[str, Any] = {"type": FIGURE_UPDATE, "traces": changed, "layout": relayout}
        if relayout:
            message["layout_keys"] = list(self._layout)
        self.send(message, buffers=buffers)

    def _changed(
        self, restyle: dict[str, Any], trace_indexes: Any, relayout: dict[str, Any]
    ) -> None:
        """What a restyle/relayout changed: sent now, or inside a ``batch_update`` noted
        and sent with the batch's message."""
        heads = {name: _heads([name]) for name in restyle}
        for position, index in enumerate(self._normalize_trace_indexes(trace_indexes)):
            for name, values in restyle.items():
                value = values[position % len(values)] if isinstance(values, list) else values
                if value is not Undefined:
                    self._held_traces.setdefault(index, set()).update(heads[name])
        self._held_layout.update(_heads(relayout))
        if not self._in_batch_mode:
            self._send_held()

    def _send_held(self) -> None:
        """Send what :meth:`_changed` noted, once."""
        traces, layout = self._held_traces, self._held_layout
        self._held_traces, self._held_layout = {}, set()
        self._send_changes(traces, layout)

    @contextmanager
    def batch_update(self) -> Iterator[None]:
        """plotly's ``batch_update``, whose one message also carries what
        ``plotly_restyle``/``plotly_relayout`` changed inside it (they send at once in
        plotly; :func:`marginlab.charts._common.apply` restyles)."""
        try:
            with super().batch_update():
                yield
        finally:
            if not self._in_batch_mode and (self._held_traces or self._held_layout):
                self._send_held()  # the batch's own assignments had nothing to send

    def _send_figure(self) -> None:
        self._held_traces, self._held_layout = {}, set()  # the figure carries them
        if self.comm is None:
            return
        buffers: list[memoryview] = []
        figure = {"data": wire(self._data, buffers), "layout": wire(self._layout, buffers)}
        self.send({"type": FIGURE, "figure": figure}, buffers=buffers)

    # plotly's hooks for a figure's front end (plotly.basedatatypes.BaseFigure calls them
    # after changing the figure; plotly's own FigureWidget overrides the same ones).

    def _send_update_msg(
        self,
        restyle_data: dict[str, Any],
        relayout_data: dict[str, Any],
        trace_indexes: Any = None,
        source_view_id: Any = None,
    ) -> None:
        self._changed(restyle_data or {}, trace_indexes, relayout_data or {})

    def _send_restyle_msg(
        self, restyle_data: dict[str, Any], trace_indexes: Any = None, source_view_id: Any = None
    ) -> None:
        self._changed(restyle_data, trace_indexes, {})

    def _send_relayout_msg(self, layout_data: dict[str, Any], source_view_id: Any = None) -> None:
        self._changed({}, [], layout_data)

    def _send_animate_msg(
        self,
        styles_data: Any,
        relayout_data: dict[str, Any],
        trace_indexes: Any,
        animation_opts: Any,
    ) -> None:
        self._send_figure()  # batch_animate: the end state, drawn at once

    def _send_addTraces_msg(self, new_traces_data: Any) -> None:
        self._send_figure()

    def _send_deleteTraces_msg(self, delete_inds: Any) -> None:
        self._send_figure()

    def _send_moveTraces_msg(self, current_inds: Any, new_inds: Any) -> None:
        self._send_figure()


def make_figure_widget(fig: go.Figure) -> SharedFigureWidget:
    """A live, shared-plotly.js widget showing a copy of ``fig`` (a ``go.Figure``).

    Chart builders return plain ``go.Figure`` objects; widgets wrap them with this and
    then change trace data in place inside ``batch_update``.
    """
    if not isinstance(fig, go.Figure):
        raise TypeError(f"fig must be a plotly.graph_objects.Figure, got {type(fig).__name__}")
    return SharedFigureWidget(fig)
