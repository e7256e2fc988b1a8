"""What a learner costs on a JupyterHub: the memory behind the sizing table of deploy/.

Run: .venv/bin/python benchmarks/hub.py [--users 3]

Starts the same local JupyterHub as tests/test_hub.py (dummy authenticator, simple
local-process spawner, configurable-http-proxy; ``make install`` puts the proxy in
.venv), logs ``--users`` users in over HTTP, has each follow the ``marginlab hub-link``
link (their own clone of the course, JupyterLab at lesson 00) and start a kernel that
runs lesson 00 as a learner's first cell run does. Printed: the hub and the proxy's
memory, and per user the single-user server's and the kernel's (RSS and USS, MiB).
A learner with one lesson open costs about server + kernel; each further open lesson
adds a kernel (benchmarks/kernel_memory.py gives every lesson's).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "tests" / "browser"))
import test_hub  # noqa: E402 - the hub's configuration and an HTTP user, shared with the test

MIB = 2**20


def memory(processes) -> tuple[float, float]:
    import psutil

    rss = uss = 0
    for proc in processes:
        try:
            info = proc.memory_full_info()
        except psutil.Error:
            continue
        rss, uss = rss + info.rss, uss + info.uss
    return rss / MIB, uss / MIB


def run_lesson_in_a_kernel(user: test_hub.HubUser, lesson: str) -> None:
    """Start a kernel for ``lesson`` in the user's server and run the lesson's code in it
    (through the server's REST and websocket API, as JupyterLab does)."""
    import websocket  # websocket-client, installed with jupyter_server

    body = json.dumps({"path": lesson, "type": "notebook", "kernel": {"name": "python3"}})
    xsrf = user.xsrf(f"/user/{user.name}/")
    status, _, reply = user.request(
        f"/user/{user.name}/api/sessions", body.encode(), "POST",
        Content_Type="application/json", X_XSRFToken=xsrf,
    )  # fmt: skip
    assert status == 201, reply
    kernel = json.loads(reply)["kernel"]["id"]
    _, _, model = user.request(f"/user/{user.name}/api/contents/{lesson}")
    cells = json.loads(model)["content"]["cells"]
    code = "\n".join(c["source"] for c in cells if c["cell_type"] == "code")
    cookies = "; ".join(f"{c.name}={c.value}" for c in user.cookies)
    url = user.hub.replace("http", "ws", 1) + f"/user/{user.name}/api/kernels/{kernel}/channels"
    socket = websocket.create_connection(url, cookie=cookies, timeout=300)
    msg_id = f"bench-{time.monotonic_ns()}"
    header = {
        "msg_id": msg_id,
        "msg_type": "execute_request",
        "session": "bench",
        "username": user.name,
        "version": "5.3",
    }
    content = {"code": code, "silent": False}
    message = {"header": header, "parent_header": {}, "metadata": {}, "content": content}
    socket.send(json.dumps({**message, "channel": "shell"}))
    while True:
        raw = socket.recv()
        if isinstance(raw, bytes):  # a message with binary buffers (widget data): not ours
            continue
        message = json.loads(raw)
        if message["msg_type"] == "execute_reply" and message["parent_header"]["msg_id"] == msg_id:
            assert message["content"]["status"] == "ok", message["content"]
            break
    socket.close()


def main(argv: list[str] | None = None) -> int:
    import psutil

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=3, help="hub users (default: 3)")
    args = parser.parse_args(argv)
    proxy = test_hub.proxy_path()
    if proxy is None:
        print(f"benchmarks/hub.py skipped: {test_hub.PROXY} not found (make install, with npm)")
        return 0
    with tempfile.TemporaryDirectory() as scratch:
        tmp = Path(scratch)
        clone = tmp / "marginlab-course"
        subprocess.run(["git", "clone", "--quiet", str(ROOT), str(clone)], check=True)
        with test_hub.running_hub(tmp, proxy) as (url, _homes):
            hub_pid = next(
                p for p in psutil.process_iter(["cmdline"])
                if "jupyterhub_config.py" in " ".join(p.info["cmdline"] or [])
                and str(tmp) in " ".join(p.info["cmdline"] or [])
            ).pid  # fmt: skip
            link = test_hub.nbgitpuller_link(
                url, str(clone), test_hub.first_lesson_path(ROOT / "lessons")
            )
            lesson = "marginlab-course/lessons/00-start-here.ipynb"
            users = [test_hub.HubUser(url, f"learner{i}") for i in range(1, args.users + 1)]
            for user in users:
                user.log_in()
                user.start_server()
                assert user.follow(link)["phase"] == "finished"
                run_lesson_in_a_kernel(user, lesson)
            time.sleep(2)
            hub_process = psutil.Process(hub_pid)
            children = hub_process.children(recursive=True)
            proxy_procs = [
                p for p in children if "configurable-http-proxy" in " ".join(p.cmdline())
            ]
            servers = [p for p in children if "jupyterhub-singleuser" in " ".join(p.cmdline())]
            kernels = [p for p in children if "ipykernel_launcher" in " ".join(p.cmdline())]
            hub_mem, proxy_mem = memory([hub_process]), memory(proxy_procs)
            server_mem = [memory([p]) for p in servers]
            kernel_mem = [memory([p]) for p in kernels]
    print(f"hub: {hub_mem[0]:.0f} MiB RSS / {hub_mem[1]:.0f} MiB USS; "
          f"proxy: {proxy_mem[0]:.0f} / {proxy_mem[1]:.0f}")  # fmt: skip
    for name, rows in (("single-user server", server_mem), ("lesson 00 kernel", kernel_mem)):
        print(
            f"{name}: median {statistics.median(r[0] for r in rows):.0f} MiB RSS / "
            f"{statistics.median(r[1] for r in rows):.0f} MiB USS ({len(rows)} measured)"
        )
    per_user = statistics.median(r[1] for r in server_mem) + statistics.median(
        r[1] for r in kernel_mem
    )
    print(f"one learner, one lesson open: about {per_user:.0f} MiB USS (server + kernel)")
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    raise SystemExit(main())
