"""A Python stand-in for a Jupyter frontend: one real ipykernel, driven by jupyter_client.

It runs code in the kernel, sends comm messages to it as a page would, and stamps every
iopub message with the client's clock when it arrives, so that a benchmark can tell how
long the kernel took to get its last message to the client.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from typing import Any

import zmq
from jupyter_client.blocking.client import BlockingKernelClient
from jupyter_client.manager import KernelManager

Message = dict[str, Any]


@dataclass
class Received:
    """An iopub message and the client's `time.perf_counter()` when it arrived."""

    msg: Message
    at: float


class KernelError(RuntimeError):
    """Code run in the kernel raised."""


class Kernel:
    """A fresh ipykernel running this interpreter; `close()` shuts it down."""

    def __init__(self, path: list[str] | None = None, startup_timeout: float = 60) -> None:
        """`path`: directories put first on the kernel's import path (its PYTHONPATH)."""
        env = dict(os.environ)
        if path:
            env["PYTHONPATH"] = os.pathsep.join([*path, *filter(None, [env.get("PYTHONPATH")])])
        # A burst of thousands of messages (2,000 small updates in a loop) must all arrive: the
        # client's sockets queue without bound, where ZeroMQ's default (1,000 messages) drops
        # what a kernel sends faster than this Python client reads (the bare comm's did).
        context = zmq.Context()
        context.setsockopt(zmq.RCVHWM, 0)
        self.km = KernelManager(kernel_name="python3", context=context)
        # The kernel's own stderr only says that it runs over TCP; errors come back in replies.
        self.km.start_kernel(env=env, stderr=subprocess.DEVNULL)
        self.kc: BlockingKernelClient = self.km.client(context=context)
        self.kc.start_channels()
        self.kc.wait_for_ready(timeout=startup_timeout)
        where = self.output("import sys; print(sys.executable)").strip()
        if where != sys.executable:
            print(f"warning: the kernel runs {where}, not {sys.executable}", file=sys.stderr)

    def close(self) -> None:
        self.kc.stop_channels()
        self.km.shutdown_kernel(now=True)

    def __enter__(self) -> Kernel:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def execute(self, code: str, timeout: float = 600) -> list[Received]:
        """Run code; return the iopub messages seen until the kernel went idle after it."""
        msg_id = self.kc.execute(code)
        seen = self.until_idle(msg_id, timeout)
        reply = self.kc.get_shell_msg(timeout=timeout)
        content = reply["content"]
        if content["status"] != "ok":
            trace = "\n".join(content.get("traceback", []))
            raise KernelError(f"{content.get('ename')}: {content.get('evalue')}\n{trace}")
        return seen

    def until_idle(self, parent_id: str, timeout: float) -> list[Received]:
        seen: list[Received] = []
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"the kernel did not go idle after {parent_id}")
            msg = self.kc.get_iopub_msg(timeout=left)
            seen.append(Received(msg, time.perf_counter()))
            if (
                msg["msg_type"] == "status"
                and msg["parent_header"].get("msg_id") == parent_id
                and msg["content"]["execution_state"] == "idle"
            ):
                return seen

    def output(self, code: str, timeout: float = 600) -> str:
        """What running code printed."""
        return stream_text(self.execute(code, timeout))

    def send_comm(self, comm_id: str, data: Any) -> None:
        """A comm_msg from the frontend to the kernel."""
        msg = self.kc.session.msg("comm_msg", {"comm_id": comm_id, "data": data})
        self.kc.shell_channel.send(msg)


def stream_text(seen: list[Received]) -> str:
    return "".join(r.msg["content"]["text"] for r in seen if r.msg["msg_type"] == "stream")


def comm_msgs(seen: list[Received], comm_id: str) -> list[Received]:
    """The comm messages the kernel sent on one comm."""
    return [
        r
        for r in seen
        if r.msg["msg_type"] == "comm_msg" and r.msg["content"].get("comm_id") == comm_id
    ]


def wire_bytes(msg: Message) -> int:
    """Bytes of a comm message's content as compact JSON, plus its binary buffers."""
    size = len(json.dumps(msg["content"], separators=(",", ":")))
    return size + sum(len(b) for b in msg.get("buffers") or [])
