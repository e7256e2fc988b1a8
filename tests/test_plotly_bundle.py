"""The plotly bundle the live charts load: plotly's FigureWidget front end with
plotly.js's cartesian partial bundle, used only when built from the installed plotly."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import plotly
import pytest

from marginlab import plotly_bundle as pb
from marginlab.charts._common import TRACE_TYPES

PLOTLY_OWN = (Path(plotly.__file__).parent / "package_data" / "widgetbundle.js").read_bytes()


def test_cartesian_bundle_was_built_from_the_pinned_plotly() -> None:
    # If this fails after a plotly upgrade: bash tools/plotly_bundle/build.sh
    assert pb.cartesian_bundle_matches(PLOTLY_OWN)


def test_bundle_source_is_the_cartesian_bundle_named_by_version_and_content() -> None:
    bundle_id, data = pb.plotly_bundle_source()
    assert data == pb.CARTESIAN_BUNDLE.read_bytes()
    digest = hashlib.sha256(data).hexdigest()[:16]
    assert bundle_id == f"plotly-{plotly.__version__}-{digest}"


def test_cartesian_bundle_keeps_plotlys_front_end_and_drops_the_full_plotly_js() -> None:
    data = pb.CARTESIAN_BUNDLE.read_text(encoding="utf-8")
    assert len(data) < 0.4 * len(PLOTLY_OWN)  # 1.62 MB of 4.96 MB with plotly 7.1
    assert "plotly.js (cartesian - minified) v" in data
    assert data.count("__marginlabPlotly") == 2  # defined once, imported once
    # plotly's FigureWidget code is kept byte for byte: its tail is plotly's tail.
    assert data.endswith(PLOTLY_OWN.decode("utf-8")[-15_000:])
    registered = set(re.findall(r'moduleType:"trace",name:"(\w+)"', data))
    assert registered == pb.CARTESIAN_TRACE_TYPES  # no maps, 3-D or WebGL traces


def test_every_chart_trace_type_is_in_the_cartesian_bundle() -> None:
    assert set(TRACE_TYPES) <= pb.CARTESIAN_TRACE_TYPES


def test_cartesian_bundle_license_is_shipped_next_to_it() -> None:
    license_file = pb.CARTESIAN_BUNDLE.with_suffix(".LICENSE")
    assert "MIT License" in license_file.read_text()


def test_other_plotly_bundle_falls_back_to_plotlys_own(monkeypatch, tmp_path) -> None:
    stale = tmp_path / "plotly-widget-cartesian.js"
    stale.write_text(f"// built from (sha256 {'0' * 64})\nconst x = 1;\n")
    monkeypatch.setattr(pb, "CARTESIAN_BUNDLE", stale)
    pb.plotly_bundle_source.cache_clear()
    try:
        bundle_id, data = pb.plotly_bundle_source()
    finally:
        pb.plotly_bundle_source.cache_clear()
    assert data == PLOTLY_OWN
    assert bundle_id == f"plotly-{plotly.__version__}-{hashlib.sha256(PLOTLY_OWN).hexdigest()[:16]}"


@pytest.mark.parametrize("content", [None, "// no header\n"])
def test_missing_or_headerless_cartesian_bundle_does_not_match(monkeypatch, tmp_path, content):
    path = tmp_path / "bundle.js"
    if content is not None:
        path.write_text(content)
    monkeypatch.setattr(pb, "CARTESIAN_BUNDLE", path)
    assert not pb.cartesian_bundle_matches(PLOTLY_OWN)
