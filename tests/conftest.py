"""Shared test settings: one hypothesis profile, modest and without timing failures.

The machine is small and shared, so property tests run 200 examples each and never
fail on timing (``deadline=None``, no too-slow health check: building an Account while
generating examples is slow only when the machine is busy). Select another profile with
``pytest --hypothesis-profile=<name>``.

``site_build``: the static site, built once per session for the tests that read it.
"""

import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

ROOT = Path(__file__).resolve().parents[1]

settings.register_profile(
    "marginlab", max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "thorough", max_examples=2_000, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile("marginlab")


# ------------------------------------------------------------------------ static site
@dataclass(frozen=True)
class SiteBuild:
    """A build of the static site: ``html`` (the site's folder) and ``executed`` (the
    notebooks as myst-nb executed them, one per lesson)."""

    html: Path
    executed: Path
    seconds: float


@pytest.fixture(scope="session")
def site_build(tmp_path_factory: pytest.TempPathFactory) -> SiteBuild:
    """The course's static site, built once per test session with ``tools/site.py`` (what
    ``make site`` runs) into a temporary folder: every lesson executed, offline."""
    work = tmp_path_factory.mktemp("site")
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "site.py"), "--out", str(work / "html"),
         "--work", str(work)],
        capture_output=True, text=True, cwd=ROOT,
    )  # fmt: skip
    if done.returncode != 0:
        pytest.fail(f"tools/site.py failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    return SiteBuild(work / "html", work / "jupyter_execute", time.perf_counter() - start)
