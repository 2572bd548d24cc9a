"""The outgoing side of one model: its comm, version, history, outbox, acks and holds.

Every message a model sends goes through here, one at a time (hot reload sends from its own
thread). A `patch` takes the next version only once it has been sent, so versions never skip;
its paths (never its values) go into the history that conflict checks read.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import Any

from .conflicts import History
from .protocol import PATCH, REJECT, STATE
from .serialize import Path, take_buffers, to_wire

_BINARY_OR_TREE = (bytes, dict, list)


def encode(data: dict[str, Any], roots: Iterable[Path], *, omit_empty: bool = False) -> list[bytes]:
    """Move the bytes under `roots` of `data` into buffers and list their `buffer_paths`
    (docs/protocol.md, "Binary values"); return the buffers."""
    paths, buffers = take_buffers(data, roots)
    if paths or not omit_empty:
        data["buffer_paths"] = paths
    return buffers


class Channel:
    """One model's comm and what goes out on it (docs/protocol.md, "Kernel → frontend")."""

    def __init__(self) -> None:
        self.comm: Any = None
        self.version = 0
        self.history = History()
        self.lock = threading.RLock()
        self._outbox: list[dict[str, Any]] = []
        self._acks: list[str] = []
        self._hold = 0

    def opened(self, comm: Any) -> None:
        """The model's comm was opened with its state at version 0."""
        self.comm, self.version, self.history = comm, 0, History()

    def closed(self) -> None:
        self.comm, self._outbox, self._acks = None, [], []

    # -- patches ----------------------------------------------------------------------------

    def queue(self, ops: list[dict[str, Any]]) -> None:
        """Ops (already encoded by `to_wire`) for the next patch; sent now unless held."""
        if self.comm is None or not ops:
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
            if self.comm is None or not (self._outbox or self._acks):
                self._outbox = []
                return
            ops, self._outbox = self._outbox, []
            acks, self._acks = self._acks, []
            version = self.version + 1
            data: dict[str, Any] = {"method": PATCH, "version": version, "ops": ops}
            if acks:
                data["ack"] = acks  # omitted when empty: small updates are the hot path
            # Only values that can hold bytes are walked: a scalar update costs no walk.
            roots: list[Path] = [
                ["ops", i]
                for i, op in enumerate(ops)
                if isinstance(op.get("value"), _BINARY_OR_TREE)
            ]
            buffers = encode(data, roots, omit_empty=True) if roots else []
            self.comm.send(data, buffers=buffers)
            self.version = version
            self.history.record(version, ops)

    # -- other messages ---------------------------------------------------------------------

    def send_state(self, state: dict[str, Any]) -> None:
        with self.lock:
            data = {"method": STATE, "version": self.version, "state": to_wire(state)}
            self.comm.send(data, buffers=encode(data, [["state", key] for key in state]))

    def reject(self, edit_id: str | None, code: str, message: str) -> None:
        if self.comm is not None:
            self.comm.send(
                {
                    "method": REJECT,
                    "id": edit_id,
                    "version": self.version,
                    "code": code,
                    "message": message,
                }
            )
