// Build marginlab/widgets/static/plotly-widget-charts.js (run through build.sh):
// plotly's own FigureWidget front end (plotly.py's package_data/widgetbundle.js) with its
// full plotly.js swapped for PARTIAL_JS, plotly.js of the same version built with only
// the trace types marginlab draws.
//
// Why: the full plotly.js (every trace type, maps included) takes ~1.7 s of a 2-core
// laptop's CPU to start in a page before the first chart can draw; plotly.js with
// scatter, bar and contour only takes ~0.35 s. plotly's FigureModel/FigureView code is
// kept byte for byte.
//
//   node build.mjs WIDGETBUNDLE_JS PARTIAL_JS OUT_JS PLOTLY_PY_VERSION PLOTLY_JS_VERSION TRACES
//   node build.mjs --licenses ESBUILD_METAFILE     (prints the bundled npm packages)
import fs from "node:fs";
import path from "node:path";
import crypto from "node:crypto";
import * as acorn from "acorn";

if (process.argv[2] === "--licenses") {
  const meta = JSON.parse(fs.readFileSync(process.argv[3], "utf8"));
  const packages = new Map();
  const [js] = Object.entries(meta.outputs).filter(([name]) => name.endsWith(".js"));
  for (const input of Object.keys(js[1].inputs)) {
    const match = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(input);
    if (match === null || input.endsWith(".css") || packages.has(match[1])) continue;
    const manifest = JSON.parse(fs.readFileSync(path.join("node_modules", match[1], "package.json"), "utf8"));
    packages.set(match[1], `${match[1]}@${manifest.version}: ${manifest.license ?? "see the package"}`);
  }
  console.log("npm packages bundled in plotly-widget-charts.js (plotly.js and what it imports),");
  console.log("each under its own license; plotly.py's widget front end and lodash are MIT.");
  console.log([...packages.values()].sort().join("\n"));
  process.exit(0);
}

const [, , bundlePath, partialPath, outPath, plotlyPyVersion, plotlyJsVersion, traces] = process.argv;
const source = fs.readFileSync(bundlePath, "utf8");
const partial = fs.readFileSync(partialPath, "utf8");
const ast = acorn.parse(source, { ecmaVersion: "latest", sourceType: "module" });

// plotly's widget.ts starts `import Plotly from "plotly.js/dist/plotly"` then sets
// `window.PlotlyConfig`; in the bundle that is `var P = toESM(requirePlotly())` followed
// by `window.PlotlyConfig = ...`, and requirePlotly's declaration holds all of plotly.js.
const body = ast.body;
const configAt = body.findIndex(
  (s) => s.type === "ExpressionStatement" && source.slice(s.start, s.end).startsWith("window.PlotlyConfig=")
);
if (configAt < 1) throw new Error("window.PlotlyConfig statement not found: plotly's bundle changed");
const requireCall = body[configAt - 1].declarations?.[0]?.init?.arguments?.[0];
if (requireCall?.type !== "CallExpression" || requireCall.callee.type !== "Identifier") {
  throw new Error("the plotly.js import before window.PlotlyConfig has an unexpected shape");
}
const requireName = requireCall.callee.name;
const definition = body.find(
  (s) => s.type === "VariableDeclaration" && s.declarations.length === 1 && s.declarations[0].id.name === requireName
);
if (definition === undefined) throw new Error(`declaration of ${requireName} not found`);

const widget =
  source.slice(0, definition.start) +
  source.slice(definition.end, requireCall.start) +
  "__marginlabPlotly" +
  source.slice(requireCall.end);
if (new RegExp(`(^|[^\\w$])${requireName.replaceAll("$", "\\$")}([^\\w$]|$)`).test(widget)) {
  throw new Error(`${requireName} is still referenced after removing plotly.js`);
}
if (!partial.includes(`version="${plotlyJsVersion}"`)) {
  throw new Error(`${partialPath} is not plotly.js ${plotlyJsVersion}`);
}
const sourceSha = crypto.createHash("sha256").update(fs.readFileSync(bundlePath)).digest("hex");
const header =
  `// marginlab: plotly ${plotlyPyVersion}'s FigureWidget front end with plotly.js v${plotlyJsVersion} (traces: ${traces}).\n` +
  `// Built by tools/plotly_bundle/build.sh from plotly ${plotlyPyVersion}'s widgetbundle.js\n` +
  `// (sha256 ${sourceSha}) and the npm package plotly.js@${plotlyJsVersion} (MIT);\n` +
  `// the bundled packages and their licenses: plotly-widget-charts.LICENSES.txt.\n`;
// The partial build is CommonJS: give it a module object and keep what it exports.
const wrapped =
  "const __marginlabPlotly = (() => {\nconst module = { exports: {} };\nconst exports = module.exports;\n" +
  partial +
  "\nreturn module.exports;\n})();\n";
fs.writeFileSync(outPath, header + wrapped + widget);
console.log(`wrote ${outPath}: ${(header + wrapped + widget).length} bytes`);
