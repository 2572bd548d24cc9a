"""`syncstate.Model`: traitlets traits tagged `sync=True`, mirrored to the frontend by JSON Patch.

The model keeps its synced state as one document, `{trait: json}`, version-numbered. Every
change made in Python (assignment or in-place mutation) leaves as ops in a `patch` message;
every frontend edit is applied atomically, validated by traitlets, and answered with either the
effective change (acknowledging the edit) or a rejection. docs/protocol.md is the contract.
"""

from __future__ import annotations

import functools
import logging
import threading
import warnings
from collections import deque
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any, ClassVar

import comm
from traitlets import Bunch, HasTraits, Instance, TraitError, TraitType

from . import control
from .conflicts import find_conflict
from .diff import diff
from .esm import load_source, watcher
from .patch import (
    PatchError,
    apply_patch,
    format_pointer,
    json_copy,
    json_equal,
    parse_pointer,
)
from .protocol import (
    BAD_MESSAGE,
    FORBIDDEN,
    INTERNAL,
    INVALID,
    MIME_TYPE,
    NOT_MAIN_SHELL,
    PROTOCOL,
    REF_PREFIX,
    TARGET,
    UNKNOWN_METHOD,
    ProtocolError,
    edit_id_of,
    limits,
    parse_edit,
)
from .serialize import put_buffers, take_buffers, to_wire
from .shell import keep_on_main_shell, on_main_shell
from .tracked import LEAF_CLASSES, Slot, _Node, reattach_children, wrap

log = logging.getLogger("syncstate")
MessageCallback = Callable[["Model", Any, list[bytes]], None]

# `.tag(read_only=True)` is our metadata (the frontend may not write the trait); traitlets takes
# it for its own constructor argument of that name and warns, wrongly for us.
warnings.filterwarnings(
    "ignore",
    message=r"The following attributes are set in using `tag`, but seem to be constructor "
    r"keywords arguments: \{'read_only'\}",
    category=UserWarning,
)


class Model(HasTraits):
    """Subclass me; traits tagged `sync=True` are mirrored to the frontend.

    Tag metadata: `read_only=True` (the frontend may not write it), `to_json(value, model)` /
    `from_json(json, model)` (custom serialisation; such traits are synced by assignment only).
    `_esm` is the view's ES module (source text or a path to a .js file), `_css` its styles.
    The comm opens when the model is created.
    """

    _esm: ClassVar[str | Path] = ""
    _css: ClassVar[str | Path] = ""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        control.register_class(cls)

    def __init__(self, **kwargs: Any) -> None:
        self._comm: Any = None
        self._state: dict[str, Any] = {}
        self._slots: dict[str, Slot] = {}
        self._version = 0
        self._history: deque[tuple[int, list[dict[str, Any]]]] = deque(maxlen=limits.history)
        self._outbox: list[dict[str, Any]] = []
        self._acks: list[str] = []
        self._hold = 0
        self._holder = _Hold(self)
        self._undo_log: list[Callable[[], None]] | None = None
        self._inbound_ops: dict[str, list[dict[str, Any]]] = {}
        self._committing = False
        self._msg_callbacks: list[MessageCallback] = []
        # Hot reload sends from its own thread; sends and versions go one at a time.
        self._send_lock = threading.RLock()
        super().__init__(**kwargs)
        self.open()

    # -- public API -------------------------------------------------------------------------

    @property
    def model_id(self) -> str:
        """The id of the model's comm ("" before it opens)."""
        return str(self._comm.comm_id) if self._comm is not None else ""

    @property
    def version(self) -> int:
        """The version of the synced state: grows by one with every patch sent."""
        return self._version

    def open(self) -> None:
        """Open the comm (done on creation; again after `close()` to revive the model)."""
        if self._comm is not None:
            return
        control.ensure_target()
        for name in self._sync_traits():
            self._state[name] = self._to_doc(name, getattr(self, name), None)
        self._state["_esm"] = load_source(type(self), "_esm")
        self._state["_css"] = load_source(type(self), "_css")
        self._version = 0
        data = {
            "protocol": PROTOCOL,
            "method": "open",
            "model": f"{type(self).__module__}.{type(self).__qualname__}",
            "version": 0,
            "state": to_wire(self._state),
        }
        paths, buffers = take_buffers(data, [["state", key] for key in self._state])
        data["buffer_paths"] = paths
        self._comm = comm.create_comm(target_name=TARGET, data=data, buffers=buffers)
        keep_on_main_shell(self._comm)
        self._comm.on_msg(self._handle_msg)
        control.register_model(self)
        watcher.add(self)

    def close(self) -> None:
        """Close the comm: views say the model is gone, and the model can be collected."""
        if self._comm is None:
            return
        control.unregister_model(self)
        self._comm.close()
        self._comm = None

    def hold_sync(self) -> AbstractContextManager[None]:
        """Group every change made inside the block into one patch message."""
        return self._holder

    def send(self, content: Any, buffers: list[bytes] | None = None) -> None:
        """Send a custom message to the views (`model.on("msg:custom", ...)` in JS)."""
        if self._comm is not None:
            self._comm.send({"method": "custom", "content": content}, buffers=buffers or [])

    def on_msg(self, callback: MessageCallback, remove: bool = False) -> None:
        """Call `callback(model, content, buffers)` for each custom message from a view."""
        if remove:
            self._msg_callbacks.remove(callback)
        else:
            self._msg_callbacks.append(callback)

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any]:
        return {
            "text/plain": repr(self),
            MIME_TYPE: {"model_id": self.model_id, "protocol": PROTOCOL},
        }

    def __repr__(self) -> str:
        fields = ", ".join(
            f"{name}={_short_repr(getattr(self, name))}" for name in self._sync_traits()
        )
        return f"{type(self).__name__}({fields})"

    # -- the state document -----------------------------------------------------------------

    @classmethod
    def _sync_traits(cls) -> dict[str, TraitType[Any, Any]]:
        cached: dict[str, TraitType[Any, Any]] | None = cls.__dict__.get("_sync_cache")
        if cached is None:
            cached = {n: t for n, t in cls.class_traits(sync=True).items() if not n.startswith("_")}
            for trait in cached.values():
                _watch_silent_sets(trait)
            cls._sync_cache = cached  # type: ignore[attr-defined]
        return cached

    @property
    def _syncstate_model_id(self) -> str:
        return self.model_id

    def _to_doc(self, name: str, value: Any, previous: Any) -> Any:
        """The document's value for a trait value; lists and dicts become tracked in place."""
        trait = self._sync_traits()[name]
        to_json = trait.metadata.get("to_json")
        if to_json is not None:
            return to_json(value, self)
        if isinstance(value, tuple):
            return to_wire(value)
        if not isinstance(value, (list, dict)):
            return wrap(value, None, None)
        slot = self._slots.get(name) or self._slots.setdefault(name, Slot(self, name))
        try:
            tracked = wrap(value, slot, name, reclaim=previous)
        except Exception:
            reattach_children(previous)
            raise
        self._trait_values[name] = tracked
        return tracked

    def _after_set(self, name: str, old: Any) -> None:
        """After every assignment of a synced trait (see `_watch_silent_sets`): catch what
        traitlets kept silent because the new value == the old one."""
        state = self.__dict__.get("_state")
        if state is None or self._comm is None or name not in state:
            return
        current = self._trait_values.get(name)
        if current is state[name] or "to_json" in self._sync_traits()[name].metadata:
            return  # the usual case: notify_change has synced it
        if not json_equal(old, current):
            # Equal in Python, not in JSON (1 == True): a change after all, so notify, which
            # also gets it cross-validated inside hold_trait_notifications.
            self._notify_trait(name, old, current)
        elif not self._cross_validation_lock:  # (while it is held, see _apply_atomically)
            self._keep_tracked(name)

    def _keep_tracked(self, name: str) -> None:
        """An equal value in a new object ([1] for [1]): nothing to send, but the trait must
        hold the tracked document, or later in-place edits of it would go unseen."""
        current, doc = self._trait_values.get(name), self._state[name]
        if current is not doc:
            self._sync_assignment(Bunch(name=name, old=doc, new=current, owner=self))

    def notify_change(self, change: Bunch) -> None:
        name = change["name"]
        if self._comm is not None and change["type"] == "change" and name in self._sync_traits():
            if self._undo_log is not None:
                self._committing = True  # an inbound edit passed validation; see _apply_edit
            with self._holder:  # the change and its observers' side effects: one message
                self._sync_assignment(change)
                super().notify_change(change)
            return
        super().notify_change(change)

    def _sync_assignment(self, change: Bunch) -> None:
        name = change["name"]
        old_doc = self._state[name]
        new = change["new"]
        scalar = type(new) in _SCALARS and type(old_doc) in _SCALARS
        if scalar and "to_json" not in self._sync_traits()[name].metadata:
            # The hot path of small updates: a scalar replaced by a scalar is one op.
            self._state[name] = new
            self._queue([{"op": "replace", "path": _pointer(name), "value": new}])
            return
        try:
            new_doc = self._to_doc(name, new, old_doc)
            ops = diff(old_doc, new_doc, format_pointer([name]))
            encoded = [_encode(op) for op in ops]
        except Exception as error:
            self._trait_values[name] = change["old"]
            raise TraitError(f"{name}: {error}") from error
        if isinstance(old_doc, _Node) and old_doc is not new_doc:
            old_doc._parent = None
        self._state[name] = new_doc
        change["new"] = self._trait_values[name]
        self._queue(encoded)

    def _on_mutation(
        self, name: str, ops: list[dict[str, Any]], undo: Callable[[], None] | None
    ) -> None:
        """Called by a tracked list or dict of trait `name` that was changed in place."""
        if self._undo_log is not None and undo is not None:
            self._queue([_encode(op) for op in ops])
            self._undo_log.append(undo)
            self._inbound_ops.setdefault(name, []).extend(ops)
            return  # observers run once the whole edit has passed validation
        with self.hold_sync():
            self._queue([_encode(op) for op in ops])
            self._notify_in_place(name, ops)

    def _notify_in_place(self, name: str, ops: list[dict[str, Any]]) -> None:
        value = getattr(self, name)
        change = Bunch(name=name, old=value, new=value, owner=self, type="change", ops=ops)
        super().notify_change(change)

    # -- outbound ---------------------------------------------------------------------------

    def _queue(self, ops: list[dict[str, Any]]) -> None:
        if self._comm is None or not ops:
            return
        self._outbox.extend(ops)
        if self._hold == 0:
            self._flush()

    def _reload_sources(self) -> None:
        """The view's files changed on disk (hot reload): send their new text."""
        with self._send_lock:
            for key in ("_esm", "_css"):
                text = load_source(type(self), key)
                if text != self._state[key]:
                    self._state[key] = text
                    self._outbox.append({"op": "replace", "path": "/" + key, "value": text})
            if self._hold == 0:
                self._flush()

    def _flush(self) -> None:
        with self._send_lock:
            self._flush_locked()

    def _flush_locked(self) -> None:
        if self._comm is None or not (self._outbox or self._acks):
            self._outbox = []
            return
        ops, self._outbox = self._outbox, []
        ack, self._acks = self._acks, []
        self._version += 1
        self._history.append((self._version, ops))
        data: dict[str, Any] = {"method": "patch", "version": self._version, "ops": ops}
        if ack:
            data["ack"] = ack  # omitted when empty: small updates are the hot path
        # Only values that can hold bytes are walked: a scalar update costs no walk.
        binary_roots: list[list[str | int]] = [
            ["ops", i] for i, op in enumerate(ops) if isinstance(op.get("value"), _BINARY_OR_TREE)
        ]
        if not binary_roots:
            self._comm.send(data)
            return
        paths, buffers = take_buffers(data, binary_roots)
        if paths:
            data["buffer_paths"] = paths
        self._comm.send(data, buffers=buffers)

    def _send_state(self) -> None:
        data = {"method": "state", "version": self._version, "state": to_wire(self._state)}
        paths, buffers = take_buffers(data, [["state", key] for key in self._state])
        data["buffer_paths"] = paths
        self._comm.send(data, buffers=buffers)

    def _reject(self, edit_id: str | None, code: str, message: str) -> None:
        if self._comm is not None:
            self._comm.send(
                {
                    "method": "reject",
                    "id": edit_id,
                    "version": self._version,
                    "code": code,
                    "message": message,
                }
            )

    # -- inbound ----------------------------------------------------------------------------

    def _handle_msg(self, msg: dict[str, Any]) -> None:
        """Entry point for every message from a frontend: nothing it sends may raise here."""
        data = msg.get("content", {}).get("data") if isinstance(msg, dict) else None
        try:
            if not isinstance(data, dict):
                raise ProtocolError(BAD_MESSAGE, "a message must be a JSON object")
            if not on_main_shell():
                raise ProtocolError(BAD_MESSAGE, NOT_MAIN_SHELL)
            method = data.get("method")
            if method == "patch":
                put_buffers(data, data.get("buffer_paths"), msg.get("buffers") or [])
                self._apply_edit(data)
            elif method == "sync":
                self._send_state()
            elif method == "custom":
                self._deliver_custom(data.get("content"), msg.get("buffers") or [])
            else:
                raise ProtocolError(UNKNOWN_METHOD, f"unknown method {method!r}")
        except ProtocolError as error:
            self._reject(edit_id_of(data), error.code, error.message)
        except PatchError as error:
            self._reject(edit_id_of(data), error.code, error.message)
        except Exception as error:
            log.exception("syncstate: unexpected error handling a frontend message")
            self._reject(edit_id_of(data), INTERNAL, f"{type(error).__name__}: {error}")

    def _deliver_custom(self, content: Any, buffers: list[Any]) -> None:
        for callback in list(self._msg_callbacks):
            try:
                callback(self, content, [bytes(b) for b in buffers])
            except Exception:
                log.exception("syncstate: a custom message handler failed")

    def _writable(self, name: str) -> bool:
        trait = self._sync_traits().get(name)
        return trait is not None and not (
            trait.metadata.get("read_only") or getattr(trait, "read_only", False)
        )

    def _check_access(self, ops: list[Any]) -> set[str]:
        """The trait names the ops write; refuses ops aimed anywhere else."""
        written: set[str] = set()
        for index, op in enumerate(ops):
            if not isinstance(op, dict) or not isinstance(op.get("path"), str):
                raise PatchError("bad_op", f"op {index} needs a string 'path'")
            kind = op.get("op")
            if kind == "copy" and not isinstance(op.get("from"), str):
                # Checked here because conflict checks read 'from' before apply_patch would.
                raise PatchError("bad_op", f"op {index} needs a string 'from'")
            targets = [op["path"]] if kind != "move" else [op["path"], op.get("from")]
            for position, pointer in enumerate(targets):
                if not isinstance(pointer, str):
                    raise PatchError("bad_op", f"op {index} needs a string 'from'")
                segments = parse_pointer(pointer)
                if not segments:
                    raise ProtocolError(FORBIDDEN, "the whole state cannot be replaced")
                name = segments[0]
                if kind == "test":
                    if name not in self._state:
                        raise PatchError("bad_path", f"op {index}: no field {name!r}")
                    continue
                if not self._writable(name):
                    raise ProtocolError(FORBIDDEN, f"op {index}: {name!r} is not writable here")
                removes = (kind == "remove" and position == 0) or (kind == "move" and position == 1)
                if removes and len(segments) == 1:
                    # The document always holds every field: a trait cannot be deleted.
                    raise ProtocolError(FORBIDDEN, f"op {index}: field {name!r} cannot be removed")
                written.add(name)
        return written

    def _apply_edit(self, data: dict[str, Any]) -> None:
        edit = parse_edit(data)
        written = self._check_access(edit.ops)
        find_conflict(edit, self._version, self._history)
        self._flush()  # anything queued before this edit leaves as its own version
        with self.hold_sync():
            self._apply_atomically(edit.ops, written)
            self._acks.append(edit.id)

    def _apply_atomically(self, ops: list[dict[str, Any]], written: set[str]) -> None:
        """Apply, validate, commit, notify; on a refusal restore every field and raise.

        Fields whose trait value is tracked are edited in place (an undo log restores them);
        the others are edited on a copy of their document value and then assigned, so that
        traitlets validates them all together inside `hold_trait_notifications`.
        """
        before = {name: self._state[name] for name in written}
        in_place = {name for name in written if self._tracks_in_place(name)}
        for name in written - in_place:
            self._state[name] = json_copy(self._state[name])
        outbox_mark = len(self._outbox)
        self._undo_log, self._inbound_ops, self._committing = [], {}, False
        try:
            apply_patch(self._state, ops)
            assigned = {
                n: self._from_json(n, self._state[n])
                for n in written
                if n not in in_place or self._state[n] is not before[n]
            }
            self._state.update({n: before[n] for n in assigned})
            assigned.update(self._coerced_in_place(in_place - assigned.keys()))
            with self.hold_trait_notifications():
                for name, value in assigned.items():
                    setattr(self, name, value)
            for name in assigned:
                self._keep_tracked(name)
        except Exception as error:
            # Once traitlets starts notifying (see notify_change), the edit is committed and
            # an exception comes from an observer: keep the change, report the observer.
            if self._committing:
                log.exception("syncstate: an observer failed after a frontend edit")
            else:
                self._roll_back(before, outbox_mark)
                if isinstance(error, TraitError):
                    raise ProtocolError(INVALID, str(error)) from error
                raise
        finally:
            self._undo_log = None
        for name, name_ops in self._inbound_ops.items():
            try:
                self._notify_in_place(name, name_ops)
            except Exception:
                log.exception("syncstate: an observer failed after a frontend edit")

    def _roll_back(self, before: dict[str, Any], outbox_mark: int) -> None:
        assert self._undo_log is not None
        for undo in reversed(self._undo_log):
            undo()
        self._state.update(before)
        for name, doc in before.items():
            if isinstance(doc, _Node):
                # traitlets' own rollback re-validated the old value into a plain copy: the
                # trait must hold the tracked document again, or its edits stop syncing.
                self._trait_values[name] = doc
        del self._outbox[outbox_mark:]

    def _coerced_in_place(self, names: set[str]) -> dict[str, Any]:
        """Validate values edited in place (cross-validation included); return coercions."""
        coerced = {}
        for name in names:
            value = self._state[name]
            validated = self._sync_traits()[name]._validate(self, value)
            if validated is not value and validated != value:
                coerced[name] = validated
        return coerced

    def _tracks_in_place(self, name: str) -> bool:
        """Whether frontend ops on this field can be applied to the trait's own value."""
        trait = self._sync_traits()[name]
        return (
            isinstance(self._state[name], _Node)
            and "from_json" not in trait.metadata
            and not _holds_models(trait)
        )

    def _from_json(self, name: str, value: Any) -> Any:
        trait = self._sync_traits()[name]
        from_json = trait.metadata.get("from_json")
        if from_json is not None:
            return from_json(value, self)
        if _holds_models(trait):
            return _resolve_refs(value)
        return value


class _Hold:
    """What `hold_sync()` returns. A class rather than a generator-based context manager:
    every change to a synced trait goes through it, so its cost counts."""

    __slots__ = ("model",)

    def __init__(self, model: Model) -> None:
        self.model = model

    def __enter__(self) -> None:
        self.model._hold += 1

    def __exit__(self, *exc: object) -> None:
        self.model._hold -= 1
        if self.model._hold == 0:
            self.model._flush()


LEAF_CLASSES.append(Model)
_ABSENT = object()
_SCALARS = frozenset({int, str, bool, type(None)})
_BINARY_OR_TREE = (bytes, dict, list)


@functools.cache
def _pointer(name: str) -> str:
    return format_pointer([name])


def _watch_silent_sets(trait: TraitType[Any, Any]) -> None:
    """Have a synced trait's `set` check for assignments that traitlets keeps silent.

    traitlets stores a new value without notifying when it == the old one ([1] == [1],
    1 == True), so notify_change never sees it. Wrapping `set` on the trait itself (not a
    Model.__setattr__) keeps every other attribute assignment of the model at full speed.
    """
    if "set" in vars(trait):
        return
    plain_set = trait.set

    name = str(trait.name)

    def set_and_check(obj: Any, value: Any) -> None:
        if not isinstance(obj, Model):
            plain_set(obj, value)
            return
        values = obj._trait_values
        old = values.get(name)
        plain_set(obj, value)
        # Inline for the hot path: the usual assignment has already been synced.
        if values.get(name) is not obj._state.get(name, _ABSENT):
            obj._after_set(name, old)

    trait.set = set_and_check  # type: ignore[method-assign]


def _encode(op: dict[str, Any]) -> dict[str, Any]:
    if "value" in op:
        return {**op, "value": to_wire(op["value"])}
    return op


def _holds_models(trait: Any) -> bool:
    if isinstance(trait, Instance) and isinstance(trait.klass, type):
        return issubclass(trait.klass, Model)
    inner = [getattr(trait, "_trait", None), getattr(trait, "_value_trait", None)]
    inner += list(getattr(trait, "_traits", None) or [])
    return any(t is not None and _holds_models(t) for t in inner)


def _resolve_refs(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(REF_PREFIX):
        model = control.live_model(value[len(REF_PREFIX) :])
        if model is None:
            raise TraitError(f"no live model {value!r}")
        return model
    if isinstance(value, dict):
        return {k: _resolve_refs(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_resolve_refs(v) for v in value]
    return value


def _short_repr(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."
