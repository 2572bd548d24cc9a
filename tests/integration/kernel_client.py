"""A real ipykernel driven by jupyter_client, with this test suite playing the frontend."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

from jupyter_client.blocking.client import BlockingKernelClient


class KernelFrontend:
    """Runs code and speaks comm messages to a live kernel, as a frontend would."""

    def __init__(self, client: BlockingKernelClient) -> None:
        self.kc = client
        self.inbox: list[dict[str, Any]] = []

    def execute(self, code: str, timeout: float = 60) -> list[dict[str, Any]]:
        """Run code; return the iopub messages it caused (also kept in `inbox`)."""
        msg_id = self.kc.execute(code)
        seen = self._until_idle(msg_id, timeout)
        reply = self.kc.get_shell_msg(timeout=timeout)
        assert reply["content"]["status"] == "ok", reply["content"]
        return seen

    def _until_idle(self, parent_id: str, timeout: float) -> list[dict[str, Any]]:
        seen: list[dict[str, Any]] = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            msg = self.kc.get_iopub_msg(timeout=timeout)
            seen.append(msg)
            self.inbox.append(msg)
            if (
                msg["parent_header"].get("msg_id") == parent_id
                and msg["msg_type"] == "status"
                and msg["content"]["execution_state"] == "idle"
            ):
                return seen
        raise TimeoutError(f"kernel did not go idle for {parent_id}")

    def output(self, code: str) -> str:
        """Printed output of running code."""
        return "".join(
            m["content"]["text"] for m in self.execute(code) if m["msg_type"] == "stream"
        )

    def send(self, comm_id: str, data: Any, buffers: list[bytes] | None = None) -> list[Any]:
        """A comm_msg from the frontend; returns the iopub messages its handling caused."""
        msg = self.kc.session.msg("comm_msg", {"comm_id": comm_id, "data": data})
        self.kc.session.send(self.kc.shell_channel.socket, msg, buffers=buffers or [])
        return self._until_idle(msg["header"]["msg_id"], 60)

    def send_json(self, comm_id: str, data_text: str) -> list[Any]:
        """A comm_msg whose `data` is the given JSON text, sent as is: how a browser sends
        what Python's encoder refuses (NaN, a lone surrogate escaped as \\ud800)."""
        msg = self.kc.session.msg("comm_msg", {})
        msg["content"] = f'{{"comm_id": {json.dumps(comm_id)}, "data": {data_text}}}'.encode()
        self.kc.session.send(self.kc.shell_channel.socket, msg)
        return self._until_idle(msg["header"]["msg_id"], 60)

    def close_comm(self, comm_id: str) -> list[Any]:
        """A comm_close from the frontend; returns the iopub messages its handling caused."""
        msg = self.kc.session.msg("comm_close", {"comm_id": comm_id, "data": {}})
        self.kc.shell_channel.send(msg)
        return self._until_idle(msg["header"]["msg_id"], 60)

    def open_comm(self, target: str, data: Any) -> tuple[str, list[Any]]:
        comm_id = uuid.uuid4().hex
        msg = self.kc.session.msg(
            "comm_open", {"comm_id": comm_id, "target_name": target, "data": data}
        )
        self.kc.shell_channel.send(msg)
        return comm_id, self._until_idle(msg["header"]["msg_id"], 60)


def comm_data(msgs: list[dict[str, Any]], kind: str = "comm_msg") -> list[dict[str, Any]]:
    return [m["content"]["data"] for m in msgs if m["msg_type"] == kind]
