"""A headless Python frontend: the frontend half of docs/protocol.md, without a browser.

`Mirror` is the frontend algorithm for one model, independent of any transport: confirmed
state and version, pending edits (one in flight, later ones combined into one queued edit),
and the visible state that views would show. `Client` drives mirrors of every model of a
running kernel through jupyter_client. See docs/client.md.
"""

from __future__ import annotations

import contextlib
import itertools
import queue
import secrets
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from .conflicts import interferes
from .diff import diff
from .patch import PatchError, apply_patch, format_pointer, json_copy, parse_pointer
from .protocol import (
    BAD_MESSAGE,
    CLOSED,
    DROPPED,
    OUT_OF_SYNC,
    PROTOCOL,
    TARGET,
    TOO_LARGE,
    ProtocolError,
    SyncError,
    check_edit,
)
from .serialize import put_buffers, take_buffers

__all__ = ["Client", "Execution", "Mirror", "MirrorError", "PendingEdit"]

#: How long the client waits for a restarted kernel to answer, in seconds.
RESTART_TIMEOUT = 60

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


def _fields_of(ops: Iterable[Op]) -> set[str]:
    """The top-level fields the ops read or write; raises for an op on the whole document."""
    fields = set()
    for op in ops:
        pointers = [op["path"]] + ([op["from"]] if op.get("op") in ("move", "copy") else [])
        for pointer in pointers:
            segments = parse_pointer(pointer)
            if not segments:
                raise PatchError("forbidden", "an edit cannot replace the whole state")
            fields.add(segments[0])
    return fields


def _check_shape(ops: Any) -> list[Op]:
    """A copy of `ops` if it is a list of ops with string pointers within the kernel's limits;
    PatchError otherwise."""
    if not isinstance(ops, list):
        raise PatchError("bad_op", "a patch is a list of operations")
    for index, op in enumerate(ops):
        if not isinstance(op, dict) or not isinstance(op.get("path"), str):
            raise PatchError("bad_op", f"op {index} needs a string 'path'")
        if op.get("op") in ("move", "copy") and not isinstance(op.get("from"), str):
            raise PatchError("bad_op", f"op {index} needs a string 'from'")
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


def _field_diff(before: dict[str, Any], after: dict[str, Any], fields: Iterable[str]) -> list[Op]:
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

    Cost follows the change: with nothing pending, the visible state IS the confirmed state
    and kernel ops are applied to it once, in place. With edits pending, the visible state is
    a shallow copy of the confirmed one that owns deep copies of just the fields they touch.
    Treat `state` and `get()` results as read-only: edit with `patch()`.
    """

    def __init__(
        self,
        open_data: dict[str, Any],
        send: Send,
        *,
        buffers: list[bytes] | None = None,
        model_id: str = "",
        client_id: str | None = None,
    ) -> None:
        data = dict(open_data)  # put_buffers writes into it; the caller's dict stays as it was
        data["state"] = json_copy(data.get("state"))
        put_buffers(data, data.get("buffer_paths"), buffers or [])
        if not isinstance(data["state"], dict) or not _is_version(data.get("version")):
            raise ProtocolError("bad_message", "open data needs a 'state' object and a 'version'")
        self.model_id = model_id
        self.model_name = str(data.get("model", ""))
        self.client_id = client_id or secrets.token_hex(4)
        self._send = send
        self._confirmed: dict[str, Any] = data["state"]
        self._version: int = data["version"]
        self._visible = self._confirmed
        self._owned: set[str] = set()  # fields of _visible that are its own copies
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
        return self._confirmed

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
        private = sorted(name for name in fields if name.startswith("_"))
        if private:
            raise PatchError(
                "forbidden", f"field {private[0]!r} is private: only the kernel writes it"
            )
        if not edit:
            return None
        self._own(fields)
        try:
            # Atomic: all ops or none. On a copy, so that the state never shares objects with the
            # kept ops (a later op of the same edit may change a value an earlier one put).
            apply_patch(self._visible, json_copy(edit))
        except Exception:
            if not self._pending:
                self._visible, self._owned = self._confirmed, set()  # share again
            raise
        queued = self._pending[-1] if self._pending and not self._pending[-1].sent else None
        if queued is None:
            queued = PendingEdit(f"{self.client_id}:{next(self._counter)}", self._version, [])
            self._pending.append(queued)
        for op in edit:
            _combine(queued.ops, op)
        queued.fields |= fields
        self._emit(edit)
        self._flush()
        return queued.id

    def send_custom(self, content: Any, buffers: list[bytes] | None = None) -> None:
        """A custom message to the kernel's `on_msg` handlers."""
        self._post({"method": "custom", "content": content}, list(buffers or []))

    def request_sync(self) -> None:
        """Ask the kernel for the whole state (done by itself when it misses a message)."""
        if not self._syncing:
            self._syncing = True
            self._post({"method": "sync"}, [])

    # -- from the kernel --------------------------------------------------------------------

    def handle(self, data: Any, buffers: list[bytes] | None = None) -> None:
        """A message from the kernel on this model's comm. Never raises for bad input: a
        message that makes no sense is reported and answered with a `sync`."""
        if self._closed:
            return
        try:
            if not isinstance(data, dict):
                raise ProtocolError("bad_message", "a message must be an object")
            method = data.get("method")
            if method == "custom":
                content = data.get("content")
                for callback in list(self._custom_callbacks):
                    callback(content, [bytes(b) for b in buffers or []])
                return
            data = dict(data)  # put_buffers writes into it
            put_buffers(data, data.get("buffer_paths"), buffers or [])
            if method == "patch":
                self._on_patch(data)
            elif method == "reject":
                self._on_reject(data)
            elif method == "state":
                self._on_state(data)
            else:
                raise ProtocolError("bad_message", f"unknown method {method!r}")
        except (ProtocolError, PatchError) as error:
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

    def _on_patch(self, data: dict[str, Any]) -> None:
        version, ops, ack = data.get("version"), data.get("ops"), data.get("ack", [])
        if not _is_version(version) or not isinstance(ack, list):
            raise ProtocolError("bad_message", "a patch needs an integer 'version' and 'ack' list")
        ops = _check_shape(ops)  # a copy: the state must not share objects with messages
        op_fields = _fields_of(ops)
        if self._syncing or version != self._version + 1:
            # The state we ask for (or asked for) includes this version: only learn which
            # edits it answers, or they would wait for an answer forever.
            self._settle(ack)
            if not self._syncing:
                self._resync(f"expected version {self._version + 1}, got {version}")
            return
        if not self._pending:
            # Nothing of ours on top: the visible state is the confirmed one, changed in place.
            apply_patch(self._confirmed, ops)  # a PatchError here means we diverged: resync
            self._version = version
            self._settle(ack)
            self._emit(ops)
            return
        fields = self._linked_fields(ops, op_fields)
        before = {
            name: self._visible[name] if name in self._owned else json_copy(self._visible[name])
            for name in fields
            if name in self._visible
        }
        previous = self._version
        apply_patch(self._confirmed, ops)
        self._version = version
        self._settle(ack, replay=False)
        self._replay()
        direct = [op for op in ops if not (_fields_of([op]) & fields)]
        changes = direct + _field_diff(before, self._visible, fields)
        queued = self._queued()
        if queued is not None and queued.base == previous and not interferes(changes, queued.ops):
            # "Rebase when nothing it touches moved": the edit means the same on this state.
            queued.base = version
        self._emit(changes)
        self._flush()

    def _on_reject(self, data: dict[str, Any]) -> None:
        edit_id, code, version = data.get("id"), data.get("code"), data.get("version")
        if not isinstance(code, str) or not (edit_id is None or isinstance(edit_id, str)):
            raise ProtocolError("bad_message", "a reject needs an 'id' and a string 'code'")
        mine = edit_id is not None and (
            edit_id == self._in_flight or any(e.id == edit_id for e in self._pending)
        )
        if mine:
            assert edit_id is not None
            before, owned = self._visible, set(self._owned)
            self._pending = [e for e in self._pending if e.id != edit_id]
            message = data.get("message")
            self._error(edit_id, code, message if isinstance(message, str) else code)
            if edit_id == self._in_flight:
                self._in_flight = None
                self._drop_followers(f"it was made on top of edit {edit_id}, which was rejected")
            self._replay()
            self._emit(_field_diff(before, self._visible, owned | self._owned))
        if not self._syncing and _is_version(version) and version != self._version:
            self._resync(f"a rejection at version {version}, but this frontend has {self._version}")
            return
        self._flush()

    def _on_state(self, data: dict[str, Any]) -> None:
        version, state = data.get("version"), data.get("state")
        if not isinstance(version, int) or isinstance(version, bool) or not isinstance(state, dict):
            raise ProtocolError("bad_message", "a state needs an integer 'version' and a 'state'")
        if not self._syncing and version <= self._version:
            return  # the answer to another frontend's sync: nothing new
        before = self._visible
        self._confirmed = json_copy(state)
        self._version = version
        self._syncing = False
        # An edit still in flight stays so: messages arrive in order, so had the kernel
        # answered it before this state we would have its answer. (This state answers another
        # frontend's `sync`, sent before ours.) Its answer will come.
        self._replay()
        self._emit(_field_diff(before, self._visible, set(before) | set(self._visible)))
        self._flush()

    # -- confirmed / pending / visible ------------------------------------------------------

    def _settle(self, ack: list[Any], replay: bool = True) -> None:
        """Forget the edits a kernel patch acknowledges."""
        answered = [e for e in self._pending if e.id in ack]
        if self._in_flight is not None and self._in_flight in ack:
            if not any(e.id == self._in_flight for e in answered):
                self.acknowledged.append(self._in_flight)  # replay had dropped it locally
            self._in_flight = None
        if not answered:
            return
        self._pending = [e for e in self._pending if e.id not in ack]
        self.acknowledged += [e.id for e in answered]
        if replay:
            before, owned = self._visible, set(self._owned)
            self._replay()
            self._emit(_field_diff(before, self._visible, owned))

    def _queued(self) -> PendingEdit | None:
        return next((e for e in self._pending if not e.sent), None)

    def _drop_followers(self, why: str) -> None:
        for edit in [e for e in self._pending if not e.sent]:
            self._error(edit.id, DROPPED, f"edit {edit.id} was dropped: {why}")
        self._pending = [e for e in self._pending if e.sent]

    def _own(self, fields: Iterable[str]) -> None:
        """Give the visible state its own copies of `fields`, so edits there spare `confirmed`."""
        if self._visible is self._confirmed:
            self._visible = dict(self._confirmed)
        for name in fields:
            if name not in self._owned:
                self._owned.add(name)
                if name in self._confirmed:
                    self._visible[name] = json_copy(self._confirmed[name])

    def _replay(self) -> None:
        """Visible = confirmed + pending edits; a queued edit that no longer applies is dropped
        and reported (an edit in flight that no longer applies will be rejected by the kernel)."""
        self._visible, self._owned = self._confirmed, set()
        kept = []
        for edit in self._pending:
            self._own(edit.fields)
            try:
                apply_patch(self._visible, json_copy(edit.ops))
            except PatchError as error:
                if not edit.sent:  # never sent, so the kernel cannot report it: we do
                    self._error(edit.id, DROPPED, f"no longer applies: {error.message}")
                continue
            kept.append(edit)
        self._pending = kept
        if not self._pending:
            self._visible, self._owned = self._confirmed, set()

    def _linked_fields(self, ops: list[Op], op_fields: set[str]) -> set[str]:
        """The fields whose visible change must be found by diff: those pending edits own, and
        any field a kernel op ties to them (a move or copy across fields)."""
        fields = set(self._owned)
        if op_fields <= fields or not fields:
            return fields
        grown = True
        while grown:
            grown = False
            for op in ops:
                touched = _fields_of([op])
                if touched & fields and not touched <= fields:
                    fields |= touched
                    grown = True
        return fields

    # -- outbound ---------------------------------------------------------------------------

    def _flush(self) -> None:
        """Send the queued edit if nothing is awaiting an answer."""
        queued = self._queued()
        if self._syncing or self._in_flight is not None or self._closed or queued is None:
            return
        queued.sent = True
        self._in_flight = queued.id
        data: dict[str, Any] = {
            "method": "patch",
            "id": queued.id,
            "base": queued.base,
            "ops": json_copy(queued.ops),
        }
        paths, buffers = take_buffers(
            data, [["ops", i] for i, op in enumerate(data["ops"]) if "value" in op]
        )
        if paths:
            data["buffer_paths"] = paths
        self._post(data, buffers)

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


@dataclass
class Execution:
    """The outcome of `Client.execute`: the shell reply and the iopub messages it caused."""

    reply: dict[str, Any]
    messages: list[dict[str, Any]]

    @property
    def stdout(self) -> str:
        return "".join(
            m["content"]["text"]
            for m in self.messages
            if m["msg_type"] == "stream" and m["content"].get("name") == "stdout"
        )


class Client:
    """Mirrors of every syncstate model of a running kernel, kept up to date from iopub.

    Single-threaded: messages are processed while you call `wait`, `sync`, `execute` or
    `pump`. `Client(kernel_client)` takes a started jupyter_client KernelClient (a blocking
    one); `Client.from_connection_file(path)` makes one.
    """

    def __init__(self, kernel_client: Any, *, timeout: float = 30) -> None:
        self.kc = kernel_client
        self.client_id = secrets.token_hex(4)
        self.models: dict[str, Mirror] = {}
        self.restarts = 0
        self._owns_channels = False
        self._kernel_session: str | None = None
        self._control: str | None = None  # our control comm's id
        self._listing: str | None = None  # the request id of the `list` awaiting its reply
        self._requests = itertools.count(1)
        if not self.kc.channels_running:
            self.kc.start_channels()
            self._owns_channels = True
        self.kc.wait_for_ready(timeout=timeout)
        # A reply on iopub proves our subscription is live, so the `list` reply cannot be missed.
        self._barrier(time.monotonic() + timeout)
        self._fetch()
        self.wait(lambda: self._listing is None, timeout)

    @classmethod
    def from_connection_file(cls, path: str, *, timeout: float = 30) -> Client:
        from jupyter_client.blocking.client import BlockingKernelClient

        kc = BlockingKernelClient(connection_file=path)
        kc.load_connection_file()
        client = cls(kc, timeout=timeout)
        client._owns_channels = True
        return client

    def close(self) -> None:
        """Close the control comm, and stop the channels if this client started them."""
        if self._control is not None:
            self._shell_send("comm_close", {"comm_id": self._control, "data": {}})
            self._control = None
        if self._owns_channels:
            self.kc.stop_channels()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # -- pumping ----------------------------------------------------------------------------

    def pump(self, timeout: float = 0) -> bool:
        """Process one iopub message if one arrives within `timeout`; whether one did."""
        try:
            msg = self.kc.get_iopub_msg(timeout=timeout)
        except queue.Empty:
            return False
        self._on_iopub(msg)
        return True

    def wait(self, predicate: Callable[[], bool], timeout: float = 30) -> None:
        """Process messages until `predicate()` holds; TimeoutError after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while not predicate():
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("syncstate.Client.wait: the condition did not hold in time")
            self.pump(min(left, 0.1))

    def sync(self, timeout: float = 30) -> None:
        """Wait until the kernel has handled everything sent so far and every mirror is settled.

        A kernel_info request goes behind our comm messages on the shell channel; once its
        iopub `idle` arrives, everything they caused has been published before it.
        """
        deadline = time.monotonic() + timeout
        while True:
            self._barrier(deadline)
            if self._listing is None and all(m.settled for m in self.models.values()):
                return

    def _barrier(self, deadline: float) -> None:
        while True:
            msg_id = self.kc.kernel_info()
            done: list[bool] = []
            retry = time.monotonic() + 2  # a request sent while the kernel restarts may be lost
            while not done and time.monotonic() < min(retry, deadline):
                self._pump_until_idle(msg_id, done, min(retry, deadline))
            self._drain_shell()
            if done:
                return
            if time.monotonic() >= deadline:
                raise TimeoutError("syncstate.Client.sync: the kernel did not answer in time")

    def _pump_until_idle(self, msg_id: str, done: list[bool], until: float) -> None:
        try:
            msg = self.kc.get_iopub_msg(timeout=max(0.0, min(until - time.monotonic(), 0.1)))
        except queue.Empty:
            return
        self._on_iopub(msg)
        if (
            msg["parent_header"].get("msg_id") == msg_id
            and msg["msg_type"] == "status"
            and msg["content"].get("execution_state") == "idle"
        ):
            done.append(True)

    def _drain_shell(self) -> None:
        while True:
            try:
                self.kc.get_shell_msg(timeout=0)
            except queue.Empty:
                return

    def execute(self, code: str, *, timeout: float = 60, check: bool = True) -> Execution:
        """Run code in the kernel, processing the messages it causes; raises RuntimeError on
        an error when `check`."""
        msg_id = self.kc.execute(code)
        messages: list[dict[str, Any]] = []
        deadline = time.monotonic() + timeout
        idle = False
        while not idle:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"execution did not finish in {timeout} s")
            try:
                msg = self.kc.get_iopub_msg(timeout=min(left, 0.5))
            except queue.Empty:
                continue
            self._on_iopub(msg)
            if msg["parent_header"].get("msg_id") == msg_id:
                messages.append(msg)
                idle = (
                    msg["msg_type"] == "status" and msg["content"].get("execution_state") == "idle"
                )
        reply = self._shell_reply(msg_id, deadline)
        if check and reply.get("status") != "ok":
            trace = "\n".join(reply.get("traceback", [])) or str(reply)
            raise RuntimeError(
                f"kernel error: {reply.get('ename')}: {reply.get('evalue')}\n{trace}"
            )
        return Execution(reply, messages)

    def _shell_reply(self, msg_id: str, deadline: float) -> dict[str, Any]:
        while True:
            msg = self.kc.get_shell_msg(timeout=max(0.1, deadline - time.monotonic()))
            if msg["parent_header"].get("msg_id") == msg_id:
                content: dict[str, Any] = msg["content"]
                return content

    # -- iopub ------------------------------------------------------------------------------

    def _on_iopub(self, msg: dict[str, Any]) -> None:
        session = msg.get("header", {}).get("session")
        kind = msg.get("msg_type")
        content = msg.get("content", {})
        # A fresh kernel process has a new session id; its `starting` status is one of its
        # messages, so the restart is counted once, whichever message comes first.
        restarted = bool(session and self._kernel_session and session != self._kernel_session)
        if session:
            self._kernel_session = session
        if restarted:
            self._on_restart()
        comm_id = content.get("comm_id")
        if kind == "comm_open" and content.get("target_name") == TARGET:
            data = content.get("data")
            if isinstance(data, dict) and data.get("method") == "open":
                self._attach(comm_id, data, msg.get("buffers") or [])
        elif kind == "comm_msg" and comm_id == self._control:
            self._on_control(content.get("data"), msg.get("buffers") or [])
        elif kind == "comm_msg" and comm_id in self.models:
            self.models[comm_id].handle(content.get("data"), list(msg.get("buffers") or []))
        elif kind == "comm_close" and comm_id in self.models:
            self.models.pop(comm_id).handle_close()
        elif kind == "comm_close" and comm_id == self._control:
            # The kernel has no syncstate control target (syncstate not in use yet): no models.
            self._control = self._listing = None

    def _on_restart(self) -> None:
        """A new kernel process: every model is gone; ask the new one for what it has."""
        self.restarts += 1
        for mirror in self.models.values():
            mirror.handle_close()
        self.models.clear()
        self._until_answered(time.monotonic() + RESTART_TIMEOUT)
        self._fetch()

    def _until_answered(self, deadline: float) -> None:
        """Until the kernel answers a request on the shell channel. Right after a restart, a
        request can reach the old process's socket and be lost; one that is answered proves
        the new process is listening, so what is sent next arrives."""
        while time.monotonic() < deadline:
            msg_id = self.kc.kernel_info()
            retry = time.monotonic() + 1
            while time.monotonic() < retry:
                try:
                    reply = self.kc.get_shell_msg(timeout=max(0.0, retry - time.monotonic()))
                except queue.Empty:
                    break
                if reply["parent_header"].get("msg_id") == msg_id:
                    return
        raise TimeoutError("syncstate.Client: the restarted kernel did not answer in time")

    def _fetch(self) -> None:
        """Open a control comm asking for every live model (`list`)."""
        self._control = uuid.uuid4().hex
        self._listing = f"{self.client_id}:r{next(self._requests)}"
        data = {"protocol": PROTOCOL, "method": "list", "request": self._listing}
        self._shell_send(
            "comm_open", {"comm_id": self._control, "target_name": TARGET, "data": data}
        )

    def _on_control(self, data: Any, buffers: list[bytes]) -> None:
        if not isinstance(data, dict) or data.get("request") != self._listing:
            return
        self._listing = None
        if data.get("method") != "models" or not isinstance(data.get("models"), dict):
            return
        data = dict(data)
        put_buffers(data, data.get("buffer_paths"), buffers)
        for model_id, entry in data["models"].items():
            if not isinstance(entry, dict):
                continue
            if model_id in self.models:
                # Opened while the list was on its way: catch up if the list is newer.
                self.models[model_id].handle({"method": "state", **entry})
            else:
                self._attach(model_id, entry, [])

    def _attach(self, model_id: str, data: dict[str, Any], buffers: list[bytes]) -> None:
        def send(payload: dict[str, Any], out: list[bytes] | None = None) -> None:
            self._shell_send("comm_msg", {"comm_id": model_id, "data": payload}, out or [])

        with contextlib.suppress(ProtocolError):  # an open we do not understand: leave it alone
            self.models[model_id] = Mirror(
                data, send, buffers=list(buffers), model_id=model_id, client_id=self.client_id
            )

    def _shell_send(
        self, kind: str, content: dict[str, Any], buffers: list[bytes] | None = None
    ) -> None:
        msg = self.kc.session.msg(kind, content)
        self.kc.session.send(self.kc.shell_channel.socket, msg, buffers=buffers or [])
