"""Which plotly widget bundle (plotly.js and plotly's FigureWidget front end) the live
charts load, named by an id that the browser side uses to share one copy per page.

plotly's own bundle (``package_data/widgetbundle.js``) carries the full plotly.js: every
trace type, maps included, ~1.7 s of a 2-core laptop's CPU to start in a page before
the first chart draws. ``widgets/static/plotly-widget-charts.js`` is the same bundle with
plotly.js of the same version built with only the trace types the charts draw
(``marginlab.charts._common.TRACE_TYPES``; ~0.35 s to start), made by
``tools/plotly_bundle/build.sh``. Its header names the exact plotly bundle it was built
from and its trace types; it is used only when that bundle is the installed one.

Kept apart from ``marginlab.widgets`` so that serving (``marginlab.serve``) can name the
bundle without importing plotly's figure classes (seconds on a cold start).
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
import re
from functools import cache
from pathlib import Path

CHARTS_BUNDLE = Path(__file__).resolve().parent / "widgets" / "static" / "plotly-widget-charts.js"
HEADER_BYTES = 800  # the build header (tools/plotly_bundle/build.mjs) fits in this


def plotly_widget_bundle() -> bytes:
    """plotly's own ``package_data/widgetbundle.js`` (FigureWidget front end + plotly.js)."""
    spec = importlib.util.find_spec("plotly")
    if spec is None or spec.origin is None:
        raise ModuleNotFoundError("plotly is not installed")
    return (Path(spec.origin).parent / "package_data" / "widgetbundle.js").read_bytes()


def _header() -> str:
    if not CHARTS_BUNDLE.is_file():
        return ""
    with CHARTS_BUNDLE.open("rb") as file:
        return file.read(HEADER_BYTES).decode("utf-8", errors="replace")


def charts_bundle_traces() -> frozenset[str]:
    """The plotly trace types :data:`CHARTS_BUNDLE` can draw (from its header)."""
    found = re.search(r"\(traces: ([\w,]+)\)", _header())
    return frozenset(found.group(1).split(",")) if found else frozenset()


def charts_bundle_matches(plotly_bundle: bytes) -> bool:
    """True when :data:`CHARTS_BUNDLE` was built from ``plotly_bundle`` (its header
    records the sha256 of the bundle whose plotly.js it replaced)."""
    recorded = re.search(r"sha256 ([0-9a-f]{64})", _header())
    return recorded is not None and recorded.group(1) == hashlib.sha256(plotly_bundle).hexdigest()


@cache
def plotly_bundle_source() -> tuple[str, bytes]:
    """(id, bytes) of the bundle the live charts load: the charts bundle when it matches
    the installed plotly, else plotly's own.

    The id names the exact bytes (plotly version and a content hash), so a page that
    holds figures from kernels with different bundles keeps one copy of each.
    """
    data = plotly_widget_bundle()
    if charts_bundle_matches(data):
        data = CHARTS_BUNDLE.read_bytes()
    digest = hashlib.sha256(data).hexdigest()[:16]
    return f"plotly-{importlib.metadata.version('plotly')}-{digest}", data
