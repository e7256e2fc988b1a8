"""Wheel build hook: the course (``lessons/``) goes into the wheel as package data,
``marginlab/lessons/``, where :func:`marginlab.course.lessons_dir` finds it with
``importlib.resources``. The repository's ``lessons/`` stays the one source: nothing is
copied into the package by hand.

Every file of ``lessons/`` is included except each lesson's MyST source (``X.md`` beside
its notebook ``X.ipynb``: learners open the notebook) and editor litter. An editable
install gets nothing here: it reads ``lessons/`` in the checkout.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

PACKAGE_FOLDER = "marginlab/lessons"
LITTER = frozenset({".ipynb_checkpoints", "__pycache__", ".pytest_cache"})


def course_files(lessons: Path) -> list[Path]:
    """The files of ``lessons`` a learner's course holds (sorted)."""
    files = []
    for path in sorted(lessons.rglob("*")):
        parts = path.relative_to(lessons).parts
        if not path.is_file() or LITTER & set(parts) or parts[-1].startswith("."):
            continue
        if path.suffix == ".md" and path.with_suffix(".ipynb").is_file():
            continue  # a lesson's text source
        files.append(path)
    return files


class CourseBuildHook(BuildHookInterface):
    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        if self.target_name != "wheel" or version == "editable":
            return
        lessons = Path(self.root) / "lessons"
        files = course_files(lessons)
        if not any(path.suffix == ".ipynb" for path in files):
            raise FileNotFoundError(f"no lesson notebooks in {lessons}: the wheel needs the course")
        for path in files:
            target = f"{PACKAGE_FOLDER}/{path.relative_to(lessons).as_posix()}"
            build_data["force_include"][str(path)] = target
