"""Launch links: written once (pyproject's [project.urls] Repository), every link well
formed, and the README's Binder block generated from the same setting."""

from __future__ import annotations

import importlib.util
import re
import tomllib
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("launch_links", ROOT / "tools" / "launch_links.py")
launch_links = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(launch_links)

NOTEBOOKS = sorted(p.name for p in (ROOT / "lessons").glob("*.ipynb"))
REPOSITORY = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["urls"]["Repository"]
OWNER, NAME = urlsplit(REPOSITORY).path.strip("/").split("/")
# What each app's urlpath starts with on a Binder (JupyterHub) server.
URLPATH_PREFIX = {"lab": "lab/tree/", "voila": "voila/render/", "voila-tree": "voila/tree/"}


def binder_link_problems(url: str, app: str, repo: tuple[str, str] = (OWNER, NAME)) -> list[str]:
    """What is wrong with ``url`` as a Binder link opening a path of this repository in
    ``app`` (empty when nothing): https to mybinder.org, /v2/gh/OWNER/NAME/REF, and one
    ``urlpath`` query parameter naming a notebook (or, for a tree, a folder) that exists."""
    parts = urlsplit(url)
    problems = []
    if (parts.scheme, parts.netloc) != ("https", "mybinder.org"):
        problems.append(f"not https://mybinder.org: {parts.scheme}://{parts.netloc}")
    segments = parts.path.split("/")
    if segments[:5] != ["", "v2", "gh", *repo] or len(segments) != 6 or not segments[5]:
        problems.append(f"path is not /v2/gh/{'/'.join(repo)}/REF: {parts.path}")
    query = parse_qs(parts.query, strict_parsing=True)
    if list(query) != ["urlpath"] or len(query["urlpath"]) != 1:
        problems.append(f"query must be one urlpath, got {parts.query!r}")
        return problems
    urlpath = query["urlpath"][0]
    if not urlpath.startswith(URLPATH_PREFIX[app]):
        problems.append(f"urlpath {urlpath!r} does not open {app}")
    target = ROOT / urlpath.removeprefix(URLPATH_PREFIX[app])
    wanted = target.is_dir() if app == "voila-tree" else target.suffix == ".ipynb"
    if not (wanted and target.exists()):
        problems.append(f"urlpath {urlpath!r} names no {app} target in the repository")
    return problems


def test_launch_links_repository_is_the_pyproject_setting():
    assert launch_links.repository_url() == REPOSITORY
    assert re.fullmatch(r"https://github\.com/[\w-]+/[\w.-]+", REPOSITORY)


@pytest.mark.parametrize("notebook", NOTEBOOKS)
def test_launch_links_every_lesson_opens_in_lab_and_voila(notebook):
    links = launch_links.lesson_links(notebook)
    assert set(links) == {"lab", "voila"}
    for app, url in links.items():
        assert binder_link_problems(url, app) == []
        assert parse_qs(urlsplit(url).query)["urlpath"][0].endswith(f"lessons/{notebook}")


def test_launch_links_voila_tree_opens_the_lessons_folder():
    url = launch_links.binder_url("lessons", "voila-tree")
    assert binder_link_problems(url, "voila-tree") == []


def test_launch_links_form_check_finds_a_wrong_link():
    good = launch_links.lesson_links("00-start-here.ipynb")["lab"]
    assert binder_link_problems(good.replace("lab/tree", "voila/render"), "lab") != []
    assert binder_link_problems(good.replace("00-start", "99-missing"), "lab") != []
    assert binder_link_problems(good.replace("https:", "http:"), "lab") != []
    assert binder_link_problems(good, "lab", ("someone", "else")) != []


def test_launch_links_readme_block_is_generated_from_the_setting():
    assert launch_links.readme_is_current(), "README's launch links are stale: run `make links`"
    readme = (ROOT / "README.md").read_text()
    links = re.findall(r"https://mybinder\.org/v2/[^\s)>\]]+", readme)
    lab = [url for url in links if "urlpath=lab/" in url]
    voila = [url for url in links if "urlpath=voila/" in url]
    assert len(lab) == 2 and len(voila) == 1 and len(links) == 3, links  # badge, lab, app
    first = launch_links.lesson_links(launch_links.FIRST_LESSON)["lab"]
    assert lab == [first, first]
    assert all(binder_link_problems(url, "lab") == [] for url in lab)
    assert binder_link_problems(voila[0], "voila-tree") == []
    assert "OWNER" not in readme and "<REPO>" not in readme  # no placeholder left


def test_launch_links_a_fork_changes_one_line(tmp_path):
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text('[project.urls]\nRepository = "https://github.com/a-fork/marginlab"\n')
    lab = launch_links.lesson_links("03-liquidation-threshold.ipynb", pyproject)["lab"]
    assert binder_link_problems(lab, "lab", ("a-fork", "marginlab")) == []
    block = launch_links.readme_block(pyproject)
    assert "a-fork/marginlab" in block and f"{OWNER}/{NAME}/" not in block
    readme = tmp_path / "README.md"
    readme.write_text(f"# x\n\n{launch_links.readme_block()}\n")
    assert not launch_links.readme_is_current(readme, pyproject)


@pytest.mark.parametrize(
    "setting",
    ["", 'Repository = "https://gitlab.com/a/b"', 'Repository = "github.com/a/b"',
     'Homepage = "https://github.com/a/b"'],
)  # fmt: skip
def test_launch_links_refuse_a_setting_that_is_not_a_github_repository(tmp_path, setting):
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text(f"[project.urls]\n{setting}\n")
    with pytest.raises(ValueError, match=r"\[project.urls\] Repository .* must be a GitHub"):
        launch_links.repository_url(pyproject)


@pytest.mark.parametrize(
    ("path", "app", "message"),
    [("lessons/x.ipynb", "colab", "app must be one of"),
     ("/etc/passwd", "lab", "path must be relative"),
     ("../x.ipynb", "lab", "path must be relative")],
)  # fmt: skip
def test_launch_links_refuse_a_bad_app_or_path(path, app, message):
    with pytest.raises(ValueError, match=message):
        launch_links.binder_url(path, app)
