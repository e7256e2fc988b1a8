"""Serve the course: Voila for a projector (``marginlab present``), and the exact server
command lines the browser tests and benchmarks start.

Everything a page needs is served from this machine. Voila 0.5's ``lab`` template links
two Font Awesome stylesheets from a CDN; the ``marginlab`` Voila template in
``serve_assets/`` drops them, because Voila's own bundle already carries Font Awesome and
its fonts. The template also starts plotly.js over HTTP as the page opens
(``static/marginlab-preload.js``), from a copy of the live charts' plotly.js that
:func:`plotly_assets_dir` writes to a cache folder.

Voila is configured, not wrapped: the package installs the templates where Jupyter looks
(``sys.prefix/share/jupyter/voila/templates/``) and Voila's settings for the course in
``sys.prefix/etc/jupyter/voila.json`` (from ``jupyter-config/voila.json``: the marginlab
template, no code, no tracebacks, jupyterlab-plotly not loaded), so a plain ``voila`` and
a Jupyter server's ``/voila/render/`` (Binder) serve the same page. ``marginlab present``
adds only what plain Voila cannot do: preheated kernels and culling, the room (seats,
token), the projector's large fonts, and the live charts' plotly.js as a static file
for the preload (on ``JUPYTER_PATH``, see :func:`server_env`).
"""

from __future__ import annotations

import contextlib
import errno
import io
import json
import os
import secrets
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from marginlab.plotly_bundle import plotly_bundle_source

ASSETS_DIR = Path(__file__).resolve().parent / "serve_assets"  # a Jupyter data directory
TEMPLATE = "marginlab"  # Voila's lab template minus every request to another host
PROJECTOR_TEMPLATE = "marginlab-projector"  # TEMPLATE plus larger fonts (a local CSS file)
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")
DEFAULT_VOILA_PORT = 8866
KERNEL_POOL_SIZE = 1  # preheated kernels kept ready per notebook (each ~115 MB)
# Voila refills the pool 1 s after a page takes its kernel, so on a small machine the
# refill runs the notebook while that page is still drawing its charts; waiting until the
# page is drawn measured ~1 s faster to the first chart here (2 cores).
POOL_REFILL_DELAY_S = 10
# A closed page shuts its kernel down as it closes (marginlab.room sets the cookie Voila
# needs for that); a page that vanished without closing (a crashed browser, a laptop
# gone) leaves a kernel with no connection, shut down after this long idle. A page still
# open keeps its kernel (cull_connected=False), so a paused workshop does not lose state.
CULL_IDLE_TIMEOUT_S = 180
CULL_INTERVAL_S = 30
# The room (see marginlab.room): seats, the token check, the "room is full" page.
ROOM_KERNEL_MANAGER = "marginlab.room.RoomKernelManager"
ROOM_IDENTITY_PROVIDER = "marginlab.room.RoomIdentityProvider"
DEFAULT_ROOM_LEARNERS = 30  # seats when serving beyond this machine without --learners
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)  # each stops the room
VOILA_STOP_TIMEOUT_S = 30.0  # then Voila is killed; its kernels are stopped regardless
IPC_PATH_MAX = 100  # Unix socket paths are limited to 104-108 bytes
# Voila's settings the package installs (etc/jupyter/voila.json). Among them, the
# JupyterLab extensions Voila does not load: in Voila the lessons draw every chart as a
# widget (marginlab.widgets.show), so jupyterlab-plotly's renderer, which loads and starts
# its own copy of plotly.js (~0.7 s of CPU per page), would have nothing to draw; and
# jupyterlab-jupytext's commands and menus have no JupyterLab to go into (~70 ms of a
# first page's scripts before its kernel connects, on a machine at half speed).
VOILA_SETTINGS_FILE = "voila.json"


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
    """A Jupyter data folder holding the live charts' plotly.js as a static file of the
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
    then :func:`plotly_assets_dir`, where the template finds the live charts' plotly.js.
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
    learners: int | None = None,
    token: str | None = None,
    kernels_dir: Path | None = None,
) -> list[str]:
    """The Voila command line serving ``target`` (one notebook, or a folder of them).

    The template and what a page shows (no code, no traceback) come from the installed
    settings (:func:`voila_settings`); ``big_fonts`` picks the projector template. With
    ``preheat``
    each notebook keeps ``pool_size`` kernels that have already run it, so the first chart
    appears without waiting for a kernel; idle kernels of closed pages are culled. Run it
    with :func:`server_env` so Voila finds the marginlab templates.

    The room (:mod:`marginlab.room`): at most ``learners`` kernels (None: no limit);
    with ``token`` every request needs it (a 403 page otherwise). ``kernels_dir`` (a short
    private folder) holds the kernels' connection files, and their sockets: kernels then
    talk to Voila over Unix sockets, not TCP ports.
    """
    _check_port(port)
    if preheat and pool_size < 1:
        raise ValueError(f"pool_size must be 1 or more when preheat is on, got {pool_size}")
    if learners is not None and (isinstance(learners, bool) or learners < 1):
        raise ValueError(f"learners must be 1 or more, got {learners}")
    command = [
        sys.executable,
        "-m",
        "voila",
        str(target),
        f"--Voila.ip={host}",
        f"--Voila.port={port}",
        "--Voila.port_retries=0",
        f"--Voila.open_browser={open_browser}",
        *([f"--template={PROJECTOR_TEMPLATE}"] if big_fonts else []),
        f"--preheat_kernel={preheat}",
        f"--pool_size={pool_size if preheat else 0}",
        f"--VoilaKernelManager.fill_delay={POOL_REFILL_DELAY_S}",
        f"--MappingKernelManager.cull_idle_timeout={CULL_IDLE_TIMEOUT_S}",
        f"--MappingKernelManager.cull_interval={CULL_INTERVAL_S}",
        "--MappingKernelManager.cull_connected=False",
        *_room_options(learners, token, kernels_dir),
    ]
    return command


def voila_settings() -> dict[str, object]:
    """The ``VoilaConfiguration`` Voila reads from the ``voila.json`` files on Jupyter's
    config path, the one this package installs included (a later file on the path has the
    lower priority, as in Voila)."""
    from jupyter_core.paths import jupyter_config_path  # a dependency of Voila

    settings: dict[str, object] = {}
    for folder in reversed(jupyter_config_path()):
        path = Path(folder) / VOILA_SETTINGS_FILE
        if path.is_file():
            found = json.loads(path.read_text(encoding="utf-8"))
            settings.update(found.get("VoilaConfiguration", {}))
    return settings


def check_voila_settings() -> None:
    """Raise ValueError unless Voila will serve the course with the marginlab template
    (the settings file this package installs was found)."""
    template = voila_settings().get("template")
    if template != TEMPLATE:
        raise ValueError(
            f"Voila's settings for the course are not installed: its template is "
            f"{template or 'lab (the default)'!r}, not {TEMPLATE!r}; reinstall marginlab "
            f"(pip install), which puts them in {Path(sys.prefix) / 'etc' / 'jupyter'}"
        )


def _room_options(learners: int | None, token: str | None, kernels_dir: Path | None) -> list[str]:
    """Voila options of the room: seats, token, where kernels' connection files go."""
    options = [
        f"--VoilaConfiguration.multi_kernel_manager_class={ROOM_KERNEL_MANAGER}",
        f"--Voila.identity_provider_class={ROOM_IDENTITY_PROVIDER}",
    ]
    if learners is not None:
        options.append(f"--RoomKernelManager.learners={learners}")
    if token:
        options.append(f"--token={token}")
    if kernels_dir is not None:
        options.append(f"--Voila.connection_dir_root={kernels_dir}")
        # voila_xxxxxxxx/kernel-<uuid>-ipc-N: the longest socket path a kernel gets
        longest = len(str(kernels_dir)) + len("/voila_xxxxxxxx/kernel--ipc-N") + 36
        if os.name == "posix" and longest <= IPC_PATH_MAX:
            options.append("--KernelManager.transport=ipc")
    return options


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
    learners: int | None = None,
    token: str | None = None,
) -> int:
    """Serve the course (or one lesson) with Voila for a projector or a room; returns the
    exit code.

    ``directory`` defaults to the course's lessons folder. Binds 127.0.0.1 unless
    ``host`` says otherwise. Served beyond this machine, the room needs a token (``token``,
    else a new random one) and has ``learners`` seats (default
    :data:`DEFAULT_ROOM_LEARNERS`); on 127.0.0.1 there is no token and, unless
    ``learners`` is given, no limit. The preheated pool fits the seats
    (:func:`room_pool_size`). Prints the address to open (with the token, and a QR code
    in a terminal). Runs until SIGINT, SIGTERM or SIGHUP, which stop Voila and every
    kernel (:func:`serve_until_stopped`). With ``dry_run`` prints the command and runs
    nothing. Raises ValueError when the port is taken.
    """
    if directory is None:
        from marginlab.course import lessons_dir  # the course may be absent: import late

        directory = lessons_dir()
    directory = Path(directory).expanduser().resolve()
    if not directory.is_dir():
        raise ValueError(f"directory must be a folder of lessons, got {str(directory)!r}")
    target = directory if lesson is None else find_lesson(directory, lesson)
    check_voila_settings()
    port = DEFAULT_VOILA_PORT if port is None else port
    _check_port(port)
    room = not is_loopback(host)
    if learners is None and room:
        learners = DEFAULT_ROOM_LEARNERS
    if room and not token:
        token = secrets.token_urlsafe(16)
    served = 1 if target.is_file() else len(notebooks_in(target))
    options = dict(
        host=host,
        port=port,
        big_fonts=big_fonts,
        open_browser=open_browser,
        pool_size=room_pool_size(served, learners),
        learners=learners,
        token=token,
    )
    if room:
        print(
            f"warning: serving on {host}: anyone who can reach this machine on port {port} "
            f"and has the link with the room's token can open the lessons ({learners} "
            "seats; no code can be typed in Voila)",
            file=sys.stderr,
        )
    if dry_run:
        command = voila_command(target, **options)
        print(shlex.join([f"JUPYTER_PATH={server_env()['JUPYTER_PATH']}", *command]))
        return 0
    if port_taken(host, port):
        raise ValueError(
            f"port {port} on {host} is taken by another program (another marginlab "
            "present?); stop it, or choose another port with --port"
        )
    kernels_dir = Path(tempfile.mkdtemp(prefix="marginlab-room-"))
    command = voila_command(target, kernels_dir=kernels_dir, **options)
    print(room_announcement(host, port, token, learners), flush=True)
    return serve_until_stopped(command, server_env(), kernels_dir)


def notebooks_in(directory: Path) -> list[Path]:
    """The notebooks Voila serves (and preheats) from ``directory``, checkpoints aside."""
    found = Path(directory).rglob("*.ipynb")
    return sorted(p for p in found if ".ipynb_checkpoints" not in p.parts)


def room_pool_size(notebooks: int, learners: int | None) -> int:
    """Preheated kernels per notebook: the room's seats shared among the ``notebooks``
    served (all of them for one lesson), at least one each (as far as seats go: the room
    refuses the rest); :data:`KERNEL_POOL_SIZE` when the room has no limit.

    >>> [room_pool_size(n, learners) for n, learners in [(1, 30), (11, 30), (11, 5), (11, None)]]
    [30, 2, 1, 1]
    """
    if learners is None:
        return KERNEL_POOL_SIZE
    return max(1, learners // max(1, notebooks))


def room_urls(host: str, port: int, token: str | None) -> list[str]:
    """The addresses to open the room at: ``host`` itself, or for a wildcard host
    (0.0.0.0, ::) this machine's own addresses and name; with ``?token=`` when set."""
    query = f"?token={token}" if token else ""
    if host not in ("0.0.0.0", "::", ""):
        name = f"[{host}]" if ":" in host else host
        return [f"http://{name}:{port}/{query}"]
    hostname = socket.gethostname()
    try:
        found = socket.getaddrinfo(hostname, None, family=socket.AF_INET)
        addresses = [info[4][0] for info in found if not info[4][0].startswith("127.")]
    except OSError:
        addresses = []
    names = [*dict.fromkeys(addresses), hostname]
    return [f"http://{name}:{port}/{query}" for name in names]


def room_announcement(host: str, port: int, token: str | None, learners: int | None) -> str:
    """What ``present`` prints as it starts: where to open the room, its seats, how to
    stop it; in a terminal, beyond this machine, a QR code of the first address."""
    urls = room_urls(host, port, token)
    if is_loopback(host):
        notes = ["this machine only", "" if token else "no token needed"]
        notes.append(f"{learners} seats" if learners else "")
        lines = [f"Serving on {urls[0]} ({', '.join(filter(None, notes))})"]
    else:
        lines = [
            f"The room is open for {learners} learners. Share this link (it holds the "
            "room's token):",
            *(f"  {url}" for url in urls),
        ]
        if sys.stdout.isatty():
            lines.append(qr_code(urls[0]))
    lines.append("Stop with Ctrl-C: Voila and every kernel stop.")
    return "\n".join(lines)


def qr_code(text: str) -> str:
    """``text`` as a QR code drawn with block characters, for a terminal on a projector;
    empty when segno (a pure-Python QR encoder) is not installed."""
    try:
        import segno
    except ImportError:
        return ""
    out = io.StringIO()
    segno.make(text, error="m").terminal(out=out, compact=True)
    return out.getvalue()


def serve_until_stopped(command: list[str], env: dict[str, str], kernels_dir: Path) -> int:
    """Run the Voila ``command`` until it exits or this process gets SIGINT, SIGTERM or
    SIGHUP; returns Voila's exit code, or 0 when a signal stopped it.

    Voila runs in a session of its own, so a terminal's Ctrl-C or hang-up reaches this
    process only, which asks Voila to stop (SIGTERM: Voila shuts its kernels down) and
    waits; Voila is killed after :data:`VOILA_STOP_TIMEOUT_S`, or at a second signal.
    Then any kernel still running with its connection file in ``kernels_dir`` is
    stopped too, and ``kernels_dir`` is removed: nothing is left running or listening.
    """
    process = subprocess.Popen(command, env=env, start_new_session=True)
    stop_asked: list[float] = []  # time.monotonic() of each signal received

    def on_signal(signum: int, _frame: object) -> None:
        stop_asked.append(time.monotonic())
        if process.poll() is None:
            process.send_signal(signal.SIGTERM if len(stop_asked) == 1 else signal.SIGKILL)

    previous = {sig: signal.signal(sig, on_signal) for sig in STOP_SIGNALS}
    try:
        while True:
            try:
                code = process.wait(timeout=1.0)
                break
            except subprocess.TimeoutExpired:
                if stop_asked and time.monotonic() - stop_asked[0] > VOILA_STOP_TIMEOUT_S:
                    process.kill()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        stop_kernels_in(kernels_dir)
        shutil.rmtree(kernels_dir, ignore_errors=True)
    if stop_asked:
        print("The room is closed: Voila and its kernels have stopped.", flush=True)
        return 0
    return code


def stop_kernels_in(kernels_dir: Path, timeout_s: float = 5.0) -> int:
    """Stop every process whose command line names ``kernels_dir`` (kernels started with
    their connection file there): SIGTERM, then SIGKILL after ``timeout_s``. Returns how
    many were running."""
    import psutil  # installed with ipykernel, which Voila needs

    marker = str(kernels_dir)
    found = []
    for proc in psutil.process_iter(["pid", "cmdline"]):
        cmdline = proc.info.get("cmdline") or []
        if proc.pid != os.getpid() and any(marker in part for part in cmdline):
            found.append(proc)
    for proc in found:
        with contextlib.suppress(psutil.Error):
            proc.terminate()
    _, alive = psutil.wait_procs(found, timeout=timeout_s)
    for proc in alive:
        with contextlib.suppress(psutil.Error):
            proc.kill()
    return len(found)
