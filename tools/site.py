"""Build the course as a static site: ``make site`` -> ``_build/html/``.

Every lesson notebook is executed (offline: the lessons need no network) and rendered by
Sphinx + myst-nb with the configuration in ``site/conf.py``: ``index.html``, then one page
per lesson named after its notebook (``03-liquidation-threshold.html``), the glossary and
the instructor guide. The pages load nothing from outside the site's folder: plotly.js
comes from the installed plotly package (the version the lessons' figures are built
for), MathJax from npm (``site/package.json``, locked; ``npm ci`` into the work folder).

Steps: check the notebooks match their sources (``make lessons``), stage a source folder
(the notebooks, ``site/index.md``, ``lessons/INSTRUCTOR.md``, ``_vendor/``), run Sphinx
with warnings as errors. Usage: ``python tools/site.py [--out DIR] [--work DIR]``.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SITE = ROOT / "site"  # Sphinx configuration, home page, CSS, npm manifest
LESSONS = ROOT / "lessons"
BUILD = ROOT / "_build"
VENDOR = "_vendor"  # site/conf.py serves this staged folder as _static/
# The parts of MathJax's es5 build that tex-chtml.js loads: itself, its fonts, the TeX
# extensions it autoloads, and the menu's accessibility components.
MATHJAX_PARTS = ("tex-chtml.js", "output/chtml", "input/tex", "ui", "a11y", "sre")
# Extra (non-notebook) pages from lessons/.
EXTRA_PAGES = ("INSTRUCTOR.md",)


def _load_lessons_tool():
    spec = importlib.util.spec_from_file_location("lessons_tool", ROOT / "tools" / "lessons.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def plotly_js() -> Path:
    """plotly.js as the installed plotly package ships it (``plotly.min.js``)."""
    spec = importlib.util.find_spec("plotly")
    if spec is None or spec.origin is None:
        raise ModuleNotFoundError("plotly is not installed: run `make install`")
    return Path(spec.origin).parent / "package_data" / "plotly.min.js"


def mathjax(work: Path) -> Path:
    """MathJax's es5 folder, installed by ``npm ci`` from site/package-lock.json into
    ``work/npm`` (kept between builds; reinstalled when the lock file changes)."""
    npm = shutil.which("npm")
    if npm is None:
        raise FileNotFoundError("npm is needed to vendor MathJax: install Node.js (npm)")
    folder = work / "npm"
    folder.mkdir(parents=True, exist_ok=True)
    lock = (SITE / "package-lock.json").read_text(encoding="utf-8")
    copied_lock = folder / "package-lock.json"
    installed = folder / "node_modules" / ".package-lock.json"  # written by npm ci
    es5 = folder / "node_modules" / "mathjax" / "es5"
    if installed.is_file() and copied_lock.is_file() and copied_lock.read_text("utf-8") == lock:
        return es5
    for name in ("package.json", "package-lock.json"):
        shutil.copyfile(SITE / name, folder / name)
    subprocess.run(
        [npm, "ci", "--no-audit", "--no-fund", "--ignore-scripts", "--loglevel=error"],
        cwd=folder,
        check=True,
    )
    if not (es5 / "tex-chtml.js").is_file():
        version = json.loads(lock)["packages"]["node_modules/mathjax"]["version"]
        raise FileNotFoundError(f"npm ci installed no mathjax {version} in {folder}")
    return es5


def stage(source: Path, work: Path) -> list[Path]:
    """Fill ``source`` (emptied first) with what Sphinx builds; returns the notebooks."""
    stale = _load_lessons_tool().stale(LESSONS)
    if stale:
        names = ", ".join(p.name for p in stale)
        raise RuntimeError(f"notebooks differ from their sources: {names} (run `make lessons`)")
    if source.exists():
        shutil.rmtree(source)
    source.mkdir(parents=True)
    notebooks = sorted(LESSONS.glob("*.ipynb"))
    if not notebooks:
        raise FileNotFoundError(f"no lesson notebooks in {LESSONS}")
    for path in [*notebooks, *(LESSONS / name for name in EXTRA_PAGES)]:
        shutil.copyfile(path, source / path.name)
    shutil.copyfile(SITE / "index.md", source / "index.md")
    vendor = source / VENDOR
    vendor.mkdir()
    shutil.copyfile(plotly_js(), vendor / "plotly.min.js")
    es5 = mathjax(work)
    for part in MATHJAX_PARTS:
        origin, target = es5 / part, vendor / "mathjax" / part
        if origin.is_dir():
            shutil.copytree(origin, target)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(origin, target)
    return notebooks


def _clear_output(out: Path) -> None:
    """Empty ``out`` when it is a previous Sphinx build (has .buildinfo) or empty; refuse
    any other folder, which this must never delete."""
    if not out.exists():
        return
    if not out.is_dir() or not ((out / ".buildinfo").is_file() or not any(out.iterdir())):
        raise FileExistsError(f"out must be a previous site build or a new folder, got {out}")
    shutil.rmtree(out)


def build(out: Path = BUILD / "html", work: Path = BUILD, jobs: str = "auto") -> float:
    """Build the site into ``out`` (staging and caches under ``work``); returns seconds."""
    start = time.perf_counter()
    source = work / "site-src"
    stage(source, work)
    _clear_output(out)
    command = [
        sys.executable, "-m", "sphinx",
        "-b", "html",
        "-c", str(SITE),
        "-d", str(work / "doctrees"),
        "-E",  # a fresh environment: every lesson executes again
        "-W", "--keep-going",  # any warning (a broken link, a failed output) fails the build
        "-j", jobs,
        "-q",
        str(source), str(out),
    ]  # fmt: skip
    subprocess.run(command, check=True)
    return time.perf_counter() - start


def folder_size(folder: Path) -> int:
    """Bytes of every file under ``folder``."""
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--out", type=Path, default=BUILD / "html", help="the site's folder")
    parser.add_argument("--work", type=Path, default=BUILD, help="staging and caches")
    parser.add_argument("--jobs", default="auto", help="Sphinx processes (default: auto)")
    args = parser.parse_args(argv)
    out = args.out.resolve()
    try:
        seconds = build(out, args.work.resolve(), args.jobs)
    except (OSError, RuntimeError) as error:
        print(f"site: error: {error}", file=sys.stderr)
        return 1
    except subprocess.CalledProcessError as error:
        print(f"site: error: {error.cmd[2]} exited with code {error.returncode}", file=sys.stderr)
        return 1
    pages = len(list(out.glob("*.html")))
    size = folder_size(out) / 2**20
    print(f"site: {pages} pages in {out} ({size:.1f} MiB), built in {seconds:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
