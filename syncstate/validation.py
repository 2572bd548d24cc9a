"""Validate only what a frontend edit changed, with traitlets' own semantics.

traitlets validates a container trait by validating every element: a `List(Dict())` of 1M rows
takes 0.8 s for a one-field edit. An edit applied in place changes a few paths, so for each
one this walks down the trait tree beside the document: the container checks of each level
passed (a `List`'s length) and the element trait's `_validate` on the changed value only,
raised through the container's own error reporting exactly as traitlets' `validate_elements`
does (the same message). Where a trait is not a plain `List` or `Dict` (a subclass, a `Union`,
a custom type), the value at that level is validated whole, as traitlets would. The field's
cross-validator (`@validate`) still gets the whole proposal. docs/design.md, "Validating what
an edit changed".
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from traitlets import Any as AnyTrait
from traitlets import Dict, List, TraitError, TraitType

from .patch import Op, Patch, PatchError

if TYPE_CHECKING:
    from .model import Model

Path = tuple[str, ...]


class Changes:
    """The paths an edit changed, in the coordinates of the document after the whole edit.

    Each path maps to True when the value there is new (validate it whole) or False when only
    a child was removed (check the container itself). An op that inserts or removes a list
    element shifts the indexes of the paths recorded before it, so every path still names the
    value it named (or is dropped with the element it was in).
    """

    #: Beyond this many paths, a field is validated whole: each op shifts every path noted
    #: before it, and an edit may carry 10,000 ops.
    most = 32

    def __init__(self) -> None:
        self.paths: dict[Path, bool] = {}
        #: Fields changed in too many places: validated whole, as traitlets does.
        self.whole: set[str] = set()

    def removing(self, path: list[str], patch: Patch) -> None:
        """Before `path` is removed (a `remove`, or the source of a `move`)."""
        if self._too_many(path[0]):
            return
        parent = tuple(path[:-1])
        try:
            is_list = isinstance(patch.get(path[:-1]), list)
            index = int(path[-1]) if is_list else 0
        except (PatchError, ValueError):
            return  # applying the op reports it
        if is_list:
            self._shift(parent, index, -1)
        else:
            self._drop_under((*parent, path[-1]))
        self.paths.setdefault(parent, False)

    def written(self, path: list[str], patch: Patch, inserted: bool) -> None:
        """After a value was written at `path` (inserted into a list by `add`, `copy`, `move`)."""
        if self._too_many(path[0]):
            return
        container = patch.get(path[:-1])
        at = list(path)
        if isinstance(container, list) and path[-1] == "-":
            at[-1] = str(len(container) - 1)
        if inserted and isinstance(container, list):
            self._shift(tuple(at[:-1]), int(at[-1]), 1)
        self._drop_under(tuple(at))
        self.paths[tuple(at)] = True

    def of(self, name: str) -> list[tuple[Path, bool]]:
        if name in self.whole:
            return [((name,), True)]
        return [(path, whole) for path, whole in self.paths.items() if path[0] == name]

    def _too_many(self, name: str) -> bool:
        if len(self.paths) >= self.most:
            self.whole.update(path[0] for path in self.paths)
            self.paths.clear()
        return name in self.whole

    def _drop_under(self, top: Path) -> None:
        depth = len(top)
        self.paths = {p: w for p, w in self.paths.items() if p[:depth] != top}

    def _shift(self, parent: Path, index: int, delta: int) -> None:
        depth = len(parent)
        shifted: dict[Path, bool] = {}
        for path, whole in self.paths.items():
            if len(path) > depth and path[:depth] == parent:
                k = int(path[depth])
                if delta < 0 and k == index:
                    continue  # the element is gone, and what it held with it
                if k >= index:
                    path = (*parent, str(k + delta), *path[depth + 1 :])
            shifted[path] = shifted.get(path, False) or whole
        self.paths = shifted


def validate_in_place(
    model: Model, trait: TraitType[Any, Any], name: str, changes: Changes, patch: Patch
) -> Any:
    """Validate field `name`, edited in place, where `changes` say; return the field's value,
    which differs from the document's when the field's trait or cross-validator coerced it.
    Element coercions are written back into the document through `patch` (undone with it)."""
    value = patch.root[name]
    for path, whole in changes.of(name):
        validated = _check(model, trait, value, path, 1, whole, patch)
        if validated is not value and validated != value:
            return validated  # the field's own trait coerced it: assigned whole, as before
    if model._cross_validation_lock:
        return value
    proposed = trait._cross_validate(model, value)
    return value if proposed is value or proposed == value else proposed


def _check(
    model: Model, trait: Any, value: Any, path: Path, depth: int, whole: bool, patch: Patch
) -> Any:
    """Validate `value`, which is `trait`'s at path[:depth] and changed at path[depth:]."""
    rest = path[depth:]
    if rest or not whole:
        kind = type(trait)
        try:
            if kind is List and isinstance(value, list):
                return _check_list(model, trait, value, path, depth, whole, patch)
            if kind is Dict and isinstance(value, dict):
                return _check_dict(model, trait, value, path, depth, whole, patch)
        except (IndexError, KeyError, ValueError):
            pass  # the path is not where the value is: validate the value whole
    # The field's own trait: `validate` only (the cross-validator runs once, at the end).
    if depth > 1:
        validated = trait._validate(model, value)
    else:
        validated = trait.validate(model, value) if hasattr(trait, "validate") else value
    if depth > 1 and validated is not value and validated != value:
        patch.apply(0, Op("replace", list(path[:depth]), None, validated, {}))
    return validated


def _check_list(
    model: Model, trait: Any, items: list[Any], path: Path, depth: int, whole: bool, patch: Patch
) -> Any:
    if not trait._minlen <= len(items) <= trait._maxlen:
        trait.length_error(model, items)
    element = trait._trait
    if depth < len(path) and element is not None and not isinstance(element, AnyTrait):
        child = items[int(path[depth])]
        try:
            _check(model, element, child, path, depth + 1, whole, patch)
        except TraitError as error:
            trait.error(model, child, error)
    return items


def _check_dict(
    model: Model,
    trait: Any,
    mapping: dict[str, Any],
    path: Path,
    depth: int,
    whole: bool,
    patch: Patch,
) -> Any:
    if depth == len(path):
        return mapping
    key = path[depth]
    child = mapping[key]
    key_trait = trait._key_trait
    if key_trait:
        try:
            key_trait._validate(model, key)
        except TraitError:
            trait.element_error(model, key, key_trait, "Keys")
    value_trait = (trait._per_key_traits or {}).get(key, trait._value_trait)
    if value_trait:
        try:
            _check(model, value_trait, child, path, depth + 1, whole, patch)
        except TraitError:
            trait.element_error(model, child, value_trait, "Values")
    return mapping
