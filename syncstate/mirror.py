"""The frontend algorithm for one model, independent of any transport (docs/protocol.md).

`Mirror` keeps the confirmed state and version, the pending edits (one in flight, later ones
combined into one queued edit), and the visible state that views would show. It is the Python
twin of js/src/core/mirror.ts: the same rules, the same method names (`patch`, `handle_message`
/ `handleMessage`, `handle_close` / `handleClose`, `request_sync` / `requestSync`), and both
replay tests/vectors. `syncstate.client.Client` feeds it from a kernel through jupyter_client.
"""

from __future__ import annotations

import itertools
import re
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from .conflicts import interferes
from .diff import diff
from .messages import (
    KernelPatch,
    Rejection,
    StateReply,
    read_buffers,
    read_custom,
    read_method,
    read_patch,
    read_reject,
    read_state,
    write_custom,
    write_edit,
    write_sync,
)
from .patch import PatchError, apply_patch, format_pointer, json_copy, json_equal, parse_pointer
from .protocol import (
    BAD_MESSAGE,
    BAD_OP,
    CLOSED,
    CUSTOM,
    DROPPED,
    FORBIDDEN,
    OUT_OF_SYNC,
    PATCH,
    REJECT,
    STATE,
    TOO_LARGE,
    SyncError,
    check_edit,
)

__all__ = ["Mirror", "MirrorError", "PendingEdit"]

Op = dict[str, Any]
Send = Callable[..., None]  # send(data) or send(data, buffers) when there are binary values
Observer = Callable[[list[Op]], None]


@dataclass(frozen=True)
class MirrorError:
    """A rejected or dropped edit (`id`), or a synchronisation problem (`id` None)."""

    id: str | None
    code: str
    message: str


@dataclass
class PendingEdit:
    """An own edit not yet answered. `base` is the confirmed version it was made on."""

    id: str
    base: int
    ops: list[Op]
    fields: set[str] = field(default_factory=set)
    sent: bool = False
    undo: list[Callable[[], object]] = field(default_factory=list, repr=False, compare=False)


def _fields_of(ops: Iterable[Op]) -> set[str]:
    """The top-level fields the ops read or write; raises for an op on the whole document."""
    fields = set()
    for op in ops:
        pointers = [op["path"]] + ([op["from"]] if op.get("op") in ("move", "copy") else [])
        for pointer in pointers:
            segments = parse_pointer(pointer)
            if not segments:
                raise PatchError(FORBIDDEN, "an edit cannot replace the whole state")
            fields.add(segments[0])
    return fields


def refuse_private(name: str) -> None:
    if name.startswith("_"):
        raise PatchError(FORBIDDEN, f"field {name!r} is private: only the kernel writes it")


def _check_shape(ops: Any) -> list[Op]:
    """A copy of `ops` if it is a list of ops with string pointers within the kernel's limits;
    PatchError otherwise."""
    if not isinstance(ops, list):
        raise PatchError(BAD_OP, "a patch is a list of operations")
    for index, op in enumerate(ops):
        if not isinstance(op, dict) or not isinstance(op.get("path"), str):
            raise PatchError(BAD_OP, f"op {index} needs a string 'path'")
        if op.get("op") in ("move", "copy") and not isinstance(op.get("from"), str):
            raise PatchError(BAD_OP, f"op {index} needs a string 'from'")
    check_edit(ops)
    return [json_copy(op) for op in ops]


def _combine(ops: list[Op], op: Op) -> None:
    """Append `op` to a queued edit; a replace right after a write to the same path just
    updates that write's value, so a dragged slider sends one op (same rule as mirror.ts)."""
    last = ops[-1] if ops else None
    if (
        op["op"] == "replace"
        and last is not None
        and last["path"] == op["path"]
        and last["op"] in ("replace", "add")
    ):
        ops[-1] = {**last, "value": op["value"]}
    else:
        ops.append(op)


_ARRAY_INDEX = re.compile(r"(0|[1-9][0-9]*|-)\Z")
_ABSENT = object()
Segments = list[str]


def _pointers(op: Op) -> list[str]:
    return [op["path"]] + ([op["from"]] if op["op"] in ("move", "copy") else [])


def _changed_pointers(op: Op) -> list[str]:
    return [] if op["op"] == "test" else [op["path"]] + ([op["from"]] if op["op"] == "move" else [])


def _shifts(op: Op) -> bool:
    """Whether `op` inserts or removes at an array index (moving later elements), or moves."""
    last = op["path"].rsplit("/", 1)[-1]
    return op["op"] == "move" or (
        op["op"] in ("add", "remove", "copy") and bool(_ARRAY_INDEX.match(last))
    )


def _overlap(a: Segments, b: Segments) -> bool:
    n = min(len(a), len(b))
    return a[:n] == b[:n]


def _moves_under(at: Segments, other: Segments) -> bool:
    """Whether an insert or removal at `at` moves what `other` points at."""
    depth = len(at) - 1
    if depth < 0 or len(other) <= depth or at[:depth] != other[:depth] or at[depth] == "-":
        return False
    target = other[depth]
    return target == "-" or (bool(_ARRAY_INDEX.match(target)) and int(target) >= int(at[depth]))


def _commutes(x: Op, y: Op) -> bool:
    """Disjoint places that neither op moves: applied in either order, each does the same."""
    xs = [parse_pointer(p) for p in _pointers(x)]
    ys = [parse_pointer(p) for p in _pointers(y)]
    return all(
        not _overlap(px, py)
        and not (_shifts(x) and _moves_under(px, py))
        and not (_shifts(y) and _moves_under(py, px))
        for px in xs
        for py in ys
    )


def _value_at(doc: Any, segments: Segments) -> Any:
    for segment in segments:
        if isinstance(doc, dict) and segment in doc:
            doc = doc[segment]
        elif isinstance(doc, list) and segment.isdigit() and int(segment) < len(doc):
            doc = doc[int(segment)]
        else:
            return _ABSENT
    return doc


def _diff_at(segments: Segments, before: Any, after: Any) -> list[Op]:
    path = format_pointer(segments)
    if before is _ABSENT:
        return [] if after is _ABSENT else [{"op": "add", "path": path, "value": after}]
    if after is _ABSENT:
        return [{"op": "remove", "path": path}]
    return diff(before, after, path)


def field_diff(before: dict[str, Any], after: dict[str, Any], fields: Iterable[str]) -> list[Op]:
    ops: list[Op] = []
    for name in sorted(fields):
        path = format_pointer([name])
        if name in before and name in after:
            ops += diff(before[name], after[name], path)
        elif name in before:
            ops.append({"op": "remove", "path": path})
        elif name in after:
            ops.append({"op": "add", "path": path, "value": after[name]})
    return ops


def _is_version(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


class Mirror:
    """The frontend copy of one kernel model, following docs/protocol.md exactly.

    Cost follows the change: there is one document, the visible state. Pending edits are
    applied to it in place with undo logs; a kernel patch undoes them, applies its ops and
    redoes the edits still pending, and finds the visible change by comparing only where those
    ops touch (docs/design.md, "Pending edits without copies"). Treat `state` and `get()`
    results as read-only: edit with `patch()`.
    """

    def __init__(
        self,
        state: dict[str, Any],
        version: int,
        send: Send,
        *,
        model_id: str = "",
        client_id: str | None = None,
    ) -> None:
        """A mirror of the model at `version` (`messages.read_model` gives both from an
        `open`); it takes `state` over and changes it in place."""
        self.model_id = model_id
        self.client_id = client_id or secrets.token_hex(4)
        self._send = send
        self._version = version
        self._visible = state  # confirmed + pending, applied in place
        self._pending: list[PendingEdit] = []
        self._in_flight: str | None = None  # awaiting its answer, even if replay dropped it
        self._syncing = False
        self._closed = False
        self._counter = itertools.count(1)
        self._observers: list[Observer] = []
        self._error_callbacks: list[Callable[[MirrorError], None]] = []
        self._custom_callbacks: list[Callable[[Any, list[bytes]], None]] = []
        self.errors: list[MirrorError] = []
        self.acknowledged: list[str] = []

    # -- reading ----------------------------------------------------------------------------

    @property
    def version(self) -> int:
        """The last confirmed kernel version."""
        return self._version

    @property
    def state(self) -> dict[str, Any]:
        """The visible state: confirmed state with the pending edits replayed on top."""
        return self._visible

    @property
    def confirmed(self) -> dict[str, Any]:
        """The state as of the last kernel message; with edits pending, a copy (O(state))."""
        if not self._pending:
            return self._visible
        self._undo_pending()
        try:
            return json_copy(self._visible)  # type: ignore[no-any-return]
        finally:
            self._redo()

    @property
    def pending(self) -> list[PendingEdit]:
        return list(self._pending)

    @property
    def in_flight(self) -> str | None:
        return self._in_flight

    @property
    def syncing(self) -> bool:
        return self._syncing

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def settled(self) -> bool:
        """Nothing pending, nothing awaited: the visible state is the kernel's."""
        return not (self._pending or self._in_flight or self._syncing)

    def get(self, key: str) -> Any:
        """A field of the visible state."""
        return self._visible.get(key)

    def observe(self, callback: Observer) -> Callable[[], None]:
        """Call `callback(ops)` whenever the visible state changes; returns an unsubscriber."""
        self._observers.append(callback)
        return lambda: self._observers.remove(callback)

    def on_error(self, callback: Callable[[MirrorError], None]) -> Callable[[], None]:
        self._error_callbacks.append(callback)
        return lambda: self._error_callbacks.remove(callback)

    def on_custom(self, callback: Callable[[Any, list[bytes]], None]) -> Callable[[], None]:
        self._custom_callbacks.append(callback)
        return lambda: self._custom_callbacks.remove(callback)

    # -- local edits ------------------------------------------------------------------------

    def patch(self, ops: list[Op]) -> str | None:
        """Apply `ops` to the visible state now and send them (or queue them behind the edit
        in flight). Returns the id of the edit they joined, or None for no ops.

        Raises PatchError, changing nothing, if they do not apply or write a `_` field; and
        also reports an `error` if the kernel would refuse them for their size, nesting,
        numbers or text (docs/protocol.md, "Limits").
        """
        if self._closed:
            raise RuntimeError(f"model {self.model_id} is closed")
        try:
            edit = _check_shape(ops)
        except SyncError as error:
            if error.code in (TOO_LARGE, BAD_MESSAGE):
                self._error(None, error.code, error.message)  # (the kernel's limits)
            raise
        fields = _fields_of(edit)
        for name in sorted(fields):
            refuse_private(name)
        if not edit:
            return None
        # Atomic: all ops or none. On a copy, so that the state never shares objects with the
        # kept ops (a later op of the same edit may change a value an earlier one put).
        undo: list[Callable[[], object]] = []
        apply_patch(self._visible, json_copy(edit), undo)
        queued = self._pending[-1] if self._pending and not self._pending[-1].sent else None
        if queued is None:
            queued = PendingEdit(f"{self.client_id}:{next(self._counter)}", self._version, [])
            self._pending.append(queued)
        for op in edit:
            _combine(queued.ops, op)
        queued.undo += undo
        queued.fields |= fields
        self._emit(edit)
        self._flush()
        return queued.id

    def send_custom(self, content: Any, buffers: list[bytes] | None = None) -> None:
        """A custom message to the kernel's `on_msg` handlers."""
        self._post(write_custom(content), list(buffers or []))

    def request_sync(self) -> None:
        """Ask the kernel for the whole state (done by itself when it misses a message)."""
        if not self._syncing:
            self._syncing = True
            self._post(write_sync(), [])

    # -- from the kernel --------------------------------------------------------------------

    def handle_message(self, data: Any, buffers: list[bytes] | None = None) -> None:
        """A message from the kernel on this model's comm. Never raises for bad input: a
        message that makes no sense is reported and answered with a `sync`."""
        if self._closed:
            return
        try:
            method = read_method(data)
            if method == CUSTOM:
                content = read_custom(data)
                for callback in list(self._custom_callbacks):
                    callback(content, [bytes(b) for b in buffers or []])
                return
            data = read_buffers(data, buffers or [])
            if method == PATCH:
                self._on_patch(read_patch(data))
            elif method == REJECT:
                self._on_reject(read_reject(data))
            elif method == STATE:
                self._on_state(read_state(data))
            else:
                raise SyncError(BAD_MESSAGE, f"unknown method {method!r}")
        except SyncError as error:
            self._resync(f"bad kernel message: {error}")

    def handle_close(self) -> None:
        """The kernel closed the comm. Edits still pending will never be answered."""
        if self._closed:
            return
        unanswered = [e.id for e in self._pending]
        if self._in_flight is not None and self._in_flight not in unanswered:
            unanswered.insert(0, self._in_flight)  # replay had dropped it; still unanswered
        for edit_id in unanswered:
            self._error(edit_id, CLOSED, "the model was closed before the edit was answered")
        self._pending = []
        self._in_flight = None
        self._closed = True

    def _on_patch(self, patch: KernelPatch) -> None:
        version, ack = patch.version, patch.ack
        ops = _check_shape(patch.ops)  # a copy: the state must not share objects with messages
        _fields_of(ops)  # no op on the whole document
        if self._syncing or version != self._version + 1:
            # The state we ask for (or asked for) includes this version: only learn which
            # edits it answers, or they would wait for an answer forever.
            self._settle(ack)
            if not self._syncing:
                self._resync(f"expected version {self._version + 1}, got {version}")
            return
        previous = self._version
        answered = [e for e in self._pending if e.id in ack]
        if not self._pending:
            apply_patch(self._visible, ops)  # a PatchError here means we diverged: resync
            changes = ops
        elif answered == self._pending[: len(answered)] and json_equal(
            [op for e in answered for op in e.ops], ops
        ):
            # The kernel did just what the answered edits did: the visible state is right.
            self._pending = self._pending[len(answered) :]
            changes = []
        else:
            changes = self._rebuild(ops, answered)
        self._version = version
        self._acknowledge(ack, answered)
        queued = self._queued()
        if queued is not None and queued.base == previous and not interferes(changes, queued.ops):
            # "Rebase when nothing it touches moved": the edit means the same on this state.
            queued.base = version
        self._emit(changes)
        self._flush()

    def _on_reject(self, rejection: Rejection) -> None:
        edit_id, code, version = rejection.id, rejection.code, rejection.version
        mine = edit_id is not None and (
            edit_id == self._in_flight or any(e.id == edit_id for e in self._pending)
        )
        if mine:
            assert edit_id is not None
            leaving = [e for e in self._pending if e.id == edit_id]
            self._error(edit_id, code, rejection.message)
            if edit_id == self._in_flight:
                self._in_flight = None
                # A rejection takes its followers with it: they were made on top of it.
                why = f"it was made on top of edit {edit_id}, which was rejected"
                for edit in [e for e in self._pending if not e.sent]:
                    self._error(edit.id, DROPPED, f"edit {edit.id} was dropped: {why}")
                    leaving.append(edit)
            self._emit(self._rebuild([], leaving))
        if not self._syncing and _is_version(version) and version != self._version:
            self._resync(f"a rejection at version {version}, but this frontend has {self._version}")
            return
        self._flush()

    def _on_state(self, reply: StateReply) -> None:
        version, state = reply.version, reply.state
        if not self._syncing and version <= self._version:
            return  # the answer to another frontend's sync: nothing new
        before = self._visible  # left as it is: nothing shares it any more
        self._visible = json_copy(state)
        self._version = version
        self._syncing = False
        # An edit still in flight stays so: messages arrive in order, so had the kernel
        # answered it before this state we would have its answer. (This state answers another
        # frontend's `sync`, sent before ours.) Its answer will come.
        self._redo()
        self._emit(field_diff(before, self._visible, set(before) | set(self._visible)))
        self._flush()

    # -- confirmed / pending / visible ------------------------------------------------------

    def _settle(self, ack: list[Any]) -> None:
        """Forget the edits a kernel patch acknowledges, without applying the patch."""
        answered = [e for e in self._pending if e.id in ack]
        self._acknowledge(ack, answered)
        if answered:
            self._emit(self._rebuild([], answered))

    def _acknowledge(self, ack: list[Any], answered: list[PendingEdit]) -> None:
        if self._in_flight is not None and self._in_flight in ack:
            if not any(e.id == self._in_flight for e in answered):
                self.acknowledged.append(self._in_flight)  # replay had dropped it locally
            self._in_flight = None
        self.acknowledged += [e.id for e in answered]

    def _queued(self) -> PendingEdit | None:
        return next((e for e in self._pending if not e.sent), None)

    def _undo_pending(self) -> None:
        for edit in reversed(self._pending):
            for step in reversed(edit.undo):
                step()
            edit.undo = []

    def _redo(self) -> None:
        """Apply the pending edits again; a queued edit that no longer applies is dropped and
        reported (an edit in flight that no longer applies will be rejected by the kernel)."""
        kept = []
        for edit in self._pending:
            edit.undo = []
            try:
                apply_patch(self._visible, json_copy(edit.ops), edit.undo)
            except PatchError as error:
                if not edit.sent:  # never sent, so the kernel cannot report it: we do
                    self._error(edit.id, DROPPED, f"no longer applies: {error.message}")
                continue
            kept.append(edit)
        self._pending = kept

    def _rebuild(self, kernel_ops: list[Op], leaving: list[PendingEdit]) -> list[Op]:
        """Take the pending edits off, apply `kernel_ops`, drop `leaving`, redo the rest; return
        the visible change. On a PatchError from `kernel_ops` everything is put back."""
        direct, points = self._watch(kernel_ops, leaving)
        touched = [
            parse_pointer(p)
            for op in [*kernel_ops, *(op for e in self._pending for op in e.ops)]
            for p in _pointers(op)
        ]
        before = []
        for point in points:
            value = _value_at(self._visible, point)
            # A value that an op changes inside (rather than replaces) is copied to be compared.
            inside = any(len(t) > len(point) and t[: len(point)] == point for t in touched)
            before.append(json_copy(value) if inside and value is not _ABSENT else value)
        self._undo_pending()
        try:
            apply_patch(self._visible, kernel_ops)
        except PatchError:
            self._redo()
            raise
        self._pending = [e for e in self._pending if not any(e is gone for gone in leaving)]
        self._redo()
        changes = list(direct)
        for point, old in zip(points, before, strict=True):
            changes += _diff_at(point, old, _value_at(self._visible, point))
        return changes

    def _watch(
        self, kernel_ops: list[Op], leaving: list[PendingEdit]
    ) -> tuple[list[Op], list[Segments]]:
        """The kernel ops a rebuild reports as they are, and the places it compares: those of
        the leaving edits, of the kernel ops that do not commute with a pending op, and of the
        pending edits those touch; whole fields when one of them shifts an array."""
        pending_ops = [op for e in self._pending for op in e.ops]
        watched = {id(op): op for e in leaving for op in e.ops}
        for op in kernel_ops:
            if not all(_commutes(op, p) for p in pending_ops):
                watched[id(op)] = op

        def clashes(op: Op) -> bool:
            return any(w is not op and not _commutes(op, w) for w in list(watched.values()))

        grown = True
        while grown:
            grown = False
            for edit in self._pending:
                if not all(id(op) in watched for op in edit.ops) and any(map(clashes, edit.ops)):
                    watched.update((id(op), op) for op in edit.ops)
                    grown = True
            for op in kernel_ops:
                if id(op) not in watched and clashes(op):
                    watched[id(op)] = op
                    grown = True
        if not any(map(_shifts, watched.values())):
            points = [parse_pointer(p) for op in watched.values() for p in _changed_pointers(op)]
            outermost: list[Segments] = []
            for point in sorted(points, key=len):
                if not any(point[: len(kept)] == kept for kept in outermost):
                    outermost.append(point)
            return [op for op in kernel_ops if id(op) not in watched], outermost
        ordered = [op for op in [*pending_ops, *kernel_ops] if id(op) in watched]
        fields = _fields_of(ordered)
        grown = True
        while grown:
            grown = False
            for op in kernel_ops:
                mine = _fields_of([op])
                if mine & fields and not mine <= fields:
                    fields |= mine
                    grown = True
        direct = [op for op in kernel_ops if not _fields_of([op]) & fields]
        return direct, [[name] for name in sorted(fields)]

    # -- outbound ---------------------------------------------------------------------------

    def _flush(self) -> None:
        """Send the queued edit if nothing is awaiting an answer."""
        queued = self._queued()
        if self._syncing or self._in_flight is not None or self._closed or queued is None:
            return
        queued.sent = True
        self._in_flight = queued.id
        self._post(*write_edit(queued.id, queued.base, json_copy(queued.ops)))

    def _resync(self, message: str) -> None:
        self.request_sync()
        self._error(None, OUT_OF_SYNC, message)

    def _post(self, data: dict[str, Any], buffers: list[bytes]) -> None:
        if self._closed:
            return
        if buffers:
            self._send(data, buffers)
        else:
            self._send(data)

    def _error(self, edit_id: str | None, code: str, message: str) -> None:
        error = MirrorError(edit_id, code, message)
        self.errors.append(error)
        for callback in list(self._error_callbacks):
            callback(error)

    def _emit(self, ops: list[Op]) -> None:
        if ops:
            for callback in list(self._observers):
                callback(ops)
