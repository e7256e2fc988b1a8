"""The plotly.js the live charts load: the official plotly.js of plotly.py's version, built
with the charts' trace types only, named by version and content."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from marginlab import plotly_bundle as pb
from marginlab.charts._common import TRACE_TYPES
from marginlab.widgets._plotly import FRONT_END_JS

BUILD_SH = Path(__file__).resolve().parents[1] / "tools" / "plotly_bundle" / "build.sh"


def test_bundle_is_the_plotly_js_of_the_installed_plotly() -> None:
    # If this fails after a plotly upgrade: bash tools/plotly_bundle/build.sh
    assert pb.bundle_version() == pb.plotly_py_plotly_js_version() != ""


def test_front_end_was_checked_against_the_bundled_plotly_js() -> None:
    # If this fails after rebuilding the bundle: run tests/browser/test_figure_redraw.py
    # (every update drawn like a fresh plot; slider steps drawn as plotly.js frames), and
    # only then move PLOTLY_JS_CHECKED in widgets/static/figure.js to the new release.
    checked = re.search(r'^const PLOTLY_JS_CHECKED = "(\d+\.\d+)";$', FRONT_END_JS, re.M)
    assert checked is not None
    assert pb.bundle_version().startswith(f"{checked.group(1)}.")


def test_bundle_is_the_plotly_js_release_its_header_names() -> None:
    header = pb.bundle_header()
    data = pb.CHARTS_BUNDLE.read_text(encoding="utf-8")
    assert f'version="{pb.bundle_version()}"' in data  # plotly.js's own version constant
    # The npm package it was built from, pinned by version and integrity hash.
    assert re.search(
        rf"plotly\.js@{re.escape(pb.bundle_version())} \(MIT; sha512-[\w+/=]{{88}}\)", header
    )
    esbuild = re.search(r"^ESBUILD_VERSION=(\S+)$", BUILD_SH.read_text(), re.MULTILINE).group(1)
    assert f"with esbuild {esbuild} " in header


def test_bundle_draws_exactly_the_chart_trace_types() -> None:
    # If this fails after adding a trace type to TRACE_TYPES: bash tools/plotly_bundle/build.sh
    assert pb.bundle_traces() == set(TRACE_TYPES)
    data = pb.CHARTS_BUNDLE.read_text(encoding="utf-8")
    registered = set(re.findall(r'moduleType:"trace",name:"(\w+)"', data))
    assert registered == set(TRACE_TYPES)  # no maps, 3-D or WebGL traces


def test_bundle_is_an_es_module_whose_default_export_is_plotly() -> None:
    data = pb.CHARTS_BUNDLE.read_text(encoding="utf-8")
    assert re.search(r"export\s*\{\s*[\w$]+ as default\s*\};", data[-2_000:])
    assert "import " not in data.split("\n", 5)[5][:200]  # self-contained: nothing to fetch
    assert 0.8e6 < len(data) < 1.6e6  # the full plotly.js is ~4.9 MB


def test_bundle_source_is_the_charts_bundle_named_by_version_and_content() -> None:
    bundle_id, data = pb.plotly_bundle_source()
    assert data == pb.CHARTS_BUNDLE.read_bytes()
    digest = hashlib.sha256(data).hexdigest()[:16]
    assert bundle_id == f"plotly.js-{pb.bundle_version()}-{digest}"


def test_bundle_licenses_are_listed_next_to_it() -> None:
    licenses = pb.CHARTS_BUNDLE.with_suffix(".LICENSES.txt").read_text()
    assert re.search(rf"^plotly\.js@{re.escape(pb.bundle_version())}: MIT$", licenses, re.MULTILINE)
    assert re.search(r"^@plotly/d3@[\d.]+: BSD-3-Clause$", licenses, re.MULTILINE)
    assert "Permission is hereby granted, free of charge" in licenses  # plotly.js's LICENSE


def test_missing_bundle_has_no_version_or_traces(monkeypatch, tmp_path) -> None:
    monkeypatch.setattr(pb, "CHARTS_BUNDLE", tmp_path / "missing.js")
    assert (pb.bundle_header(), pb.bundle_version(), pb.bundle_traces()) == ("", "", frozenset())
