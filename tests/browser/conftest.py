"""Fixtures for the browser tests: headless Debian chromium, and Voila and JupyterLab
servers on free loopback ports, started with marginlab.serve's exact command lines.

Without chromium (or playwright) the browser tests skip with a reason; with
MARGINLAB_BROWSER_TESTS=1 (CI) they fail instead.
"""

from __future__ import annotations

import importlib.util
import json
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from marginlab.serve import jupyterlab_command, server_env, voila_command

sys.path.insert(0, str(Path(__file__).resolve().parent))
import browser_checks as bc  # shared with benchmarks/browser.py

# The fixture notebook is served to the browser, not run by nbval (lessons are).
collect_ignore_glob = ["fixtures/*.ipynb"]

SKIP_REASON = (
    "chromium not found: apt-get install chromium, or set MARGINLAB_BROWSER_TESTS=1 to require them"
)
# JupyterLab user settings for the test server: every cell attached to the page (no
# windowing), so a chart below the fold is drawn and checked like the others.
LAB_USER_SETTINGS = {
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
        "fetchNews": "false",
        "checkForUpdates": False,
    },
}


def _unavailable_reason() -> str | None:
    if importlib.util.find_spec("playwright") is None:
        return "playwright is not installed: pip install -r requirements-test.txt"
    if bc.chromium_path() is None:
        return SKIP_REASON
    return None


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    """Headless chromium for the whole session; skips (or fails in CI) without it."""
    reason = _unavailable_reason()
    if reason is not None:
        if bc.browser_tests_required():
            pytest.fail(f"{reason} ({bc.REQUIRE_ENV}=1 makes the browser tests mandatory)")
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    playwright = sync_playwright().start()
    try:
        chromium = bc.launch_chromium(playwright)
        yield chromium
        chromium.close()
    finally:
        playwright.stop()


@pytest.fixture
def guard() -> bc.RequestGuard:
    """A fresh request guard; tests assert that ``guard.foreign`` stays empty."""
    return bc.RequestGuard()


@pytest.fixture
def new_page(browser, guard: bc.RequestGuard) -> Iterator[Callable[[], object]]:
    """Opens guarded pages in a fresh browser context; closes them after the test."""
    contexts = []

    def open_page():
        context, page = bc.new_guarded_page(browser, guard)
        contexts.append(context)
        return page

    yield open_page
    for context in contexts:
        context.close()


@pytest.fixture(scope="session")
def voila_url() -> Iterator[Callable[[Path], str]]:
    """``voila_url(notebook)``: the URL of ``notebook`` on a Voila server for its folder,
    started on first use with ``marginlab.serve.voila_command`` (preheated kernels).
    """
    servers: dict[Path, bc.Server] = {}
    # As `marginlab present` runs it: kernels talk to Voila over Unix sockets in a short
    # private folder. Over TCP, one of the ~16 kernels a lessons folder preheats at once
    # can lose its port to another ("Address already in use") and stall the whole pool.
    kernels_dir = Path(tempfile.mkdtemp(prefix="ml-kernels-"))

    def url(notebook: Path) -> str:
        folder = notebook.parent.resolve()
        if folder not in servers:
            port = bc.free_port()
            command = voila_command(folder, port=port, kernels_dir=kernels_dir)
            servers[folder] = bc.start_server("voila", command, port, server_env())
        return f"{servers[folder].base_url}/voila/render/{notebook.name}"

    yield url
    for server in servers.values():
        server.stop()
    shutil.rmtree(kernels_dir, ignore_errors=True)


@pytest.fixture(scope="session")
def lab_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[[Path], str]]:
    """``lab_url(notebook)``: the URL that opens ``notebook`` in JupyterLab, served from
    a scratch copy of its folder (running cells must never write to the pristine
    lessons), started on first use with ``marginlab.serve.jupyterlab_command``. Each
    notebook gets a fresh workspace of its own, so no other notebook is open beside it.
    """
    servers: dict[Path, bc.Server] = {}

    def url(notebook: Path) -> str:
        folder = notebook.parent.resolve()
        if folder not in servers:
            scratch = tmp_path_factory.mktemp("lab")
            course = scratch / "course"
            ignore = shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__")
            shutil.copytree(folder, course, ignore=ignore)
            for name, settings in LAB_USER_SETTINGS.items():
                path = scratch / "settings" / "user-settings" / name
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(json.dumps(settings))
            port = bc.free_port()
            command = jupyterlab_command(course, port=port, settings_dir=scratch / "settings")
            servers[folder] = bc.start_server("jupyterlab", command, port, server_env())
        workspace = notebook.stem.replace(" ", "-")
        return f"{servers[folder].base_url}/lab/workspaces/{workspace}/tree/{notebook.name}?reset"

    yield url
    for server in servers.values():
        server.stop()
