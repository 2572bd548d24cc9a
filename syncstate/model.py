"""`syncstate.Model`: traitlets traits tagged `sync=True`, mirrored to the frontend by JSON Patch.

The model keeps its synced state as one document, `{trait: json}`, version-numbered. Every
change made in Python (assignment or in-place mutation) leaves as ops in a `patch` message;
every frontend edit is applied atomically, validated by traitlets, and answered with either the
effective change (acknowledging the edit) or a rejection. docs/protocol.md is the contract.
"""

from __future__ import annotations

import functools
import logging
import warnings
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any, ClassVar

import comm
from traitlets import Bunch, HasTraits, Instance, TraitError, TraitType

from . import control
from .channel import Channel
from .commands import run_invoke
from .diff import diff
from .esm import load_source, watcher
from .messages import (
    edit_id_of,
    read_buffers,
    read_custom,
    read_edit,
    read_invoke,
    write_custom,
    write_open,
)
from .patch import format_pointer, json_equal
from .protocol import (
    CUSTOM,
    INTERNAL,
    MIME_TYPE,
    PATCH,
    REF_PREFIX,
    SYNC,
    TARGET,
    UNKNOWN_METHOD,
    SyncError,
    check_text,
)
from .saved import view_data
from .serialize import Referable, to_wire
from .shell import keep_on_main_shell, message_data, method_of
from .tracked import (
    Slot,
    _Node,
    detach,
    gc_paused,
    plain_spine,
    reattach_children,
    wire_conversions,
    wrap,
)
from .transaction import Transaction
from .widget import widget_view

log = logging.getLogger("syncstate")
MessageCallback = Callable[["Model", Any, list[bytes]], None]

#: Tag metadata: the frontend may not write this trait (its edits are rejected `forbidden`).
#: (Not `read_only`: that is traitlets' own constructor argument, which also forbids Python.)
FRONTEND_READ_ONLY = "frontend_read_only"


class Model(HasTraits, Referable):
    """Subclass me; traits tagged `sync=True` are mirrored to the frontend.

    Tag metadata: `frontend_read_only=True` (the frontend may not write it),
    `to_json(value, model)` / `from_json(json, model)` (custom serialisation; such traits are
    synced by assignment only).
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
        self._channel = Channel()
        #: The frontend edit being applied, if any (see `_on_mutation`, `notify_change`).
        self._transaction: Transaction | None = None
        self._msg_callbacks: list[MessageCallback] = []
        self._sync_traits()  # the traitlets hook is in place before the first assignment
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
        return self._channel.version

    def open(self) -> None:
        """Open the comm (done on creation; again after `close()` to revive the model)."""
        if self._comm is not None:
            return
        control.ensure_target()
        wire, converted = self._wrap_state()
        data, buffers = write_open(control.class_name(type(self)), wire, converted)
        self._comm = comm.create_comm(target_name=TARGET, data=data, buffers=buffers)
        keep_on_main_shell(self._comm)
        self._comm.on_msg(self._handle_msg)
        self._comm.on_close(self._closed_by_frontend)
        self._channel.opened(self._comm)
        control.register_model(self)
        watcher.add(self)

    def _wrap_state(self) -> tuple[dict[str, Any], list[str]]:
        """Make the state document and its wire form in one pass; return the wire form and the
        fields in it that were converted (the only ones that may hold binary values).

        A field that `wrap` walked whole without meeting bytes or models is its own wire
        form: it is sent as its plain spine (the comm serialises it at once; `json` would read
        a tracked list through its methods and reach every row), with no copy of the rows and
        no walk for buffers. The others are copied by `to_wire`, as every outgoing op is.
        """
        wire: dict[str, Any] = {}
        converted = []
        for name, trait in self._sync_traits().items():
            value = getattr(self, name)
            before = wire_conversions.count
            doc = self._state[name] = self._to_doc(name, value, None)
            walked = "to_json" not in trait.metadata and not isinstance(value, (_Node, tuple))
            if walked and wire_conversions.count == before:
                wire[name] = plain_spine(doc)
            else:
                wire[name] = to_wire(doc)
                converted.append(name)
        for key in ("_esm", "_css"):
            wire[key] = self._state[key] = load_source(type(self), key)
        return wire, converted

    def close(self) -> None:
        """Close the comm: views say the model is gone, and the model can be collected."""
        if self._comm is None:
            return
        control.unregister_model(self)
        self._comm.close()
        self._comm = None
        self._channel.closed()

    def _closed_by_frontend(self, msg: Any) -> None:
        """A frontend closed the model's comm: the comm closes for everyone (the kernel tells
        the other frontends itself) and the model leaves `list`. The model itself stays open,
        with its id: every frontend without syncstate's comm target closes the comm on seeing
        it open, and such a frontend shows the model through its widget comm (widget.py)."""
        closed = self._comm
        if closed is None or self._channel.comm is None:
            return
        control.unregister_model(self)
        self._channel.comm_closed()
        closed.publish_msg("comm_close", data={})

    def hold_sync(self) -> AbstractContextManager[None]:
        """Group every change made inside the block into one patch message."""
        return self._channel

    def send(self, content: Any, buffers: list[bytes] | None = None) -> None:
        """Send a custom message to the views (`model.on("msg:custom", ...)` in JS)."""
        if self._comm is not None:
            self._channel.send(write_custom(content), buffers or [])

    def on_msg(self, callback: MessageCallback, remove: bool = False) -> None:
        """Call `callback(model, content, buffers)` for each custom message from a view."""
        if remove:
            self._msg_callbacks.remove(callback)
        else:
            self._msg_callbacks.append(callback)

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any]:
        # The state travels with the output, so that it can be shown without the kernel; the
        # widget view is for frontends that render only Jupyter widgets.
        return {
            "text/plain": repr(self),
            MIME_TYPE: view_data(self),
            **widget_view(self),
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
                _rename_read_only_tag(cls, trait)
                _watch_silent_sets(trait)
            cls._sync_cache = cached  # type: ignore[attr-defined]
        return cached

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
            with gc_paused():
                tracked = wrap(value, slot, name, reclaim=previous)
        except Exception:
            reattach_children(previous)
            raise
        self._trait_values[name] = tracked
        return tracked

    def _may_hold_models(self, name: str) -> bool:
        """Whether field `name`'s document may hold models: false only for a tracked tree that
        no model has entered (`Slot.may_hold_models`), so that finding the models a state holds
        need not walk a million rows of plain data."""
        document = self._state.get(name)
        if not isinstance(document, _Node):
            return isinstance(document, (dict, list, tuple, Referable))
        slot = self._slots.get(name)
        return slot is None or document._parent is not slot or slot.may_hold_models

    def _changes_by_replacing(self, name: str) -> bool:
        """Whether field `name`'s document is never edited in place (it is not tracked: a
        custom `to_json`, a tuple, a scalar, a model), so the same object holds the same."""
        return not isinstance(self._state.get(name), _Node)

    def _after_silent_set(self, name: str, old: Any) -> None:
        """traitlets stored a value of synced trait `name` that is not the document, and kept
        quiet if it == `old` (the hook: `_watch_silent_sets`)."""
        if self._comm is None or name not in self._state:
            return  # not open yet: `open` reads every value
        if "to_json" in self._sync_traits()[name].metadata:
            return  # its document is never the value: notify_change has synced it
        current = self._trait_values[name]
        if not json_equal(old, current):
            # Equal in Python, not in JSON (1 == True): a change after all, so notify, which
            # also gets it cross-validated inside hold_trait_notifications.
            self._notify_trait(name, old, current)
        elif not self._cross_validation_lock:
            # (Held, the assignment may yet be rolled back: a Transaction keeps its fields
            # tracked once they have passed.)
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
            if self._transaction is not None:
                self._transaction.committed = True  # the inbound edit passed validation
            with self._channel:  # the change and its observers' side effects: one message
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
            if type(new) is str and not new.isascii():
                self._refuse_unsendable_text(name, new, change["old"])
            self._state[name] = new
            self._queue([{"op": "replace", "path": _pointer(name), "value": new}])
            return
        try:
            new_doc = self._to_doc(name, new, old_doc)
            ops = diff(old_doc, new_doc, format_pointer([name]))
            encoded = [_encode(op) for op in ops]
        except Exception as error:
            reattach_children(old_doc)  # the new document may have adopted its children
            self._trait_values[name] = change["old"]
            raise TraitError(f"{name}: {error}") from error
        if old_doc is not new_doc:
            detach(old_doc)
        self._state[name] = new_doc
        change["new"] = self._trait_values[name]
        self._queue(encoded)

    def _refuse_unsendable_text(self, name: str, text: str, old: Any) -> None:
        """Text that cannot be sent (a lone surrogate) never becomes state."""
        try:
            check_text(text)
        except SyncError as error:
            self._trait_values[name] = old
            raise TraitError(f"{name}: {error.message}") from None

    def _on_mutation(
        self, name: str, ops: list[dict[str, Any]], undo: Callable[[], None] | None
    ) -> None:
        """Called by a tracked list or dict of trait `name` that was changed in place."""
        encoded = [_encode(op) for op in ops]
        if self._transaction is not None:
            # Observers run once the whole edit has passed validation; its undo log is
            # the transaction's own (the tracked containers' `undo` is not needed).
            self._channel.queue(encoded)
            self._transaction.record(name, ops)
            return
        with self._channel:
            self._channel.queue(encoded)
            self._notify_in_place(name, ops)

    def _notify_in_place(self, name: str, ops: list[dict[str, Any]]) -> None:
        value = getattr(self, name)
        change = Bunch(name=name, old=value, new=value, owner=self, type="change", ops=ops)
        super().notify_change(change)

    # -- outbound ---------------------------------------------------------------------------

    def _queue(self, ops: list[dict[str, Any]]) -> None:
        self._channel.queue(ops)

    def _reload_sources(self) -> None:
        """The view's files changed on disk (hot reload): send their new text."""
        with self._channel.lock, self._channel:
            for key in ("_esm", "_css"):
                text = load_source(type(self), key)
                if text != self._state[key]:
                    self._state[key] = text
                    self._channel.queue([{"op": "replace", "path": "/" + key, "value": text}])

    # -- inbound ----------------------------------------------------------------------------

    def _handle_msg(self, msg: dict[str, Any]) -> None:
        """Entry point for every message from a frontend: nothing it sends may raise here."""
        data = message_data(msg)
        try:
            method = method_of(data)
            if method == PATCH:
                self._apply_edit(read_buffers(data, msg.get("buffers") or []))
            elif method == SYNC:
                self._channel.send_state(self._state)
            elif method == CUSTOM:
                self._deliver_custom(read_custom(data), msg.get("buffers") or [])
            else:
                raise SyncError(UNKNOWN_METHOD, f"unknown method {method!r}")
        except SyncError as error:
            self._channel.reject(edit_id_of(data), error.code, error.message)
        except Exception as error:
            log.exception("syncstate: unexpected error handling a frontend message")
            self._channel.reject(edit_id_of(data), INTERNAL, f"{type(error).__name__}: {error}")

    def _deliver_custom(self, content: Any, buffers: list[Any]) -> None:
        invoke = read_invoke(content)
        if invoke is not None:
            run_invoke(self, invoke, [bytes(b) for b in buffers])
            return
        for callback in list(self._msg_callbacks):
            try:
                callback(self, content, [bytes(b) for b in buffers])
            except Exception:
                log.exception("syncstate: a custom message handler failed")

    def _apply_edit(self, data: dict[str, Any]) -> None:
        edit = read_edit(data)
        transaction = Transaction(self._sync_traits(), edit.ops, readable=self._state)
        self._channel.history.check(edit.base, self._channel.version, transaction.ops)
        self._channel.flush()  # anything queued before this edit leaves as its own version
        with self._channel:
            transaction.apply(self)
            self._channel.ack(edit.id)

    def _tracks_in_place(self, name: str) -> bool:
        """Whether frontend ops on this field can be applied to the trait's own value."""
        trait = self._sync_traits()[name]
        return (
            isinstance(self._state[name], _Node)
            and "from_json" not in trait.metadata
            and not _holds_models(trait)
        )

    @classmethod
    def _field_value(cls, name: str, value: Any, model: Model | None) -> Any:
        """The trait value for a document value (`model` is None while `create` makes it)."""
        trait = cls._sync_traits()[name]
        from_json = trait.metadata.get("from_json")
        if from_json is not None:
            return from_json(value, model)
        if _holds_models(trait):
            return _resolve_refs(value)
        return value


_ABSENT = object()
_SCALARS = frozenset({int, str, bool, type(None)})


@functools.cache
def _pointer(name: str) -> str:
    return format_pointer([name])


def _rename_read_only_tag(cls: type, trait: TraitType[Any, Any]) -> None:
    """The former tag `read_only=True` still works, with a DeprecationWarning."""
    if trait.metadata.get("read_only") and not trait.metadata.get(FRONTEND_READ_ONLY):
        warnings.warn(
            f"{cls.__name__}.{trait.name}: the tag `read_only=True` is deprecated (traitlets "
            f"takes it for its own argument); use `.tag(sync=True, {FRONTEND_READ_ONLY}=True)`",
            DeprecationWarning,
            stacklevel=5,
        )
        trait.metadata[FRONTEND_READ_ONLY] = True


def _watch_silent_sets(trait: TraitType[Any, Any]) -> None:
    """The one traitlets hook: wrap the synced trait's `TraitType.set(obj, value)`.

    Every way of assigning a trait ends in that public method (attribute assignment,
    `HasTraits.set_trait`, constructor keywords, `hold_trait_notifications`' final
    cross-validation and roll-back), and traitlets' own `List` and `Set` override it. It stores
    the value but notifies only when `old != new`, so `notify_change` never sees an assignment
    of 1 where True was, or of a new `[1]` where `[1]` was: equal in Python, not the same
    document. After `set`, `Model._after_silent_set` catches those. The wrapper sits on the trait
    itself (not `Model.__setattr__`), so other attribute assignments keep full speed.
    tests/python/test_traitlets_hook.py fails if traitlets changes any of this.
    """
    if "set" in vars(trait):
        return
    plain_set = trait.set
    name = str(trait.name)

    def set_and_check(obj: Model, value: Any) -> None:
        values = obj._trait_values
        old = values.get(name)
        if value is old and obj._cross_validation_lock:
            # traitlets setting back the value it has just validated and cross-validated
            # (HasTraits.__init__, hold_trait_notifications): validating it again would copy
            # a big list a second time, for the same value.
            return
        plain_set(obj, value)
        # The usual assignment was synced by notify_change: its value is the document.
        if values.get(name) is not obj._state.get(name, _ABSENT):
            obj._after_silent_set(name, old)

    trait.set = set_and_check  # type: ignore[method-assign,assignment]


def _encode(op: dict[str, Any]) -> dict[str, Any]:
    if "value" in op:
        return {**op, "value": to_wire(op["value"])}
    return op


@functools.cache  # traits live as long as their classes; each edit asks again
def _holds_models(trait: Any) -> bool:
    """Whether the trait's values may hold models: an `Instance` of a model class, or a
    container (itself an `Instance` of list, dict, …) with such a trait inside."""
    klass = trait.klass if isinstance(trait, Instance) else None
    if isinstance(klass, type) and issubclass(klass, Model):
        return True
    inner = [getattr(trait, "_trait", None), getattr(trait, "_value_trait", None)]
    inner += list(getattr(trait, "_traits", None) or [])  # Tuple
    inner += list((getattr(trait, "_per_key_traits", None) or {}).values())  # Dict(per_key_traits)
    inner += list(getattr(trait, "trait_types", None) or [])  # Union
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


def _short_repr(value: Any, limit: int = 40) -> str:
    """`repr(value)` cut to `limit` characters, at a cost bounded by the limit: a list or dict
    shows only the first elements that fit (the repr of a million rows is a 55 MB string)."""
    if isinstance(value, dict):
        items = dict.items(value)  # raw: a repr reaches nothing (tracked.py)
        inner = (f"{_short_repr(k, limit)}: {_short_repr(v, limit)}" for k, v in items)
        text = "{" + _first_that_fit(inner, limit) + "}"
    elif isinstance(value, (list, tuple)):
        values = value if isinstance(value, tuple) else list.__iter__(value)
        inner = (_short_repr(v, limit) for v in values)
        text = "[" + _first_that_fit(inner, limit) + "]"
    elif isinstance(value, (str, bytes)) and len(value) > limit:
        text = repr(value[:limit])
    else:
        text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _first_that_fit(parts: Iterator[str], limit: int) -> str:
    shown: list[str] = []
    size = 0
    for part in parts:
        if size > limit:
            shown.append("...")
            break
        shown.append(part)
        size += len(part) + 2
    return ", ".join(shown)
