"""Past one machine: ``marginlab hub-link`` on a real JupyterHub.

The fast tests check the link's form. The slow one starts a local JupyterHub on
127.0.0.1 (dummy authenticator, the simple local-process spawner, configurable-http-proxy
from npm), logs two users in over HTTP, has each follow the nbgitpuller link against a
local git clone of the course (calling ``/user/<name>/git-pull/api`` as the link's page
would), and checks that each has their own lessons and that one's edits never reach
the other. configurable-http-proxy is installed by ``make install`` into
``.venv/node_modules`` (it needs npm); without it the hub test skips, unless
MARGINLAB_HUB_TESTS=1 (CI) makes it mandatory.
"""

from __future__ import annotations

import contextlib
import http.cookiejar
import json
import os
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest

from marginlab import cli
from marginlab.hub import first_lesson_path, nbgitpuller_link

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent / "browser"))
import browser_checks as bc  # noqa: E402 - free ports and server processes

REQUIRE_ENV = "MARGINLAB_HUB_TESTS"  # "1": the JupyterHub test must run (CI), never skip
PROXY = "configurable-http-proxy"


# ------------------------------------------------------------------------------- link
def _query(link: str) -> dict[str, str]:
    return dict(parse_qsl(urlsplit(link).query))


def test_nbgitpuller_link_sends_each_user_to_their_own_git_pull() -> None:
    link = nbgitpuller_link(
        "https://hub.example.org/", "https://git.example.org/c/course.git", "lessons/00.ipynb"
    )
    assert link.startswith("https://hub.example.org/hub/user-redirect/git-pull?")
    assert _query(link) == {
        "repo": "https://git.example.org/c/course.git",
        "urlpath": "lab/tree/course/lessons/00.ipynb",
        "targetpath": "course",
    }


@pytest.mark.parametrize(
    "hub", ["https://e.org/base", "https://e.org/base/", "https://e.org/base/hub/"], ids=str
)
def test_nbgitpuller_link_keeps_the_hub_base_url_once(hub) -> None:
    link = nbgitpuller_link(hub, "/srv/course", "lessons/00.ipynb", branch="main", target="mine")
    assert link.split("?")[0] == "https://e.org/base/hub/user-redirect/git-pull"
    assert _query(link) == {
        "repo": "/srv/course",
        "branch": "main",
        "urlpath": "lab/tree/mine/lessons/00.ipynb",
        "targetpath": "mine",
    }


@pytest.mark.parametrize(
    ("hub", "repo", "message"),
    [
        ("hub.example.org", "/srv/course", "must start with http:// or https://"),
        ("ftp://hub.example.org", "/srv/course", "must start with http:// or https://"),
        ("https://hub.example.org", "/", "repo must name a git repository"),
    ],
)
def test_nbgitpuller_link_bad_input_raises(hub, repo, message) -> None:
    with pytest.raises(ValueError, match=message):
        nbgitpuller_link(hub, repo, "lessons/00.ipynb")


def test_first_lesson_path_is_lesson_00_of_the_course() -> None:
    assert first_lesson_path(ROOT / "lessons") == "lessons/00-start-here.ipynb"


def test_cli_hub_link_prints_the_link_opening_lesson_00(capsys) -> None:
    assert cli.main(["hub-link", "https://hub.example.org", "--repo", "/srv/marginlab"]) == 0
    out, err = capsys.readouterr()
    assert (
        out
        == nbgitpuller_link(
            "https://hub.example.org", "/srv/marginlab", "lessons/00-start-here.ipynb"
        )
        + "\n"
    )
    assert err == ""


def test_cli_hub_link_bad_url_exits_2_one_line(capsys) -> None:
    assert cli.main(["hub-link", "hub.example.org", "--repo", "/srv/marginlab"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "must start with http:// or https://" in err


# ------------------------------------------------------------------ deploy/ configs
def test_z2jh_config_learners_clone_into_their_own_persistent_folder() -> None:
    yaml = pytest.importorskip("yaml")
    config = yaml.safe_load((ROOT / "deploy" / "z2jh" / "config.yaml").read_text())
    user = config["singleuser"]
    # nbgitpuller clones into the server's root: on the learner's own volume, which is
    # not mounted over the image's home (where repo2docker installed marginlab).
    assert user["notebookDir"] == user["storage"]["homeMountPath"] == "/home/jovyan/work"
    assert user["defaultUrl"] == "/lab"
    assert user["memory"] == {"guarantee": "512M", "limit": "1G"}
    assert config["cull"]["enabled"] is True


def test_tljh_setup_installs_the_pinned_course_environment() -> None:
    script = (ROOT / "deploy" / "tljh" / "setup.sh").read_text()
    assert "/opt/tljh/user/bin/pip install --quiet -r binder/requirements.txt" in script
    assert "nbgitpuller" in (ROOT / "binder" / "requirements.txt").read_text()
    subprocess.run(["bash", "-n", str(ROOT / "deploy" / "tljh" / "setup.sh")], check=True)


# -------------------------------------------------------------------------- the hub
def proxy_path() -> str | None:
    """configurable-http-proxy: the project's own (``make install``), else on PATH."""
    local = Path(sys.prefix) / "node_modules" / ".bin" / PROXY
    return str(local) if local.exists() else shutil.which(PROXY)


HUB_CONFIG = """
import sys
c = get_config()  # noqa: F821
c.JupyterHub.ip = "127.0.0.1"
c.JupyterHub.port = {port}
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = {hub_port}
c.ConfigurableHTTPProxy.api_url = "http://127.0.0.1:{proxy_api_port}"
c.ConfigurableHTTPProxy.command = [{proxy!r}]
c.ConfigurableHTTPProxy.should_start = True
c.JupyterHub.db_url = "sqlite:///{state}/hub.sqlite"
c.JupyterHub.cookie_secret_file = "{state}/cookie_secret"
c.JupyterHub.pid_file = "{state}/hub.pid"
c.JupyterHub.cleanup_servers = True
c.JupyterHub.authenticator_class = "dummy"
c.DummyAuthenticator.password = "workshop-password"
c.Authenticator.allow_all = True
c.JupyterHub.spawner_class = "simple"
c.SimpleLocalProcessSpawner.home_dir_template = "{homes}/{{username}}"
c.Spawner.cmd = [{singleuser!r}]
c.Spawner.args = ["--ServerApp.allow_root=True"]
c.Spawner.ip = "127.0.0.1"
c.Spawner.default_url = "/lab"
c.Spawner.start_timeout = 180
c.Spawner.http_timeout = 180
"""


class HubUser:
    """One learner's browser: an HTTP client with its own cookies."""

    def __init__(self, hub: str, name: str) -> None:
        self.hub, self.name = hub, name
        self.cookies = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.cookies))

    def request(
        self, path: str, data: bytes | None = None, method: str | None = None, **headers: str
    ) -> tuple[int, str, str]:
        """(status, final URL, body) of ``path`` (redirects followed)."""
        request = urllib.request.Request(self.hub + path, data=data, method=method)
        for name, value in headers.items():
            request.add_header(name.replace("_", "-"), value)
        try:
            with self.opener.open(request, timeout=180) as reply:
                return reply.status, reply.url, reply.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.url, error.read().decode()

    def xsrf(self, path: str) -> str:
        """The _xsrf cookie set for ``path`` (the hub's, or the user server's)."""
        cookies = [c for c in self.cookies if c.name == "_xsrf" and path.startswith(c.path)]
        return max(cookies, key=lambda c: len(c.path)).value

    def log_in(self) -> None:
        status, _, _ = self.request("/hub/login")
        assert status == 200
        form = urlencode(
            {"username": self.name, "password": "workshop-password", "_xsrf": self.xsrf("/hub/")}
        )
        status, url, _ = self.request("/hub/login", form.encode())
        assert status == 200, url

    def start_server(self, timeout_s: float = 180.0) -> None:
        """Ask the hub for this user's server and wait until JupyterLab opens there (the
        page's redirects through the hub's OAuth give this client its cookie)."""
        self.request("/hub/spawn")
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            status, url, _ = self.request(f"/user/{self.name}/lab")
            if status == 200 and urlsplit(url).path == f"/user/{self.name}/lab":
                return
            time.sleep(1.0)
        raise AssertionError(f"{self.name}'s server did not start within {timeout_s:.0f} s")

    def follow(self, link: str) -> dict[str, object]:
        """Open the nbgitpuller ``link`` as a browser does, then do what its page's
        script does: stream ``git-pull/api`` until the pull has finished; the last event."""
        status, url, page = self.request(link.removeprefix(self.hub))
        assert status == 200, (url, page[:500])
        assert urlsplit(url).path == f"/user/{self.name}/git-pull"
        query = {k: v for k, v in _query(link).items() if k in ("repo", "branch", "targetpath")}
        status, _, stream = self.request(f"/user/{self.name}/git-pull/api?{urlencode(query)}")
        assert status == 200
        events = [json.loads(line[6:]) for line in stream.splitlines() if line.startswith("data: ")]
        return events[-1]

    def contents(self, path: str) -> tuple[int, dict]:
        status, _, body = self.request(f"/user/{self.name}/api/contents/{path}")
        return status, (json.loads(body) if status == 200 else {})

    def save(self, path: str, model: dict) -> int:
        api = f"/user/{self.name}/api/contents/{path}"
        xsrf = self.xsrf(f"/user/{self.name}/")
        body = json.dumps({"type": "notebook", "format": "json", "content": model}).encode()
        status, _, _ = self.request(
            api, body, "PUT", Content_Type="application/json", X_XSRFToken=xsrf
        )
        return status


@pytest.fixture
def course_clone(tmp_path: Path) -> Path:
    """A local git clone of the course (its committed lessons)."""
    clone = tmp_path / "marginlab-course"
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(clone)], check=True)
    return clone


@contextlib.contextmanager
def running_hub(folder: Path, proxy: str) -> Iterator[tuple[str, Path]]:
    """A JupyterHub on 127.0.0.1 with its state in ``folder``: (its URL, the folder of
    the users' homes). Shared with benchmarks/hub.py."""
    state, homes = folder / "hub-state", folder / "homes"
    state.mkdir()
    homes.mkdir()
    port, hub_port, proxy_api_port = bc.free_port(), bc.free_port(), bc.free_port()
    config = state / "jupyterhub_config.py"
    config.write_text(
        HUB_CONFIG.format(
            port=port,
            hub_port=hub_port,
            proxy_api_port=proxy_api_port,
            proxy=proxy,
            state=state,
            homes=homes,
            singleuser=str(Path(sys.executable).with_name("jupyterhub-singleuser")),
        )
    )
    command = [sys.executable, "-m", "jupyterhub", "-f", str(config)]
    server = bc.start_server("jupyterhub", command, port, dict(os.environ), timeout_s=120)
    try:
        deadline = time.monotonic() + 60  # the proxy listens before the hub's route is in
        while HubUser(server.base_url, "-").request("/hub/api")[0] != 200:
            assert time.monotonic() < deadline, f"the hub never answered:\n{server.log_tail()}"
            time.sleep(0.5)
        yield server.base_url, homes
    finally:
        server.stop(timeout_s=60)


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A JupyterHub on 127.0.0.1: (its URL, the folder of the users' homes)."""
    proxy = proxy_path()
    if proxy is None:
        reason = f"{PROXY} not found: make install (needs npm), or npm install {PROXY}"
        if os.environ.get(REQUIRE_ENV) == "1":
            pytest.fail(f"{reason} ({REQUIRE_ENV}=1 makes the hub test mandatory)")
        pytest.skip(reason)
    with running_hub(tmp_path, proxy) as running:
        yield running


@pytest.mark.slow
def test_hub_link_gives_each_user_their_own_lessons_opened_at_lesson_00(
    hub, course_clone, capsys
) -> None:
    url, homes = hub
    assert cli.main(["hub-link", url, "--repo", str(course_clone)]) == 0
    link = capsys.readouterr().out.strip()
    lesson = "marginlab-course/lessons/00-start-here.ipynb"
    assert _query(link)["urlpath"] == f"lab/tree/{lesson}"

    alice, bob = HubUser(url, "alice"), HubUser(url, "bob")
    for user in (alice, bob):
        user.log_in()
        user.start_server()
        assert user.follow(link)["phase"] == "finished"
    pristine = (course_clone / "lessons" / "00-start-here.ipynb").read_bytes()
    for name in ("alice", "bob"):  # each has their own clone, in their own home
        assert (homes / name / lesson).read_bytes() == pristine
        assert (homes / name / "marginlab-course" / ".git").is_dir()

    # Alice edits lesson 00 in her copy; Bob's copy does not change.
    status, model = alice.contents(lesson)
    assert status == 200
    model["content"]["cells"][0]["source"] = "Alice's notes"
    assert alice.save(lesson, model["content"]) == 200
    assert alice.contents(lesson)[1]["content"]["cells"][0]["source"] == "Alice's notes"
    status, bobs = bob.contents(lesson)
    assert status == 200 and bobs["content"]["cells"][0]["source"] != "Alice's notes"
    assert (homes / "bob" / lesson).read_bytes() == pristine
    # Bob cannot read Alice's server, and following the link again keeps Alice's edit.
    assert bob.request(f"/user/alice/api/contents/{lesson}")[0] in (403, 404)
    assert alice.follow(link)["phase"] == "finished"
    assert alice.contents(lesson)[1]["content"]["cells"][0]["source"] == "Alice's notes"
