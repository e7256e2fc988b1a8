"""The workshop room, inside the Voila server that ``marginlab present`` starts.

Voila loads the two classes here by name (see :func:`marginlab.serve.voila_command`):

* :class:`RoomKernelManager` gives the room its seats. Every open lesson page holds one
  kernel; with ``learners = N`` no more than N kernels run at once, preheated ones
  included. A page that finds the room full waits a few seconds for a seat (a learner
  going from one lesson to the next frees one as the old page closes), takes the seat
  of a preheated kernel nobody is using, or else gets a readable "the room is full"
  page (HTTP 503) at once instead of a page that hangs.
* :class:`RoomIdentityProvider` locks the room: when Voila runs with a token, a request
  without it (or the cookie the token link sets) gets a readable HTTP 403 page, never a
  login form. It also hands each page the XSRF cookie that Voila's page sends back when
  it closes, so a closed tab's kernel is shut down at once (without the cookie Voila
  refuses that request, voila-dashboards/voila#1458, and the kernel waits for the idle
  cull).

This module runs inside Voila's process: it imports Voila and jupyter_server, which
``marginlab`` itself does not need.
"""

from __future__ import annotations

import asyncio
import functools
import html
import time
import uuid
from datetime import UTC, datetime
from typing import Any

from jupyter_core.utils import ensure_async
from jupyter_server.base.call_context import CallContext
from jupyter_server.services.kernels.kernelmanager import AsyncMappingKernelManager
from tornado import web
from traitlets import Float, Integer
from voila.utils import ENV_VARIABLE
from voila.voila_identity_provider import VoilaIdentityProvider

ROOM_FULL_RETRY_S = 60  # what the 503 page asks the browser to wait before retrying

_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>body{{font-family:system-ui,sans-serif;max-width:38em;margin:4em auto;
padding:0 1em;line-height:1.5;color:#1b1b1b}}code{{font-size:1.05em}}</style>
</head><body><h1>{title}</h1>{body}</body></html>
"""


def room_page(title: str, *paragraphs: str) -> str:
    """A small self-contained HTML page (nothing loaded from anywhere) saying ``title``;
    ``paragraphs`` are HTML."""
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    return _PAGE.format(title=html.escape(title), body=body)


def room_full_page(learners: int) -> str:
    """What a visitor sees when every one of the ``learners`` seats is taken."""
    return room_page(
        "The room is full",
        f"All {learners} seats of this workshop are taken: each open lesson page holds one.",
        "Close a lesson tab you no longer use, or wait a minute and reload this page.",
        "Instructor: <code>marginlab present --learners N</code> sets the number of seats "
        "(each needs about 100&nbsp;MB of memory on the server).",
    )


LOCKED_PAGE = room_page(
    "This room needs its link",
    "This workshop server only opens for the link your instructor shares: it carries "
    "the room's token.",
    "Open that link (or scan the QR code on the projector) in this browser.",
)


def _end_request(status: int, page: str, headers: dict[str, str] | None = None) -> Exception:
    """End the current request with ``status`` and ``page``; raise what this returns."""
    handler = CallContext.get(CallContext.JUPYTER_HANDLER)
    if handler is None:  # not inside a request: let the caller's caller report it
        return web.HTTPError(status)
    handler.clear()
    handler.set_status(status)
    handler.set_header("Content-Type", "text/html; charset=UTF-8")
    handler.set_header("Cache-Control", "no-store")
    for name, value in (headers or {}).items():
        handler.set_header(name, value)
    return web.Finish(page)


class RoomKernelManager(AsyncMappingKernelManager):
    """Voila's kernel manager with a fixed number of seats (``learners``; 0: no limit).

    A seat is a kernel that is running, starting, or waiting in Voila's pool of
    preheated kernels. Voila builds its pool manager as a subclass of the class it is
    given (``voila_kernel_manager_factory``); :meth:`__init_subclass__` makes that
    subclass refill its pool only into free seats.
    """

    learners = Integer(0, config=True, help="Most kernels running at once; 0: no limit.")
    seat_wait_s = Float(
        8.0,
        config=True,
        help="How long a page waits for a seat to free up before it is told the room is "
        "full (a learner moving to the next lesson frees one as the old page closes).",
    )

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        fill = cls.__dict__.get("fill_if_needed")  # defined by Voila's pool subclass
        if fill is not None:
            cls.fill_if_needed = _fill_free_seats_only(fill)
        take = cls.__dict__.get("get_rendered_notebook")  # ...as is this
        if take is not None:
            cls.get_rendered_notebook = _taken_kernel_counts_as_active(take)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._room_starting: set[str] = set()  # kernels being started
        self._room_pool_starting: set[str] = set()  # ...of them, for Voila's pool

    # ------------------------------------------------------------------------ seats
    def seats_taken(self) -> int:
        """Kernels running or starting, plus pool kernels still waiting to start."""
        pools = getattr(self, "_pools", {})  # Voila's pool: {notebook: [task, ...]}
        waiting = sum(1 for pool in pools.values() for task in pool if not task.done())
        waiting -= len(self._room_pool_starting)  # those are counted as starting
        return len(set(self._kernels) | self._room_starting) + max(0, waiting)

    def seats_free(self) -> int | None:
        """Seats left, or None when the room has no limit."""
        return None if not self.learners else max(0, self.learners - self.seats_taken())

    async def start_kernel(self, *, kernel_id: str | None = None, **kwargs: Any) -> str:
        """Start a kernel in a free seat. For a page (not Voila's pool, whose seats are
        taken when it is filled) wait for one first; see :meth:`_wait_for_seat`."""
        env = kwargs.get("env") or {}
        for_pool = env.get(ENV_VARIABLE.VOILA_PREHEAT) == "True"
        if not for_pool:
            await self._wait_for_seat()
        kernel_id = kernel_id or str(uuid.uuid4())
        self._room_starting.add(kernel_id)
        if for_pool:
            self._room_pool_starting.add(kernel_id)
        try:
            return await super().start_kernel(kernel_id=kernel_id, **kwargs)
        finally:
            self._room_starting.discard(kernel_id)
            self._room_pool_starting.discard(kernel_id)

    async def _wait_for_seat(self) -> None:
        """Return once a seat is free: at once when one is; else after shutting down an
        idle preheated kernel; else when a kernel stops within ``seat_wait_s``. Ends
        the request with the "room is full" page (503) otherwise."""
        deadline = time.monotonic() + self.seat_wait_s
        while (free := self.seats_free()) is not None and free <= 0:
            if await self._free_a_pool_seat():
                continue
            if time.monotonic() >= deadline:
                self.log.warning("The room is full: %d of %d seats taken", *self._seats())
                raise _end_request(
                    503,
                    room_full_page(self.learners),
                    {"Retry-After": str(ROOM_FULL_RETRY_S)},
                )
            await asyncio.sleep(0.25)

    def _seats(self) -> tuple[int, int]:
        return self.seats_taken(), self.learners

    async def _free_a_pool_seat(self) -> bool:
        """Shut down one preheated kernel that no page uses (from the fullest pool);
        False when there is none."""
        pools = getattr(self, "_pools", {})
        ready = [
            (len(pool), task.result()["kernel_id"], task.result()["task"])
            for pool in pools.values()
            for task in pool
            if task.done() and not task.cancelled() and task.exception() is None
        ]
        if not ready:
            return False
        _, kernel_id, rendering = max(ready, key=lambda item: item[0])
        rendering.cancel()  # it was running the notebook for a page that never came
        self.log.info("Room full: shutting down preheated kernel %s for a learner", kernel_id)
        await ensure_async(self.shutdown_kernel(kernel_id))  # Voila takes it off its pool
        return True


def _fill_free_seats_only(fill):
    """Wrap Voila's ``fill_if_needed(delay, notebook_name, ...)`` so the pool only
    grows into free seats: when the pool of ``notebook_name`` would need more kernels
    than there are free seats, it is not refilled (it refills on a later page visit)."""

    @functools.wraps(fill)
    def fill_if_needed(self, delay=None, notebook_name=None, *args, **kwargs):
        free = self.seats_free()
        if free is not None:
            config = self.kernel_pools_config
            default = config.get("default", {})
            size = config.get(notebook_name, default).get("pool_size", default.get("pool_size", 1))
            wanted = size - len(self._pools.get(notebook_name, ()))
            if wanted > free:
                self.log.info(
                    "Room: %d of %d seats taken; the pool of %s is not refilled",
                    *self._seats(),
                    notebook_name,
                )
                return None
        return fill(self, delay, notebook_name, *args, **kwargs)

    return fill_if_needed


def _taken_kernel_counts_as_active(take):
    """Wrap Voila's ``get_rendered_notebook``, which hands a page a preheated kernel, so
    that kernel's idle time starts when the page takes it.

    A preheated kernel is never culled while it waits in the pool, but its last activity
    is when it ran the notebook. Taken from a pool where it waited longer than the cull
    timeout, it was culled at the next cull (every ``cull_interval``) if that came before
    the page connected to it (a few seconds): the page then showed its cells and never a
    widget.
    """

    @functools.wraps(take)
    async def get_rendered_notebook(self, *args, **kwargs):
        render_task, rendered_cells, kernel_id = await take(self, *args, **kwargs)
        kernel = self._kernels.get(kernel_id)
        if kernel is not None:
            kernel.last_activity = datetime.now(UTC)  # as jupyter_server sets it
        return render_task, rendered_cells, kernel_id

    return get_rendered_notebook


class RoomIdentityProvider(VoilaIdentityProvider):
    """Voila's token check, answering a request without the token with a readable 403
    page (no login form: the instructor's link is the way in), and setting the XSRF
    cookie that lets a closing page shut its kernel down."""

    async def get_user(self, handler: web.RequestHandler):  # -> User | None
        user = await ensure_async(super().get_user(handler))
        if user is None and self.auth_enabled:
            raise _end_request(403, LOCKED_PAGE)
        is_page = handler.request.method == "GET" and (
            handler.request.headers.get("Upgrade", "").lower() != "websocket"
        )
        if is_page:
            handler.current_user = user  # as prepare() does next; xsrf_token reads it
            _ = handler.xsrf_token  # sets the _xsrf cookie when the browser has none
        return user
