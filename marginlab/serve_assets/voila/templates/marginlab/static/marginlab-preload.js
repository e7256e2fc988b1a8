// marginlab: start plotly.js while a Voila page is still starting.
//
// The live charts' front end (marginlab/widgets/static/figure.js) normally asks the
// kernel for plotly.js (static/plotly-charts.js) once the page has connected to it. In a Voila
// page served by `marginlab present` the same bundle is also a static file next to
// this one (written by marginlab.serve.plotly_assets_dir, with its bundle id in
// marginlab-plotly-bundle.js), so this module imports it over HTTP as soon as the page
// starts: the browser caches it (and its compiled code) between pages, and it runs
// while Voila is still loading its own scripts. It leaves the promise of
// {id, module} under PRELOAD in the loader's page-global registry; the loader takes the
// module from there, or asks the kernel if the ids differ or the import failed.

const REGISTRY = Symbol.for("marginlab.plotly-bundles");
const PRELOAD = "preload"; // the registry key figure.js reads

async function load() {
  const { id, url } = await import("./marginlab-plotly-bundle.js");
  return { id, module: await import(url) };
}

const preload = load();
preload.catch(() => {}); // the loader reports a failure when it uses the preload
(globalThis[REGISTRY] ??= new Map()).set(PRELOAD, preload);
