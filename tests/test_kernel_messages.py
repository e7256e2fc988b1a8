"""In a real kernel, a chart's update leaves while the tick goes on computing.

ipykernel sends every message from its IO thread, which needs the GIL: a chart update
written mid-tick (``LessonWidget._send_chart``) used to wait in that thread's queue until
the tick ended. Here the rest of a scenario switch (the path chart) is made to hold the
GIL for a while, with Python's switch interval raised so that nothing else could take it
from the kernel's main thread: the outcomes chart's update must still reach the client
before that computation ends, which only ``send_messages_now`` makes possible.
"""

from __future__ import annotations

import datetime
import json

import pytest

jupyter_client = pytest.importorskip("jupyter_client")

pytestmark = pytest.mark.slow

SPIN_S = 0.5  # how long the path chart's computation holds the GIL

SETUP = f"""
import datetime, sys, time
sys.setswitchinterval(60.0)  # no forced switch: the IO thread runs only when let
from marginlab.widgets import scenarios
from marginlab.widgets.catalog import catalog

widget = catalog()["when_to_use"]()
spins = []
real_update = scenarios.update_equity_path


def update_equity_path(*args, **kwargs):
    # Pure Python, holding the GIL throughout.
    start = datetime.datetime.now(datetime.timezone.utc)
    end = time.perf_counter() + {SPIN_S}
    while time.perf_counter() < end:
        pass
    spins.append((start.isoformat(), datetime.datetime.now(datetime.timezone.utc).isoformat()))
    return real_update(*args, **kwargs)


scenarios.update_equity_path = update_equity_path
print(widget.controls["scenario"].model_id, widget.figures[1].model_id)
"""


def run(client, code: str) -> str:
    """Execute ``code``; its printed output once the kernel is idle again."""
    msg_id = client.execute(code)
    out = []
    while True:
        msg = client.get_iopub_msg(timeout=120)
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        if msg["msg_type"] == "stream":
            out.append(msg["content"]["text"])
        elif msg["msg_type"] == "error":
            raise AssertionError("\n".join(msg["content"]["traceback"]))
        elif msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
            return "".join(out)


@pytest.fixture
def kernel():
    from jupyter_client.manager import start_new_kernel

    manager, client = start_new_kernel(kernel_name="python3")
    try:
        yield client
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)


def test_a_chart_update_reaches_the_page_while_the_tick_goes_on(kernel):
    control_id, outcomes_id = run(kernel, SETUP).split()
    # What the page sends when a learner picks the next scenario.
    update = {"method": "update", "state": {"index": 1}, "buffer_paths": []}
    message = kernel.session.msg("comm_msg", {"comm_id": control_id, "data": update})
    kernel.shell_channel.send(message)
    received = None
    while True:
        msg = kernel.get_iopub_msg(timeout=120)
        if msg["parent_header"].get("msg_id") != message["header"]["msg_id"]:
            continue
        content = msg["content"]
        if received is None and content.get("comm_id") == outcomes_id:
            assert content["data"]["content"]["type"] == "marginlab:figure-update"
            received = datetime.datetime.now(datetime.UTC)
        if msg["msg_type"] == "status" and content["execution_state"] == "idle":
            break
    spins = json.loads(run(kernel, "import json; print(json.dumps(spins))"))
    assert received is not None and spins, "the switch sent no outcomes update"
    first_start, first_end = (datetime.datetime.fromisoformat(t) for t in spins[0])
    # Sent before the path chart was computed: here before that computation ended (the
    # kernel could not have sent it during that computation without letting go the GIL).
    assert received < first_end, (received, first_start, first_end)
