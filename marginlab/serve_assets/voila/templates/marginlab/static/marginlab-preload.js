// marginlab: start plotly.js while a Voila page is still starting.
//
// The live charts' front end (marginlab/widgets/static/plotly_loader.js) normally asks
// the kernel for plotly's widget bundle once the page has connected to it. In a Voila
// page served by `marginlab present` the same bundle is also a static file next to
// this one (written by marginlab.serve.plotly_assets_dir, with its bundle id in
// marginlab-plotly-bundle.js), so this module imports it over HTTP as soon as the page
// starts: the browser caches it (and its compiled code) between pages, and it runs
// while Voila is still loading its own scripts. It registers the module in the same
// page-global registry the loader reads; the loader then asks the kernel for nothing.
// If anything fails here the loader falls back to asking the kernel.

const REGISTRY = Symbol.for("marginlab.plotly-bundles");

// The registry entry for a bundle id; the same shape as entryFor in plotly_loader.js.
function entryFor(id) {
  const all = (globalThis[REGISTRY] ??= new Map());
  let entry = all.get(id);
  if (entry === undefined) {
    let resolve;
    const promise = new Promise((res) => (resolve = res));
    entry = { promise, resolve, module: null, loading: false, requestedAt: 0 };
    all.set(id, entry);
  }
  return entry;
}

async function preload() {
  let entry = null;
  try {
    const { id, url } = await import("./marginlab-plotly-bundle.js");
    entry = entryFor(id);
    if (entry.module !== null || entry.loading) return;
    entry.loading = true;
    entry.module = await import(url);
    entry.resolve(entry.module);
  } catch (error) {
    console.warn("[marginlab] plotly preload failed; the charts ask the kernel", error);
  } finally {
    if (entry !== null) entry.loading = false;
  }
}

preload();
