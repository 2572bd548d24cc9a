"""One write from a frontend, all or nothing: an edit (`patch`) or a `create`.

A transaction goes through the same stages for both: parse (each pointer once), access (only
writable synced fields), limits (size, depth, number range, valid text), then for an edit
conflicts, apply, validate (traitlets), encode and commit; for a `create`, validate and
construct. Any refusal before the commit leaves everything as it was and raises `SyncError`.
It owns the edit's one undo log (`apply_patch` appends to it). docs/architecture.md.
"""

from __future__ import annotations

import logging
from collections.abc import Container, Mapping
from typing import TYPE_CHECKING, Any

from traitlets import Complex, Float, Int, TraitError, TraitType

from .patch import Op, Patch, PatchError, Undo, format_pointer, json_copy, parse_op
from .protocol import (
    BAD_PATH,
    FORBIDDEN,
    INVALID,
    TOO_LARGE,
    SyncError,
    check_text,
    check_value,
    limits,
)
from .size import document_size
from .tracked import _Node
from .validation import Changes, validate_in_place

if TYPE_CHECKING:
    from .model import Model

log = logging.getLogger("syncstate")
Fields = Mapping[str, TraitType[Any, Any]]


class Transaction:
    """An inbound write, checked for everything that does not need the document."""

    def __init__(self, fields: Fields, ops: list[Any], readable: Container[str]) -> None:
        """`fields`: the synced traits a frontend may write unless read-only; `readable`: the
        fields a `test` op may read."""
        self.fields = fields
        self.ops = [_parse(index, op) for index, op in enumerate(ops)]
        #: What the edit may still make the kernel broadcast (values carried, then copies).
        self.budget = limits.max_change_bytes
        #: What the edit may add to the document: the values it adds and copies.
        self.grows = 0
        self.written: set[str] = set()
        for index, op in enumerate(self.ops):
            self._check_access(index, op, readable)
            if op.kind in ("add", "replace", "test"):
                size = check_value(op.value, self.budget)
                self.budget -= size
                self.grows += size if op.kind != "test" else 0
        self.undo: list[Undo] = []
        #: In-place changes per field, for observers once the edit is committed.
        self.changes: dict[str, list[dict[str, Any]]] = {}
        self.committed = False
        self.undoing = False

    def _check_access(self, index: int, op: Op, readable: Container[str]) -> None:
        for pointer in (op.path, op.source) if op.source is not None else (op.path,):
            if not pointer:
                raise SyncError(FORBIDDEN, "the whole state cannot be replaced")
            name = pointer[0]
            if op.kind == "test":
                if name not in readable:
                    raise PatchError(BAD_PATH, f"op {index}: no field {name!r}")
                continue
            if not self._writable(name):
                raise SyncError(FORBIDDEN, f"op {index}: {name!r} is not writable here")
            removes = op.kind == "remove" or (op.kind == "move" and pointer is op.source)
            if removes and len(pointer) == 1:
                # The document always holds every field: a trait cannot be deleted.
                raise SyncError(FORBIDDEN, f"op {index}: field {name!r} cannot be removed")
            self.written.add(name)

    def _writable(self, name: str) -> bool:
        trait = self.fields.get(name)
        # `frontend_read_only` tag (model.FRONTEND_READ_ONLY), or traitlets' own `read_only`.
        return trait is not None and not (
            trait.metadata.get("frontend_read_only") or getattr(trait, "read_only", False)
        )

    # -- create -----------------------------------------------------------------------------

    def create(self, cls: type[Model]) -> Model:
        """Construct `cls` with the `replace` ops' values as its initial field values."""
        values = {}
        for op in self.ops:
            name = op.path[0]
            trait = self.fields[name]
            try:
                _refuse_bools_for_numbers(trait, op.value)
                values[name] = cls._field_value(name, op.value, None)
            except TraitError as error:
                raise SyncError(INVALID, str(error)) from error
        if self.grows > limits.max_document_bytes:
            raise SyncError(TOO_LARGE, f"a document over {limits.max_document_bytes} bytes")
        try:
            model = cls(**values)
        except TraitError as error:
            raise SyncError(INVALID, str(error)) from error
        model._channel.size.grew(self.grows)
        return model

    # -- edit -------------------------------------------------------------------------------

    def apply(self, model: Model) -> None:
        """Apply, validate, commit, notify; on a refusal restore every field and raise.

        Fields whose trait value is tracked are edited in place (the undo log restores them);
        the others are edited on a copy of their document value and then assigned, so that
        traitlets validates them all together inside `hold_trait_notifications`.
        """
        state = model._state
        before = {name: state[name] for name in self.written}
        in_place = {name for name in self.written if model._tracks_in_place(name)}
        for name in self.written - in_place:
            state[name] = json_copy(state[name])
        mark = model._channel.mark()
        version_before = model._channel.version
        model._transaction = self
        patch = Patch(state, self.undo)
        changes = Changes()
        try:
            self._apply_ops(patch, changes)
            model._channel.size.admit(self.grows, version_before, lambda: document_size(state))
            assigned = {
                n: model._field_value(n, state[n], model)
                for n in self.written
                if n not in in_place or state[n] is not before[n]
            }
            state.update({n: before[n] for n in assigned})
            for name in in_place - assigned.keys():
                value = validate_in_place(model, self.fields[name], name, changes, patch)
                if value is not state[name]:
                    assigned[name] = value
            with model.hold_trait_notifications():
                for name, value in assigned.items():
                    setattr(model, name, value)
            for name in assigned:
                model._keep_tracked(name)
        except Exception as error:
            # Once traitlets starts notifying (see Model.notify_change), the edit is committed
            # and an exception comes from an observer: keep the change, report the observer.
            if self.committed:
                log.exception("syncstate: an observer failed after a frontend edit")
            else:
                self._roll_back(model, before)
                model._channel.drop_since(mark)
                if isinstance(error, TraitError):
                    raise SyncError(INVALID, str(error)) from error
                raise
        finally:
            model._transaction = None
        for name, ops in self.changes.items():
            try:
                model._notify_in_place(name, ops)
            except Exception:
                log.exception("syncstate: an observer failed after a frontend edit")

    def _apply_ops(self, patch: Patch, changes: Changes) -> None:
        """Apply every op, noting in `changes` where the document changed."""
        for index, op in enumerate(self.ops):
            if op.kind in ("add", "replace"):
                _refuse_bools_for_numbers(self._trait_at(op.path), op.value)
            elif op.kind == "copy":
                self._spend_on_copy(patch, op)
            elif op.kind in ("remove", "move") and len(op.source or op.path) > 1:
                changes.removing(op.source or op.path, patch)
            patch.apply(index, op)
            if op.kind != "test" and op.kind != "remove" and len(op.path) > 1:
                changes.written(op.path, patch, inserted=op.kind != "replace")

    def _spend_on_copy(self, patch: Patch, op: Op) -> None:
        """A copy broadcasts its value again: count it before copying (amplification)."""
        assert op.source is not None
        try:
            source = patch.get(op.source)
        except PatchError:
            return  # applying the op reports it
        size = check_value(source, self.budget)
        self.budget -= size
        self.grows += size

    def _trait_at(self, path: list[str]) -> Any:
        """The trait that validates the value at `path`, as far as containers say."""
        trait: Any = self.fields.get(path[0])
        for segment in path[1:]:
            if trait is None:
                return None
            per_key = getattr(trait, "_per_key_traits", None) or {}
            trait = (
                per_key.get(segment)
                or getattr(trait, "_trait", None)
                or getattr(trait, "_value_trait", None)
            )
        return trait

    def record(self, name: str, ops: list[dict[str, Any]]) -> None:
        """In-place changes of field `name` made by applying the edit (see Model._on_mutation)."""
        if not self.undoing:
            self.changes.setdefault(name, []).extend(ops)

    def _roll_back(self, model: Model, before: dict[str, Any]) -> None:
        self.undoing = True
        Patch(model._state, self.undo).rollback()
        model._state.update(before)
        for name, doc in before.items():
            if isinstance(doc, _Node):
                # traitlets' own rollback re-validated the old value into a plain copy: the
                # trait must hold the tracked document again, or its edits stop syncing.
                model._trait_values[name] = doc


def create_ops(state: dict[str, Any]) -> list[dict[str, Any]]:
    """The initial field values of a `create` as the ops a transaction checks."""
    return [
        {"op": "replace", "path": format_pointer([key]), "value": v} for key, v in state.items()
    ]


def _parse(index: int, raw: Any) -> Op:
    try:
        op = parse_op(raw)
    except PatchError as error:
        raise PatchError(error.code, f"op {index}: {error.message}") from None
    for pointer in (op.path, op.source) if op.source is not None else (op.path,):
        if len(pointer) > limits.max_depth:
            raise SyncError(TOO_LARGE, f"op {index}: a path is deeper than {limits.max_depth}")
        for segment in pointer:
            check_text(segment)
    return op


def _refuse_bools_for_numbers(trait: Any, value: Any) -> None:
    """JSON `true` is not a number, though Python's bool is an int (and traitlets agrees)."""
    if trait is None:
        return
    if isinstance(value, bool):
        if isinstance(trait, (Int, Float, Complex)):
            raise TraitError(f"{trait.name or 'a number'}: expected a number, not {value}")
    elif isinstance(value, list):
        inner = getattr(trait, "_trait", None)
        for item in value:
            _refuse_bools_for_numbers(inner, item)
    elif isinstance(value, dict):
        per_key = getattr(trait, "_per_key_traits", None) or {}
        inner = getattr(trait, "_value_trait", None)
        for key, item in value.items():
            _refuse_bools_for_numbers(per_key.get(key) or inner, item)
