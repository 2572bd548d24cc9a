"""Frontend edits are applied on the kernel's main shell, between cells, whatever subshell a
frontend addresses or the model last spoke from (ipykernel 7 runs subshells in threads)."""

from __future__ import annotations

import time
from typing import Any

from kernel_client import KernelFrontend

MODEL = """
import threading, time
import syncstate
from traitlets import Int

class Counter(syncstate.Model):
    count = Int(0).tag(sync=True)

counter = Counter()
threads = []
counter.observe(lambda change: threads.append(threading.current_thread().name), "count")
"""
SAMPLE = """
samples = []
for _ in range(30):
    samples.append(counter.count)
    time.sleep(0.05)
"""


def create_subshell(kernel: KernelFrontend) -> str:
    msg = kernel.kc.session.msg("create_subshell_request", {})
    kernel.kc.control_channel.send(msg)
    reply = kernel.kc.get_control_msg(timeout=30)
    subshell_id: str = reply["content"]["subshell_id"]
    return subshell_id


def send(kernel: KernelFrontend, msg_type: str, content: Any, subshell_id: str | None) -> str:
    msg = kernel.kc.session.msg(msg_type, content)
    if subshell_id is not None:
        msg["header"]["subshell_id"] = subshell_id
    kernel.kc.shell_channel.send(msg)
    msg_id: str = msg["header"]["msg_id"]
    return msg_id


def wait_idle(kernel: KernelFrontend, *msg_ids: str) -> list[dict[str, Any]]:
    """The iopub messages until each of `msg_ids` has gone idle."""
    waiting, seen = set(msg_ids), []
    deadline = time.monotonic() + 60
    while waiting and time.monotonic() < deadline:
        msg = kernel.kc.get_iopub_msg(timeout=60)
        seen.append(msg)
        if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
            waiting.discard(msg["parent_header"].get("msg_id"))
    assert not waiting, "the kernel did not answer"
    return seen


def edit_during_a_cell(kernel: KernelFrontend, edit_subshell: str | None) -> None:
    """Starts a cell that samples `counter.count`, and sends an edit while it runs."""
    comm_id, version = kernel.output("print(counter.model_id, counter.version)").split()
    cell = send(kernel, "execute_request", {"code": SAMPLE, "silent": False}, None)
    time.sleep(0.5)  # the cell is sampling now
    edit = {"method": "patch", "id": "c:1", "base": int(version), "ops": [
        {"op": "replace", "path": "/count", "value": 7}]}  # fmt: skip
    sent = send(kernel, "comm_msg", {"comm_id": comm_id, "data": edit}, edit_subshell)
    wait_idle(kernel, cell, sent)


def test_an_edit_addressed_to_a_subshell_waits_for_the_running_cell(
    kernel: KernelFrontend,
) -> None:
    kernel.execute(MODEL)
    subshell = create_subshell(kernel)
    edit_during_a_cell(kernel, subshell)
    assert kernel.output("print(set(samples), counter.count, threads)").strip() == (
        "{0} 7 ['MainThread']"
    )


def test_a_model_changed_from_a_subshell_still_takes_edits_on_the_main_shell(
    kernel: KernelFrontend,
) -> None:
    kernel.execute(MODEL)
    subshell = create_subshell(kernel)
    # Code run on a subshell (a console, say) changes the model: its patch leaves from there.
    wait_idle(kernel, send(kernel, "execute_request", {"code": "counter.count = 5"}, subshell))
    edit_during_a_cell(kernel, None)
    assert kernel.output("print(set(samples), counter.count, threads[-1])").strip() == (
        "{5} 7 MainThread"
    )
