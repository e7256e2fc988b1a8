"""binder/requirements.txt is the one source of truth for pinned versions.

`make test` installs the same pins, so the environment under test must match them,
and every runtime dependency declared in pyproject.toml must be pinned there.
"""

import re
import tomllib
from importlib.metadata import version
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _pins(path: Path) -> dict[str, str]:
    pins = {}
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line and not line.startswith("-"):
            name, _, pinned = line.partition("==")
            pins[name.strip().lower()] = pinned.strip()
    return pins


BINDER = _pins(ROOT / "binder" / "requirements.txt")
TEST_TOOLS = _pins(ROOT / "requirements-test.txt")


def _names(requirements: list[str]) -> set[str]:
    return {re.split(r"[<>=!~\[; ]", r, maxsplit=1)[0].lower() for r in requirements}


def test_pins_every_requirement_is_exact():
    assert all(BINDER.values()) and all(TEST_TOOLS.values())


def test_pins_binder_covers_runtime_and_lab_dependencies():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = _names(project["dependencies"]) | _names(project["optional-dependencies"]["lab"])
    assert wanted <= set(BINDER), f"not pinned in binder/requirements.txt: {wanted - set(BINDER)}"


def test_pins_test_tools_cover_test_and_site_extras():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extras = project["optional-dependencies"]
    wanted = _names(extras["test"]) | _names(extras["site"])
    missing = wanted - set(TEST_TOOLS)
    assert not missing, f"not pinned in requirements-test.txt: {missing}"


@pytest.mark.parametrize("name", sorted({**BINDER, **TEST_TOOLS}))
def test_pins_installed_version_matches(name):
    assert version(name) == {**BINDER, **TEST_TOOLS}[name]


def test_pins_binder_runtime_is_python_311_or_newer():
    runtime = (ROOT / "binder" / "runtime.txt").read_text().strip()
    major, minor = map(int, runtime.removeprefix("python-").split(".")[:2])
    assert (major, minor) >= (3, 11)


def test_pins_binder_installs_the_package_itself():
    assert "pip install --no-deps -e ." in (ROOT / "binder" / "postBuild").read_text()
