"""Where the pristine course lives, and the learner's writable copy of it.

Learners never edit the shipped lessons: ``marginlab lessons copy DIR`` and
``marginlab lab`` work on a copy, so the originals stay pristine and a learner's work
is never overwritten without ``--force``.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

LESSONS_ENV = "MARGINLAB_LESSONS"  # optional override: path to a lessons folder
# Editor and tool litter that never belongs in a learner's copy.
_LITTER = shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__", ".pytest_cache")


def _ignore(folder: str, names: list[str]) -> set[str]:
    """Litter, and each lesson's text source (``X.md`` beside ``X.ipynb``): learners open
    the notebook; the MyST source is for whoever edits the course."""
    built = {name[: -len(".ipynb")] for name in names if name.endswith(".ipynb")}
    sources = {name for name in names if name.endswith(".md") and name[:-3] in built}
    return set(_LITTER(folder, names)) | sources


def lessons_dir() -> Path:
    """The pristine ``lessons/`` folder: ``$MARGINLAB_LESSONS``, else ``<repo>/lessons``.

    In a source or editable install the lessons sit next to the ``marginlab`` package.
    Raises FileNotFoundError, saying where it looked, when there is no such folder.
    """
    override = os.environ.get(LESSONS_ENV)
    if override:
        candidate = Path(override).expanduser().resolve()
        where = f"${LESSONS_ENV}={override}"
    else:
        candidate = Path(__file__).resolve().parent.parent / "lessons"
        where = str(candidate)
    if not candidate.is_dir():
        raise FileNotFoundError(
            f"lessons folder not found at {where}; the course ships with the marginlab "
            f"source repository (clone it and `pip install -e .`), or set {LESSONS_ENV} "
            "to a lessons folder"
        )
    return candidate


def copy_lessons(
    dest: str | os.PathLike, source: Path | None = None, *, force: bool = False
) -> Path:
    """Copy the course (notebooks, markdown, data; no checkpoints, no lesson sources) into
    ``dest``.

    ``source`` defaults to :func:`lessons_dir`. A missing or empty ``dest`` is filled;
    a non-empty one is refused (FileExistsError) unless ``force``, which overwrites the
    course's files with pristine copies and leaves any other file in ``dest`` alone.
    Returns ``dest`` as an absolute path.
    """
    origin = (lessons_dir() if source is None else Path(source)).resolve()
    if not origin.is_dir():
        raise FileNotFoundError(f"source must be a lessons folder, got {str(origin)!r}")
    target = Path(dest).expanduser().resolve()
    if target == origin or origin in target.parents:
        raise ValueError(
            f"dest must be outside the pristine lessons folder {origin}, got {str(target)!r}"
        )
    if target.exists() and not target.is_dir():
        raise FileExistsError(f"dest must be a folder, but {str(target)!r} is a file")
    if target.is_dir() and any(target.iterdir()) and not force:
        raise FileExistsError(
            f"{target} already exists and is not empty; your work there is kept. "
            "Choose another folder, or pass --force to overwrite the lessons in it "
            "with pristine copies"
        )
    shutil.copytree(origin, target, ignore=_ignore, dirs_exist_ok=True)
    return target


def ensure_lessons_copy(dest: str | os.PathLike, source: Path | None = None) -> bool:
    """Make sure ``dest`` holds a copy of the course; never touch an existing one.

    Copies (see :func:`copy_lessons`) when ``dest`` is missing or empty and returns True;
    returns False, changing nothing, when ``dest`` already has files in it.
    """
    target = Path(dest).expanduser()
    if target.is_dir() and any(target.iterdir()):
        return False
    copy_lessons(target, source)
    return True
