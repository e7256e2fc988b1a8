// Finish marginlab/widgets/static/plotly-charts.js (run through build.sh): check the
// built plotly.js and write it with a header naming what it was built from; or, with
// --licenses, list the npm packages bundled in it (from esbuild's metafile).
//
//   node build.mjs BUILT_JS OUT_JS PLOTLY_JS_VERSION TRACES ESBUILD_VERSION
//   node build.mjs --licenses ESBUILD_METAFILE
import fs from "node:fs";
import path from "node:path";

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
  console.log("npm packages bundled in plotly-charts.js (plotly.js and what it imports),");
  console.log("each under its own license:");
  console.log([...packages.values()].sort().join("\n"));
  console.log("\nplotly.js's LICENSE:\n");
  console.log(fs.readFileSync(path.join("node_modules", "plotly.js", "LICENSE"), "utf8").trim());
  process.exit(0);
}

const [, , builtPath, outPath, version, traces, esbuildVersion] = process.argv;
const built = fs.readFileSync(builtPath, "utf8");
if (!built.includes(`version="${version}"`)) throw new Error(`${builtPath} is not plotly.js ${version}`);
const registered = [...built.matchAll(/moduleType:"trace",name:"(\w+)"/g)].map((m) => m[1]).sort();
if (registered.join(",") !== traces.split(",").sort().join(",")) {
  throw new Error(`${builtPath} registers ${registered}, not ${traces}`);
}
const lock = JSON.parse(fs.readFileSync("package-lock.json", "utf8"));
const integrity = lock.packages["node_modules/plotly.js"].integrity;
const header =
  `// marginlab: plotly.js v${version} (traces: ${traces}), an ES module whose default export is Plotly.\n` +
  `// Built by tools/plotly_bundle/build.sh with esbuild ${esbuildVersion} from the npm package\n` +
  `// plotly.js@${version} (MIT; ${integrity}),\n` +
  `// lib/core plus ${traces.split(",").filter((t) => t !== "scatter").map((t) => `lib/${t}`).join(", ")}.\n` +
  `// The bundled packages and their licenses: plotly-charts.LICENSES.txt.\n`;
fs.writeFileSync(outPath, header + built);
console.log(`wrote ${outPath}: ${(header + built).length} bytes`);
