// marginlab: the `_esm` of every SharedFigureWidget (marginlab/widgets/_plotly.py). It
// imports the charts' front end, static/figure.js, once per page and hands the widget to
// it.
//
// figure.js (~35 KB) crosses the wire once per kernel: in the state of one FigureFrontEnd
// model, which every figure names in its `_front_end`. As a figure's own `_esm` it would
// travel in each figure's state, and anywidget would compile a copy per figure (~10 ms
// of a classroom laptop's main thread each). The page keeps the imported module in a
// page-global registry by its id (`_front_end_id`, a hash of figure.js), so figures of
// another kernel with the same figure.js (another notebook) import nothing.
//
// Custom messages (figure updates, the plotly.js reply) that reach the model while
// figure.js loads are held and handed to figure.js in order, before any later one.
// figure.js's initialize registers its listeners before it awaits anything.

const MODULES = Symbol.for("marginlab.figure-front-ends");
const REF = "IPY_MODEL_"; // how ipywidgets writes a reference to another model

// (figure.js's deliverBundle imports plotly.js the same way; this runs before figure.js
// exists, so it cannot call it.)
async function importSource(source) {
  const url = URL.createObjectURL(new Blob([source], { type: "text/javascript" }));
  try {
    return await import(/* webpackIgnore: true */ url);
  } finally {
    URL.revokeObjectURL(url);
  }
}

// figure.js as a module: imported once per page and id, from the FigureFrontEnd model.
function frontEnd(model) {
  const id = model.get("_front_end_id");
  const all = (globalThis[MODULES] ??= new Map());
  let module = all.get(id);
  if (module === undefined) {
    module = (async () => {
      // anywidget hands its modules a model's references as ipywidgets writes them.
      const ref = model.get("_front_end");
      if (typeof ref !== "string" || !ref.startsWith(REF)) {
        throw new Error(`no front end model: ${ref}`);
      }
      const holder = await model.widget_manager.get_model(ref.slice(REF.length));
      return importSource(holder.get("source"));
    })();
    all.set(id, module);
    module.catch(() => all.delete(id)); // the next figure tries again
  }
  return module;
}

export default () => {
  let widget = null;
  let failure = null;

  return {
    async initialize(context) {
      const { model } = context;
      const held = [];
      const hold = (...message) => held.push(message);
      model.on("msg:custom", hold);
      let module;
      try {
        module = await frontEnd(model);
      } catch (error) {
        failure = error;
        console.error("[marginlab] could not load the chart front end", error);
        return undefined;
      } finally {
        model.off("msg:custom", hold);
      }
      // From here to the held messages' replay nothing awaits: no message can come
      // between them.
      const listeners = [];
      const proxy = {
        ...model,
        on(name, callback) {
          if (name === "msg:custom") listeners.push(callback);
          model.on(name, callback);
        },
      };
      widget = module.default();
      const result = widget.initialize({ ...context, model: proxy });
      for (const message of held) for (const listener of listeners) listener(...message);
      return result;
    },

    render(context) {
      if (widget === null) {
        context.el.textContent = `The chart could not load: ${failure}`;
        return undefined;
      }
      return widget.render(context);
    },
  };
};
