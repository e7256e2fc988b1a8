#!/usr/bin/env bash
# Rebuild marginlab/widgets/static/plotly-widget-cartesian.js after a plotly upgrade
# (tests/test_plotly_bundle.py says when). Needs node and npm (the npm registry only).
# Usage: bash tools/plotly_bundle/build.sh [PYTHON]   (default: .venv/bin/python)
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
python="${1:-$root/.venv/bin/python}"
package_data="$("$python" -c 'import pathlib, plotly; print(pathlib.Path(plotly.__file__).parent / "package_data")')"
plotly_py="$("$python" -c 'import plotly; print(plotly.__version__)')"
plotly_js="$(sed -n 's/^\* plotly\.js v\([0-9.]*\)$/\1/p' "$package_data/plotly.min.js" | head -1)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
npm install --silent --no-save --prefix "$work" acorn@8 "plotly.js-cartesian-dist-min@$plotly_js"
cp "$root/tools/plotly_bundle/build.mjs" "$work/"
dist="$work/node_modules/plotly.js-cartesian-dist-min"
node "$work/build.mjs" "$package_data/widgetbundle.js" "$dist/plotly-cartesian.min.js" \
  "$root/marginlab/widgets/static/plotly-widget-cartesian.js" "$plotly_py"
cp "$dist/LICENSE" "$root/marginlab/widgets/static/plotly-widget-cartesian.LICENSE"
