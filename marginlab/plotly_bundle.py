"""Which plotly widget bundle (plotly.js and plotly's FigureWidget front end) the live
charts load, named by an id that the browser side uses to share one copy per page.

plotly's own bundle (``package_data/widgetbundle.js``) carries the full plotly.js: every
trace type, maps included, ~1.7 s of a 2-core laptop's CPU to start in a page before
the first chart draws. ``widgets/static/plotly-widget-cartesian.js`` is the same bundle
with plotly.js's official "cartesian" partial bundle of the same plotly.js version in its
place (~0.85 s), built by ``tools/plotly_bundle/build.sh``; its header names the exact
plotly bundle it was built from, and it is used only when that is the installed one.
It draws the trace types in :data:`CARTESIAN_TRACE_TYPES` (every chart of marginlab).

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

CARTESIAN_BUNDLE = (
    Path(__file__).resolve().parent / "widgets" / "static" / "plotly-widget-cartesian.js"
)
CARTESIAN_TRACE_TYPES = frozenset(
    {
        "bar",
        "box",
        "contour",
        "heatmap",
        "histogram",
        "histogram2d",
        "histogram2dcontour",
        "image",
        "pie",
        "scatter",
        "scatterternary",
        "violin",
    }
)  # the trace modules of plotly.js-cartesian-dist-min


def plotly_widget_bundle() -> bytes:
    """plotly's own ``package_data/widgetbundle.js`` (FigureWidget front end + plotly.js)."""
    spec = importlib.util.find_spec("plotly")
    if spec is None or spec.origin is None:
        raise ModuleNotFoundError("plotly is not installed")
    return (Path(spec.origin).parent / "package_data" / "widgetbundle.js").read_bytes()


def cartesian_bundle_matches(plotly_bundle: bytes) -> bool:
    """True when :data:`CARTESIAN_BUNDLE` was built from ``plotly_bundle`` (its header
    records the sha256 of the bundle it replaced plotly.js in)."""
    if not CARTESIAN_BUNDLE.is_file():
        return False
    with CARTESIAN_BUNDLE.open("rb") as file:
        header = file.read(600).decode("utf-8", errors="replace")
    recorded = re.search(r"sha256 ([0-9a-f]{64})", header)
    return recorded is not None and recorded.group(1) == hashlib.sha256(plotly_bundle).hexdigest()


@cache
def plotly_bundle_source() -> tuple[str, bytes]:
    """(id, bytes) of the bundle the live charts load: the cartesian one when it matches
    the installed plotly, else plotly's own.

    The id names the exact bytes (plotly version and a content hash), so a page that
    holds figures from kernels with different bundles keeps one copy of each.
    """
    data = plotly_widget_bundle()
    if cartesian_bundle_matches(data):
        data = CARTESIAN_BUNDLE.read_bytes()
    digest = hashlib.sha256(data).hexdigest()[:16]
    return f"plotly-{importlib.metadata.version('plotly')}-{digest}", data
