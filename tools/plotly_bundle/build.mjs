// Build marginlab/widgets/static/plotly-widget-cartesian.js: plotly's own FigureWidget
// front end (plotly.py's package_data/widgetbundle.js) with its full plotly.js swapped
// for plotly.js's official "cartesian" partial bundle of the same version.
//
// Why: the full plotly.js (every trace type, maps included) takes ~1.7 s of a 2-core
// laptop's CPU to start in a page before the first chart can draw; the cartesian bundle
// (bar, box, contour, heatmap, histogram*, image, pie, scatter, scatterternary, violin:
// every trace type marginlab draws) takes ~0.85 s. Nothing else changes: plotly's
// FigureModel/FigureView code is kept byte for byte.
//
// Run through build.sh (it fetches acorn and the partial bundle from npm):
//   node build.mjs WIDGETBUNDLE_JS PARTIAL_DIST_JS OUT_JS PLOTLY_PY_VERSION
import fs from "node:fs";
import crypto from "node:crypto";
import * as acorn from "acorn";

const [, , bundlePath, distPath, outPath, plotlyPyVersion] = process.argv;
const source = fs.readFileSync(bundlePath, "utf8");
const dist = fs.readFileSync(distPath, "utf8");
const ast = acorn.parse(source, { ecmaVersion: "latest", sourceType: "module" });

// plotly's widget.ts starts `import Plotly from "plotly.js/dist/plotly"` then sets
// `window.PlotlyConfig`; in the bundle that is `var P = toESM(requirePlotly())` followed
// by `window.PlotlyConfig = ...`, and requirePlotly's declaration holds all of plotly.js.
const body = ast.body;
const configAt = body.findIndex(
  (s) => s.type === "ExpressionStatement" && source.slice(s.start, s.end).startsWith("window.PlotlyConfig=")
);
if (configAt < 1) throw new Error("window.PlotlyConfig statement not found: plotly's bundle changed");
const importDecl = body[configAt - 1];
const requireCall = importDecl.declarations?.[0]?.init?.arguments?.[0];
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
if (new RegExp(`\\b${requireName.replace("$", "\\$")}\\b`).test(widget)) {
  throw new Error(`${requireName} is still referenced after removing plotly.js`);
}
const version = /plotly\.js \(cartesian - minified\) v([0-9.]+)/.exec(dist)?.[1];
const sourceSha = crypto.createHash("sha256").update(fs.readFileSync(bundlePath)).digest("hex");
const header =
  `// marginlab: plotly ${plotlyPyVersion}'s FigureWidget front end with plotly.js (cartesian) v${version}.\n` +
  `// Built by tools/plotly_bundle/build.sh from plotly ${plotlyPyVersion}'s widgetbundle.js\n` +
  `// (sha256 ${sourceSha}) and the npm package plotly.js-cartesian-dist-min@${version}.\n` +
  `// plotly.js, plotly.py and lodash are MIT licensed (see plotly-widget-cartesian.LICENSE).\n`;
// The partial bundle is UMD: give it a module object so it returns plotly instead of
// looking for AMD's define or setting a global.
const wrapped =
  "const __marginlabPlotly = (() => {\nconst module = { exports: {} };\nconst exports = module.exports;\n" +
  dist +
  "\nreturn module.exports;\n})();\n";
fs.writeFileSync(outPath, header + wrapped + widget);
console.log(`wrote ${outPath}: ${(header + wrapped + widget).length} bytes`);
