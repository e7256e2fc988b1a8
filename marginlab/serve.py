"""Serve the course: Voila for a projector (``marginlab present``), and the exact server
command lines the browser tests and benchmarks start.

Everything a page needs is served from this machine. Voila 0.5's ``lab`` template links
two Font Awesome stylesheets from a CDN; the ``marginlab`` Voila template in
``serve_assets/`` (found through ``JUPYTER_PATH``, see :func:`server_env`) drops them,
because Voila's own bundle already carries Font Awesome and its fonts. The template also
starts plotly.js over HTTP as the page opens (``static/marginlab-preload.js``), from a
copy of plotly's widget bundle that :func:`plotly_assets_dir` writes to a cache folder.
"""

from __future__ import annotations

import errno
import os
import shlex
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

from marginlab.plotly_bundle import plotly_bundle_source

ASSETS_DIR = Path(__file__).resolve().parent / "serve_assets"  # a Jupyter data directory
TEMPLATE = "marginlab"  # Voila's lab template minus every request to another host
PROJECTOR_TEMPLATE = "marginlab-projector"  # TEMPLATE plus larger fonts (a local CSS file)
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")
DEFAULT_VOILA_PORT = 8866
KERNEL_POOL_SIZE = 1  # preheated kernels kept ready per notebook (each ~160 MB)
# Voila refills the pool 1 s after a page takes its kernel, so on a small machine the
# refill runs the notebook while that page is still drawing its charts; waiting until the
# page is drawn measured ~1 s faster to the first chart here (2 cores).
POOL_REFILL_DELAY_S = 10
# Kernels whose page is closed are shut down after this long idle; a page still open
# keeps its kernel (cull_connected=False), so a paused workshop does not lose state.
CULL_IDLE_TIMEOUT_S = 600
CULL_INTERVAL_S = 60
# JupyterLab extensions Voila does not load: in Voila the lessons draw every chart as a
# widget (marginlab.widgets.show), so jupyterlab-plotly's renderer, which loads and starts
# its own copy of plotly.js (~0.7 s of CPU per page), would have nothing to draw.
VOILA_EXTENSION_DENYLIST = ("jupyterlab-plotly",)


def is_loopback(host: str) -> bool:
    """True when ``host`` serves this machine only."""
    return host in LOOPBACK_HOSTS


def _cache_root(env: dict[str, str]) -> Path:
    """Where generated serving files go: $XDG_CACHE_HOME (or ~/.cache) / marginlab."""
    base = env.get("XDG_CACHE_HOME") or str(Path(env.get("HOME") or Path.home()) / ".cache")
    return Path(base) / "marginlab"


def _write_once(path: Path, data: bytes) -> None:
    """Write ``path`` unless it already holds ``data``; atomic, so a server starting at
    the same moment never reads half a file."""
    if path.is_file() and path.read_bytes() == data:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=path.parent, delete=False) as tmp:
        tmp.write(data)
    os.chmod(tmp.name, 0o644)  # a static file anyone on the machine may read
    os.replace(tmp.name, path)


def plotly_assets_dir(environ: dict[str, str] | None = None) -> Path | None:
    """A Jupyter data folder holding plotly's widget bundle as a static file of the
    marginlab Voila template, for ``static/marginlab-preload.js`` to import over HTTP.

    Written once per plotly bundle under the user's cache folder (``environ``'s
    XDG_CACHE_HOME or HOME, default: os.environ), else the temp folder: the package
    itself may be read-only. ``marginlab-plotly-bundle.js`` names the bundle id the live
    charts ask for and the versioned URL of the bundle (cached by browsers). Returns
    None when no folder is writable: the charts then fetch the bundle from the kernel.
    """
    bundle_id, data = plotly_bundle_source()
    digest = bundle_id.rsplit("-", 1)[-1]
    index = (
        "// Written by marginlab.serve.plotly_assets_dir: which plotly bundle is here.\n"
        f'export const id = "{bundle_id}";\n'
        f'export const url = new URL("./{bundle_id}.js?v={digest}", import.meta.url).href;\n'
    ).encode()
    env = dict(os.environ if environ is None else environ)
    user = getattr(os, "getuid", lambda: "user")()
    roots = [_cache_root(env), Path(tempfile.gettempdir()) / f"marginlab-{user}"]
    for root in roots:
        folder = root / "voila-assets" / bundle_id
        static = folder / "voila" / "templates" / TEMPLATE / "static"
        try:
            _write_once(static / f"{bundle_id}.js", data)
            _write_once(static / "marginlab-plotly-bundle.js", index)
        except OSError:
            continue
        return folder
    return None


def server_env(environ: dict[str, str] | None = None) -> dict[str, str]:
    """The environment to run Voila in: ``environ`` (default: os.environ) with
    ``serve_assets/`` first on ``JUPYTER_PATH``, where Voila finds the marginlab templates,
    then :func:`plotly_assets_dir`, where the template finds plotly's bundle.
    """
    env = dict(os.environ if environ is None else environ)
    assets = plotly_assets_dir(env)
    paths = [
        str(ASSETS_DIR),
        *([str(assets)] if assets is not None else []),
        *filter(None, env.get("JUPYTER_PATH", "").split(os.pathsep)),
    ]
    env["JUPYTER_PATH"] = os.pathsep.join(dict.fromkeys(paths))
    return env


def _check_port(port: int) -> None:
    if isinstance(port, bool) or not isinstance(port, int):
        raise TypeError(f"port must be an int, got {type(port).__name__}")
    if not 0 < port < 65536:
        raise ValueError(f"port must be between 1 and 65535, got {port}")


def port_taken(host: str, port: int) -> bool:
    """True when another program already listens on ``port`` at ``host``.

    Binds the port the way Jupyter servers do (SO_REUSEADDR, every address ``host``
    resolves to) and lets go at once. Raises ValueError, in one line, when ``host`` is
    not an address this machine can serve on.
    """
    _check_port(port)
    try:
        addresses = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as error:
        raise ValueError(f"cannot serve on host {host!r}: {error.strerror}") from None
    for family, kind, proto, _, address in addresses:
        with socket.socket(family, kind, proto) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind(address)
            except OSError as error:
                if error.errno == errno.EADDRINUSE:
                    return True
                raise ValueError(f"cannot serve on {host}:{port}: {error.strerror}") from None
    return False


def free_port_from(host: str, port: int, tries: int = 50) -> int:
    """``port`` if it is free at ``host``, else the next free one of the ``tries`` after it.
    Raises ValueError when all are taken."""
    for candidate in range(port, min(port + tries, 65536)):
        if not port_taken(host, candidate):
            return candidate
    raise ValueError(f"ports {port} to {port + tries - 1} on {host} are all taken")


def voila_command(
    target: Path,
    *,
    host: str = "127.0.0.1",
    port: int = DEFAULT_VOILA_PORT,
    big_fonts: bool = False,
    preheat: bool = True,
    pool_size: int = KERNEL_POOL_SIZE,
    open_browser: bool = False,
) -> list[str]:
    """The Voila command line serving ``target`` (one notebook, or a folder of them).

    No code is shown (strip_sources) and no traceback reaches the page. With ``preheat``
    each notebook keeps ``pool_size`` kernels that have already run it, so the first chart
    appears without waiting for a kernel; idle kernels of closed pages are culled. Run it
    with :func:`server_env` so Voila finds the marginlab templates.
    """
    _check_port(port)
    if preheat and pool_size < 1:
        raise ValueError(f"pool_size must be 1 or more when preheat is on, got {pool_size}")
    command = [
        sys.executable,
        "-m",
        "voila",
        str(target),
        f"--Voila.ip={host}",
        f"--Voila.port={port}",
        "--Voila.port_retries=0",
        f"--Voila.open_browser={open_browser}",
        f"--template={PROJECTOR_TEMPLATE if big_fonts else TEMPLATE}",
        "--theme=light",
        "--strip_sources=True",
        "--show_tracebacks=False",
        f"--preheat_kernel={preheat}",
        f"--pool_size={pool_size if preheat else 0}",
        f"--VoilaKernelManager.fill_delay={POOL_REFILL_DELAY_S}",
        f"--MappingKernelManager.cull_idle_timeout={CULL_IDLE_TIMEOUT_S}",
        f"--MappingKernelManager.cull_interval={CULL_INTERVAL_S}",
        "--MappingKernelManager.cull_connected=False",
        *(f"--VoilaConfiguration.extension_denylist={name}" for name in VOILA_EXTENSION_DENYLIST),
    ]
    return command


def jupyterlab_command(
    directory: Path,
    host: str = "127.0.0.1",
    port: int = 8888,
    *,
    settings_dir: Path | None = None,
) -> list[str]:
    """A JupyterLab command line that starts quickly and never goes online.

    No browser, no news or update checks, a read-only extension manager (no PyPI
    queries). On a loopback host the token is disabled (tests drive it); on any other
    host JupyterLab's token stays on. ``settings_dir`` (optional) holds user settings
    and workspaces, so a test run does not read or change the user's own.
    """
    _check_port(port)
    command = [
        sys.executable,
        "-m",
        "jupyterlab",
        f"--ServerApp.root_dir={directory}",
        f"--ServerApp.ip={host}",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        "--ServerApp.open_browser=False",
        "--LabApp.news_url=None",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        "--LabApp.extension_manager=readonly",
    ]
    if is_loopback(host):
        command.append("--IdentityProvider.token=")
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command.append("--ServerApp.allow_root=True")
    if settings_dir is not None:
        command += [
            f"--LabApp.user_settings_dir={Path(settings_dir) / 'user-settings'}",
            f"--LabApp.workspaces_dir={Path(settings_dir) / 'workspaces'}",
        ]
    return command


def find_lesson(directory: Path, lesson: str) -> Path:
    """The notebook in ``directory`` named by ``lesson``: a file name, a stem, or a
    unique prefix such as ``"01"``. Raises ValueError listing the lessons otherwise.
    """
    notebooks = sorted(p for p in Path(directory).glob("*.ipynb") if p.is_file())
    for notebook in notebooks:
        if lesson in (notebook.name, notebook.stem):
            return notebook
    matches = [n for n in notebooks if n.name.startswith(lesson)]
    if len(matches) == 1:
        return matches[0]
    names = ", ".join(n.stem for n in notebooks) or "none"
    problem = "matches several lessons" if matches else "matches no lesson"
    raise ValueError(f"lesson {lesson!r} {problem} in {directory}; lessons: {names}")


def present(
    lesson: str | None = None,
    *,
    directory: Path | None = None,
    host: str = "127.0.0.1",
    port: int | None = None,
    big_fonts: bool = False,
    open_browser: bool = True,
    dry_run: bool = False,
) -> int:
    """Serve the course (or one lesson) with Voila for a projector; returns the exit code.

    ``directory`` defaults to the course's lessons folder. Binds 127.0.0.1 unless
    ``host`` says otherwise (a warning is printed when serving a room). With ``dry_run``
    prints the command and runs nothing.
    """
    if directory is None:
        from marginlab.course import lessons_dir  # the course may be absent: import late

        directory = lessons_dir()
    directory = Path(directory).expanduser().resolve()
    if not directory.is_dir():
        raise ValueError(f"directory must be a folder of lessons, got {str(directory)!r}")
    target = directory if lesson is None else find_lesson(directory, lesson)
    command = voila_command(
        target,
        host=host,
        port=DEFAULT_VOILA_PORT if port is None else port,
        big_fonts=big_fonts,
        open_browser=open_browser,
    )
    if not is_loopback(host):
        print(
            f"warning: serving on {host}: anyone who can reach this machine on port "
            f"{DEFAULT_VOILA_PORT if port is None else port} can open the lessons and run "
            "their widgets (no code can be typed in Voila)",
            file=sys.stderr,
        )
    if dry_run:
        print(shlex.join([f"JUPYTER_PATH={server_env()['JUPYTER_PATH']}", *command]))
        return 0
    process = subprocess.Popen(command, env=server_env())
    try:
        return process.wait()
    except KeyboardInterrupt:  # Ctrl-C: let Voila shut its kernels down before returning
        process.terminate()
        return process.wait()
