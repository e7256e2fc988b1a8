"""The layers import one way: engine <- charts <- widgets (DESIGN.md, STYLE.md §1-2).

Each check runs in a fresh interpreter, since this test process may already hold plotly
or ipywidgets loaded by other tests.
"""

import json
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

import marginlab
import marginlab.engine

ROOT = Path(marginlab.__file__).resolve().parent.parent
UI_MODULES = ("plotly", "ipywidgets", "IPython")


def loaded_after(statement: str) -> set[str]:
    """Top-level module names a fresh interpreter holds after running ``statement``."""
    code = f"import json, sys\n{statement}\nprint(json.dumps(sorted(sys.modules)))"
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    return {name.split(".")[0] for name in json.loads(result.stdout.splitlines()[-1])}


@pytest.mark.parametrize(
    "statement",
    [
        pytest.param("import marginlab.engine", id="engine"),
        pytest.param("import marginlab", id="package-root"),
        pytest.param("import marginlab.scenarios", id="scenarios"),
    ],
)
def test_engine_import_loads_no_ui_modules(statement):
    loaded = loaded_after(statement)
    assert "numpy" in loaded  # the check sees real imports
    assert loaded.isdisjoint(UI_MODULES), sorted(loaded & set(UI_MODULES))


def test_charts_import_loads_no_ipywidgets():
    charts_dir = ROOT / "marginlab" / "charts"
    if not (charts_dir / "__init__.py").exists():
        pytest.skip("marginlab.charts has no package yet")
    names = [
        f"marginlab.charts.{module.name}"
        for module in pkgutil.iter_modules([str(charts_dir)])
        if not module.ispkg
    ]
    statement = "\n".join(["import marginlab.charts", *(f"import {name}" for name in names)])
    loaded = loaded_after(statement)
    assert "plotly" in loaded  # the check sees real imports
    assert "ipywidgets" not in loaded


def test_package_root_exports_engine_names_and_version():
    assert set(marginlab.engine.__all__) <= set(marginlab.__all__)
    assert "__version__" in marginlab.__all__
    assert isinstance(marginlab.__version__, str) and marginlab.__version__
    for name in marginlab.engine.__all__:
        assert getattr(marginlab, name) is getattr(marginlab.engine, name)


def test_engine_all_lists_only_existing_public_names():
    for name in marginlab.engine.__all__:
        assert not name.startswith("_")
        assert hasattr(marginlab.engine, name), name
    assert {"Account", "liquidation_price", "load_tiers", "ModeSwitchError"} <= set(
        marginlab.engine.__all__
    )


def test_lesson_setup_imports_load_no_pandas():
    """A lesson kernel's setup (package, scenarios, widgets, self-checks) leaves pandas
    unloaded: it is imported where a table is built, ~30 MiB per kernel saved in a room."""
    loaded = loaded_after(
        "import marginlab, marginlab.scenarios\n"
        "from marginlab.widgets import catalog, prose, self_check, show"
    )
    assert "ipywidgets" in loaded  # the check sees real imports
    assert "pandas" not in loaded
