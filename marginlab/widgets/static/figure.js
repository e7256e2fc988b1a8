// marginlab: the front end of SharedFigureWidget (marginlab/widgets/_plotly.py).
//
// An anywidget module (initialize/render, traitlets state, custom messages, binary
// buffers) that draws a plotly figure with plotly.js's public API: Plotly.newPlot,
// Plotly.react and Plotly.animate.
//
// This module travels once per kernel (the FigureFrontEnd model) and is imported once per
// page by each figure's own small module, static/figure-loader.js, which hands it the
// widget; its initialize registers its listeners before it awaits anything.
//
// plotly.js: the figures carry none of it. plotly.js itself -- the
// official plotly.js package built with the charts' trace types only
// (static/plotly-charts.js, made by tools/plotly_bundle/build.sh) -- is loaded once per
// page: the first figure asks its kernel (a custom message), the kernel answers with the
// bundle as one binary buffer (gzipped where the browser can decompress), and every
// figure on the page (any notebook, any kernel serving the same bundle id) imports that
// one copy from a page-global registry. In Voila, marginlab-preload.js may have imported
// it over HTTP already.
//
// The figure: the model's `_figure` holds it in full (the kernel sends it when the model
// opens or a page asks again), numeric arrays as binary buffers. After that the kernel
// sends only what changed ("marginlab:figure-update": the changed top-level properties
// of the changed traces and of the layout), which this module applies to its copy. The
// page sends nothing back: no computed state, no echo.
//
// Drawing: a view redraws with Plotly.react (everything: defaults, axes, legend, data),
// or -- when only the values of scatter and bar traces moved -- with Plotly.animate and a
// zero-length transition, plotly.js's fast path that redraws the traces and nothing
// around them (a few ms instead of 10-40 ms per chart on a classroom laptop); values that
// need new ranges on axes without a title (the charts draw axis titles as annotations)
// get them first by Plotly.relayout, and so do the new fixed ranges the kernel sets on
// such axes when nothing else in the layout changed. So that
// moving values rarely need a new range, this module gives every numeric axis the figure
// leaves to autorange a range of its own: the data's extent plus plotly's 5 % padding
// plus some headroom, kept while the data stays inside it and fills most of it (figures
// plotly.js cannot animate, such as contour maps, keep plotly.js's autorange). Updates
// that arrive while a chart is drawing are merged and drawn once, at the next animation
// frame. The charts of a page draw for the first time one after another, the highest on
// the page first (queueFirstDrawing).

const REGISTRY = Symbol.for("marginlab.plotly-bundles");
const REQUEST = "marginlab:plotly-bundle-request"; // browser -> kernel
const REPLY = "marginlab:plotly-bundle"; // kernel -> browser, with the bundle as 1 buffer
const FIGURE = "marginlab:figure"; // kernel -> browser: the whole figure (traces added...)
const UPDATE = "marginlab:figure-update"; // kernel -> browser: what changed
const PRELOAD = "preload"; // registry key of marginlab-preload.js's {id, module} promise
const RETRY_MS = 15000; // ask again (from any figure) if no bundle came back by then
const PRELOAD_POLL_MS = 200;
const ENCODING = typeof DecompressionStream === "function" ? "gzip" : "identity";
// The plotly.js release (major.minor) this module's drawing was checked against: the fast
// path below, ANIMATABLE, labels(). tests/test_plotly_bundle.py fails when
// static/plotly-charts.js is another release, so that an upgrade runs
// tests/browser/test_figure_redraw.py (which also fails if plotly.js stops drawing the
// fast path as frames) before this is moved on.
const PLOTLY_JS_CHECKED = "4.1";

// The fast path: trace types plotly.js animates, and per type the properties whose new
// values its transition draws exactly as a full redraw does (checked against fresh
// drawings by tests/browser/test_figure_redraw.py). Anything else takes Plotly.react.
const ANIMATABLE = {
  scatter: new Set([
    "x", "y", "x0", "dx", "y0", "dy", "text", "textposition", "hovertext", "customdata",
  ]),
  bar: new Set(["x", "y", "x0", "dx", "y0", "dy", "width", "base", "text", "hovertext", "customdata"]),
};
const CONFIG = { displaylogo: false };
// Why a redraw took Plotly.relayout (new axis ranges) then the fast path.
const RELAYOUT = "relayout";
const ANIMATE_OPTIONS = {
  mode: "immediate",
  transition: { duration: 0 },
  frame: { duration: 0, redraw: false },
};
// Axis ranges this module gives autoranged axes (fractions of the data's extent).
const PAD = 0.05; // plotly's own autorange padding
const HEADROOM = 0.1; // room for the data to move before the range must change
const MIN_FILL = 0.6; // a new range when the data fills less of the current one
const DTYPES = {
  float64: Float64Array,
  float32: Float32Array,
  int32: Int32Array,
  uint32: Uint32Array,
  int16: Int16Array,
  uint16: Uint16Array,
  int8: Int8Array,
  uint8: Uint8Array,
};

// ------------------------------------------------------------------ the plotly.js bundle
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
    console.error("[marginlab] could not load plotly.js", error);
  } finally {
    entry.loading = false;
    if (url !== null) URL.revokeObjectURL(url);
  }
}

// ---------------------------------------------------------------------- the figure state
function isArraySpec(value) {
  return typeof value?.dtype === "string" && Array.isArray(value.shape) && "buffer" in value;
}

// A numeric array from the wire: {dtype, shape, buffer}, the buffer a DataView (widget
// state) or an index into the message's buffers (custom messages). 2-d: rows of views.
function typedArray({ dtype, shape, buffer }, buffers) {
  const Type = DTYPES[dtype];
  if (Type === undefined) throw new Error(`unknown dtype ${dtype}`);
  const view = typeof buffer === "number" ? buffers[buffer] : buffer;
  const bytes = ArrayBuffer.isView(view)
    ? view.buffer.slice(view.byteOffset, view.byteOffset + view.byteLength) // aligned copy
    : view;
  const flat = new Type(bytes);
  if (shape.length < 2) return flat;
  const width = shape[shape.length - 1];
  return Array.from({ length: flat.length / width }, (_, row) =>
    flat.subarray(row * width, (row + 1) * width)
  );
}

function decode(value, buffers) {
  if (value === null || typeof value !== "object") return value;
  if (Array.isArray(value)) return value.map((item) => decode(item, buffers));
  if (isArraySpec(value)) return typedArray(value, buffers);
  const out = {};
  for (const [key, item] of Object.entries(value)) out[key] = decode(item, buffers);
  return out;
}

// What plotly.js may change in place gets a copy (objects and lists); numeric arrays
// (typed arrays) are shared: Plotly.newPlot and Plotly.react never write into them (the
// fast path's frames get plain copies instead: frameValue).
function copyPlain(value) {
  if (Array.isArray(value)) return value.map(copyPlain);
  if (value === null || typeof value !== "object" || ArrayBuffer.isView(value)) return value;
  const out = {};
  for (const [key, item] of Object.entries(value)) out[key] = copyPlain(item);
  return out;
}

// A trace's text labels for plotly.js: a blank label as a space. plotly.js 4.1 removes a
// blank label's text element, and its later redraws (react, restyle, animate) never put
// it back: Plotly.react(gd, [{text: ["", ""]}]) then [{text: ["new", ""]}] shows nothing.
// A space keeps the element, so the label appears when it gets text.
function labels(text) {
  if (text === "") return " ";
  return Array.isArray(text) ? text.map((item) => (item === "" ? " " : item)) : text;
}

function plotlyTrace(trace) {
  const copy = copyPlain(trace);
  if ("text" in copy) copy.text = labels(copy.text);
  return copy;
}

function readFigure(spec, buffers) {
  const figure = decode(spec ?? {}, buffers);
  return { data: figure.data ?? [], layout: figure.layout ?? {} };
}

// A change to draw: the whole figure (`full`), the layout beyond axis ranges (`layout`),
// new fixed ranges of axes (`ranges`: axis -> [low, high]), trace properties (`traces`:
// index -> the keys that changed).
function newChange(full = false) {
  return { full, layout: full, ranges: new Map(), traces: new Map() };
}

const AXIS = /^[xy]axis\d*$/;

// The new range when an axis spec changed in its fixed range only (the kernel set
// `range`), else null.
function rangeOnly(before, after) {
  if (!Array.isArray(after?.range) || after.autorange === true || before === undefined) {
    return null;
  }
  const rest = (spec) => JSON.stringify({ ...spec, range: undefined, autorange: undefined });
  return rest(before) === rest(after) ? after.range : null;
}

// Apply an update message; returns what changed (see newChange).
function applyUpdate(figure, message, buffers) {
  const change = newChange();
  if (message.traces?.length) {
    figure.data = figure.data.slice();
    for (const [index, props] of message.traces) {
      const trace = { ...figure.data[index] };
      for (const [key, value] of Object.entries(props)) {
        if (value === null) delete trace[key];
        else trace[key] = decode(value, buffers);
      }
      figure.data[index] = trace;
      change.traces.set(index, new Set(Object.keys(props)));
    }
  }
  if (message.layout && Object.keys(message.layout).length) {
    const layout = { ...figure.layout };
    for (const [key, value] of Object.entries(message.layout)) {
      const spec = value === null ? undefined : decode(value, buffers);
      const range = AXIS.test(key) ? rangeOnly(layout[key], spec) : null;
      if (range === null) change.layout = true;
      else change.ranges.set(key, [...range]);
      if (spec === undefined) delete layout[key];
      else layout[key] = spec;
    }
    const keep = new Set(message.layout_keys ?? Object.keys(layout));
    for (const key of Object.keys(layout)) {
      if (keep.has(key)) continue;
      delete layout[key];
      change.layout = true;
    }
    figure.layout = layout;
  }
  return change;
}

function mergeChange(into, change) {
  if (into === null) {
    return { ...change, ranges: new Map(change.ranges), traces: new Map(change.traces) };
  }
  into.full ||= change.full;
  into.layout ||= change.layout;
  for (const [axis, range] of change.ranges) into.ranges.set(axis, range);
  for (const [index, keys] of change.traces) {
    const known = into.traces.get(index);
    into.traces.set(index, known ? new Set([...known, ...keys]) : keys);
  }
  return into;
}

// -------------------------------------------------------------------------- axis ranges
const axisName = (ref, letter) => `${letter}axis${ref ? ref.slice(1) : ""}`;

function numbers(values) {
  if (values === undefined || values === null) return null;
  if (ArrayBuffer.isView(values)) return values;
  if (!Array.isArray(values)) return null;
  for (const value of values) {
    if (value !== null && typeof value !== "number") return undefined; // not numeric
  }
  return values;
}

function coordinates(trace, letter) {
  const given = numbers(trace[letter]);
  if (given !== null) return given;
  const other = trace[letter === "x" ? "y" : "x"];
  const start = trace[`${letter}0`];
  if (start === undefined || other === undefined || other === null) return null;
  if (typeof start !== "number") return undefined;
  const step = trace[`d${letter}`] ?? 1;
  return Array.from({ length: other.length }, (_, i) => start + step * i);
}

function extend(extents, axis, values) {
  let { lo, hi } = extents.get(axis) ?? { lo: Infinity, hi: -Infinity };
  for (const value of values) {
    if (value === null || !Number.isFinite(value)) continue;
    if (value < lo) lo = value;
    if (value > hi) hi = value;
  }
  extents.set(axis, { lo, hi });
}

// The extent of the data on each axis the traces draw on: {axis: {lo, hi}}, or null
// for an axis with values that are not numbers (categories, dates).
function dataExtents(figure) {
  const extents = new Map();
  const stacked = ["stack", "relative"].includes(figure.layout.barmode);
  const sums = new Map(); // value axis -> position -> [positive sum, negative sum]
  for (const trace of figure.data) {
    if (trace.visible === false || trace.visible === "legendonly") continue;
    const type = trace.type ?? "scatter";
    const axes = { x: axisName(trace.xaxis, "x"), y: axisName(trace.yaxis, "y") };
    const values = { x: coordinates(trace, "x"), y: coordinates(trace, "y") };
    for (const letter of ["x", "y"]) {
      if (values[letter] === undefined) extents.set(axes[letter], null);
    }
    if (type === "bar") {
      const valueLetter = trace.orientation === "h" ? "x" : "y";
      const positionLetter = valueLetter === "x" ? "y" : "x";
      const own = values[valueLetter];
      if (own && extents.get(axes[valueLetter]) !== null) {
        const base = typeof trace.base === "number" ? trace.base : 0;
        if (stacked) {
          const positions = values[positionLetter] ?? trace[positionLetter] ?? [];
          const byPosition = sums.get(axes[valueLetter]) ?? new Map();
          own.forEach((value, i) => {
            if (value === null || !Number.isFinite(value)) return;
            const key = String(positions[i] ?? i);
            const sum = byPosition.get(key) ?? [0, 0];
            sum[value >= 0 ? 0 : 1] += value;
            byPosition.set(key, sum);
          });
          sums.set(axes[valueLetter], byPosition);
        } else {
          extend(extents, axes[valueLetter], [base, ...Array.from(own, (v) => v + base)]);
        }
      }
      const positions = values[positionLetter];
      if (positions && extents.get(axes[positionLetter]) !== null) {
        const half = (typeof trace.width === "number" ? trace.width : 0) / 2;
        extend(extents, axes[positionLetter], [
          ...Array.from(positions, (v) => v - half),
          ...Array.from(positions, (v) => v + half),
        ]);
      }
      continue;
    }
    for (const letter of ["x", "y"]) {
      if (values[letter] && extents.get(axes[letter]) !== null) {
        extend(extents, axes[letter], values[letter]);
      }
    }
  }
  for (const [axis, byPosition] of sums) {
    if (extents.get(axis) === null) continue;
    extend(extents, axis, [0, ...[...byPosition.values()].flat()]);
  }
  return extents;
}

// Axes whose range this module sets: numeric, left to autorange by the figure, linear.
// Matched axes (`matches`) share one range; an axis matching a fixed one is left alone.
function autoAxes(figure, extents) {
  const layout = figure.layout;
  const groups = new Map(); // root axis -> [axis names]
  for (const axis of extents.keys()) {
    const spec = layout[axis] ?? {};
    const target = typeof spec.matches === "string" ? axisName(spec.matches, spec.matches[0]) : axis;
    groups.set(target, [...(groups.get(target) ?? []), axis]);
  }
  const chosen = [];
  for (const [root, members] of groups) {
    const all = [...new Set([root, ...members])];
    const fixed = all.some((axis) => {
      const spec = layout[axis] ?? {};
      return (
        Array.isArray(spec.range) ||
        spec.autorange === false ||
        spec.autorange === "reversed" ||
        ["log", "date", "category", "multicategory"].includes(spec.type) ||
        extents.get(axis) === null
      );
    });
    if (!fixed) chosen.push(all);
  }
  return chosen;
}

// The range for data spanning lo..hi: plotly's padding plus headroom on each side, none
// below 0 when the axis starts at 0 (rangemode "tozero", bars).
function rangeFor(lo, hi, startsAtZero) {
  const span = hi - lo || Math.abs(hi) || 1;
  const room = (PAD + HEADROOM) * span;
  const low = startsAtZero && lo >= 0 ? lo : lo - room;
  const high = startsAtZero && hi <= 0 ? hi : hi + room;
  return [low, high];
}

// Whether data spanning lo..hi keeps the range [low, high]: inside it, off its edges (a
// side may sit on the data, as 0 does for bars), and filling most of it.
function fits([low, high], lo, hi) {
  const edge = (PAD / 2) * (hi - lo || Math.abs(hi) || 1);
  const below = low === lo || low <= lo - edge;
  const above = high === hi || high >= hi + edge;
  return below && above && hi - lo >= MIN_FILL * (high - low);
}

// --------------------------------------------------------------------------------- views
class View {
  constructor(Plotly, figure, el) {
    this.Plotly = Plotly;
    this.figure = figure; // () => the model's current figure
    this.gd = document.createElement("div");
    this.gd.className = "marginlab-figure";
    el.appendChild(this.gd);
    this.ranges = new Map(); // axis -> [low, high] given to plotly.js
    this.ready = false; // its first drawing has begun (see queueFirstDrawing)
    this.queued = false; // the element has a width: waiting for its first drawing
    this.removed = false;
    this.drawn = false;
    this.busy = false;
    this.resized = false; // a resize came while drawing
    this.pending = null; // a change to draw once the current drawing is done
    this.frame = 0;
    // How this chart has redrawn (fast path, relayout then fast path, the traces the fast
    // path drew in all, full redraws by reason as "why:n why:n"), for the browser tests
    // and benchmarks/browser.py. A property of the element, not data- attributes: writing
    // those after every drawing was a DOM change of its own, a frame after the drawing
    // (when Plotly.animate settles).
    this.redraws = { fast: 0, relayout: 0, traces: 0, full: "" };
    this.gd.marginlabRedraws = this.redraws;
    this.reasons = new Map(); // why a redraw was full -> how many times
  }

  // Ranges for the figure's autoranged axes: kept while the data fits (the fast path
  // needs unchanged axes), else new; returns the axes whose range changed: axis -> its
  // new range, or null for an axis handed back to plotly.js's autorange.
  updateRanges(figure) {
    // A figure with a trace plotly.js cannot animate (a contour map) always redraws in
    // full: plotly.js's own autorange serves it best.
    const animatable = figure.data.every((t) => (t.type ?? "scatter") in ANIMATABLE);
    const extents = animatable ? dataExtents(figure) : new Map();
    const changed = new Map();
    const seen = new Set();
    for (const group of autoAxes(figure, extents)) {
      let lo = Infinity;
      let hi = -Infinity;
      let zero = false;
      for (const axis of group) {
        const extent = extents.get(axis);
        if (extent) {
          lo = Math.min(lo, extent.lo);
          hi = Math.max(hi, extent.hi);
        }
        zero ||= figure.layout[axis]?.rangemode === "tozero";
      }
      if (!(lo <= hi)) continue; // no data yet: plotly's default range
      if (zero) {
        lo = Math.min(lo, 0);
        hi = Math.max(hi, 0);
      }
      const startsAtZero = zero || figure.data.some((t) => t.type === "bar");
      for (const axis of group) {
        seen.add(axis);
        const current = this.ranges.get(axis);
        if (current && fits(current, lo, hi)) continue;
        const range = rangeFor(lo, hi, startsAtZero && (lo === 0 || hi === 0));
        this.ranges.set(axis, range);
        changed.set(axis, range);
      }
    }
    for (const axis of [...this.ranges.keys()]) {
      if (!seen.has(axis)) {
        this.ranges.delete(axis);
        changed.set(axis, null);
      }
    }
    return changed;
  }

  // The figure as plotly.js gets it: a copy, with this view's ranges.
  plotlyFigure(figure) {
    const layout = copyPlain(figure.layout);
    for (const [axis, range] of this.ranges) {
      layout[axis] = { ...(layout[axis] ?? {}), range: [...range], autorange: false };
    }
    return { data: figure.data.map(plotlyTrace), layout };
  }

  // Why `change` cannot take the fast path (Plotly.animate), or "" when it can: trace
  // values only, every trace animatable, properties plotly.js's transition draws like a
  // full redraw.
  slowReason(change, figure, before) {
    if (change.full) return "figure";
    if (change.layout) return "layout";
    if (change.traces.size === 0 && change.ranges.size === 0) return "nothing";
    const types = figure.data.map((t) => t.type ?? "scatter");
    const other = types.find((type) => !(type in ANIMATABLE));
    if (other !== undefined) return `type-${other}`;
    const layout = figure.layout;
    for (const [index, keys] of change.traces) {
      const trace = figure.data[index];
      const old = before[index];
      if (trace === undefined || old === undefined) return "traces";
      const allowed = ANIMATABLE[trace.type ?? "scatter"];
      for (const key of keys) if (!allowed.has(key)) return `property-${key}`;
      // A trace that gains or loses all its points changes the legend.
      if (pointCount(trace) === 0 || pointCount(old) === 0) return "points";
      if (trace.type === "bar") {
        // plotly.js's transition draws bars without the barmode (stacked labels), without
        // rounding their edges to pixels (gapless bars), and new bars without their style
        // (a zero-length transition leaves their colour to a full redraw).
        if (pointCount(trace) !== pointCount(old)) return "bar-count";
        if (["stack", "relative"].includes(layout.barmode)) return "stacked-bars";
        if (layout.bargap === 0 && !layout.bargroupgap) return "gapless-bars";
        if (keys.has("text") && layout.uniformtext?.mode) return "uniformtext";
      }
    }
    return "";
  }

  async draw(change) {
    const Plotly = this.Plotly;
    const figure = this.figure();
    const before = this.shownData ?? figure.data;
    const moved = this.updateRanges(figure);
    for (const [axis, range] of change.ranges) moved.set(axis, range); // set by the kernel
    let reason = !this.drawn ? "first" : this.slowReason(change, figure, before);
    // New values that need new axis ranges: the ranges by relayout, then the values by the
    // fast path -- unless an axis goes back to plotly.js's autorange or has a title (a full
    // redraw: see rangeUpdate).
    const relayout = reason === "" && moved.size > 0 ? this.rangeUpdate(moved) : null;
    if (reason === "" && moved.size > 0) reason = relayout === null ? "range" : RELAYOUT;
    if (reason === "" || reason === RELAYOUT) {
      if (reason === RELAYOUT) {
        this.redraws.relayout += 1;
        await Plotly.relayout(this.gd, relayout);
      } else {
        this.redraws.fast += 1;
      }
      if (change.traces.size > 0) {
        const frame = animationFrame(change, figure);
        this.redraws.traces += frame.traces.length;
        await Plotly.animate(this.gd, frame, ANIMATE_OPTIONS);
      }
    } else {
      const { data, layout } = this.plotlyFigure(figure);
      await (this.drawn
        ? Plotly.react(this.gd, data, layout)
        : Plotly.newPlot(this.gd, data, layout, CONFIG));
      this.drawn = true;
    }
    this.shownData = figure.data;
    if (reason !== "" && reason !== RELAYOUT) {
      this.reasons.set(reason, (this.reasons.get(reason) ?? 0) + 1);
      this.redraws.full = [...this.reasons].map(([why, n]) => `${why}:${n}`).join(" ");
    }
  }

  // The Plotly.relayout that gives axes their new ranges (`moved`: axis -> range), or null
  // when a full redraw is cheaper. plotly.js 4.1 redraws an axis whose range alone was
  // relaid out without its title (addAxRangeSequence: skipTitle), which stays where the
  // old tick labels pushed it. Relaying out the title text as it is too redraws every
  // axis with its title as a fresh drawing places it, but costs more than Plotly.react
  // (1.2-1.5x: a full supplyDefaults and every axis drawn twice), so an axis with a title
  // takes a full redraw.
  rangeUpdate(moved) {
    const update = {};
    for (const [axis, range] of moved) {
      const title = this.gd.layout[axis]?.title;
      const text = typeof title === "string" ? title : title?.text;
      if (range === null || (text !== undefined && text !== null && text !== "")) return null;
      update[`${axis}.range`] = [...range];
    }
    return update;
  }

  // Draw `change` now, or -- while a drawing is running -- merged with later changes at
  // the next animation frame after it (before the first drawing: with it).
  request(change) {
    this.pending = mergeChange(this.pending, change);
    if (!this.ready || this.busy || this.frame) return;
    this.run();
  }

  // Draws what is pending; the promise settles when that drawing is done.
  run() {
    this.frame = 0;
    const change = this.pending;
    if (change === null) return Promise.resolve();
    this.pending = null;
    this.busy = true;
    return this.draw(change)
      .catch((error) => console.error("[marginlab] could not draw the figure", error))
      .finally(() => {
        this.busy = false;
        if (this.resized) this.resize();
        if (this.pending !== null) this.frame = requestAnimationFrame(() => this.run());
      });
  }

  // Its turn in queueFirstDrawing: the first drawing, with every change so far.
  start() {
    if (this.removed) return Promise.resolve();
    this.ready = true;
    this.pending = mergeChange(this.pending, newChange(true));
    return this.run();
  }

  // The element got a width (first: wait for its turn to draw) or a new one.
  resize() {
    if (!this.ready) {
      if (!this.queued) {
        this.queued = true;
        queueFirstDrawing(this);
      }
    } else if (this.busy) {
      this.resized = true;
    } else if (this.drawn) {
      this.resized = false;
      this.Plotly.Plots.resize(this.gd);
    }
  }

  remove() {
    this.removed = true;
    if (this.frame) cancelAnimationFrame(this.frame);
    this.Plotly.purge(this.gd);
    this.gd.remove();
  }
}

// ------------------------------------------------------------------ first drawings
// A page that opens with several charts draws them one at a time, the highest on the page
// first, each shown (a frame painted) before the next begins. A first drawing
// (Plotly.newPlot) takes 50-100 ms of a classroom laptop's main thread; begun together,
// as their elements get a width in the same frame, no chart would show until the last
// one was drawn. One queue per page (page-global, as the bundle registry is).
const FIRST_DRAWINGS = Symbol.for("marginlab.first-drawings");
const PAINT_WAIT_MS = 50; // go on without a painted frame (a hidden tab paints none)
const DRAWING_WAIT_MS = 2000; // ... and without a first drawing that has not settled

// Queued in the frame their elements got a width; they begin after it, so that the
// highest of the charts that got one together draws first.
function queueFirstDrawing(view) {
  const queue = (globalThis[FIRST_DRAWINGS] ??= { waiting: [], running: false });
  queue.waiting.push(view);
  if (!queue.running) {
    queue.running = true;
    setTimeout(() => drawFirstDrawings(queue), 0);
  }
}

async function drawFirstDrawings(queue) {
  try {
    while (queue.waiting.length > 0) {
      queue.waiting.sort((a, b) => (follows(a.gd, b.gd) ? -1 : 1));
      const drawing = queue.waiting.shift().start();
      await Promise.race([drawing, new Promise((r) => setTimeout(r, DRAWING_WAIT_MS))]);
      await painted();
    }
  } finally {
    queue.running = false;
  }
}

// Whether element b comes after element a in the page.
function follows(a, b) {
  return Boolean(a.compareDocumentPosition(b) & Node.DOCUMENT_POSITION_FOLLOWING);
}

// Settles once the browser has painted a frame (or after PAINT_WAIT_MS).
function painted() {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, PAINT_WAIT_MS);
    requestAnimationFrame(() =>
      setTimeout(() => {
        clearTimeout(timer);
        resolve();
      }, 0),
    );
  });
}

// The fast path's frame: the traces whose values changed, each with its changed values
// (framedTraces says which). A numeric array goes in as a plain Array: Plotly.animate
// expands dotted keys in what it is given (Lib.expandObjectPaths), and it walks a typed
// array's every index as a key -- two regular expressions per number, ~1 ms a press for
// two curves of 500 points -- while it takes a plain Array whole.
function animationFrame(change, figure) {
  const traces = framedTraces(change, figure);
  const data = traces.map((index) => {
    const trace = figure.data[index];
    const values = {};
    for (const key of change.traces.get(index) ?? []) {
      values[key] = key in trace ? frameValue(trace[key]) : null;
    }
    if ("text" in values && values.text !== null) values.text = labels(values.text);
    return values;
  });
  return { data, traces };
}

// The traces a fast-path frame draws. plotly.js draws only the traces a frame names and
// leaves the others as they are, with three catches: on each subplot it keeps only the
// trace-type layers the named traces are in (cartesian plotOne removes the others, so a
// subplot with none of them is left empty); it puts the named traces' elements in the
// order named (d3's order(): a trace named apart from its run moves over its
// neighbours); and a fill to the next trace or a stack links traces. So, for a figure of
// scatter traces (one zorder, no "tonext" fill, no stackgroup), per subplot: the run of
// its traces from the first changed one to the last (unchanged ones between are drawn
// again, to keep their order), or, on a subplot where none changed, its drawn trace with
// the fewest points (which keeps its layer). For any other figure, or a run with no drawn
// trace (hidden, or without points: its layer would be left empty), every trace. A press
// that moves one line of ten draws one.
function framedTraces(change, figure) {
  const data = figure.data;
  const every = data.map((_, index) => index);
  const first = data[0];
  const alone = (t) =>
    (t.type ?? "scatter") === "scatter" &&
    (t.zorder ?? 0) === (first.zorder ?? 0) &&
    !String(t.fill ?? "").startsWith("tonext") &&
    !t.stackgroup;
  if (!data.every(alone)) return every;
  const drawn = (index) => (data[index].visible ?? true) === true && pointCount(data[index]) > 0;
  const subplots = new Map(); // "xaxis yaxis" -> the indexes of its traces, in order
  for (const [index, t] of data.entries()) {
    const key = `${t.xaxis ?? "x"} ${t.yaxis ?? "y"}`;
    if (!subplots.has(key)) subplots.set(key, []);
    subplots.get(key).push(index);
  }
  const framed = [];
  for (const traces of subplots.values()) {
    const changed = traces.filter((index) => change.traces.has(index));
    if (changed.length > 0) {
      const run = traces.slice(traces.indexOf(changed[0]), traces.indexOf(changed.at(-1)) + 1);
      if (!run.some(drawn)) return every;
      framed.push(...run);
    } else {
      let fewest = null; // the subplot's drawn trace with the fewest points
      for (const index of traces.filter(drawn)) {
        if (fewest === null || pointCount(data[index]) < pointCount(data[fewest])) fewest = index;
      }
      if (fewest !== null) framed.push(fewest);
    }
  }
  return framed.sort((a, b) => a - b);
}

// A value of a fast-path frame: a typed array as a plain Array (see animationFrame); rows
// of a 2-d array stay typed inside their Array, which plotly.js takes whole.
function frameValue(value) {
  return ArrayBuffer.isView(value) ? Array.from(value) : copyPlain(value);
}

function pointCount(trace) {
  const values = trace.y ?? trace.x ?? trace.z;
  return values === undefined || values === null ? 0 : values.length;
}

// ------------------------------------------------------------------------------ anywidget
export default () => {
  let figure = { data: [], layout: {} };
  const views = new Set();

  return {
    initialize({ model }) {
      const id = model.get("_plotly_bundle_id");
      const entry = entryFor(id);
      figure = readFigure(model.get("_figure"));
      model.on("change:_figure", () => {
        figure = readFigure(model.get("_figure"));
        for (const view of views) view.request(newChange(true));
      });
      model.on("msg:custom", (message, buffers) => {
        if (message?.type === REPLY && message.id === id && buffers?.length) {
          deliverBundle(entry, buffers[0], message.encoding);
        } else if (message?.type === FIGURE) {
          figure = readFigure(message.figure, buffers);
          for (const view of views) view.request(newChange(true));
        } else if (message?.type === UPDATE) {
          const change = applyUpdate(figure, message, buffers);
          for (const view of views) view.request(change);
        }
      });
      requestBundle(model, id, entry);
    },

    async render({ model, el, signal }) {
      const id = model.get("_plotly_bundle_id");
      const entry = entryFor(id);
      if (entry.module === null) {
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
        el.textContent = "";
      }
      const Plotly = entry.module.default;
      if (!String(Plotly.version).startsWith(`${PLOTLY_JS_CHECKED}.`) && !entry.warned) {
        entry.warned = true;
        console.warn(`[marginlab] plotly.js ${Plotly.version}: this front end was checked ` +
          `with ${PLOTLY_JS_CHECKED}.x; run tests/browser/test_figure_redraw.py`);
      }
      const view = new View(Plotly, () => figure, el);
      views.add(view);
      // Draw once the element has a width (a view may render before it is attached),
      // then follow its width.
      let width = 0;
      const observer = new ResizeObserver(() => {
        const now = el.clientWidth;
        if (now === 0 || now === width) return;
        width = now;
        view.resize();
      });
      observer.observe(el);
      return () => {
        observer.disconnect();
        views.delete(view);
        view.remove();
      };
    },
  };
};
