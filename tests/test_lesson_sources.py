"""The lessons' text sources: each .ipynb is what its MyST source builds, and the sources
follow the course's conventions (check cells, computed prose, self-checks, exercises)."""

from __future__ import annotations

import importlib.util
import io
import re
import sys
import tokenize
from pathlib import Path

import jupytext
import pytest

ROOT = Path(__file__).resolve().parents[1]
LESSONS = ROOT / "lessons"
_spec = importlib.util.spec_from_file_location("lessons_tool", ROOT / "tools" / "lessons.py")
lessons_tool = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(lessons_tool)

SOURCES = lessons_tool.sources(LESSONS)
LESSON_SOURCES = [s for s in SOURCES if re.match(r"\d\d-", s.name)]
# What the before-stop hook flags: a number with cents typed into prose (e.g. 54,216.87).
TYPED_RESULT = re.compile(r"(?<![\w.])\d{1,3}(?:,\d{3})*\.\d{2}(?!\d)")
# A widget the learner sees: ``name = catalog()["..."](...)`` then ``show(name)``.
SHOWN = re.compile(r"^(\w+) = catalog\(\)\[\"\w+\"\]\([^\n]*\)\nshow\(\1\)$", re.M)


def _cells(source: Path):
    return jupytext.read(source, fmt="md:myst").cells


def _names(code: str) -> set[str]:
    """The Python names a cell's code uses (not words in its strings or comments)."""
    tokens = tokenize.generate_tokens(io.StringIO(code).readline)
    return {t.string for t in tokens if t.type == tokenize.NAME}


def _tags(cell) -> set[str]:
    return set(cell.metadata.get("tags", ()))


@pytest.mark.parametrize("source", SOURCES, ids=[s.stem for s in SOURCES])
def test_lesson_notebook_is_what_its_source_builds(source: Path) -> None:
    notebook = source.with_suffix(".ipynb")
    assert notebook.is_file(), f"{notebook.name} is missing: run `make lessons`"
    assert notebook.read_text(encoding="utf-8") == lessons_tool.notebook_text(source), (
        f"{notebook.name} differs from what {source.name} builds: run `make lessons`"
    )


@pytest.mark.parametrize("source", SOURCES, ids=[s.stem for s in SOURCES])
def test_lesson_source_is_what_jupytext_saves(source: Path) -> None:
    # Saving a lesson in JupyterLab (jupytext, with the repository's jupytext.toml) rewrites
    # nothing: no tool versions in the header, no reformatting of what the author wrote.
    from jupytext.config import load_jupytext_configuration_file

    config = load_jupytext_configuration_file(str(ROOT / "jupytext.toml"))
    text = source.read_text(encoding="utf-8")
    notebook = jupytext.reads(text, fmt="md:myst")
    assert jupytext.writes(notebook, fmt="md:myst", config=config) == text
    assert "jupytext_version" not in text


def test_lesson_every_notebook_has_a_text_source() -> None:
    notebooks = {p.stem for p in LESSONS.glob("*.ipynb")}
    assert notebooks == {s.stem for s in SOURCES}
    assert len(LESSON_SOURCES) >= 11


def test_lesson_stale_reports_a_changed_notebook(tmp_path: Path) -> None:
    source = tmp_path / "00-x.md"
    source.write_text(SOURCES[0].read_text(encoding="utf-8"), encoding="utf-8")
    assert lessons_tool.stale(tmp_path) == [tmp_path / "00-x.ipynb"]  # missing
    (tmp_path / "00-x.ipynb").write_text(lessons_tool.notebook_text(source), encoding="utf-8")
    assert lessons_tool.stale(tmp_path) == []
    source.write_text(source.read_text(encoding="utf-8") + "\nOne more line.\n")
    assert lessons_tool.stale(tmp_path) == [tmp_path / "00-x.ipynb"]


def test_lesson_build_collapses_check_and_prose_cells_and_keeps_no_pairing() -> None:
    notebook = lessons_tool.build(LESSONS / "01-isolated-margin.md")
    assert "jupytext" not in notebook.metadata
    hidden = [c for c in notebook.cells if c.metadata.get("jupyter", {}).get("source_hidden")]
    assert hidden and all(_tags(c) & lessons_tool.COLLAPSED_TAGS for c in hidden)
    assert [c.id for c in notebook.cells] == [f"cell-{i:02d}" for i in range(len(notebook.cells))]


@pytest.mark.parametrize("source", SOURCES, ids=[s.stem for s in SOURCES])
def test_lesson_prose_has_no_typed_computed_number(source: Path) -> None:
    for cell in _cells(source):
        if cell.cell_type == "markdown":
            prose = re.sub(r"`[^`]*`", "", cell.source)
            assert TYPED_RESULT.findall(prose) == [], cell.source[:200]


@pytest.mark.parametrize("source", LESSON_SOURCES, ids=[s.stem for s in LESSON_SOURCES])
def test_lesson_check_cells_are_tagged_and_never_read_a_shown_widget(source: Path) -> None:
    cells = _cells(source)
    code = [c for c in cells if c.cell_type == "code"]
    checks = [c for c in code if "check" in _tags(c)]
    assert checks, "every lesson checks itself"
    shown = {name for c in code for name in SHOWN.findall(c.source)}
    for cell in checks:
        assert "remove-cell" in _tags(cell), "a check cell is removed from static pages"
        touched = shown & _names(cell.source)
        assert not touched, f"check cell reads {touched}, widgets the learner moves: use probes"
    for cell in code:
        if "prose(" in cell.source:
            assert "remove-input" in _tags(cell), "computed prose hides its code"


@pytest.mark.parametrize("source", LESSON_SOURCES, ids=[s.stem for s in LESSON_SOURCES])
def test_lesson_ends_with_exercise_solution_and_self_check(source: Path) -> None:
    text = source.read_text(encoding="utf-8")
    assert "## Exercise" in text and "<summary>Solution</summary>" in text
    assert f'self_check("{source.stem}"' in text
    quiz_cells = [c for c in _cells(source) if "self_check(" in c.source]
    for cell in quiz_cells:  # the answers live in marginlab.widgets.selfcheck, not here
        assert "answer=" not in cell.source and "explanation=" not in cell.source


_rt_spec = importlib.util.spec_from_file_location("reading_time", ROOT / "tools/reading_time.py")
reading_time = importlib.util.module_from_spec(_rt_spec)
sys.modules["reading_time"] = reading_time  # its dataclasses look their module up by name
_rt_spec.loader.exec_module(reading_time)
ESTIMATES = {e.lesson: e for e in reading_time.estimates(LESSONS)}


@pytest.mark.parametrize("lesson", sorted(ESTIMATES))
def test_lesson_needs_at_most_fifteen_minutes_of_reading_and_play(lesson: str) -> None:
    estimate = ESTIMATES[lesson]
    parts = ", ".join(f"{k} {v:.1f}" for k, v in estimate.parts.items())
    assert estimate.minutes <= reading_time.LIMIT_MINUTES, f"{estimate.minutes:.1f} min: {parts}"


def test_reading_time_counts_what_a_learner_reads_and_does(tmp_path: Path) -> None:
    # 304 words at 150 a minute, 14 code lines (12 + the widget's 2) at 12 a minute, one
    # widget (3 minutes), two questions (1.5) and one exercise (3).
    source = tmp_path / "99-x.md"
    words = " ".join(["word"] * 300)
    code = "\n".join(f"x{i} = {i}" for i in range(12))
    source.write_text(
        "---\njupytext:\n  text_representation:\n    format_name: myst\n---\n\n"
        f"{words}\n\n**Exercise 99.1.** Do it.\n\n"
        f"```{{code-cell}} ipython3\n{code}\n```\n\n"
        '```{code-cell} ipython3\nw = catalog()["stop_loss"]()\nshow(w)\n```\n',
        encoding="utf-8",
    )
    estimate = reading_time.estimate(source, questions=2)
    assert (estimate.widgets, estimate.code_lines, estimate.exercises) == (1, 14, 1)
    assert estimate.words == 300 + 4  # "Exercise 99.1." counts as two words, "Do it." two
    assert estimate.minutes == pytest.approx(304 / 150 + 14 / 12 + 3 + 1.5 + 3, abs=1e-9)
