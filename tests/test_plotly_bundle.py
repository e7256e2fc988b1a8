"""The plotly bundle the live charts load: plotly's FigureWidget front end with plotly.js
built for the charts' trace types, used only when built from the installed plotly."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import plotly
import pytest

from marginlab import plotly_bundle as pb
from marginlab.charts._common import TRACE_TYPES

PLOTLY_OWN = (Path(plotly.__file__).parent / "package_data" / "widgetbundle.js").read_bytes()


def test_charts_bundle_was_built_from_the_pinned_plotly() -> None:
    # If this fails after a plotly upgrade: bash tools/plotly_bundle/build.sh
    assert pb.charts_bundle_matches(PLOTLY_OWN)


def test_charts_bundle_draws_exactly_the_chart_trace_types() -> None:
    # If this fails after adding a trace type to TRACE_TYPES: bash tools/plotly_bundle/build.sh
    assert pb.charts_bundle_traces() == set(TRACE_TYPES)
    data = pb.CHARTS_BUNDLE.read_text(encoding="utf-8")
    registered = set(re.findall(r'moduleType:"trace",name:"(\w+)"', data))
    assert registered == set(TRACE_TYPES)  # no maps, 3-D or WebGL traces


def test_bundle_source_is_the_charts_bundle_named_by_version_and_content() -> None:
    bundle_id, data = pb.plotly_bundle_source()
    assert data == pb.CHARTS_BUNDLE.read_bytes()
    digest = hashlib.sha256(data).hexdigest()[:16]
    assert bundle_id == f"plotly-{plotly.__version__}-{digest}"


def test_charts_bundle_keeps_plotlys_front_end_and_drops_the_full_plotly_js() -> None:
    data = pb.CHARTS_BUNDLE.read_text(encoding="utf-8")
    assert len(data) < 0.3 * len(PLOTLY_OWN)  # 1.32 MB of 4.96 MB with plotly 7.1
    assert data.count("__marginlabPlotly") == 2  # defined once, imported once
    # plotly's FigureWidget code is kept byte for byte: its tail is plotly's tail.
    assert data.endswith(PLOTLY_OWN.decode("utf-8")[-15_000:])


def test_charts_bundle_licenses_are_listed_next_to_it() -> None:
    licenses = pb.CHARTS_BUNDLE.with_suffix(".LICENSES.txt").read_text()
    assert re.search(r"^plotly\.js@[\d.]+: MIT$", licenses, re.MULTILINE)
    assert re.search(r"^@plotly/d3@[\d.]+: BSD-3-Clause$", licenses, re.MULTILINE)


def test_other_plotly_bundle_falls_back_to_plotlys_own(monkeypatch, tmp_path) -> None:
    stale = tmp_path / "plotly-widget-charts.js"
    stale.write_text(f"// (traces: scatter) built from (sha256 {'0' * 64})\nconst x = 1;\n")
    monkeypatch.setattr(pb, "CHARTS_BUNDLE", stale)
    pb.plotly_bundle_source.cache_clear()
    try:
        bundle_id, data = pb.plotly_bundle_source()
    finally:
        pb.plotly_bundle_source.cache_clear()
    assert data == PLOTLY_OWN
    assert bundle_id == f"plotly-{plotly.__version__}-{hashlib.sha256(PLOTLY_OWN).hexdigest()[:16]}"


@pytest.mark.parametrize("content", [None, "// no header\n"])
def test_missing_or_headerless_charts_bundle_does_not_match(monkeypatch, tmp_path, content):
    path = tmp_path / "bundle.js"
    if content is not None:
        path.write_text(content)
    monkeypatch.setattr(pb, "CHARTS_BUNDLE", path)
    assert not pb.charts_bundle_matches(PLOTLY_OWN)
    assert pb.charts_bundle_traces() == frozenset()
