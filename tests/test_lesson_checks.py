"""A learner who drags every control of every widget anywhere and re-runs the lesson's
check cells sees no failure: check cells read undisplayed probes, never the widgets a
learner touches.

Each lesson is executed in a fresh kernel; then, three times, every control of every
lesson widget in the kernel (the ones on the page and any probe) is set to a random
allowed value (buttons are pressed at random), and every cell tagged ``check`` runs again.
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

LESSONS = Path(__file__).resolve().parents[1] / "lessons"
NOTEBOOKS = sorted(p for p in LESSONS.glob("*.ipynb") if re.match(r"\d\d-", p.name))
ROUNDS = 3

MOVE_EVERY_CONTROL = '''
import random as _random

import ipywidgets as _w
from ipywidgets.widgets.widget import _instances as _all_widgets

from marginlab.widgets import LessonWidget as _LessonWidget


def _move_every_control(seed):
    """Set every control of every lesson widget to a random allowed value; count them."""
    rng = _random.Random(seed)
    moved = 0
    for widget in [w for w in list(_all_widgets.values()) if isinstance(w, _LessonWidget)]:
        for control in list(widget.controls.values()):
            if isinstance(control, _w.Button):
                if rng.random() < 0.5:
                    control.click()
            elif hasattr(control, "_options_values"):
                if control._options_values:
                    control.value = rng.choice(list(control._options_values))
            elif isinstance(control.value, bool):
                control.value = rng.random() < 0.5
            elif control.has_trait("min") and control.has_trait("max"):
                if isinstance(control.value, int):
                    control.value = rng.randint(control.min, control.max)
                else:
                    control.value = rng.uniform(control.min, control.max)
            else:
                continue
            moved += 1
    return moved
'''


@pytest.mark.slow
@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[n.stem for n in NOTEBOOKS])
def test_lesson_check_cells_pass_after_every_control_moves_at_random(notebook: Path) -> None:
    nb = nbformat.read(notebook, as_version=4)
    checks = [c for c in nb.cells if "check" in c.metadata.get("tags", ())]
    assert checks, f"{notebook.name} has no check cell"
    run = nbformat.v4.new_notebook(metadata=nb.metadata)
    run.cells = [*nb.cells, nbformat.v4.new_code_cell(MOVE_EVERY_CONTROL)]
    for round_ in range(ROUNDS):
        seed = f"{notebook.stem}-{round_}"
        run.cells.append(
            nbformat.v4.new_code_cell(f"_moved = _move_every_control({seed!r})\n_moved")
        )
        run.cells += [nbformat.v4.new_code_cell(c.source) for c in checks]
    client = NotebookClient(
        run, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(LESSONS)}}
    )
    client.execute()  # raises CellExecutionError, naming the cell, on any failure
    moved = [
        int(c.outputs[0]["data"]["text/plain"])
        for c in run.cells
        if c.source.startswith("_moved =")
    ]
    assert len(moved) == ROUNDS and all(m > 0 for m in moved), moved
