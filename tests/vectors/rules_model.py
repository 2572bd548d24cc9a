"""The frontend rules of docs/protocol.md as a naive reference model, for generate.py.

Written from the rules, not from either mirror: no undo logs, no in-place tricks, patches
applied by `jsonpatch` (not our engine), and the visible state recomputed from scratch as
"confirmed + pending edits replayed" after every kernel message. generate.py records what this
model says a mirror must do, after checking that the Python `Mirror` agrees with it.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from typing import Any

import jsonpatch
import jsonpointer

Op = dict[str, Any]


class Refused(Exception):
    """A local edit refused before anything changes, with the code docs/protocol.md gives."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass
class Edit:
    id: str
    base: int
    ops: list[Op]
    sent: bool = False


@dataclass
class RulesMirror:
    client_id: str
    confirmed: dict[str, Any]
    version: int
    pending: list[Edit] = field(default_factory=list)
    in_flight: str | None = None
    syncing: bool = False
    sent: list[Any] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)
    visible: dict[str, Any] = field(init=False)
    count: int = 0

    def __post_init__(self) -> None:
        self.visible = copy.deepcopy(self.confirmed)

    # -- local edits (docs/protocol.md, "patch (an edit)") --------------------------------

    def patch(self, ops: list[Op]) -> None:
        for op in ops:
            if (
                not isinstance(op, dict)
                or op.get("op") not in _OPS
                or not isinstance(op.get("path"), str)
            ):
                raise Refused("bad_op")
            if op["op"] in ("move", "copy") and not isinstance(op.get("from"), str):
                raise Refused("bad_op")
        fields = []
        for op in ops:
            for pointer in _pointers(op):
                if pointer and not _POINTER.fullmatch(pointer):
                    raise Refused("bad_path")
                if not pointer:
                    raise Refused("forbidden")  # an edit cannot replace the whole state
                fields.append(_segments(pointer)[0])
        if any(name.startswith("_") for name in fields):
            raise Refused("forbidden")  # "Paths may not start with a `_` field"
        if not ops:
            return
        self.visible = _apply(self.visible, ops)  # all or nothing, else Refused
        queued = self.pending[-1] if self.pending and not self.pending[-1].sent else None
        if queued is None:
            self.count += 1
            queued = Edit(f"{self.client_id}:{self.count}", self.version, [])
            self.pending.append(queued)
        for op in copy.deepcopy(ops):
            last = queued.ops[-1] if queued.ops else None
            # Combining: a replace right after a write to the same path updates that write.
            if (
                op["op"] == "replace"
                and last
                and last["path"] == op["path"]
                and last["op"] in ("replace", "add")
            ):
                queued.ops[-1] = {**last, "value": op["value"]}
            else:
                queued.ops.append(op)
        self.flush()

    def request_sync(self) -> None:
        if not self.syncing:
            self.syncing = True
            self.sent.append({"method": "sync"})

    def flush(self) -> None:
        """At most one edit in flight: send the queued one when nothing awaits an answer."""
        queued = next((e for e in self.pending if not e.sent), None)
        if self.syncing or self.in_flight is not None or queued is None:
            return
        queued.sent = True
        self.in_flight = queued.id
        self.sent.append(
            {
                "method": "patch",
                "id": queued.id,
                "base": queued.base,
                "ops": copy.deepcopy(queued.ops),
            }
        )

    # -- from the kernel ----------------------------------------------------------------

    def receive(self, message: dict[str, Any]) -> None:
        getattr(self, "_on_" + message["method"])(message)

    def _on_patch(self, message: dict[str, Any]) -> None:
        version, ack = message["version"], message.get("ack", [])
        if self.syncing or version != self.version + 1:
            # The state asked for includes this version: only learn which edits it answers.
            self._forget(ack)
            self._replay()
            if not self.syncing:
                self._out_of_sync()
            return
        try:
            confirmed = _apply(self.confirmed, message["ops"])
        except Refused:
            self._out_of_sync()
            return
        before, previous = self.visible, self.version
        self.confirmed, self.version = confirmed, version
        self._forget(ack)
        self._replay()
        queued = next((e for e in self.pending if not e.sent), None)
        # "Rebase when nothing it touches moved."
        if queued is not None and queued.base == previous:
            changed = _changed_paths(before, self.visible)
            touched = [path for op in queued.ops for path in _touched(op)]
            if not any(_overlap(c, t) for c in changed for t in touched):
                queued.base = version
        self.flush()

    def _on_reject(self, message: dict[str, Any]) -> None:
        edit_id, version = message["id"], message["version"]
        if edit_id is not None and (
            edit_id == self.in_flight or any(e.id == edit_id for e in self.pending)
        ):
            self.errors.append({"id": edit_id, "code": message["code"]})
            self.pending = [e for e in self.pending if e.id != edit_id]
            if edit_id == self.in_flight:
                self.in_flight = None
                # "A rejection takes its followers with it."
                for edit in [e for e in self.pending if not e.sent]:
                    self.errors.append({"id": edit.id, "code": "dropped"})
                    self.pending.remove(edit)
            self._replay()
        if not self.syncing and version != self.version:
            self._out_of_sync()
            return
        self.flush()

    def _on_state(self, message: dict[str, Any]) -> None:
        if not self.syncing and message["version"] <= self.version:
            return  # the answer to another page's sync
        self.confirmed, self.version = copy.deepcopy(message["state"]), message["version"]
        self.syncing = False
        self._replay()
        self.flush()

    def _forget(self, ack: list[str]) -> None:
        self.pending = [e for e in self.pending if e.id not in ack]
        if self.in_flight in ack:
            self.in_flight = None

    def _replay(self) -> None:
        """Visible = confirmed + pending replayed; an edit that no longer applies is dropped
        (reported if never sent: the kernel will reject one that was)."""
        visible, kept = copy.deepcopy(self.confirmed), []
        for edit in self.pending:
            try:
                visible = _apply(visible, edit.ops)
            except Refused:
                if not edit.sent:
                    self.errors.append({"id": edit.id, "code": "dropped"})
                continue
            kept.append(edit)
        self.visible, self.pending = visible, kept

    def _out_of_sync(self) -> None:
        self.request_sync()
        self.errors.append({"id": None, "code": "out_of_sync"})

    def snapshot(self) -> dict[str, Any]:
        return {
            "visible": copy.deepcopy(self.visible),
            "version": self.version,
            "pending": [
                {"id": e.id, "base": e.base, "sent": e.sent, "ops": copy.deepcopy(e.ops)}
                for e in self.pending
            ],
            "in_flight": self.in_flight,
            "syncing": self.syncing,
        }


_OPS = {"add", "remove", "replace", "move", "copy", "test"}
_POINTER = re.compile(r"(/([^~/]|~[01])*)*")


def _apply(doc: Any, ops: list[Op]) -> Any:
    """`ops` applied to a copy of `doc` by jsonpatch; Refused with the protocol's code."""
    try:
        return jsonpatch.apply_patch(doc, copy.deepcopy(ops))
    except jsonpatch.JsonPatchTestFailed:
        failed = next(op for op in ops if op["op"] == "test")
        return _raise("test_failed" if _resolves(doc, ops, failed) else "bad_path")
    except (jsonpatch.JsonPatchException, jsonpointer.JsonPointerException):
        return _raise("bad_path")


def _raise(code: str) -> Any:
    raise Refused(code)


def _resolves(doc: Any, ops: list[Op], test: Op) -> bool:
    """Whether the failed `test` op's path exists where it ran (so its value differed)."""
    before = doc
    for op in ops:
        if op is test:
            break
        before = jsonpatch.apply_patch(before, [op])
    try:
        jsonpointer.resolve_pointer(before, test["path"])
    except jsonpointer.JsonPointerException:
        return False
    return True


def _segments(pointer: str) -> list[str]:
    return [s.replace("~1", "/").replace("~0", "~") for s in pointer.split("/")[1:]]


def _pointers(op: Op) -> list[str]:
    return [op["path"], *([op["from"]] if op["op"] in ("move", "copy") else [])]


def _touched(op: Op) -> list[list[str]]:
    """The paths an op touches; inserting into or removing from an array (add, remove, copy at
    an index or `-`, and both ends of a move) touches the whole array ("Conflicts")."""
    found = []
    for pointer in _pointers(op):
        segments = _segments(pointer)
        shifts = op["op"] == "move" or (
            op["op"] in ("add", "remove", "copy") and pointer is op["path"]
        )
        if shifts and segments and (segments[-1] == "-" or segments[-1].isdigit()):
            segments = segments[:-1]
        found.append(segments)
    return found


def _overlap(a: list[str], b: list[str]) -> bool:
    n = min(len(a), len(b))
    return a[:n] == b[:n]


def _changed_paths(before: Any, after: Any, at: list[str] | None = None) -> list[list[str]]:
    """Where `after` differs from `before`. An array whose length changed changed as a whole
    (an insert or removal moves every later index: docs/protocol.md, "Conflicts")."""
    at = at or []
    if isinstance(before, dict) and isinstance(after, dict):
        found: list[list[str]] = []
        for key in sorted(set(before) | set(after)):
            if key not in before or key not in after:
                found.append([*at, key])
            else:
                found += _changed_paths(before[key], after[key], [*at, key])
        return found
    if isinstance(before, list) and isinstance(after, list) and len(before) == len(after):
        return [
            p
            for i, (b, a) in enumerate(zip(before, after, strict=True))
            for p in _changed_paths(b, a, [*at, str(i)])
        ]
    same = type(before) is type(after) or (
        isinstance(before, (int, float))
        and isinstance(after, (int, float))
        and not isinstance(before, bool)
        and not isinstance(after, bool)
    )
    return [] if same and before == after else [at]
