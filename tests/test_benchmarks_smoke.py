"""The quick benchmarks still run against the current API, at tiny sizes.

Benchmarks print their figures and assert none of them (no timing here either): these
tests only run each script as ``make bench`` would, with options that make it take a
second or so, and check that it finishes and prints its table.
"""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

from marginlab import charts

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
import browser  # noqa: E402 - benchmarks/browser.py: its statistics, no browser needed


def run(script: str, *options: str) -> str:
    """The output of ``benchmarks/<script> options``; fails with its output if it fails."""
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / script), *options],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, f"{script} exited {done.returncode}:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def test_charts_benchmark_runs_every_chart():
    lines = run("charts.py", "--ticks", "3").splitlines()
    assert lines[0].endswith("3 ticks each on make_figure_widget's widget")
    top = next(i for i, line in enumerate(lines) if line.startswith("chart "))
    assert lines[top].split() == [
        "chart", "build", "wrap", "create", "wall", "p50", "wall", "p95", "cpu", "p50", "cpu",
        "p95", "KB/tick", "KB", "max", "goal",
    ]  # fmt: skip
    end = next(i for i, line in enumerate(lines) if line.startswith("charts ("))
    rows = lines[top + 2 : end]  # after the header and its rule
    names = [row[:28].strip() for row in rows]
    assert len(rows) == 13 and len(set(names)) == 13, rows
    assert names[:3] == ["price ladder", "loss bars", "loss curve, 501 prices"]
    for row in rows:  # nine figures, then the goal: ok, or what is over
        figures = [float(value) for value in row[28:].split()[:9]]
        assert all(value >= 0 for value in figures), row
        assert row.endswith("  ok") or "  OVER: > " in row, row
    builders = [name for name in charts.__all__ if name.endswith("_figure")]
    assert len(builders) == 10
    assert lines[end].startswith("charts (10, every builder of marginlab.charts): ")
    assert sorted(lines[end].split(": ", 1)[1].split(", ")) == sorted(builders)
    assert lines[end + 1].startswith("goals: well under 2 ms per update")


def test_liquidation_benchmark_runs_small():
    out = run("liquidation.py", "--scenarios", "1000", "--repeats", "1")
    assert "liquidation_price on 1,000 scenarios" in out
    assert "results identical to the floor" in out


def test_simulate_benchmark_runs_small():
    out = run("simulate.py", "--paths", "50", "--steps", "20", "--repeat", "1")
    assert "one symbol: 50 paths x 20 steps" in out
    assert "two symbols: 50 paths x 20 steps each" in out
    assert "BTC long + ETH short, one cross pool" in out


def test_browser_ratio_interval_brackets_the_p50_ratio_by_chance():
    same = browser.ratio_interval([20.0] * 20, [25.0] * 20)
    assert same == (0.8, 0.8)  # no spread: no chance in the ratio
    ours, base = [float(v) for v in range(10, 30)], [float(v) for v in range(20, 40)]
    low, high = browser.ratio_interval(ours, base)
    assert low < 19.5 / 29.5 < high  # the p50 ratio of the samples themselves
    assert (low, high) == browser.ratio_interval(ours, base)  # seeded
    more_low, more_high = browser.ratio_interval(ours * 10, base * 10)
    assert low < more_low < 19.5 / 29.5 < more_high < high  # more presses, less chance
    assert all(math.isnan(v) for v in browser.ratio_interval([], base))


def test_browser_interval_verdict_against_the_goal():
    assert browser.GOAL_P50_RATIO == 0.8
    assert browser.interval_verdict(0.70, 0.80) == "under"
    assert browser.interval_verdict(0.75, 0.85) == "either"
    assert browser.interval_verdict(0.81, 0.95) == "over"
