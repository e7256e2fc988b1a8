"""The workshop room in a real browser: ``marginlab present --learners 2`` with a token.

A learner who opens the room's link sees the lesson's charts; closing the tab frees the
seat at once (Voila's page asks for its kernel to be shut down as it closes, which needs
the XSRF cookie marginlab.room hands out); a visitor without the link sees a page saying
so, not a login form.
"""

from __future__ import annotations

import os
import sys
import time

import browser_checks as bc
import pytest

TOKEN = "browser-room-token"


def wait_for_kernels(server: bc.Server, wanted: int, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while len(bc.server_kernels(server)) != wanted:
        if time.monotonic() > deadline:
            raise AssertionError(
                f"{len(bc.server_kernels(server))} kernels after {timeout_s:.0f} s, not {wanted}"
            )
        time.sleep(0.2)


@pytest.fixture
def room(browser):
    """The harness lesson served to a room of 2 seats (present's real command line)."""
    port = bc.free_port()
    command = [sys.executable, "-m", "marginlab", "present", "--dir", str(bc.FIXTURES_DIR)]
    command += ["--learners", "2", "--token", TOKEN, "--port", str(port), "--no-browser"]
    server = bc.start_server("present-room", command, port, dict(os.environ))
    try:
        wait_for_kernels(server, 2, 180)  # the whole room preheated
        yield server
    finally:
        server.stop()


@pytest.mark.browser
@pytest.mark.slow
def test_room_in_browser_closing_a_tab_frees_its_seat_for_the_next_learner(
    room, new_page, guard
) -> None:
    url = f"{room.base_url}/voila/render/chart_slider_quiz.ipynb?token={TOKEN}"
    first, second = new_page(), new_page()
    for page in (first, second):
        page.goto(url)
        bc.wait_for_charts(page, guard)
        assert bc.error_texts(page) == []
    assert len(bc.server_kernels(room)) == 2  # the room is full: the pool was not refilled
    first.close(run_before_unload=True)
    wait_for_kernels(room, 1, 20)  # shut down as the tab closed, not at the idle cull
    third = new_page()
    third.goto(url)
    assert bc.wait_for_charts(third, guard) >= 1
    assert guard.foreign == []


@pytest.mark.browser
@pytest.mark.slow
def test_room_in_browser_without_the_link_says_so(room, new_page) -> None:
    page = new_page()
    reply = page.goto(f"{room.base_url}/voila/render/chart_slider_quiz.ipynb")
    assert reply.status == 403
    assert page.get_by_role("heading").inner_text() == "This room needs its link"
    assert len(bc.server_kernels(room)) == 2
