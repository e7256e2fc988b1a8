#!/usr/bin/env bash
# Rebuild marginlab/widgets/static/plotly-widget-charts.js after a plotly upgrade or a new
# chart trace type (tests/test_plotly_bundle.py says when). Needs node and npm (the npm
# registry only). Usage: bash tools/plotly_bundle/build.sh [PYTHON] (default .venv/bin/python)
#
# The bundle is plotly's own FigureWidget front end (plotly.py's widgetbundle.js) with its
# full plotly.js replaced by plotly.js of the same version built with only the trace
# types marginlab's charts draw (marginlab.charts._common.TRACE_TYPES).
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
python="${1:-$root/.venv/bin/python}"
out="$root/marginlab/widgets/static/plotly-widget-charts.js"
package_data="$("$python" -c 'import pathlib, plotly; print(pathlib.Path(plotly.__file__).parent / "package_data")')"
plotly_py="$("$python" -c 'import plotly; print(plotly.__version__)')"
traces="$("$python" -c 'from marginlab.charts._common import TRACE_TYPES; print(",".join(TRACE_TYPES))')"
plotly_js="$(sed -n 's/^\* plotly\.js v\([0-9.]*\)$/\1/p' "$package_data/plotly.min.js" | head -1)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$work"
npm install --silent --no-save acorn@8 esbuild@0.25 "plotly.js@$plotly_js"
# plotly.js's own recipe for a partial bundle (lib/index-*.js): core (scatter) + traces.
{
  echo "var Plotly = require('plotly.js/lib/core');"
  echo "Plotly.register(["
  for trace in ${traces//,/ }; do
    [ "$trace" = scatter ] || echo "  require('plotly.js/lib/$trace'),"
  done
  echo "]);"
  echo "module.exports = Plotly;"
} > entry.js
# As plotly.js's esbuild-config.js, minified; CSS (maplibre's, for maps) is left out.
npx esbuild entry.js --bundle --minify --format=cjs --platform=browser --target=es2016 \
  --define:global=window --define:define.amd=false --log-level=warning \
  --metafile=meta.json --outfile=plotly-partial.js
cp "$root/tools/plotly_bundle/build.mjs" .
node build.mjs "$package_data/widgetbundle.js" plotly-partial.js "$out" \
  "$plotly_py" "$plotly_js" "$traces"
node build.mjs --licenses meta.json > "${out%.js}.LICENSES.txt"
