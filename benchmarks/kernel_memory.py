"""Memory of one lesson's kernel: what each learner costs a workshop server.

Run: .venv/bin/python benchmarks/kernel_memory.py [NOTEBOOK ...]

With no NOTEBOOK: every lessons/*.ipynb. Each notebook runs top to bottom in a fresh
kernel (as Voila runs it for a page); then printed per lesson: the kernel's resident
memory (RSS) and unique memory (USS: what this kernel alone adds, shared libraries
counted once for all kernels), its CPU seconds to start and run the lesson, and which
heavy libraries it loaded. Memory is not timing: it does not depend on a busy machine.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MIB = 2**20
HEAVY = ("pandas", "plotly.graph_objects", "ipywidgets", "anywidget", "numpy")
_PROBE = "import sys as _s; print(','.join(m for m in {heavy!r} if m in _s.modules))"


def measure(notebook: Path) -> dict[str, object]:
    """Run ``notebook`` in a fresh kernel; its memory, CPU time and heavy modules."""
    import nbformat
    import psutil
    from jupyter_client.manager import KernelManager
    from nbclient import NotebookClient

    nb = nbformat.read(notebook, as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell(_PROBE.format(heavy=HEAVY)))
    manager = KernelManager(kernel_name="python3")
    manager.start_kernel(cwd=str(notebook.parent))
    try:
        client = NotebookClient(nb, km=manager, timeout=300, allow_errors=False)
        with client.setup_kernel():
            client.execute()
            kernel = psutil.Process(manager.provisioner.process.pid)
            memory = kernel.memory_full_info()
            cpu = kernel.cpu_times()
    finally:
        manager.shutdown_kernel(now=True)
    loaded = nb.cells[-1].outputs[0]["text"].strip()
    return {
        "rss": memory.rss / MIB,
        "uss": memory.uss / MIB,
        "cpu": cpu.user + cpu.system,
        "loaded": loaded.split(",") if loaded else [],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path, metavar="NOTEBOOK")
    args = parser.parse_args(argv)
    notebooks = args.notebooks or sorted((ROOT / "lessons").glob("*.ipynb"))
    print(f"{'lesson':<28} {'RSS MiB':>8} {'USS MiB':>8} {'CPU s':>6}  pandas loaded")
    rows = []
    for notebook in notebooks:
        row = measure(notebook.resolve())
        rows.append(row)
        print(
            f"{notebook.stem:<28} {row['rss']:>8.0f} {row['uss']:>8.0f} {row['cpu']:>6.2f}  "
            f"{'yes' if 'pandas' in row['loaded'] else 'no'}",
            flush=True,
        )
    if rows:
        print(
            f"{'median':<28} {statistics.median(r['rss'] for r in rows):>8.0f} "
            f"{statistics.median(r['uss'] for r in rows):>8.0f} "
            f"{statistics.median(r['cpu'] for r in rows):>6.2f}"
        )
    print("RSS: resident; USS: this kernel's own pages (what one more learner adds).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
