"""The workshop room of ``marginlab present``: a token beyond loopback, a fixed number of
seats, a readable page for whoever cannot come in, and a clean stop on any signal.

The first tests check command lines and printed text; the ones marked ``slow`` start the
real ``marginlab present`` (Voila and its kernels) on a free loopback port and talk to it
over HTTP, as a learner's browser does.
"""

from __future__ import annotations

import http.cookiejar
import io
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import nbformat
import psutil
import pytest

from marginlab import cli, serve
from marginlab.serve import (
    DEFAULT_ROOM_LEARNERS,
    ROOM_IDENTITY_PROVIDER,
    ROOM_KERNEL_MANAGER,
    present,
    qr_code,
    room_announcement,
    room_urls,
    stop_kernels_in,
    voila_command,
)

sys.path.insert(0, str(Path(__file__).resolve().parent / "browser"))
import browser_checks as bc

TOKEN = "room-test-token"


@pytest.fixture(autouse=True)
def user_cache(tmp_path, monkeypatch) -> None:
    """server_env() writes plotly's bundle under the user's cache: a temporary one here."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "user-cache"))


@pytest.fixture
def course(tmp_path: Path) -> Path:
    """Two tiny lessons (quick to run in a kernel)."""
    folder = tmp_path / "course"
    folder.mkdir()
    for name in ("01-first", "02-second"):
        notebook = nbformat.v4.new_notebook()
        notebook.cells = [nbformat.v4.new_code_cell(f"print('{name} ran')")]
        notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
        nbformat.write(notebook, folder / f"{name}.ipynb")
    return folder


# ------------------------------------------------------------------------ command lines
def test_voila_command_always_runs_the_room_classes() -> None:
    command = voila_command(Path("lessons"))
    assert f"--VoilaConfiguration.multi_kernel_manager_class={ROOM_KERNEL_MANAGER}" in command
    assert f"--Voila.identity_provider_class={ROOM_IDENTITY_PROVIDER}" in command
    assert not [c for c in command if c.startswith(("--token", "--RoomKernelManager"))]


def test_voila_command_seats_token_and_kernel_sockets_in_a_short_folder() -> None:
    kernels = Path("/tmp/marginlab-room-abcdefgh")  # as present makes it (not created here)
    command = voila_command(Path("lessons"), learners=12, token=TOKEN, kernels_dir=kernels)
    assert "--RoomKernelManager.learners=12" in command
    assert f"--token={TOKEN}" in command
    assert f"--Voila.connection_dir_root={kernels}" in command
    assert "--KernelManager.transport=ipc" in command


def test_voila_command_kernels_folder_too_long_for_sockets_keeps_tcp(tmp_path) -> None:
    command = voila_command(Path("lessons"), kernels_dir=tmp_path / ("x" * 40))
    assert "--KernelManager.transport=ipc" not in command


@pytest.mark.parametrize("learners", [0, -3, True])
def test_voila_command_learners_below_one_refused(learners) -> None:
    with pytest.raises(ValueError, match=f"learners must be 1 or more, got {learners}"):
        voila_command(Path("lessons"), learners=learners)


# --------------------------------------------------------------------- what is printed
def test_room_urls_named_host_carries_the_token() -> None:
    assert room_urls("192.0.2.7", 9000, TOKEN) == [f"http://192.0.2.7:9000/?token={TOKEN}"]
    assert room_urls("::1", 9000, None) == ["http://[::1]:9000/"]


def test_room_urls_wildcard_host_lists_this_machine_ending_with_its_name() -> None:
    urls = room_urls("0.0.0.0", 9000, TOKEN)
    assert urls[-1] == f"http://{socket.gethostname()}:9000/?token={TOKEN}"
    assert all(u.endswith(f":9000/?token={TOKEN}") and "127.0.0." not in u for u in urls)


def test_room_announcement_loopback_needs_no_token() -> None:
    text = room_announcement("127.0.0.1", 9000, None, None)
    assert text.splitlines() == [
        "Serving on http://127.0.0.1:9000/ (this machine only, no token needed)",
        "Stop with Ctrl-C: Voila and every kernel stop.",
    ]


def test_room_announcement_room_gives_the_link_and_a_qr_code_in_a_terminal(monkeypatch) -> None:
    monkeypatch.setattr(sys, "stdout", io.StringIO())
    plain = room_announcement("192.0.2.7", 9000, TOKEN, 25)
    assert plain.splitlines() == [
        "The room is open for 25 learners. Share this link (it holds the room's token):",
        f"  http://192.0.2.7:9000/?token={TOKEN}",
        "Stop with Ctrl-C: Voila and every kernel stop.",
    ]
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    in_terminal = room_announcement("192.0.2.7", 9000, TOKEN, 25)
    assert qr_code(f"http://192.0.2.7:9000/?token={TOKEN}") in in_terminal


def test_qr_code_is_a_square_of_block_characters() -> None:
    import segno

    url = f"http://192.0.2.7:8866/?token={TOKEN}"
    lines = qr_code(url).splitlines()
    width, height = segno.make(url, error="m").symbol_size()  # with the quiet zone
    assert len(lines) == (height + 1) // 2  # two rows of modules a line
    assert {len(line) for line in lines} == {width}
    assert set("".join(lines)) <= {"█", "▀", "▄", " "}


def _command_of(out: str) -> list[str]:
    return out.strip().split(" ")[1:]  # after JUPYTER_PATH=...


def test_present_dry_run_room_has_token_seats_and_a_pool_that_fits(course, capsys) -> None:
    assert present(directory=course, host="0.0.0.0", port=9002, dry_run=True) == 0
    out, err = capsys.readouterr()
    command = _command_of(out)
    (token,) = [c.split("=", 1)[1] for c in command if c.startswith("--token=")]
    assert len(token) >= 16
    assert f"--RoomKernelManager.learners={DEFAULT_ROOM_LEARNERS}" in command
    assert f"--pool_size={DEFAULT_ROOM_LEARNERS // 2}" in command  # two lessons share seats
    assert err.startswith("warning: serving on 0.0.0.0: anyone who can reach this machine")
    assert f"({DEFAULT_ROOM_LEARNERS} seats;" in err


def test_present_dry_run_one_lesson_preheats_every_seat(course, capsys) -> None:
    present("02", directory=course, host="0.0.0.0", learners=7, token=TOKEN, dry_run=True)
    command = _command_of(capsys.readouterr().out)
    assert "--pool_size=7" in command and "--RoomKernelManager.learners=7" in command
    assert f"--token={TOKEN}" in command


def test_present_dry_run_loopback_has_no_token_and_no_limit(course, capsys) -> None:
    present(directory=course, dry_run=True)
    out, err = capsys.readouterr()
    command = _command_of(out)
    assert "--pool_size=1" in command
    assert not [c for c in command if c.startswith(("--token", "--RoomKernelManager"))]
    assert err == ""


def test_present_port_taken_is_refused(course) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        with pytest.raises(ValueError, match=f"port {port} on 127.0.0.1 is taken"):
            present(directory=course, port=port, open_browser=False)


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["--learners", "0"], "--learners must be 1 or more, got 0"),
        (["--token", "a b"], "--token must be 8 or more letters"),
        (["--token", "short"], "--token must be 8 or more letters"),
    ],
    ids=["no-seats", "space", "short"],
)
def test_cli_present_bad_room_options_exit_2_one_line(capsys, argv, needle) -> None:
    assert cli.main(["present", "--dry-run", *argv]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and needle in err


def test_stop_kernels_in_stops_what_names_the_folder_even_if_it_ignores_sigterm(
    tmp_path,
) -> None:
    kernels = tmp_path / "kernels"
    stubborn = "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(60)"
    process = subprocess.Popen(
        [sys.executable, "-c", stubborn, str(kernels / "kernel-1.json")], start_new_session=True
    )
    bystander = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        time.sleep(0.5)  # let it install its handler
        assert stop_kernels_in(kernels, timeout_s=1.0) == 1
        assert process.wait(5) == -signal.SIGKILL
        assert bystander.poll() is None
    finally:
        for proc in (process, bystander):
            proc.kill()
            proc.wait()


# ------------------------------------------------------- the real room, over HTTP
class Browser:
    """An HTTP client that keeps cookies, as one learner's browser does."""

    def __init__(self) -> None:
        self.cookies = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.cookies))

    def request(self, url: str, data: bytes | None = None) -> tuple[int, dict[str, str], str]:
        try:
            with self.opener.open(url, data=data, timeout=120) as reply:
                return reply.status, dict(reply.headers), reply.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, dict(error.headers), error.read().decode()

    def cookie(self, name: str) -> str:
        return next(c.value for c in self.cookies if c.name == name)

    def close_page(self, base_url: str, page: str) -> int:
        """What Voila's page does as its tab closes: ask for its kernel to be shut down,
        with the XSRF cookie's value in the form."""
        kernel_id = re.search(r'"kernelId": "([0-9a-f-]{36})"', page).group(1)
        form = f"_xsrf={urllib.request.quote(self.cookie('_xsrf'))}".encode()
        status, _, _ = self.request(f"{base_url}/voila/api/shutdown/{kernel_id}", form)
        return status


def start_present(*args: str) -> bc.Server:
    """``marginlab present ARGS`` on a free loopback port (its own process group)."""
    port = bc.free_port()
    command = [sys.executable, "-m", "marginlab", "present", *args, "--port", str(port)]
    return bc.start_server("present", [*command, "--no-browser"], port, dict(os.environ))


def wait_until(predicate, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"not {what} within {timeout_s:.0f} s")
        time.sleep(0.2)


@pytest.fixture
def room(course):
    """A room of 2 seats serving one lesson, with a token, as a learner reaches it."""
    server = start_present("01", "--dir", str(course), "--learners", "2", "--token", TOKEN)
    try:
        wait_until(lambda: len(bc.server_kernels(server)) == 2, 120, "2 preheated kernels")
        yield server
    finally:
        server.stop()


@pytest.mark.slow
def test_room_without_its_token_answers_403_with_a_readable_page(room) -> None:
    learner = Browser()
    for path in ("/", f"/?token={TOKEN}x", "/login", "/api/kernels"):  # Voila's own JS is public
        status, _, body = learner.request(room.base_url + path)
        assert status == 403, path
        assert "<h1>This room needs its link</h1>" in body, path
    assert len(bc.server_kernels(room)) == 2  # nobody took a seat


@pytest.mark.slow
def test_room_token_link_opens_the_lesson_and_its_cookie_keeps_it_open(room) -> None:
    learner = Browser()
    status, _, page = learner.request(f"{room.base_url}/?token={TOKEN}")
    assert status == 200 and "01-first ran" in page
    kernel_id = re.search(r'"kernelId": "([0-9a-f-]{36})"', page).group(1)
    status, _, kernel = learner.request(f"{room.base_url}/api/kernels/{kernel_id}")  # cookie
    assert status == 200 and f'"id": "{kernel_id}"' in kernel
    assert Browser().request(f"{room.base_url}/api/kernels/{kernel_id}")[0] == 403


@pytest.mark.slow
def test_room_one_learner_too_many_gets_the_room_is_full_page_until_a_seat_frees(room) -> None:
    learners = [Browser() for _ in range(3)]
    pages = [learners[i].request(f"{room.base_url}/?token={TOKEN}") for i in range(2)]
    assert [status for status, _, _ in pages] == [200, 200]
    started = time.monotonic()
    status, headers, body = learners[2].request(f"{room.base_url}/?token={TOKEN}")
    assert status == 503
    assert time.monotonic() - started < 30  # an answer, not a hung page
    assert headers["Retry-After"] == "60"
    assert "<h1>The room is full</h1>" in body and "All 2 seats" in body
    assert len(bc.server_kernels(room)) == 2
    # The first learner closes the tab: the seat frees at once, and the third gets in.
    assert learners[0].close_page(room.base_url, pages[0][2]) == 204
    status, _, page = learners[2].request(f"{room.base_url}/?token={TOKEN}")
    assert status == 200 and "01-first ran" in page
    assert len(bc.server_kernels(room)) <= 2


@pytest.mark.slow
def test_room_full_of_preheated_kernels_gives_an_idle_one_up_for_a_learner(course) -> None:
    # Two seats, two lessons: each lesson's pool holds one kernel, so the room is full
    # before anyone comes. A second learner on lesson 01 takes lesson 02's seat.
    server = start_present("--dir", str(course), "--learners", "2", "--token", TOKEN)
    try:
        wait_until(lambda: len(bc.server_kernels(server)) == 2, 120, "2 preheated kernels")
        first, second, third = Browser(), Browser(), Browser()
        lesson_01 = f"{server.base_url}/voila/render/01-first.ipynb?token={TOKEN}"
        status, _, page = first.request(lesson_01)
        assert status == 200 and "01-first ran" in page
        status, _, page = second.request(lesson_01)
        assert status == 200 and "01-first ran" in page
        assert len(bc.server_kernels(server)) == 2
        log = server.log_path.read_text()
        assert "shutting down preheated kernel" in log
        status, _, body = third.request(lesson_01.replace("01-first", "02-second"))
        assert status == 503 and "All 2 seats" in body
    finally:
        server.stop()


def start_culling_room(course: Path, cull_idle_timeout_s: int) -> bc.Server:
    """A room for 3 serving ``course``'s first lesson with one preheated kernel, whose
    idle kernels are culled after ``cull_idle_timeout_s`` (checked every second);
    returns once that kernel runs."""
    port = bc.free_port()
    command = voila_command(course / "01-first.ipynb", port=port, pool_size=1, learners=3)
    command = [c for c in command if not c.startswith("--MappingKernelManager.cull_")]
    command += [
        f"--MappingKernelManager.cull_idle_timeout={cull_idle_timeout_s}",
        "--MappingKernelManager.cull_interval=1",
    ]
    server = bc.start_server("voila-cull", command, port, serve.server_env())
    try:
        wait_until(lambda: len(bc.server_kernels(server)) == 1, 120, "1 preheated kernel")
    except BaseException:
        server.stop()
        raise
    return server


@pytest.mark.slow
def test_room_pages_nobody_holds_are_culled_and_the_pool_is_kept(course) -> None:
    server = start_culling_room(course, cull_idle_timeout_s=2)
    try:
        (taken,) = bc.server_kernels(server)  # the next page takes it
        status, _, _ = Browser().request(server.base_url + "/")  # a page that never connects
        assert status == 200
        wait_until(lambda: taken not in bc.server_kernels(server), 60, "the page's kernel culled")
        wait_until(lambda: len(bc.server_kernels(server)) == 1, 60, "the pool refilled")
        (pooled,) = bc.server_kernels(server)
        time.sleep(5)  # more than two cull timeouts
        assert bc.server_kernels(server) == [pooled]  # the preheated kernel waits for a learner
    finally:
        server.stop()


@pytest.mark.slow
def test_room_kernel_taken_from_the_pool_gets_the_whole_cull_timeout_to_connect(course) -> None:
    # A preheated kernel that waited in the pool longer than the cull timeout was culled
    # at the next cull after a page took it, before the page could connect (its cells
    # showed, never a widget). Its idle time now starts when the page takes it.
    server = start_culling_room(course, cull_idle_timeout_s=10)
    try:
        (taken,) = bc.server_kernels(server)
        time.sleep(12)  # idle in the pool for longer than the timeout: kept there
        assert bc.server_kernels(server) == [taken]
        status, _, _ = Browser().request(server.base_url + "/")  # takes it; never connects
        assert status == 200
        time.sleep(3)  # three culls later, well within the timeout
        assert taken in bc.server_kernels(server)
        wait_until(lambda: taken not in bc.server_kernels(server), 60, "the page's kernel culled")
    finally:
        server.stop()


@pytest.mark.slow
@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP], ids=str)
def test_present_signal_stops_voila_and_every_kernel_nothing_left_listening(course, stop) -> None:
    server = start_present("--dir", str(course), "--learners", "3")
    port = int(server.base_url.rsplit(":", 1)[1])
    try:
        wait_until(lambda: len(bc.server_kernels(server)) >= 2, 120, "preheated kernels")
        status, _, _ = Browser().request(f"{server.base_url}/voila/render/02-second.ipynb")
        assert status == 200
        assert len(bc.server_kernels(server)) >= 2
        tree = psutil.Process(server.process.pid).children(recursive=True)
        kernels_dir = next(
            Path(part).parents[1]  # <kernels_dir>/voila_xxx/kernel-<id>.json
            for kernel in bc.server_kernels(server)
            for part in kernel.cmdline()
            if part.endswith(".json")
        )
        assert kernels_dir.name.startswith("marginlab-room-")
        os.kill(server.process.pid, stop)  # the present process only, as a terminal would
        assert server.process.wait(60) == 0
        _, alive = psutil.wait_procs(tree, timeout=10)
        assert alive == []
        with socket.socket() as sock:  # nothing listens on the room's port
            assert sock.connect_ex(("127.0.0.1", port)) != 0
        assert not kernels_dir.exists()
    finally:
        server.stop()
