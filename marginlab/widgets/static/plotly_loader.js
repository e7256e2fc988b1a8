// marginlab: the front end of SharedFigureWidget (marginlab/widgets/_plotly.py).
//
// plotly's own FigureWidget ships its whole widget bundle (plotly.js included, ~5 MB)
// as the anywidget module of every instance. This module is what each instance ships
// instead (a few KB). The real bundle -- plotly's widget bundle, whose FigureModel/
// FigureView do all the drawing, with plotly.js built for the charts' trace types (see
// marginlab/plotly_bundle.py) -- is fetched once per page: the first figure asks over
// its comm, the kernel answers with the bundle as one binary buffer (gzipped, 0.46 MB,
// where the browser can decompress), and every figure on the page (any notebook, any
// kernel serving the same bundle id) imports that one copy from a page-global registry.
// In Voila, marginlab-preload.js may have fetched it over HTTP already.
//
// anywidget delivers a model's comm messages only after `initialize` returns, so
// `initialize` must not wait for the bundle. Until the bundle's FigureModel is listening,
// the Python -> JS edit messages are recorded here and replayed to it in order.

const REGISTRY = Symbol.for("marginlab.plotly-bundles");
const REQUEST = "marginlab:plotly-bundle-request";
const REPLY = "marginlab:plotly-bundle";
const PRELOAD = "preload"; // registry key of marginlab-preload.js's {id, module} promise
const RETRY_MS = 15000; // ask again (from any figure) if no bundle came back by then
const PRELOAD_POLL_MS = 200;
const ENCODING = typeof DecompressionStream === "function" ? "gzip" : "identity";

// Edit messages FigureModel applies to the model's _widget_data/_widget_layout.
const EDITS = [
  "_py2js_addTraces",
  "_py2js_deleteTraces",
  "_py2js_moveTraces",
  "_py2js_restyle",
  "_py2js_relayout",
  "_py2js_update",
  "_py2js_animate",
  "_py2js_removeLayoutProps",
  "_py2js_removeTraceProps",
];
// What plotly's view sends back after every redraw: the figure's full computed state
// (5-17 KB per chart per slider step), which the kernel then echoes back. marginlab's
// widgets never read it (it only fills plotly's Python-side defaults), so it is not
// sent: a slider step costs the kernel and the page less, and the next step's redraw
// starts sooner. User zoom, pan and legend clicks still reach Python.
const NOT_SENT = new Set(["_js2py_traceDeltas", "_js2py_layoutDelta", "_js2py_widget_layoutDelta"]);
// Edits that are not plain property assignments: replaying them onto a snapshot that
// already contains them would apply them twice.
const STRUCTURAL = new Set(["_py2js_addTraces", "_py2js_deleteTraces", "_py2js_moveTraces"]);

function entryFor(id) {
  const all = (globalThis[REGISTRY] ??= new Map());
  let entry = all.get(id);
  if (entry === undefined) {
    let resolve;
    const promise = new Promise((res) => (resolve = res));
    entry = { promise, resolve, module: null, loading: false, requestedAt: 0, preloadTried: false };
    all.set(id, entry);
  }
  return entry;
}

// Take the bundle from marginlab-preload.js (Voila) when it fetched this id; else ask the
// kernel, which the next call does once the preload has failed.
function requestBundle(model, id, entry) {
  if (entry.module !== null || entry.loading) return;
  const preload = globalThis[REGISTRY].get(PRELOAD);
  if (preload !== undefined && !entry.preloadTried) {
    entry.preloadTried = true;
    entry.loading = true;
    preload
      .then(({ id: preloaded, module }) => {
        if (preloaded !== id) throw new Error(`the page preloaded ${preloaded}`);
        entry.module = module;
        entry.resolve(module);
      })
      .catch((error) => console.warn(`[marginlab] no preloaded ${id}; asking the kernel`, error))
      .finally(() => (entry.loading = false));
    return;
  }
  const now = Date.now();
  if (entry.requestedAt !== 0 && now - entry.requestedAt < RETRY_MS) return;
  entry.requestedAt = now;
  model.send({ type: REQUEST, id, encoding: ENCODING });
}

async function deliverBundle(entry, buffer, encoding) {
  if (entry.module !== null || entry.loading) return;
  entry.loading = true;
  let url = null;
  try {
    let source = new Blob([buffer]);
    if (encoding === "gzip") {
      const inflated = source.stream().pipeThrough(new DecompressionStream("gzip"));
      source = await new Response(inflated).blob();
    }
    url = URL.createObjectURL(new Blob([source], { type: "text/javascript" }));
    entry.module = await import(/* webpackIgnore: true */ url);
    entry.resolve(entry.module);
  } catch (error) {
    entry.requestedAt = 0; // let the next figure ask again
    console.error("[marginlab] could not load the plotly bundle", error);
  } finally {
    entry.loading = false;
    if (url !== null) URL.revokeObjectURL(url);
  }
}

export default () => {
  let inner = null; // plotly's own widget ({initialize, render}) once the bundle is here
  let ready = null;

  return {
    initialize({ model }) {
      const id = model.get("_plotly_bundle_id");
      const entry = entryFor(id);
      model.on("msg:custom", (msg, buffers) => {
        if (msg?.type === REPLY && msg.id === id && buffers?.length) {
          deliverBundle(entry, buffers[0], msg.encoding);
        }
      });

      let pending = [];
      let live = false;
      for (const name of EDITS) {
        model.on(`change:${name}`, () => {
          const value = model.get(name);
          if (!live && value !== null) pending.push([name, value]);
        });
      }
      model.on("change:_widget_data", () => {
        if (!live) pending = pending.filter(([name]) => !STRUCTURAL.has(name));
      });

      requestBundle(model, id, entry);
      ready = entry.promise.then((bundle) => {
        const overrides = new Map();
        const handlers = [];
        let unsaved = 0; // properties set on the model since its last save
        const facade = {
          ...model,
          get: (key) => (overrides.has(key) ? overrides.get(key) : model.get(key)),
          on: (event, callback) => {
            handlers.push([event, callback]);
            model.on(event, callback);
          },
          set: (key, value) => {
            if (NOT_SENT.has(key)) return;
            unsaved += 1;
            model.set(key, value);
          },
          save_changes: () => {
            if (unsaved === 0) return;
            unsaved = 0;
            model.save_changes();
          },
        };
        inner = bundle.default();
        inner.initialize({ model: facade });
        live = true;
        for (const [name, value] of pending) {
          overrides.set(name, value);
          for (const [event, callback] of handlers) {
            if (event === `change:${name}`) callback();
          }
          overrides.delete(name);
        }
        pending = [];
      });
    },

    async render({ model, el, signal }) {
      const id = model.get("_plotly_bundle_id");
      const entry = entryFor(id);
      if (inner === null) {
        el.textContent = "Loading chart…";
        while (entry.module === null && !signal?.aborted) {
          requestBundle(model, id, entry);
          // While a preload is fetching the bundle (marginlab-preload.js in Voila), look
          // again soon: if it fails, this loop asks the kernel instead.
          const wait = entry.loading ? PRELOAD_POLL_MS : RETRY_MS;
          await Promise.race([entry.promise, new Promise((r) => setTimeout(r, wait))]);
          if (entry.module === null && !entry.loading) {
            el.textContent = "Loading chart… (it needs the running kernel)";
          }
        }
        if (signal?.aborted) return;
        await ready;
        el.textContent = "";
      }
      return inner.render({ el });
    },
  };
};
