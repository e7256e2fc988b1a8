"""plotly.js for the live charts, named by an id the browser uses to share one copy per page.

``widgets/static/plotly-charts.js`` is the official plotly.js npm package, of the version
plotly.py bundles, built with only the trace types the charts draw
(``marginlab.charts._common.TRACE_TYPES``) by ``tools/plotly_bundle/build.sh``, following
plotly.js's partial-bundle recipe (its ``lib/index-*.js`` files: core plus the traces).
It is an ES module whose default export is ``Plotly``. Its header names the plotly.js
version, the npm package's integrity hash and the trace types. The full plotly.js
(every trace type, maps included) takes ~1.7 s of a 2-core laptop's CPU to start in a
page; this one ~0.3 s.

Kept apart from ``marginlab.widgets`` so that serving (``marginlab.serve``) can name the
bundle without importing plotly's figure classes (seconds on a cold start).
"""

from __future__ import annotations

import hashlib
import importlib.util
import re
from functools import cache
from pathlib import Path

CHARTS_BUNDLE = Path(__file__).resolve().parent / "widgets" / "static" / "plotly-charts.js"
HEADER_BYTES = 1000  # the build header (tools/plotly_bundle/build.sh) fits in this


def bundle_header() -> str:
    """The comment lines that open :data:`CHARTS_BUNDLE` ("" when it is missing)."""
    if not CHARTS_BUNDLE.is_file():
        return ""
    with CHARTS_BUNDLE.open("rb") as file:
        return file.read(HEADER_BYTES).decode("utf-8", errors="replace")


def bundle_version() -> str:
    """The plotly.js version :data:`CHARTS_BUNDLE` was built from ("" when unknown)."""
    found = re.search(r"plotly\.js v(\d+\.\d+\.\d+)", bundle_header())
    return found.group(1) if found else ""


def bundle_traces() -> frozenset[str]:
    """The plotly trace types :data:`CHARTS_BUNDLE` can draw (from its header)."""
    found = re.search(r"\(traces: ([\w,]+)\)", bundle_header())
    return frozenset(found.group(1).split(",")) if found else frozenset()


def plotly_py_plotly_js_version() -> str:
    """The plotly.js version the installed plotly.py renders with (its plotly.min.js)."""
    spec = importlib.util.find_spec("plotly")
    if spec is None or spec.origin is None:
        raise ModuleNotFoundError("plotly is not installed")
    path = Path(spec.origin).parent / "package_data" / "plotly.min.js"
    with path.open("rb") as file:
        head = file.read(400).decode("utf-8", errors="replace")
    found = re.search(r"plotly\.js v(\d+\.\d+\.\d+)", head)
    if found is None:
        raise ValueError(f"no plotly.js version in the header of {path}")
    return found.group(1)


@cache
def plotly_bundle_source() -> tuple[str, bytes]:
    """(id, bytes) of the plotly.js the live charts load.

    The id names the exact bytes (plotly.js version and a content hash), so a page that
    holds figures from kernels with different bundles keeps one copy of each.
    """
    data = CHARTS_BUNDLE.read_bytes()
    digest = hashlib.sha256(data).hexdigest()[:16]
    return f"plotly.js-{bundle_version()}-{digest}", data
