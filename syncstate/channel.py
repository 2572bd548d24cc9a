"""The outgoing side of one model: its comm, version, history, outbox, acks and holds.

Every message a model sends goes through here, one at a time (hot reload sends from its own
thread). A `patch` takes the next version only once it has been sent, so versions never skip;
its paths (never its values) go into the history that conflict checks read. Each message goes
on the model's comm and, once a view uses it, on its widget comm (syncstate/widget.py).
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from .conflicts import History
from .messages import Wire, write_patch, write_reject, write_state
from .serialize import to_wire
from .size import DocumentSize

if TYPE_CHECKING:
    from .widget import WidgetBridge


class Channel:
    """One model's comm and what goes out on it (docs/protocol.md, "Kernel → frontend")."""

    def __init__(self) -> None:
        #: The model's own comm; None once closed (by the model, or by a frontend).
        self.comm: Any = None
        #: The model's widget comm, opened on its first display (syncstate/widget.py).
        self.bridge: WidgetBridge | None = None
        #: Open from the model's `open()` to its `close()`, whatever its comms.
        self.live = False
        self.version = 0
        self.history = History()
        self.size = DocumentSize()
        self.lock = threading.RLock()
        self._outbox: list[dict[str, Any]] = []
        self._acks: list[str] = []
        self._hold = 0

    def opened(self, comm: Any) -> None:
        """The model's comm was opened with its state at version 0."""
        self.comm, self.version, self.live = comm, 0, True
        self.history, self.size = History(), DocumentSize()

    def closed(self) -> None:
        """The model was closed: both its comms close."""
        if self.bridge is not None:
            self.bridge.close()
        self.comm, self.bridge, self.live, self._outbox, self._acks = None, None, False, [], []

    def comm_closed(self) -> None:
        """A frontend closed the model's comm (every frontend without syncstate's comm target
        does, on seeing it open): the model lives on for its widget comm."""
        self.comm = None

    def send(self, data: dict[str, Any], buffers: list[bytes]) -> None:
        """Sends on every comm the model has that someone listens to."""
        if self.comm is not None:
            self.comm.send(data, buffers=buffers)
        if self.bridge is not None:
            self.bridge.relay(data, buffers)

    # -- patches ----------------------------------------------------------------------------

    def queue(self, ops: list[dict[str, Any]]) -> None:
        """Ops (already encoded by `to_wire`) for the next patch; sent now unless held."""
        if not self.live or not ops:
            return
        self._outbox.extend(ops)
        if self._hold == 0:
            self.flush()

    def ack(self, edit_id: str) -> None:
        self._acks.append(edit_id)

    def mark(self) -> int:
        """A point in the outbox to `drop_since` (an edit that is rolled back)."""
        return len(self._outbox)

    def drop_since(self, mark: int) -> None:
        del self._outbox[mark:]

    def __enter__(self) -> None:
        """Holding: what is queued until the outermost exit leaves as one patch."""
        self._hold += 1

    def __exit__(self, *exc: object) -> None:
        self._hold -= 1
        if self._hold == 0:
            self.flush()

    def flush(self) -> None:
        with self.lock:
            if not self.live or not (self._outbox or self._acks):
                self._outbox = []
                return
            ops, self._outbox = self._outbox, []
            acks, self._acks = self._acks, []
            version = self.version + 1
            self.send(*write_patch(version, ops, acks))
            self.version = version
            self.history.record(version, ops)

    # -- other messages ---------------------------------------------------------------------

    def state_message(self, state: dict[str, Any]) -> Wire:
        """The `state` reply to a `sync`, with its buffers (take `lock` around it and its send)."""
        return write_state(self.version, to_wire(state))

    def send_state(self, state: dict[str, Any]) -> None:
        """Answers a `sync` on the model's own comm."""
        with self.lock:
            if self.comm is not None:
                data, buffers = self.state_message(state)
                self.comm.send(data, buffers=buffers)

    def reject(self, edit_id: str | None, code: str, message: str) -> None:
        if self.live:
            self.send(write_reject(edit_id, self.version, code, message), [])
