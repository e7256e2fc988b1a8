"""The common base of every lesson widget: controls -> engine -> charts, one tick at a time.

A subclass passes its controls and figures to :class:`LessonWidget` and writes two
methods; the base does the wiring, the batching, the error handling and the layout::

    class LeverageWidget(LessonWidget):
        def __init__(self) -> None:
            self.account = guide_account("isolated")     # whatever _compute needs, first
            leverage = ipywidgets.FloatSlider(value=10, min=1, max=125, description="Leverage")
            figure = make_figure_widget(some_chart_figure(...))
            super().__init__(controls={"leverage": leverage}, figures=[figure])

        def _compute(self, values):                     # engine only; may raise ValueError
            return liquidation_price(..., leverage=values["leverage"])

        def _apply(self, result):                       # charts only; inside batch_update
            update_some_chart(self.figures[0], result)
            return f"Liquidation at {result:,.2f} USDT."  # the one-sentence summary

Layout: the controls with a message area beside them, the figures, then the summary
line. Every control that has a ``value`` is observed; buttons call :meth:`_act`.

Slider drags build no backlog. Sliders may keep ``continuous_update=True`` (the chart
follows the drag): the ipywidgets front end keeps at most one state update per control
in flight and merges newer values into a single pending one until the kernel is idle,
so a drag sends only as many ticks as the kernel can serve. On the kernel side a tick
whose control values equal the ones already drawn is skipped, and a control change made
during a tick (restoring a refused value) runs one more tick afterwards, never a nested
one. Text boxes should use ``continuous_update=False`` (a tick on Enter or leaving the
box, not per keystroke).

Each chart's update leaves the kernel as soon as it is written, before the texts and any
chart computed after it (:meth:`LessonWidget._send_chart`): the page draws it meanwhile.
In a kernel, sending takes :func:`send_messages_now` (see there for why).

A refused value never raises into the notebook: :meth:`_compute` raising (the engine's
``ValueError``/``TypeError``) shows a short message beside the controls and puts every
control back to the last values that were drawn; figures and summary stay as they were.
"""

from __future__ import annotations

import html
import threading
from collections.abc import Callable, Mapping, Sequence
from contextlib import ExitStack, suppress
from typing import Any

import ipywidgets
import traitlets
from IPython import get_ipython

from marginlab.widgets._plotly import SharedFigureWidget, make_figure_widget

__all__ = ["LessonWidget", "figures_of", "send_messages_now", "shown"]

MESSAGE_MAX_CHARS = 240  # a refusal message is one or two lines beside the controls
SEND_WAIT_S = 0.1  # send_messages_now waits at most this long for the kernel's IO thread


def send_messages_now() -> None:
    """Send the messages this kernel has queued (a chart's update) before going on.

    Why: ipykernel sends every message from its IO thread, which needs the GIL to run;
    while a tick goes on computing (the next chart, the texts), a chart update written
    mid-tick sat in the thread's queue until the tick ended (a scenario switch of the
    "when to use" widget: 2.5-3.5 ms p50, up to 7 ms), so the page could not draw it in
    the meantime. Waiting here (the GIL released) until the IO thread has run everything
    queued so far sends them now. Outside a kernel (tests, scripts), or if the thread does
    not answer within :data:`SEND_WAIT_S`, this returns and the messages go as before.
    """
    io_thread = getattr(getattr(get_ipython(), "kernel", None), "iopub_thread", None)
    thread = getattr(io_thread, "thread", None)
    if thread is None or not thread.is_alive() or thread is threading.current_thread():
        return
    sent = threading.Event()
    io_thread.schedule(sent.set)  # runs after the sends queued before it
    sent.wait(SEND_WAIT_S)


class LessonWidget(ipywidgets.VBox):
    """Controls, a message area, figures and a summary line, updated in place.

    Parameters
    ----------
    controls
        Control name -> ipywidgets control, in display order. Controls with a ``value``
        trait trigger a tick when it changes; ``_compute`` receives their values by name.
    figures
        The charts this widget owns, each made with ``make_figure_widget``.
    controls_box
        Optional widget that arranges the controls (default: one column in dict order).
    figures_box
        Optional widget that arranges the figures (default: one column).
    """

    summary = traitlets.Unicode("", read_only=True, help="the current one-sentence summary")
    message = traitlets.Unicode("", read_only=True, help="why the last change was refused")

    def __init__(
        self,
        controls: Mapping[str, ipywidgets.Widget],
        figures: Sequence[SharedFigureWidget] = (),
        *,
        controls_box: ipywidgets.Widget | None = None,
        figures_box: ipywidgets.Widget | None = None,
    ) -> None:
        for name, control in controls.items():
            if not isinstance(control, ipywidgets.Widget):
                raise TypeError(
                    f"controls[{name!r}] must be an ipywidgets widget, got {type(control).__name__}"
                )
        for index, figure in enumerate(figures):
            if not isinstance(figure, SharedFigureWidget):
                raise TypeError(
                    f"figures[{index}] must be made with make_figure_widget(), "
                    f"got {type(figure).__name__}"
                )
        self.controls: dict[str, ipywidgets.Widget] = dict(controls)
        self.figures: tuple[SharedFigureWidget, ...] = tuple(figures)
        self.last_error: BaseException | None = None  # the last exception a tick caught
        self._drawn: dict[str, Any] | None = None  # control values the figures show
        self._drawn_result: Any = None  # what _compute returned for them
        self._busy = False
        self._again = False
        self._held_charts: dict[int, ExitStack] = {}  # figures whose updates _apply holds

        self.message_area = ipywidgets.HTML("")
        self.message_area.add_class("marginlab-message")
        self.summary_area = ipywidgets.HTML("")
        self.summary_area.add_class("marginlab-summary")
        if controls_box is None:
            controls_box = ipywidgets.VBox(list(self.controls.values()))
        if figures_box is None:
            figures_box = ipywidgets.VBox(list(self.figures))
        top = ipywidgets.HBox([controls_box, self.message_area])
        super().__init__([top, figures_box, self.summary_area])
        self.add_class("marginlab-widget")
        self._text_widgets = self._texts()  # the tree is built: found once, not per tick

        for name, control in self.controls.items():
            control.add_class(f"marginlab-control-{name}")  # found by tests and benchmarks
            if control.has_trait("value"):
                control.observe(self._on_control_change, names="value")
        self._update()

    # --- what a subclass writes ------------------------------------------------------

    def _compute(self, values: dict[str, Any]) -> Any:
        """Call the engine for these control values (name -> value) and return the numbers.

        Raise ``ValueError``/``TypeError`` (the engine does) to refuse the values. Must not
        change the figures or any state the next tick depends on.
        """
        raise NotImplementedError(f"{type(self).__name__} must implement _compute(values)")

    def _apply(self, result: Any) -> str:
        """Hand ``result`` to the charts' ``update_*`` functions; return the summary.

        Runs inside one ``batch_update`` of every figure, so all trace changes of a tick
        reach the browser as one message per figure.
        """
        raise NotImplementedError(f"{type(self).__name__} must implement _apply(result)")

    @property
    def drawn(self) -> Any:
        """What :meth:`_compute` returned for the values the figures show now."""
        if self._drawn is None:  # only if the very first tick was refused
            raise RuntimeError(f"{type(self).__name__} has not drawn a state yet")
        return self._drawn_result

    # --- the tick ----------------------------------------------------------------------

    def control_values(self) -> dict[str, Any]:
        """The current value of every control that has one, by name."""
        return {n: c.value for n, c in self.controls.items() if c.has_trait("value")}

    def _on_control_change(self, _change: dict[str, Any]) -> None:
        self._update()

    def _update(self, *, force: bool = False) -> None:
        """One tick: read the controls, call the engine, swap the figures' trace data.

        Skipped when the values are those already drawn (unless ``force``). A call made
        while a tick runs (a control restored by that tick, or set by its ``_apply``) is
        run after it, once, and does nothing if that tick drew those values.
        """
        if self._busy:
            self._again = True
            return
        self._busy = True
        try:
            self._tick(force)
            while self._again:
                self._again = False
                self._tick(force=False)
        finally:
            self._busy = False

    def _act(self, action: Callable[[], object]) -> bool:
        """Run a button's ``action`` (which may change the widget's state), then tick.

        ``action`` should assign new state only once the engine accepted it (the engine's
        values are immutable, so ``self.account = self.account.add_margin(...)`` does).
        A refusal shows its message and changes nothing. Returns True when it ran.
        """
        try:
            action()
        except Exception as exc:  # shown beside the controls, never raised
            self._show_error(exc)
            return False
        self._update(force=True)
        return True

    def _tick(self, force: bool) -> None:
        values = self.control_values()
        if not force and values == self._drawn:
            return
        try:
            result = self._compute(dict(values))
        except Exception as exc:  # a refused value: message, last good values back
            self._show_error(exc)
            self._restore_controls()
            return
        try:
            summary = self._draw(result)
        except Exception as exc:  # a chart bug: say so, keep the page usable
            self._show_error(exc, prefix="The chart could not be updated")
            self._restore_controls()
            if self._drawn is not None:
                with suppress(Exception):  # the message above already reports the failure
                    self._draw(self._drawn_result)
            return
        # The controls as the tick left them: an _apply that sets a control shows its
        # result there (a new scenario starts on its showcase path), and the tick that
        # change asked for finds it drawn.
        self._drawn, self._drawn_result = self.control_values(), result
        self.set_trait("summary", summary)
        self.summary_area.value = f'<p aria-live="polite">{html.escape(summary)}</p>'
        self._show_message("")
        self.last_error = None

    def _draw(self, result: Any) -> str:
        with ExitStack() as batch:
            # The texts a tick rewrites (tables, notes) reach the page after the charts'
            # updates: the browser redraws the charts first. (Contexts exit last-in first.)
            for text in self._text_widgets:
                batch.enter_context(text.hold_sync())
            for figure in self.figures:  # _held_charts is empty between ticks
                held = self._held_charts[id(figure)] = ExitStack()
                held.callback(send_messages_now)  # its update sent, before what follows
                held.enter_context(figure.batch_update())
                batch.push(held)
            try:
                return self._apply(result)
            finally:
                self._held_charts = {}

    def _send_chart(self, figure: Any) -> None:
        """Send ``figure``'s update now, in the middle of ``_apply``: the browser draws it
        while the kernel computes the rest of the tick (the other charts, the texts). For
        a figure whose update ``_apply`` has finished; without it every update leaves when
        ``_apply`` returns."""
        held = self._held_charts.pop(id(figure), None)
        if held is None:
            raise RuntimeError("_send_chart: only a figure of this widget, inside _apply")
        held.close()

    def _texts(self) -> list[ipywidgets.Widget]:
        """The widgets a tick holds until its charts are sent: every HTML widget inside
        this one (tables, notes, the summary)."""
        found, todo = [], list(self.children)
        while todo:
            child = todo.pop()
            if isinstance(child, ipywidgets.HTML):
                found.append(child)
            todo.extend(getattr(child, "children", ()))
        return found

    def _restore_controls(self) -> None:
        if self._drawn is None:
            return
        for name, value in self._drawn.items():
            self.controls[name].value = value

    def _show_error(self, exc: BaseException, prefix: str = "") -> None:
        self.last_error = exc
        lines = str(exc).strip().splitlines()
        reason = lines[0] if lines else type(exc).__name__
        if not isinstance(exc, ValueError | TypeError):
            prefix = prefix or f"Unexpected {type(exc).__name__}"
        text = f"{prefix}: {reason}" if prefix else reason
        if len(text) > MESSAGE_MAX_CHARS:
            text = text[: MESSAGE_MAX_CHARS - 1] + "…"
        if self._drawn is not None:
            text += " (kept the last good values)"
        self._show_message(text)

    def _show_message(self, text: str) -> None:
        self.set_trait("message", text)
        self.message_area.value = (
            f'<p role="alert" style="color:#9b1c1c;margin:0 0 0 1em">{html.escape(text)}</p>'
            if text
            else ""
        )


def shown(read: Callable[[Any], Any], doc: str) -> property:
    """A read-only attribute of a widget: ``read(widget.drawn)``, what the figures show
    now (a mapping comes back as a new dict, keyed by mode name where it was keyed by
    :class:`~marginlab.engine.MarginMode`, so a reader cannot change the widget)."""

    def get(widget: LessonWidget) -> Any:
        value = read(widget.drawn)
        if isinstance(value, Mapping):
            return {str(key): item for key, item in value.items()}
        return value

    return property(get, doc=doc)


def figures_of(*charts: Any) -> list[SharedFigureWidget]:
    """The live figure of each built chart (``Chart``), for :class:`LessonWidget`."""
    return [make_figure_widget(chart.figure) for chart in charts]
