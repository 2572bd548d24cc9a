"""An in-memory comm pair: the kernel side of `comm`, and a frontend that mirrors the state.

For fast unit tests only; tests/integration proves the same behaviour through a real kernel.
"""

from __future__ import annotations

import itertools
from typing import Any

from syncstate.patch import apply_patch, json_copy

_ids = itertools.count()


class FakeComm:
    """Stands in for ipykernel's Comm: records what the kernel sends."""

    def __init__(self, target_name: str = "", data: Any = None, buffers: Any = None, **_: Any):
        self.comm_id = f"comm{next(_ids)}"
        self.target_name = target_name
        # The real comm serialises the message at once: later edits cannot change it.
        self.open_data = json_copy(data)
        self.open_buffers = list(buffers or [])
        self.sent: list[tuple[dict[str, Any], list[bytes]]] = []
        self.closed = False
        self.published: list[str] = []
        self._handler: Any = None
        self._close_handler: Any = None

    def send(self, data: Any = None, buffers: Any = None, **_: Any) -> None:
        self.sent.append((data, list(buffers or [])))

    def on_msg(self, callback: Any) -> None:
        self._handler = callback

    def on_close(self, callback: Any) -> None:
        self._close_handler = callback

    def close(self, **_: Any) -> None:
        self.closed = True

    def publish_msg(self, msg_type: str, **_: Any) -> None:
        self.published.append(msg_type)

    def close_from_frontend(self) -> None:
        """A comm_close from the frontend, as ipykernel's comm manager handles it."""
        self.closed = True
        self._close_handler({"content": {"comm_id": self.comm_id, "data": {}}})

    def deliver(self, data: Any, buffers: list[bytes] | None = None) -> None:
        """A message from the frontend, shaped as ipykernel hands it to the handler."""
        self._handler(
            {"content": {"comm_id": self.comm_id, "data": data}, "buffers": buffers or []}
        )


class FakeManager:
    def __init__(self) -> None:
        self.targets: dict[str, Any] = {}

    def register_target(self, name: str, callback: Any) -> None:
        self.targets[name] = callback

    def open_from_frontend(self, data: dict[str, Any]) -> FakeComm:
        channel = FakeComm("syncstate", data)
        self.targets["syncstate"](channel, {"content": {"data": data}, "buffers": []})
        return channel


class Frontend:
    """The simplest correct mirror: confirmed state from `open`, kernel patches applied in order."""

    def __init__(self, channel: FakeComm):
        self.comm = channel
        self.state = json_copy(channel.open_data["state"])
        self.version = channel.open_data["version"]
        self.seen = 0
        self.rejections: list[dict[str, Any]] = []
        self.acks: list[str] = []
        self._ids = itertools.count()

    def pump(self) -> list[dict[str, Any]]:
        """Apply every message the kernel sent since the last pump; return them."""
        new = self.comm.sent[self.seen :]
        self.seen = len(self.comm.sent)
        for data, _ in new:
            if data["method"] == "patch":
                assert data["version"] == self.version + 1, (data, self.version)
                self.state = apply_patch(self.state, json_copy(data["ops"]))
                self.version = data["version"]
                self.acks += data.get("ack", [])
            elif data["method"] == "reject":
                self.rejections.append(data)
            elif data["method"] == "state":
                self.state, self.version = json_copy(data["state"]), data["version"]
        return [data for data, _ in new]

    def edit(self, ops: list[dict[str, Any]], base: int | None = None) -> str:
        edit_id = f"f:{next(self._ids)}"
        self.comm.deliver(
            {
                "method": "patch",
                "id": edit_id,
                "ops": ops,
                "base": self.version if base is None else base,
            }
        )
        self.pump()
        return edit_id
