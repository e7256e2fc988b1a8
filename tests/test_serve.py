"""The server command lines of marginlab.serve, and the Voila templates that keep every
request on this machine. Fast: nothing is started (the browser tests start servers).
"""

from __future__ import annotations

import asyncio
import re
import signal
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat
import pytest

from marginlab import serve
from marginlab.plotly_bundle import plotly_bundle_source
from marginlab.serve import (
    ASSETS_DIR,
    check_voila_settings,
    find_lesson,
    jupyterlab_command,
    plotly_assets_dir,
    present,
    server_env,
    voila_command,
    voila_settings,
)

REMOTE_URL = re.compile(r"""(?:https?:)?//[\w.-]+\.[a-z]{2,}/[^\s"')]*""")
# XML namespaces name a schema; a browser never fetches them.
NAMESPACE_HOSTS = ("www.w3.org", "creativecommons.org", "purl.org")


def remote_urls(text: str) -> list[str]:
    """URLs in ``text`` that a browser would fetch from another host."""
    urls = REMOTE_URL.findall(text)
    return [u for u in urls if not any(f"//{host}/" in u for host in NAMESPACE_HOSTS)]


def render_voila_page(template: str) -> str:
    """The HTML Voila's own exporter renders with ``template`` for an empty notebook."""
    from voila.exporter import VoilaExporter
    from voila.paths import collect_template_paths

    paths = collect_template_paths(["voila", "nbconvert"], template, prune=True)
    exporter = VoilaExporter(
        template_paths=paths, template_name=template, base_url="/", theme="light"
    )
    resources = {"base_url": "/", "theme": "light", "metadata": {"name": "empty"}}
    context = {
        "frontend": "voila",
        "main_js": "voila.js",
        "kernel_start": lambda nb: "kernel-id",
        "cell_generator": lambda nb, kernel_id: [],
    }

    async def render() -> str:
        pages = exporter.generate_from_notebook_node(
            nbformat.v4.new_notebook(), resources=resources, extra_context=context
        )
        return "".join([html async for html, _ in pages])

    # A fresh loop in its own thread: the browser tests' Playwright keeps a loop running
    # in the main thread for the session, where asyncio.run() refuses to start.
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, render()).result()


@pytest.fixture(autouse=True)
def user_cache(tmp_path, monkeypatch) -> Path:
    """server_env() writes plotly's bundle under the user's cache: a temporary one here."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "user-cache"))
    return tmp_path / "user-cache"


@pytest.fixture(scope="module")
def voila_pages(tmp_path_factory) -> dict[str, str]:
    """{template: page HTML} for Voila's lab template and the two marginlab templates,
    found the way ``marginlab present`` finds them (serve_assets/ on JUPYTER_PATH).
    """
    cache = tmp_path_factory.mktemp("cache")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("JUPYTER_PATH", server_env({"XDG_CACHE_HOME": str(cache)})["JUPYTER_PATH"])
        return {t: render_voila_page(t) for t in ("lab", "marginlab", "marginlab-projector")}


# ------------------------------------------------------------------------ voila_command
def test_voila_command_default_binds_loopback_with_voila_of_this_python() -> None:
    command = voila_command(Path("lessons"))
    assert command[:4] == [sys.executable, "-m", "voila", "lessons"]
    assert "--Voila.ip=127.0.0.1" in command
    assert "--Voila.port=8866" in command
    assert "--Voila.port_retries=0" in command


def test_voila_command_leaves_template_and_page_settings_to_the_installed_config() -> None:
    # What plain Voila does with the installed voila.json, present does not repeat.
    command = voila_command(Path("lessons"))
    for option in ("--template", "--theme", "--strip_sources", "--show_tracebacks",
                   "--VoilaConfiguration.extension_denylist"):  # fmt: skip
        assert not [c for c in command if c.startswith(option)], option


def test_voila_settings_installed_hide_code_and_tracebacks_and_name_the_template() -> None:
    # make install (pip install -e .) puts jupyter-config/voila.json in sys.prefix.
    installed = Path(sys.prefix) / "etc" / "jupyter" / "voila.json"
    source = Path(__file__).resolve().parents[1] / "jupyter-config" / "voila.json"
    assert installed.read_bytes() == source.read_bytes()
    settings = voila_settings()
    assert settings["template"] == "marginlab"
    assert settings["strip_sources"] is True and settings["show_tracebacks"] is False
    # jupyterlab-plotly would only load and start a second plotly.js (charts are widgets);
    # jupyterlab-jupytext adds JupyterLab menus and commands, which a Voila page has not.
    assert settings["extension_denylist"] == ["jupyterlab-plotly", "jupyterlab-jupytext"]
    check_voila_settings()


def test_check_voila_settings_refuses_an_install_without_them(monkeypatch) -> None:
    monkeypatch.setattr(serve, "voila_settings", lambda: {})
    with pytest.raises(ValueError, match=r"Voila's settings for the course are not installed"):
        serve.check_voila_settings()


def test_voila_command_default_preheats_one_kernel_per_notebook() -> None:
    command = voila_command(Path("lessons"))
    assert "--preheat_kernel=True" in command
    assert "--pool_size=1" in command
    assert "--VoilaKernelManager.fill_delay=10" in command


def test_voila_command_without_preheat_has_no_pool() -> None:
    command = voila_command(Path("lessons"), preheat=False)
    assert "--preheat_kernel=False" in command
    assert "--pool_size=0" in command


def test_voila_command_culls_idle_kernels_of_closed_pages_only() -> None:
    command = voila_command(Path("lessons"))
    assert "--MappingKernelManager.cull_idle_timeout=180" in command
    assert "--MappingKernelManager.cull_interval=30" in command
    assert "--MappingKernelManager.cull_connected=False" in command


def test_voila_command_big_fonts_picks_the_projector_template() -> None:
    command = voila_command(Path("lessons"), big_fonts=True)
    assert [c for c in command if c.startswith("--template=")] == ["--template=marginlab-projector"]


def test_voila_command_explicit_host_and_port_are_used() -> None:
    command = voila_command(Path("lessons"), host="0.0.0.0", port=9000)
    assert "--Voila.ip=0.0.0.0" in command
    assert "--Voila.port=9000" in command


@pytest.mark.parametrize("port", [0, 65536, -1], ids=["zero", "too-big", "negative"])
def test_voila_command_port_out_of_range_raises(port) -> None:
    with pytest.raises(ValueError, match=f"port must be between 1 and 65535, got {port}"):
        voila_command(Path("lessons"), port=port)


def test_voila_command_port_not_int_raises_type_error() -> None:
    with pytest.raises(TypeError, match="port must be an int, got str"):
        voila_command(Path("lessons"), port="8866")


def test_voila_command_preheat_with_empty_pool_raises() -> None:
    with pytest.raises(ValueError, match=r"pool_size must be 1 or more .* got 0"):
        voila_command(Path("lessons"), pool_size=0)


# --------------------------------------------------------------------------- server_env
def test_server_env_assets_then_plotly_assets_first_on_jupyter_path_others_kept(
    tmp_path,
) -> None:
    env = server_env({"JUPYTER_PATH": "/opt/a:/opt/b", "XDG_CACHE_HOME": str(tmp_path)})
    plotly_dir = plotly_assets_dir({"XDG_CACHE_HOME": str(tmp_path)})
    assert env["JUPYTER_PATH"].split(":") == [str(ASSETS_DIR), str(plotly_dir), "/opt/a", "/opt/b"]
    assert env["XDG_CACHE_HOME"] == str(tmp_path)


def test_server_env_assets_already_on_path_not_repeated(tmp_path) -> None:
    plotly_dir = plotly_assets_dir({"XDG_CACHE_HOME": str(tmp_path)})
    paths = f"{ASSETS_DIR}:{plotly_dir}"
    env = server_env({"JUPYTER_PATH": paths, "XDG_CACHE_HOME": str(tmp_path)})
    assert env["JUPYTER_PATH"] == paths


# -------------------------------------------------------------------- plotly_assets_dir
def test_plotly_assets_dir_holds_the_bundle_and_its_index_as_template_static_files(
    tmp_path,
) -> None:
    bundle_id, data = plotly_bundle_source()
    folder = plotly_assets_dir({"XDG_CACHE_HOME": str(tmp_path)})
    static = folder / "voila" / "templates" / "marginlab" / "static"
    assert folder == tmp_path / "marginlab" / "voila-assets" / bundle_id
    assert (static / f"{bundle_id}.js").read_bytes() == data
    index = (static / "marginlab-plotly-bundle.js").read_text()
    digest = bundle_id.rsplit("-", 1)[-1]
    assert f'export const id = "{bundle_id}";' in index
    assert f'new URL("./{bundle_id}.js?v={digest}", import.meta.url)' in index


def test_plotly_assets_dir_uses_home_cache_without_xdg(tmp_path) -> None:
    folder = plotly_assets_dir({"HOME": str(tmp_path)})
    assert folder.is_relative_to(tmp_path / ".cache" / "marginlab")


def test_plotly_assets_dir_second_call_rewrites_nothing(tmp_path) -> None:
    folder = plotly_assets_dir({"XDG_CACHE_HOME": str(tmp_path)})
    files = sorted(folder.rglob("*.js"))
    stamps = [f.stat().st_mtime_ns for f in files]
    assert plotly_assets_dir({"XDG_CACHE_HOME": str(tmp_path)}) == folder
    assert [f.stat().st_mtime_ns for f in files] == stamps


def test_plotly_assets_dir_unwritable_cache_falls_back_to_temp(tmp_path, monkeypatch) -> None:
    blocker = tmp_path / "cache-is-a-file"
    blocker.write_text("not a folder")
    monkeypatch.setattr(serve.tempfile, "gettempdir", lambda: str(tmp_path / "tmp"))
    folder = plotly_assets_dir({"XDG_CACHE_HOME": str(blocker)})
    assert folder.is_relative_to(tmp_path / "tmp")
    assert (folder / "voila/templates/marginlab/static/marginlab-plotly-bundle.js").is_file()


def test_plotly_assets_dir_nothing_writable_returns_none_and_env_skips_it(
    tmp_path, monkeypatch
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setattr(serve.tempfile, "gettempdir", lambda: str(blocker))
    assert plotly_assets_dir({"XDG_CACHE_HOME": str(blocker)}) is None
    env = server_env({"XDG_CACHE_HOME": str(blocker)})
    assert env["JUPYTER_PATH"] == str(ASSETS_DIR)


def test_preload_module_imports_the_index_next_to_it_and_registers_the_bundle() -> None:
    preload = (ASSETS_DIR / "voila/templates/marginlab/static/marginlab-preload.js").read_text()
    loader = (ASSETS_DIR.parent / "widgets/static/figure.js").read_text()
    assert 'await import("./marginlab-plotly-bundle.js")' in preload
    # The preload and the loader share one page-global registry.
    registry = 'Symbol.for("marginlab.plotly-bundles")'
    assert registry in preload and registry in loader


# ------------------------------------------------------------------------ the templates
def test_template_assets_name_no_remote_url() -> None:
    for path in ASSETS_DIR.rglob("*"):
        if path.is_file():
            assert remote_urls(path.read_text()) == [], path


def test_voila_lab_template_links_font_awesome_cdn(voila_pages) -> None:
    # Why the marginlab template exists: if this fails, Voila stopped linking the CDN
    # and the override in serve_assets/ can go.
    html = voila_pages["lab"]
    assert [u for u in remote_urls(html) if "fontawesome" in u] == [
        "https://cdn.jsdelivr.net/npm/@fortawesome/fontawesome-free@^5/css/all.min.css",
        "https://cdn.jsdelivr.net/npm/@fortawesome/fontawesome-free@^5/css/v4-shims.min.css",
    ]


@pytest.mark.parametrize("template", ["marginlab", "marginlab-projector"])
def test_marginlab_template_page_names_no_remote_url(template, voila_pages) -> None:
    html = voila_pages[template]
    assert remote_urls(html) == []
    # ...and keeps everything else the lab template brings: Voila's styles and the
    # nbconvert lab styles (the super.super() block), and Voila's page script.
    assert f"/voila/templates/{template}/static/voila-style.js" in html
    assert f"/voila/templates/{template}/static/index.css" in html
    assert "-webkit-print-color-adjust: exact;" in html
    assert '/voila.js"></script>' in html


@pytest.mark.parametrize("template", ["marginlab", "marginlab-projector"])
def test_marginlab_template_page_preloads_plotly_from_its_static_files(
    template, voila_pages
) -> None:
    html = voila_pages[template]
    assert '<script type="module" async src="/voila/static/marginlab-preload.js">' in html


def test_projector_template_links_local_big_font_css(voila_pages) -> None:
    html = voila_pages["marginlab-projector"]
    assert 'href="/voila/static/marginlab-projector.css"' in html
    css = ASSETS_DIR / "voila/templates/marginlab-projector/static/marginlab-projector.css"
    assert "--jp-content-font-size1" in css.read_text()


def test_marginlab_template_page_has_no_big_font_css(voila_pages) -> None:
    assert "marginlab-projector.css" not in voila_pages["marginlab"]


# ------------------------------------------------------------------- jupyterlab_command
def test_jupyterlab_command_loopback_offline_and_without_token(tmp_path) -> None:
    command = jupyterlab_command(tmp_path, port=9001)
    assert command[:3] == [sys.executable, "-m", "jupyterlab"]
    for option in (
        f"--ServerApp.root_dir={tmp_path}",
        "--ServerApp.ip=127.0.0.1",
        "--ServerApp.port=9001",
        "--ServerApp.port_retries=0",
        "--ServerApp.open_browser=False",
        "--LabApp.news_url=None",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        "--LabApp.extension_manager=readonly",
        "--IdentityProvider.token=",
    ):
        assert option in command


def test_jupyterlab_command_room_host_keeps_token(tmp_path) -> None:
    command = jupyterlab_command(tmp_path, host="0.0.0.0", port=9001)
    assert "--ServerApp.ip=0.0.0.0" in command
    assert not [c for c in command if c.startswith("--IdentityProvider.token")]


def test_jupyterlab_command_settings_dir_holds_settings_and_workspaces(tmp_path) -> None:
    command = jupyterlab_command(tmp_path, port=9001, settings_dir=tmp_path / "s")
    assert f"--LabApp.user_settings_dir={tmp_path / 's' / 'user-settings'}" in command
    assert f"--LabApp.workspaces_dir={tmp_path / 's' / 'workspaces'}" in command


# --------------------------------------------------------------------- find_lesson
@pytest.fixture
def course(tmp_path: Path) -> Path:
    for name in ("00_start_here", "01_isolated_margin", "02_cross_margin", "10_capstone"):
        (tmp_path / f"{name}.ipynb").write_text("{}")
    return tmp_path


@pytest.mark.parametrize(
    "lesson", ["01_isolated_margin.ipynb", "01_isolated_margin", "01"], ids=str
)
def test_find_lesson_name_stem_or_unique_prefix_finds_it(course, lesson) -> None:
    assert find_lesson(course, lesson) == course / "01_isolated_margin.ipynb"


def test_find_lesson_ambiguous_prefix_raises_listing_lessons(course) -> None:
    with pytest.raises(ValueError, match=r"lesson '0' matches several lessons in .*00_start_here"):
        find_lesson(course, "0")


def test_find_lesson_unknown_raises_listing_lessons(course) -> None:
    with pytest.raises(ValueError, match=r"'99' matches no lesson .* 10_capstone"):
        find_lesson(course, "99")


# ------------------------------------------------------------------------------ present
def test_present_dry_run_prints_voila_command_and_runs_nothing(course, capsys) -> None:
    assert present("01", directory=course, dry_run=True) == 0
    out, err = capsys.readouterr()
    assert out.startswith(f"JUPYTER_PATH={ASSETS_DIR}")
    assert str(course / "01_isolated_margin.ipynb") in out
    assert "--Voila.ip=127.0.0.1" in out
    assert "--Voila.open_browser=True" in out
    assert err == ""


def test_present_room_host_warns(course, capsys) -> None:
    present(directory=course, host="0.0.0.0", port=9002, dry_run=True, big_fonts=True)
    out, err = capsys.readouterr()
    assert f"{sys.executable} -m voila {course} " in out
    assert "--template=marginlab-projector" in out
    assert err.startswith("warning: serving on 0.0.0.0")
    assert "port 9002" in err


def test_present_missing_directory_raises(tmp_path) -> None:
    with pytest.raises(ValueError, match="directory must be a folder of lessons"):
        present(directory=tmp_path / "nowhere", dry_run=True)


def test_present_serves_with_marginlab_env_and_a_private_kernels_folder(
    course, monkeypatch, capsys
) -> None:
    served = []

    def fake_serve(command, env, kernels_dir):
        served.append((command, env, kernels_dir))
        return 3

    monkeypatch.setattr(serve, "serve_until_stopped", fake_serve)
    assert present(directory=course, open_browser=False, port=free_port()) == 3
    ((command, env, kernels_dir),) = served
    port = int(next(c for c in command if c.startswith("--Voila.port=")).split("=")[1])
    assert command == voila_command(course, port=port, open_browser=False, kernels_dir=kernels_dir)
    assert env["JUPYTER_PATH"].split(":")[0] == str(ASSETS_DIR)
    assert kernels_dir.is_dir() and kernels_dir.name.startswith("marginlab-room-")
    assert oct(kernels_dir.stat().st_mode & 0o777) == "0o700"
    kernels_dir.rmdir()
    assert capsys.readouterr().out.startswith(f"Serving on http://127.0.0.1:{port}/ (this machine")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# A stand-in for Voila that ignores SIGTERM (a hung server) and starts a "kernel" in a
# session of its own, its connection file in the kernels folder, as Jupyter does.
HUNG_VOILA = """
import signal, subprocess, sys, time
signal.signal(signal.SIGTERM, signal.SIG_IGN)
subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)", sys.argv[1] + "/k.json"],
                 start_new_session=True)
print("ready", flush=True)
time.sleep(60)
"""
RUN_ROOM = """
import sys
from pathlib import Path
from marginlab.serve import serve_until_stopped
command = [sys.executable, "-c", sys.argv[1], sys.argv[2]]
raise SystemExit(serve_until_stopped(command, {}, Path(sys.argv[2])))
"""


def test_serve_until_stopped_second_signal_kills_a_hung_voila_and_its_kernels(tmp_path) -> None:
    import psutil

    kernels = tmp_path / "kernels"
    kernels.mkdir()
    room = subprocess.Popen(
        [sys.executable, "-c", RUN_ROOM, HUNG_VOILA, str(kernels)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert room.stdout.readline() == "ready\n"
        tree = psutil.Process(room.pid).children(recursive=True)
        tree += [p for p in psutil.process_iter() if str(kernels) in " ".join(p.cmdline())]
        assert len(tree) >= 2  # the fake Voila and its "kernel"
        room.send_signal(signal.SIGTERM)  # ignored by the hung Voila...
        time.sleep(1)
        assert room.poll() is None
        room.send_signal(signal.SIGINT)  # ...so the second signal kills it
        assert room.wait(20) == 0
        assert "The room is closed" in room.stdout.read()
        _, alive = psutil.wait_procs(tree, timeout=10)
        assert alive == []
        assert not kernels.exists()
    finally:
        room.kill()
        room.wait()
        room.stdout.close()
