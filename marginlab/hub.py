"""Past one machine: the course on a JupyterHub, each learner with their own copy.

``marginlab hub-link URL`` prints an nbgitpuller link. Each hub user who opens it gets
the course's git repository cloned into their home folder (on a later visit, new lessons
are merged in and their own edits kept), then JupyterLab opens at lesson 00. The hub's
user image needs nbgitpuller (``binder/requirements.txt`` pins it); ``deploy/`` has the
hub configurations.

The link is nbgitpuller's: ``<hub>/hub/user-redirect/git-pull?repo=...&branch=...
&urlpath=...&targetpath=...`` (nbgitpuller.handlers.UIHandler reads these arguments;
``user-redirect`` sends each user to their own server).
"""

from __future__ import annotations

import subprocess
from importlib import metadata
from pathlib import Path
from urllib.parse import urlencode, urlsplit

from marginlab.course import lessons_dir

FIRST_LESSON = "00"
REPOSITORY_LABELS = ("repository", "source", "source code")  # pyproject [project.urls]


def nbgitpuller_link(
    hub_url: str,
    repo: str,
    lesson: str,
    *,
    branch: str | None = None,
    target: str | None = None,
) -> str:
    """The nbgitpuller link that clones ``repo`` into each user's ``target`` folder
    (default: the repository's name) and opens ``lesson`` (its path inside the
    repository, e.g. ``lessons/00-start-here.ipynb``) in JupyterLab.

    ``hub_url`` is the hub's address (``https://hub.example.org``, or with the hub's base
    URL); a trailing ``/hub`` is accepted. Raises ValueError for an address that is not
    http(s) or a ``repo`` that names nothing.
    """
    parts = urlsplit(hub_url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"the hub URL must start with http:// or https://, got {hub_url!r}")
    base = hub_url.rstrip("/").removesuffix("/hub").rstrip("/")
    name = repo.rstrip("/").rsplit("/", 1)[-1].removesuffix(".git")
    target = target or name
    if not name or not target or "/" in target or target in (".", ".."):
        raise ValueError(f"repo must name a git repository, got {repo!r}")
    query = {"repo": repo, **({"branch": branch} if branch else {})}
    query |= {"urlpath": f"lab/tree/{target}/{lesson}", "targetpath": target}
    return f"{base}/hub/user-redirect/git-pull?{urlencode(query)}"


def first_lesson_path(course: Path | None = None) -> str:
    """Lesson 00's path inside the course's repository (``lessons/<file>``)."""
    from marginlab.serve import find_lesson

    folder = lessons_dir() if course is None else Path(course)
    return f"{folder.name}/{find_lesson(folder, FIRST_LESSON).name}"


def course_repository() -> tuple[str, str] | None:
    """Where hub users clone the course from, and how that was found: the repository URL
    in marginlab's package metadata; else the ``origin`` remote of the git checkout the
    lessons live in; else that checkout's own path (for a hub on this machine). None
    when there is none of these."""
    for entry in metadata.metadata("marginlab").get_all("Project-URL") or []:
        label, _, url = entry.partition(",")
        if label.strip().lower() in REPOSITORY_LABELS and url.strip():
            return url.strip(), "the package's repository URL"
    try:
        checkout = _git(lessons_dir(), "rev-parse", "--show-toplevel")
    except (OSError, subprocess.CalledProcessError):
        return None
    try:
        return _git(Path(checkout), "remote", "get-url", "origin"), "this checkout's origin"
    except subprocess.CalledProcessError:
        return checkout, "this checkout's path, for a hub on this machine"


def _git(folder: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-C", str(folder), *args], capture_output=True, text=True, check=True
    )
    return done.stdout.strip()
