"""FigureWidgets that send plotly.js to the browser once per page, not once per chart.

plotly's ``go.FigureWidget`` is an anywidget whose module source is plotly's whole
widget bundle (plotly.js included, ~5 MB), and anywidget sends a widget's module source
with every instance: four charts cost ~20 MB, again after every browser reload.

:class:`SharedFigureWidget` is a ``go.FigureWidget`` whose module source is a small
loader (``static/plotly_loader.js``, a few KB). In the browser the first figure of a
page asks the kernel for the bundle with a custom comm message; the kernel answers that
request with the bundle as one binary buffer; the page keeps it in a page-global
registry, and every later figure on the page -- in this notebook, another notebook, a
new cell -- uses that copy. A reloaded page starts empty and asks again. Nothing is
fetched from another host, so it works offline, in JupyterLab, Notebook 7 and Voila
alike (anything that speaks the Jupyter widget protocol). In a Voila page served by
``marginlab present`` the bundle usually arrives first over HTTP (``marginlab.serve``).

The bundle is :func:`marginlab.plotly_bundle.plotly_bundle_source`'s: plotly's own
FigureWidget front end with plotly.js built with only the trace types the charts draw
(scatter, bar, contour: 1.32 MB, gzipped 0.46 MB, a fifth of the full plotly.js's
start-up time), so these figures draw those trace types, not maps, 3-D or WebGL.

The page does not send back the figure's computed state after each redraw (plotly's
``_js2py_traceDeltas``/``layoutDelta``, 5-17 KB per chart per step): Python-side
defaults such as an autoranged axis's range stay unknown to the kernel.

Two consequences: the kernel answers between cell executions, so during a long "Run
All" the first chart of a page appears when the kernel is next idle; and a page without
a running kernel (a notebook exported with its widget state) shows no chart -- lessons
display each live widget with ``marginlab.widgets.show``, whose output also carries the
widget's current chart as static HTML, drawn only where no kernel runs.

Python-side behaviour is plotly's: trace updates inside ``batch_update`` travel as one
``_py2js_update`` message, numpy arrays as binary buffers. One addition: a full state
(a page loading the model, e.g. after a reload) carries the figure as it is now, where
plotly's would carry it as it was when last displayed.
"""

from __future__ import annotations

import gzip
from functools import cache
from pathlib import Path
from typing import Any

import plotly.graph_objects as go
import traitlets

from marginlab.plotly_bundle import plotly_bundle_source

__all__ = ["BUNDLE_REPLY", "BUNDLE_REQUEST", "SharedFigureWidget", "make_figure_widget"]

BUNDLE_REQUEST = "marginlab:plotly-bundle-request"  # browser -> kernel: type, id, encoding
BUNDLE_REPLY = "marginlab:plotly-bundle"  # kernel -> browser: type, id, encoding + 1 buffer
GZIP_LEVEL = 6  # 1.32 MB -> 0.46 MB in ~0.1 s, once per kernel

_LOADER_JS = (Path(__file__).parent / "static" / "plotly_loader.js").read_text(encoding="utf-8")


@cache
def plotly_bundle() -> tuple[str, bytes, bytes]:
    """plotly's own widget bundle (FigureModel/FigureView with plotly.js): id, bytes, gzip.

    The id is :func:`marginlab.plotly_bundle.plotly_bundle_source`'s. Compressed once,
    when the kernel makes its first figure (not when a page waits).
    """
    bundle_id, data = plotly_bundle_source()
    gzipped = gzip.compress(data, compresslevel=GZIP_LEVEL, mtime=0)
    return bundle_id, data, gzipped


class SharedFigureWidget(go.FigureWidget):
    """A ``go.FigureWidget`` whose plotly.js crosses the wire at most once per page.

    Use it exactly like ``go.FigureWidget``. The browser requests the bundle with
    ``{"type": BUNDLE_REQUEST, "id": <bundle id>, "encoding": "gzip" | "identity"}``
    (gzip where the browser has ``DecompressionStream``); each request for this kernel's
    bundle is answered once with ``{"type": BUNDLE_REPLY, "id": ..., "encoding": ...}``
    and the bundle, gzipped or not, as the single buffer.
    """

    _esm = _LOADER_JS
    _plotly_bundle_id = traitlets.Unicode().tag(sync=True)

    def __init__(self, data: Any = None, layout: Any = None, **kwargs: Any) -> None:
        super().__init__(data=data, layout=layout, **kwargs)
        self.on_msg(self._answer_bundle_request)

    @traitlets.default("_plotly_bundle_id")
    def _default_bundle_id(self) -> str:
        return plotly_bundle()[0]

    def _answer_bundle_request(self, _widget: object, content: Any, _buffers: list) -> None:
        if not isinstance(content, dict) or content.get("type") != BUNDLE_REQUEST:
            return
        bundle_id, data, gzipped = plotly_bundle()
        if content.get("id") != bundle_id:
            return
        encoding = "gzip" if content.get("encoding") == "gzip" else "identity"
        reply = {"type": BUNDLE_REPLY, "id": bundle_id, "encoding": encoding}
        self.send(reply, buffers=[gzipped if encoding == "gzip" else data])

    def get_state(self, key: Any = None, drop_defaults: bool = False) -> dict[str, Any]:
        """The widget state; a full state carries the figure as it is now.

        plotly refreshes ``_widget_data``/``_widget_layout`` only when the figure itself is
        displayed, so a page that (re)loads the model -- a browser reload, a second view
        of a container holding it -- would otherwise draw the figure as it was then and
        not as the last ``batch_update`` left it.
        """
        state = super().get_state(key=key, drop_defaults=drop_defaults)
        if key is None:  # a full state: the comm opening, or a page asking for it
            for name, attribute in (("_widget_data", "_data"), ("_widget_layout", "_layout")):
                value = vars(self).get(attribute)  # None while plotly's __init__ is running
                if name in state and value is not None:
                    state[name] = self.trait_metadata(name, "to_json")(value, self)
        return state


def make_figure_widget(fig: go.Figure) -> SharedFigureWidget:
    """A live, shared-plotly.js widget showing a copy of ``fig`` (a ``go.Figure``).

    Chart builders return plain ``go.Figure`` objects; widgets wrap them with this and
    then change trace data in place inside ``batch_update``.
    """
    if not isinstance(fig, go.Figure):
        raise TypeError(f"fig must be a plotly.graph_objects.Figure, got {type(fig).__name__}")
    return SharedFigureWidget(fig)
