"""Write lesson notebooks from plain Python cell lists (a maintainer's helper).

Lessons are ordinary notebooks you may edit in JupyterLab; this helper only makes the
first draft reproducible: ``python tools/nbbuild.py`` rewrites ``lessons/*.ipynb`` from
``tools/lesson_sources.py``. Notebooks are written without outputs or widget state.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]


def notebook(cells: list[tuple[str, str] | tuple[str, str, list[str]]]) -> nbformat.NotebookNode:
    """A notebook from (kind, source[, tags]) tuples; kind is "md" or "code"."""
    nb = nbformat.v4.new_notebook()
    nb.metadata = {
        "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
        "language_info": {"name": "python"},
    }
    for index, cell in enumerate(cells):
        kind, source = cell[0], cell[1].strip("\n")
        tags = list(cell[2]) if len(cell) > 2 else []
        if kind == "md":
            new = nbformat.v4.new_markdown_cell(source)
        else:
            new = nbformat.v4.new_code_cell(source)
        new.id = f"cell-{index:02d}"
        if tags:
            new.metadata["tags"] = tags
        nb.cells.append(new)
    return nb


def main() -> int:
    spec = importlib.util.spec_from_file_location(
        "lesson_sources", ROOT / "tools" / "lesson_sources.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    for name, cells in module.LESSONS.items():
        path = ROOT / "lessons" / f"{name}.ipynb"
        nbformat.write(notebook(cells), path)
        print("wrote", path.relative_to(ROOT))
    return 0


if __name__ == "__main__":
    sys.exit(main())
