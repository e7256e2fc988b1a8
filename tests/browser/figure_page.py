"""A bare page that runs marginlab's figure front end (widgets/static/figure.js, directly
or through widgets/static/figure-loader.js as anywidget does) with
plotly.js (widgets/static/plotly-charts.js) and a stand-in for the anywidget model, fed
the exact state and messages a SharedFigureWidget sends; used by test_figure_redraw.py.

The page draws each figure twice: live, through figure.js as the messages arrive (its
fast path or a full redraw), and fresh, with Plotly.newPlot from the Python figure as it
now is, with the axis ranges the live view chose. The two images are compared pixel by
pixel, forgiving antialiasing: a pixel only counts as different when nothing within one
pixel of it in the other image has its colour.
"""

from __future__ import annotations

import base64
import http.server
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import plotly.io as pio
from browser_checks import CHART_DRAWN_JS
from comm.base_comm import BaseComm

from marginlab.plotly_bundle import CHARTS_BUNDLE
from marginlab.widgets._plotly import FRONT_END_JS, LOADER_JS, SharedFigureWidget, plotly_bundle

FILES = {
    "/figure.js": FRONT_END_JS.encode(),
    "/figure-loader.js": LOADER_JS.encode(),
    "/plotly-charts.js": CHARTS_BUNDLE.read_bytes(),
    "/index.html": b'<!doctype html><meta charset="utf-8"><body style="width:1000px"></body>',
}

_PAGE_JS = """
async (bundleId) => {
  const plotly = await import('/plotly-charts.js');
  const registry = (globalThis[Symbol.for('marginlab.plotly-bundles')] ??= new Map());
  registry.set('preload', Promise.resolve({id: bundleId, module: plotly}));
  const front = await import('/figure.js');
  const bytes = (text) => {
    const raw = atob(text);
    const out = new Uint8Array(raw.length);
    for (let i = 0; i < raw.length; i++) out[i] = raw.charCodeAt(i);
    return new DataView(out.buffer);
  };
  const figures = new Map();
  window.marginlabPage = {
    Plotly: plotly.default,
    // A stand-in for the anywidget model of a widget state (buffers as base64 at their
    // paths).
    model(state, paths, buffers) {
      paths.forEach((path, i) => {
        let at = state;
        for (const part of path.slice(0, -1)) at = at[part];
        at[path[path.length - 1]] = bytes(buffers[i]);
      });
      const handlers = new Map();
      return {
        get: (name) => state[name],
        on: (event, callback) => handlers.set(event, [...(handlers.get(event) ?? []), callback]),
        off: (event, callback) =>
          handlers.set(event, (handlers.get(event) ?? []).filter((cb) => cb !== callback)),
        send: () => {},
        emit: (event, ...args) => (handlers.get(event) ?? []).forEach((cb) => cb(...args)),
      };
    },
    // The live chart's element ('live-' + key), or a fresh drawing's ('ref-' + key).
    element(key, prefix = 'live-') {
      const el = document.createElement('div');
      el.style.width = '900px';
      el.id = prefix + key;
      document.body.appendChild(el);
      return el;
    },
    // A figure from its widget state.
    async open(key, state, paths, buffers) {
      const model = this.model(state, paths, buffers);
      const widget = front.default();
      widget.initialize({model});
      const el = this.element(key);
      await widget.render({model, el});
      figures.set(key, {model, el, ref: this.element(key, 'ref-')});
      await this.settled(key);
      // plotly.js's own account of how it drew: a whole plot (every full drawing emits
      // plotly_afterplot) or a frame of Plotly.animate (plotly_animated); and how often an
      // attribute of the chart's element itself changed (a redraw changes what is inside).
      const plotly = {plots: 0, animated: 0, elementAttributes: 0};
      figures.get(key).plotly = plotly;
      this.gd(key).on('plotly_afterplot', () => plotly.plots++);
      this.gd(key).on('plotly_animated', () => plotly.animated++);
      new MutationObserver((changes) => (plotly.elementAttributes += changes.length))
        .observe(this.gd(key), {attributes: true});
    },
    // Figures opened in one task, their elements in the order given but rendered the
    // other way round (the lowest first): which of them have drawn, frame by frame, until
    // all have.
    async openTogether(entries) {
      const els = entries.map(([key]) => this.element(key));
      for (let i = entries.length - 1; i >= 0; i--) {
        const [key, state, paths, buffers] = entries[i];
        const model = this.model(state, paths, buffers);
        const widget = front.default();
        widget.initialize({model});
        widget.render({model, el: els[i]});
        figures.set(key, {model, el: els[i]});
      }
      const drawn = () => els.map((el) => (CHART_DRAWN)(el.querySelector('.js-plotly-plot')));
      const frames = [];
      for (let i = 0; i < 1000; i++) {
        await new Promise((r) => requestAnimationFrame(r));
        frames.push(drawn());
        if (frames.at(-1).every(Boolean)) return frames;
      }
      throw new Error('the charts never all drew');
    },
    // Figures opened as anywidget opens a SharedFigureWidget: their `_esm`,
    // figure-loader.js, gets figure.js from the FigureFrontEnd model (frontEnd: its state
    // and model id), which the widget manager hands over only at releaseFrontEnd():
    // what the figures are sent before waits in the loader.
    async openThroughLoader(entries, frontEnd, frontEndId) {
      const loader = await import('/figure-loader.js');
      let release;
      const released = new Promise((r) => (release = r));
      const holder = {sourceReads: 0, get(name) {
        if (name === 'source') holder.sourceReads++;
        return frontEnd[name];
      }};
      this.frontEnd = {holder, release: () => release(holder)};
      const widgetManager = {get_model: async (id) => {
        if (id !== frontEndId) throw new Error(`no model ${id}`);
        return released;
      }};
      for (const [key, state, paths, buffers] of entries) {
        const model = {...this.model(state, paths, buffers), widget_manager: widgetManager};
        const el = this.element(key);
        const widget = loader.default();
        const opened = (async () => {
          await widget.initialize({model});
          await widget.render({model, el});
        })();
        figures.set(key, {model, el, opened, ref: this.element(key, 'ref-')});
      }
    },
    // Hand the figures their front end; how often they read figure.js from its model.
    async releaseFrontEnd(keys) {
      this.frontEnd.release();
      await Promise.all(keys.map((key) => figures.get(key).opened));
      for (const key of keys) await this.settled(key);
      return this.frontEnd.holder.sourceReads;
    },
    message(key, content, buffers) {
      figures.get(key).model.emit('msg:custom', content, buffers.map(bytes));
    },
    gd(key) { return figures.get(key).el.querySelector('.js-plotly-plot'); },
    // What a live chart holds that could grow with every update: plotly.js's undo queue
    // (config.queueLength), its animation frames and queue, and the chart's elements.
    retained(key) {
      const gd = this.gd(key);
      const transition = gd._transitionData ?? {};
      return {undo: gd.undoQueue?.queue?.length ?? 0, frames: transition._frames?.length ?? 0,
              queued: transition._frameQueue?.length ?? 0,
              elements: gd.getElementsByTagName('*').length};
    },
    // Wait until the live chart has drawn everything it was sent.
    async settled(key) {
      for (let i = 0; i < 200; i++) {
        await new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0)));
        const gd = this.gd(key);
        const queue = gd?._transitionData?._frameQueue?.length;
        if (gd && gd._fullLayout && !gd._transitioning && !queue) {
          await new Promise((r) => setTimeout(r, 30));
          return;
        }
      }
      throw new Error('the live chart never settled');
    },
    redraws(key) {
      const gd = this.gd(key);
      return {...gd.marginlabRedraws, ...figures.get(key).plotly};
    },
    // Draw the Python figure fresh, with the live chart's axis ranges.
    async reference(key, figure) {
      const {ref} = figures.get(key);
      const live = this.gd(key);
      for (const [name, spec] of Object.entries(live.layout)) {
        if (/^[xy]axis\\d*$/.test(name) && Array.isArray(spec.range)) {
          figure.layout[name] = {...(figure.layout[name] ?? {}), range: [...spec.range],
                                 autorange: false};
        }
      }
      window.marginlabPage.Plotly.purge(ref);
      await window.marginlabPage.Plotly.newPlot(ref, figure.data, figure.layout,
                                                {displaylogo: false});
      await new Promise((r) => requestAnimationFrame(() => setTimeout(r, 30)));
    },
    // Pixels of image a with no pixel of its colour within 1 px in image b, and back.
    async difference(a, b) {
      const load = (src) => new Promise((resolve) => {
        const image = new Image();
        image.onload = () => resolve(image);
        image.src = 'data:image/png;base64,' + src;
      });
      const [ia, ib] = await Promise.all([load(a), load(b)]);
      if (ia.width !== ib.width || ia.height !== ib.height) return ia.width * ia.height;
      const pixels = (image) => {
        const canvas = document.createElement('canvas');
        canvas.width = image.width;
        canvas.height = image.height;
        const context = canvas.getContext('2d');
        context.drawImage(image, 0, 0);
        return context.getImageData(0, 0, image.width, image.height).data;
      };
      const [pa, pb] = [pixels(ia), pixels(ib)];
      const w = ia.width, h = ia.height;
      const near = (p, q, x, y) => {
        const i = 4 * (y * w + x);
        for (let dy = -1; dy <= 1; dy++) for (let dx = -1; dx <= 1; dx++) {
          const xx = x + dx, yy = y + dy;
          if (xx < 0 || yy < 0 || xx >= w || yy >= h) continue;
          const j = 4 * (yy * w + xx);
          if (Math.abs(p[i] - q[j]) + Math.abs(p[i + 1] - q[j + 1])
              + Math.abs(p[i + 2] - q[j + 2]) <= 48) return true;
        }
        return false;
      };
      let count = 0;
      for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
        if (!near(pa, pb, x, y) || !near(pb, pa, x, y)) count++;
      }
      return count;
    },
  };
}
""".replace("CHART_DRAWN", CHART_DRAWN_JS)


@contextmanager
def served() -> Iterator[str]:
    """The page's files on a loopback HTTP server; yields its base URL."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = FILES.get(self.path.split("?")[0])
            if body is None:
                self.send_error(404)
                return
            self.send_response(200)
            kind = "text/html" if self.path.endswith(".html") else "text/javascript"
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


class RecordingComm(BaseComm):
    """A comm that keeps every message it would publish, per comm: (data, buffers)."""

    sent: dict[str, list[tuple[dict, list[bytes]]]] = {}  # noqa: RUF012 - one recorder

    def publish_msg(self, msg_type, data=None, metadata=None, buffers=None, **keys):
        record = (data or {}, [bytes(b) for b in buffers or []])
        RecordingComm.sent.setdefault(self.comm_id, []).append(record)


def _b64(buffers: list[bytes]) -> list[str]:
    return [base64.b64encode(bytes(b)).decode() for b in buffers]


class FigurePage:
    """The page, and the figures it shows (keyed by the widget's comm id)."""

    def __init__(self, page: Any, base_url: str) -> None:
        from ipywidgets.widgets.widget import _remove_buffers

        self._remove_buffers = _remove_buffers
        self.page = page
        page.goto(f"{base_url}/index.html")
        page.evaluate(_PAGE_JS, plotly_bundle()[0])

    def _entry(self, figure: SharedFigureWidget) -> list[Any]:
        """[key, state, buffer paths, buffers as base64]: what the page opens a figure from."""
        state, paths, buffers = self._remove_buffers(figure.get_state())
        key = figure.comm.comm_id
        RecordingComm.sent.pop(key, None)  # what came before the page opened it
        return [key, state, paths, _b64(buffers)]

    def open(self, figure: SharedFigureWidget) -> str:
        entry = self._entry(figure)
        self.page.evaluate("([k, s, p, b]) => window.marginlabPage.open(k, s, p, b)", entry)
        return entry[0]

    def open_together(self, figures: list[SharedFigureWidget]) -> list[list[bool]]:
        """Open ``figures`` at once, shown in this order but rendered the other way round;
        per animation frame until all have drawn, which of them had (in the given order)."""
        entries = [self._entry(figure) for figure in figures]
        return self.page.evaluate("(e) => window.marginlabPage.openTogether(e)", entries)

    def open_through_loader(self, figures: list[SharedFigureWidget]) -> list[str]:
        """Open ``figures`` through their loader, holding back their front end model
        until :meth:`release_front_end`; returns their keys."""
        entries = [self._entry(figure) for figure in figures]
        front_end = figures[0]._front_end
        self.page.evaluate(
            "([e, s, id]) => window.marginlabPage.openThroughLoader(e, s, id)",
            [entries, front_end.get_state(), front_end.model_id],
        )
        return [entry[0] for entry in entries]

    def release_front_end(self, keys: list[str]) -> int:
        """Hand the figures their front end model and wait until all have drawn; returns
        how many times figure.js was read from the model."""
        return self.page.evaluate("(k) => window.marginlabPage.releaseFrontEnd(k)", keys)

    def deliver(self, key: str, settle: bool = True) -> int:
        """Hand the page every custom message the figure sent since (and with ``settle``
        wait until its chart has drawn them); returns how many."""
        messages = RecordingComm.sent.pop(key, [])
        custom = [(d["content"], b) for d, b in messages if d.get("method") == "custom"]
        for content, buffers in custom:
            self.page.evaluate(
                "([k, c, b]) => window.marginlabPage.message(k, c, b)",
                [key, content, _b64(buffers)],
            )
        if settle:
            self.page.evaluate("(k) => window.marginlabPage.settled(k)", key)
        return len(custom)

    def difference(self, key: str, figure: SharedFigureWidget) -> int:
        """Pixels that differ between the live chart and a fresh drawing of ``figure``."""
        fresh = json.loads(pio.to_json(figure, validate=False))
        self.page.evaluate("([k, f]) => window.marginlabPage.reference(k, f)", [key, fresh])
        live = self.page.locator(f"#live-{key} .js-plotly-plot").screenshot()
        ref = self.page.locator(f"#ref-{key}").screenshot()
        return self.page.evaluate(
            "([a, b]) => window.marginlabPage.difference(a, b)", _b64([live, ref])
        )

    def redraws(self, key: str) -> dict[str, Any]:
        return self.page.evaluate("(k) => window.marginlabPage.redraws(k)", key)

    def retained(self, key: str) -> dict[str, int]:
        """What the live chart holds that could grow per update (see _PAGE_JS)."""
        return self.page.evaluate("(k) => window.marginlabPage.retained(k)", key)

    def live_objects(self) -> dict[str, int]:
        """The page's live JS objects after a garbage collection, by kind (plain objects,
        arrays, functions): Chromium's count of the objects with that prototype."""
        cdp = self.page.context.new_cdp_session(self.page)
        try:
            cdp.send("HeapProfiler.collectGarbage")
            counts = {}
            for kind in ("Object", "Array", "Function"):
                found = cdp.send("Runtime.evaluate", {"expression": f"{kind}.prototype"})
                objects = cdp.send(
                    "Runtime.queryObjects",
                    {"prototypeObjectId": found["result"]["objectId"], "objectGroup": "count"},
                )
                counted = cdp.send(
                    "Runtime.callFunctionOn",
                    {
                        "objectId": objects["objects"]["objectId"],
                        "functionDeclaration": "function () { return this.length; }",
                        "returnByValue": True,
                    },
                )
                counts[kind] = counted["result"]["value"]
                cdp.send("Runtime.releaseObjectGroup", {"objectGroup": "count"})
            return counts
        finally:
            cdp.detach()
