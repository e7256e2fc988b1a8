"""The built wheel carries the course: installed in a fresh virtual environment, with no
source checkout in sight, ``marginlab lessons copy``, ``lab`` and ``present`` find the
lessons as package data, and Voila's template and settings land where Jupyter looks.

Offline: the wheel is built without build isolation (hatchling is a pinned test tool)
and installed with ``--no-index --no-deps`` into a fresh venv whose only link to the
test environment is a ``.pth`` line adding its site-packages, for the dependencies.
Everything runs from a folder outside the repository, without PYTHONPATH.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import sysconfig
import venv
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LESSONS = ROOT / "lessons"
NOTEBOOKS = sorted(p.name for p in LESSONS.glob("*.ipynb"))

pytestmark = pytest.mark.slow


@dataclass(frozen=True)
class Installed:
    wheel: Path
    prefix: Path  # the fresh venv
    python: Path
    site_packages: Path
    cwd: Path  # a folder outside the repository
    env: dict[str, str]

    def run(self, *argv: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            list(argv), cwd=self.cwd, env=self.env, capture_output=True, text=True, timeout=300
        )

    def marginlab(self, *argv: str) -> subprocess.CompletedProcess[str]:
        return self.run(str(self.prefix / "bin" / "marginlab"), *argv)


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    work = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
         "--no-index", "--quiet", "--wheel-dir", str(work / "dist"), str(ROOT)],
        check=True, capture_output=True,
    )  # fmt: skip
    (wheel,) = (work / "dist").glob("marginlab-*.whl")
    prefix = work / "venv"
    venv.EnvBuilder(with_pip=True).create(prefix)
    python = prefix / "bin" / "python"
    site_packages = Path(
        subprocess.check_output(
            [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            text=True,
        ).strip()
    )
    deps = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    (site_packages / "marginlab-test-dependencies.pth").write_text("\n".join(sorted(deps)) + "\n")
    subprocess.run(
        [python, "-m", "pip", "install", "--no-index", "--no-deps", "--quiet", str(wheel)],
        check=True, capture_output=True,
    )  # fmt: skip
    cwd = work / "elsewhere"
    cwd.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "MARGINLAB_LESSONS")}
    env["HOME"] = str(work / "home")  # no user config; the cache for serving goes here
    return Installed(wheel, prefix, python, site_packages, cwd, env)


def test_wheel_holds_the_notebooks_not_their_sources(installed):
    names = zipfile.ZipFile(installed.wheel).namelist()
    lessons = sorted(n.removeprefix("marginlab/lessons/") for n in names
                     if n.startswith("marginlab/lessons/"))  # fmt: skip
    assert lessons == sorted([*NOTEBOOKS, "INSTRUCTOR.md"])
    for name in NOTEBOOKS:
        data = zipfile.ZipFile(installed.wheel).read(f"marginlab/lessons/{name}")
        assert data == (LESSONS / name).read_bytes()


def test_wheel_installs_voila_template_and_settings_where_jupyter_looks(installed):
    data = installed.prefix / "share" / "jupyter" / "voila" / "templates"
    for template in ("marginlab", "marginlab-projector"):
        source = ROOT / "marginlab" / "serve_assets" / "voila" / "templates" / template
        for path in source.rglob("*"):
            if path.is_file():
                installed_copy = data / template / path.relative_to(source)
                assert installed_copy.read_bytes() == path.read_bytes()
    settings = json.loads((installed.prefix / "etc" / "jupyter" / "voila.json").read_text())
    assert settings["VoilaConfiguration"]["template"] == "marginlab"
    found = installed.run(
        str(installed.python), "-c",
        "from jupyter_core.paths import jupyter_config_path, jupyter_path; "
        "print(jupyter_path('voila', 'templates')); print(jupyter_config_path())",
    )  # fmt: skip
    assert found.returncode == 0, found.stderr
    assert str(data) in found.stdout and str(installed.prefix / "etc" / "jupyter") in found.stdout


def test_wheel_finds_the_course_as_package_data(installed):
    done = installed.run(
        str(installed.python), "-c",
        "import marginlab, marginlab.course as c; "
        "print(marginlab.__file__); print(c.lessons_dir())",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    module, lessons = map(Path, done.stdout.split())
    assert installed.site_packages in module.parents and ROOT not in module.parents
    assert lessons == installed.site_packages / "marginlab" / "lessons"


def test_wheel_lessons_copy_gives_the_learner_every_notebook(installed):
    target = installed.cwd / "my-course"
    done = installed.marginlab("lessons", "copy", str(target))
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in target.iterdir()) == sorted([*NOTEBOOKS, "INSTRUCTOR.md"])
    for name in NOTEBOOKS:
        digest = hashlib.sha256((target / name).read_bytes()).hexdigest()
        assert digest == hashlib.sha256((LESSONS / name).read_bytes()).hexdigest(), name


def test_wheel_lab_and_present_serve_the_packaged_course(installed):
    lab = installed.marginlab("lab", "--dry-run", "--dir", "course", "--no-browser")
    assert lab.returncode == 0, lab.stderr
    assert f"would copy the lessons into {installed.cwd / 'course'}" in lab.stdout
    present = installed.marginlab("present", "03", "--dry-run", "--no-browser")
    assert present.returncode == 0, present.stderr
    lesson = installed.site_packages / "marginlab" / "lessons" / "03-liquidation-threshold.ipynb"
    assert str(lesson) in present.stdout
