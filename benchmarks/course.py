"""Run every lesson top to bottom in a fresh kernel; print its time and peak memory.

Goals (issue 5): the whole course in <= 60 s on a 2-core machine; each lesson's kernel
under 250 MB resident (this sizes a Binder or JupyterHub deployment for a class).

    .venv/bin/python benchmarks/course.py
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import nbformat
import psutil
from nbclient import NotebookClient

LESSONS = Path(__file__).resolve().parents[1] / "lessons"
GOAL_TOTAL_S = 60.0
GOAL_RSS_MB = 250.0


def run(path: Path) -> tuple[float, float]:
    """Seconds to execute ``path`` in a fresh kernel, and the kernel's peak RSS in MB."""
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(LESSONS)}}
    )
    peak = 0.0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            km = client.km
            pid = getattr(getattr(km, "provisioner", None), "pid", None) if km else None
            if pid:
                try:
                    peak = max(peak, psutil.Process(pid).memory_info().rss / 2**20)
                except psutil.Error:
                    pass
            done.wait(0.05)

    watcher = threading.Thread(target=sample, daemon=True)
    start = time.perf_counter()
    watcher.start()
    try:
        client.execute()
    finally:
        done.set()
        watcher.join()
    return time.perf_counter() - start, peak


def main() -> None:
    rows = []
    for path in sorted(LESSONS.glob("*.ipynb")):
        seconds, rss = run(path)
        rows.append((path.name, seconds, rss))
        print(f"{path.name:<36} {seconds:6.2f} s   peak kernel RSS {rss:6.1f} MB", flush=True)
    total = sum(r[1] for r in rows)
    worst = max((r[2] for r in rows), default=0.0)
    print(f"{'whole course':<36} {total:6.2f} s   (goal <= {GOAL_TOTAL_S:.0f} s)")
    print(f"{'largest kernel':<36} {worst:6.1f} MB  (goal < {GOAL_RSS_MB:.0f} MB)")


if __name__ == "__main__":
    main()
