"""Build the course's notebooks from their text sources: ``lessons/*.md`` -> ``lessons/*.ipynb``.

Each lesson (and the glossary) is one MyST Markdown notebook (jupytext's ``md:myst``
format, the format of QuantEcon's lecture sources): prose as Markdown, code in
``{code-cell} ipython3`` blocks. Learners open the generated ``.ipynb`` beside it, which
is committed without outputs. Edit the ``.md``, then run ``make lessons``;
``tests/test_lesson_sources.py`` fails while a notebook and its source disagree.

The build adds only what a text source cannot say well:

- cell ids from the cell's position (``cell-00``...), so a rebuild is byte-identical;
- JupyterLab's "input collapsed" flag (``metadata.jupyter.source_hidden``) on every
  cell tagged ``check``, ``remove-cell`` or ``remove-input``: check cells and the
  cells that write computed prose open collapsed;
- the kernel and language metadata, and no jupytext pairing (a learner's saved
  notebook never writes a ``.md`` beside it).

Usage: ``python tools/lessons.py`` writes every notebook; ``--check`` writes nothing
and exits 1, naming them, when a notebook is out of date.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import jupytext
import nbformat

ROOT = Path(__file__).resolve().parents[1]
LESSONS_DIR = ROOT / "lessons"
COLLAPSED_TAGS = frozenset({"check", "remove-cell", "remove-input"})
KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
LANGUAGE_INFO = {"name": "python", "pygments_lexer": "ipython3"}


def sources(folder: Path = LESSONS_DIR) -> list[Path]:
    """The MyST notebook sources in ``folder``: every ``.md`` with a jupytext header."""
    found = []
    for path in sorted(folder.glob("*.md")):
        head = path.read_text(encoding="utf-8")[:400]
        if head.startswith("---\n") and "jupytext:" in head.split("\n---", 1)[0]:
            found.append(path)
    return found


def build(source: Path) -> nbformat.NotebookNode:
    """The notebook of one MyST Markdown source, with the metadata described above."""
    notebook = jupytext.read(source, fmt="md:myst")
    notebook.metadata = nbformat.NotebookNode(
        kernelspec=dict(KERNELSPEC), language_info=dict(LANGUAGE_INFO)
    )
    for index, cell in enumerate(notebook.cells):
        cell.id = f"cell-{index:02d}"
        if COLLAPSED_TAGS & set(cell.metadata.get("tags", ())):
            cell.metadata.setdefault("jupyter", {})["source_hidden"] = True
    nbformat.validate(notebook)
    return notebook


def notebook_text(source: Path) -> str:
    """The exact text of the ``.ipynb`` built from ``source`` (what is committed)."""
    return nbformat.writes(build(source)) + "\n"


def target(source: Path) -> Path:
    return source.with_suffix(".ipynb")


def stale(folder: Path = LESSONS_DIR) -> list[Path]:
    """Notebooks missing or different from what their source builds."""
    return [
        target(s)
        for s in sources(folder)
        if not target(s).is_file() or target(s).read_text(encoding="utf-8") != notebook_text(s)
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--check", action="store_true", help="only report stale notebooks")
    args = parser.parse_args(argv)
    if args.check:
        out_of_date = stale()
        for path in out_of_date:
            print(f"out of date: {path.relative_to(ROOT)} (run `make lessons`)")
        return 1 if out_of_date else 0
    for source in sources():
        path = target(source)
        text = notebook_text(source)
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
            print("wrote", path.relative_to(ROOT))
    return 0


if __name__ == "__main__":
    sys.exit(main())
