#!/usr/bin/env bash
# Rebuild marginlab/widgets/static/plotly-charts.js, the plotly.js of the live charts,
# after a plotly upgrade or a new chart trace type (tests/test_plotly_bundle.py says when).
# Needs node and npm (the npm registry only).
# Usage: bash tools/plotly_bundle/build.sh [PYTHON]   (default .venv/bin/python)
#
# The official plotly.js npm package, of the version the installed plotly.py renders
# with, built the way plotly.js builds its own partial bundles (lib/index-*.js: lib/core
# plus the trace modules; esbuild with the settings of plotly.js's esbuild-config.js,
# minified), with only the trace types marginlab's charts draw
# (marginlab.charts._common.TRACE_TYPES), as an ES module whose default export is Plotly.
set -euo pipefail
ESBUILD_VERSION=0.25.12
root="$(cd "$(dirname "$0")/../.." && pwd)"
python="${1:-$root/.venv/bin/python}"
out="$root/marginlab/widgets/static/plotly-charts.js"
plotly_js="$("$python" -c 'from marginlab.plotly_bundle import plotly_py_plotly_js_version as v; print(v())')"
traces="$("$python" -c 'from marginlab.charts._common import TRACE_TYPES; print(",".join(TRACE_TYPES))')"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$work"
# Exact versions; the lock file records the integrity hash of what npm fetched.
cat > package.json <<JSON
{"private": true, "dependencies": {"plotly.js": "$plotly_js", "esbuild": "$ESBUILD_VERSION"}}
JSON
npm install --silent --no-audit --no-fund
{
  echo "// plotly.js's partial-bundle recipe (lib/index-*.js): core (scatter) plus traces."
  echo "import Plotly from 'plotly.js/lib/core';"
  for trace in ${traces//,/ }; do
    [ "$trace" = scatter ] || echo "import $trace from 'plotly.js/lib/$trace';"
  done
  echo "Plotly.register([${traces//scatter,/}]);"
  echo "export default Plotly;"
} > entry.mjs
# As plotly.js's esbuild-config.js (target, defines), minified, but an ES module; its
# plugins are for CSS, shaders and NODE_DEBUG, which these trace types do not use.
npx esbuild entry.mjs --bundle --minify --format=esm --platform=browser --target=es2016 \
  --define:global=window --define:define.amd=false --log-level=warning \
  --metafile=meta.json --outfile=plotly-charts.js
cp "$root/tools/plotly_bundle/build.mjs" .
node build.mjs plotly-charts.js "$out" "$plotly_js" "$traces" "$ESBUILD_VERSION"
node build.mjs --licenses meta.json > "${out%.js}.LICENSES.txt"
