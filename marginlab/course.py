"""Where the pristine course lives, and the learner's writable copy of it.

Learners never edit the shipped lessons: ``marginlab lessons copy DIR`` and
``marginlab lab`` work on a copy, so the originals stay pristine and a learner's work
is never overwritten without ``--force``.
"""

from __future__ import annotations

import importlib.resources
import os
import secrets
import shutil
import tempfile
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


def packaged_lessons() -> Path | None:
    """The course inside an installed wheel (``marginlab/lessons/``, package data put
    there by the build from the repository's ``lessons/``), or None when this install has
    none (a source checkout or an editable install)."""
    folder = importlib.resources.files("marginlab") / "lessons"
    if isinstance(folder, Path) and folder.is_dir():  # wheels install as plain files
        return folder
    return None


def checkout_lessons() -> Path:
    """``lessons/`` of the source checkout this package runs from (may not exist)."""
    return Path(__file__).resolve().parent.parent / "lessons"


def lessons_dir() -> Path:
    """The pristine lessons folder: ``$MARGINLAB_LESSONS``; else the course installed
    with the package (:func:`packaged_lessons`); else the source checkout's ``lessons/``.

    Raises FileNotFoundError, saying where it looked, when there is no such folder.
    """
    override = os.environ.get(LESSONS_ENV)
    if override:
        candidate = Path(override).expanduser().resolve()
        where = f"${LESSONS_ENV}={override}"
    else:
        candidate = packaged_lessons() or checkout_lessons()
        where = f"{candidate} (nor in the installed package)"
    if not candidate.is_dir():
        raise FileNotFoundError(
            f"lessons folder not found at {where}; install marginlab from its wheel or "
            f"its source repository (`pip install .`), or set {LESSONS_ENV} to a lessons "
            "folder"
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

    Nothing is written through a symbolic link: ``dest`` itself or a folder inside it
    that is a link is refused (ValueError) before anything is written, and a lesson file
    that is a link is replaced by the pristine file (its target is never touched). Every
    file lands whole or not at all: a new copy is built in a temporary folder next to
    ``dest`` and renamed into place; with ``force`` each file is written to a temporary
    file beside it and renamed over the old one. A failure (a full disk, say) raises
    OSError with one readable line and leaves no temporary file behind.
    """
    origin = (lessons_dir() if source is None else Path(source)).resolve()
    if not origin.is_dir():
        raise FileNotFoundError(f"source must be a lessons folder, got {str(origin)!r}")
    given = Path(dest).expanduser()
    if given.is_symlink():
        raise ValueError(
            f"dest {str(given)!r} is a symbolic link to {os.readlink(given)!r}; marginlab "
            "never writes through one: give the real folder instead"
        )
    target = given.resolve()
    if target == origin or origin in target.parents:
        raise ValueError(
            f"dest must be outside the pristine lessons folder {origin}, got {str(target)!r}"
        )
    if target.exists() and not target.is_dir():
        raise FileExistsError(f"dest must be a folder, but {str(target)!r} is a file")
    files = _course_files(origin)
    if target.is_dir() and any(target.iterdir()):
        if not force:
            raise FileExistsError(
                f"{target} already exists and is not empty; your work there is kept. "
                "Choose another folder, or pass --force to overwrite the lessons in it "
                "with pristine copies"
            )
        _check_no_links_or_folders_in_the_way(target, files)
        _replace_files(origin, target, files)
    else:
        _copy_whole(origin, target, files)
    return target


def _course_files(origin: Path) -> list[Path]:
    """The course's files, relative to ``origin``, minus what ``_ignore`` skips."""
    found = []
    for folder, subfolders, names in os.walk(origin):
        here = Path(folder)
        skipped = _ignore(folder, subfolders + names)
        subfolders[:] = sorted(d for d in subfolders if d not in skipped)
        found += [(here / n).relative_to(origin) for n in sorted(names) if n not in skipped]
    return found


def _check_no_links_or_folders_in_the_way(target: Path, files: list[Path]) -> None:
    """Refuse, before writing anything, a folder link inside ``target`` on the way to a
    lesson file, or a folder where a lesson file goes."""
    for relative in files:
        for parent in reversed(relative.parents[:-1]):  # a/, a/b/, ... (not "." itself)
            if (target / parent).is_symlink():
                raise ValueError(
                    f"{target / parent} is a symbolic link; marginlab never writes through "
                    "one: remove it (or choose another folder) and copy again"
                )
        path = target / relative
        if path.is_dir() and not path.is_symlink():
            raise FileExistsError(f"{path} is a folder where the lesson file {relative} goes")


def _copy_whole(origin: Path, target: Path, files: list[Path]) -> None:
    """Copy the course into a temporary folder beside ``target``, then rename it into
    place (``target`` is missing or an empty folder)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    scratch = target.parent / f".{target.name}.{secrets.token_hex(4)}.partial"
    try:
        scratch.mkdir()
        for relative in files:
            (scratch / relative).parent.mkdir(parents=True, exist_ok=True)
            _copy_file(origin / relative, scratch / relative)
        os.replace(scratch, target)  # POSIX renames over an empty folder
    except OSError as error:
        shutil.rmtree(scratch, ignore_errors=True)
        raise _copy_error(target, error) from None


def _replace_files(origin: Path, target: Path, files: list[Path]) -> None:
    """Write each course file to a temporary file beside its place in ``target`` and
    rename it over whatever was there (a file, or a link, which is replaced, not
    followed)."""
    for relative in files:
        path = target / relative
        scratch = None
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            handle, name = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
            os.close(handle)
            scratch = Path(name)
            _copy_file(origin / relative, scratch)
            os.replace(scratch, path)
        except OSError as error:
            if scratch is not None:
                scratch.unlink(missing_ok=True)
            raise _copy_error(target, error, relative) from None


def _copy_file(source: Path, dest: Path) -> None:
    """Copy bytes and permission bits of ``source`` to ``dest``, on disk before returning."""
    with open(source, "rb") as src, open(dest, "wb") as out:
        shutil.copyfileobj(src, out)
        out.flush()
        os.fsync(out.fileno())
    shutil.copystat(source, dest)


def _copy_error(target: Path, error: OSError, relative: Path | None = None) -> OSError:
    """One readable line for a copy that failed, saying what is left."""
    what = f"{relative} into {target}" if relative else f"the lessons into {target}"
    left = (
        "lessons copied before it are whole pristine copies, the others are unchanged"
        if relative
        else "nothing was written there"
    )
    failure = OSError(f"could not copy {what}: {error.strerror or error}; {left}")
    failure.errno = error.errno
    return failure


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
