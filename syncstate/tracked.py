"""Lists and dicts that report their own in-place mutations as JSON Patch ops.

A synced list or dict trait holds a `TrackedList` / `TrackedDict`; so does every list or dict
inside it. Each node knows its parent and its key there, so a mutation deep inside
(`m.rows[3]["done"] = True`) becomes one op with the right path at once: no diff of the whole
value, no copy. A node lives in one place only: putting a node that already lives elsewhere
into a tree copies it, so that one object never stands for two paths.

A list element's index is kept exactly, but through a map: the element stores a key `k` and
its list a sign and a base, index = sign * k + base. Inserting or removing shifts one side of
the list: the base moves for the longer side and only the shorter side is renumbered, so a
change at either end renumbers nothing, `reverse()` flips the sign in O(1), and `sort()`
renumbers once, in the same pass as the sort. A node finds its index in O(1), always
(docs/design.md, "List indexes").

Tracking is lazy: a tracked container may hold plain dicts and lists (checked to be plain
JSON when they entered) and makes one its tracked child only when it is reached (indexing,
iteration, `get`, `items`, ...), so creating a model of a million rows copies the outer list
only. syncstate never changes a plain child in place, so plain children may be shared (with
the value the user assigned, or between trees); its own readers (`to_wire`, the diff, JSON
equality) read raw contents and reach nothing (docs/design.md, "Lazy tracking").
"""

from __future__ import annotations

import gc
import math
import operator
import weakref
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from itertools import compress, count, repeat
from typing import TYPE_CHECKING, Any, SupportsIndex, Union

from .patch import format_pointer
from .protocol import SyncError, check_text
from .serialize import Referable

if TYPE_CHECKING:
    from .model import Model

Op = dict[str, Any]
Undo = Callable[[], None]
_ATOMS = (str, int, bool, type(None), bytes)


class Slot:
    """The top of a tracked tree: one synced trait of one model (held weakly)."""

    __slots__ = ("_model", "may_hold_models", "name")

    def __init__(self, model: Model, name: str) -> None:
        self._model = weakref.ref(model)
        self.name = name
        #: Whether a model has entered the tree (or a subtree `wrap` adopted unseen) since the
        #: slot was made. Never reset: a view's child requests walk only such trees.
        self.may_hold_models = False

    def model(self) -> Model | None:
        return self._model()


Parent = Union["TrackedList", "TrackedDict", Slot, None]


class _Node:
    # The concrete classes hold the slots (a slotted base would clash with list/dict's layout);
    # mypy is shown the attributes here instead.
    if not TYPE_CHECKING:
        __slots__ = ()
    _parent: Parent
    _key: Any

    def __reduce_ex__(self, protocol: SupportsIndex) -> Any:
        # copy, deepcopy and pickle give plain containers, detached from any model.
        plain = dict(self) if isinstance(self, dict) else list(self)  # type: ignore[call-overload]
        return (type(plain), (plain,))

    def _locate(self) -> tuple[Slot, list[str | int]] | None:
        """The slot this node hangs from and the path below it, or None when detached."""
        segments: list[str | int] = []
        node: _Node = self
        while True:
            parent = node._parent
            if parent is None:
                return None
            if type(parent) is Slot:
                segments.reverse()
                return parent, segments
            key = node._key
            if isinstance(parent, TrackedList):
                key = parent._sign * key + parent._base
                if not (0 <= key < len(parent) and list.__getitem__(parent, key) is node):
                    return None  # no longer in this list: a detached leftover
            segments.append(key)
            node = parent  # type: ignore[assignment]

    def _emit(self, ops: list[tuple[str, str, Any]], undo: Undo | None) -> None:
        """Report ops (name, path below this node, value) to the owning model, if any."""
        where = self._locate()
        if where is None:
            return
        slot, segments = where
        model = slot.model()
        if model is None:
            return
        prefix = format_pointer([slot.name, *segments])
        full = [
            {"op": name, "path": prefix + suffix}
            if value is _NO_VALUE
            else {"op": name, "path": prefix + suffix, "value": value}
            for name, suffix, value in ops
        ]
        model._on_mutation(slot.name, full, undo)


_NO_VALUE = object()


def _escape(key: str | int) -> str:
    return format_pointer([key])


def detach(value: Any, plain_tree: bool | None = None) -> None:
    """`value` leaves its tree; `plain_tree`, when known (for many children of one node at
    once), is whether no model ever entered that tree."""
    if isinstance(value, _Node):
        plain = not _tree_may_hold_models(value._parent) if plain_tree is None else plain_tree
        value._parent = None
        # A detached node's key means nothing: it says instead that the node left a tree no
        # model had entered, so adopting it again (a move, an undo) needs no look inside.
        value._key = _FROM_PLAIN_TREE if plain else None


def _attach(value: Any, parent: TrackedList | TrackedDict, key: Any) -> None:
    if isinstance(value, _Node):
        value._parent = parent
        value._key = key
    elif type(value) in _PLAIN:
        parent._lazy = True  # a plain child is back (an undo): reached again on access


def reattach_children(node: Any) -> None:
    """Undo a failed `wrap(..., reclaim=node)`, which may have moved some children away."""
    children = (
        enumerate(list.__iter__(node))
        if isinstance(node, list)
        else (dict.items(node) if isinstance(node, dict) else ())
    )
    if isinstance(node, TrackedList):
        node._sign, node._base = 1, 0
    if not isinstance(node, (TrackedList, TrackedDict)):
        return
    for key, child in children:
        _attach(child, node, key)


@contextmanager
def gc_paused() -> Iterator[None]:
    """No cyclic garbage collection while a big value is wrapped: each new node is a container
    the collector would scan again and again as they pile up (a third of the time of wrapping
    a million rows). The nodes are kept, so there is nothing to collect meanwhile."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


class _Tally:
    """How many leaves `wrap` met whose wire form differs from themselves (bytes become
    buffers, models references): a caller that sees the count unchanged across a `wrap` of a
    plain value knows the tree is its own wire form (see Model.open)."""

    __slots__ = ("count",)

    def __init__(self) -> None:
        self.count = 0


wire_conversions = _Tally()
#: Leaves that are their own JSON, text aside (non-ASCII text is checked for lone surrogates).
_SELF_JSON = frozenset({int, bool, type(None)})
_new_dict = dict.__new__
_new_list = list.__new__


def wrap(value: Any, parent: Parent, key: Any, reclaim: object = None) -> Any:
    """`value` made fit to live at parent[key]: lists and dicts tracked, JSON leaves checked.

    A tracked node that is detached (or whose parent is `reclaim`, a tree being replaced) is
    adopted as it is; one that lives elsewhere is copied. So assigning a new list that holds
    the old list's rows re-parents the rows instead of copying them. A new container is copied
    in one C-level step and only its non-leaf children are wrapped after (the hot path of
    creating a big model: a million rows of a few fields each).
    """
    kind = type(value)
    if kind in _SELF_JSON:
        return value
    if kind is str:
        if not value.isascii():
            check_text(value)
        return value
    if kind is float:
        if not math.isfinite(value):
            raise ValueError(f"{value!r} cannot be synced: JSON has no such number")
        return value
    if isinstance(value, _Node) and (value._parent is None or value._parent is reclaim):
        if value._parent is None and value._key is not _FROM_PLAIN_TREE:
            _may_hold_models(parent)  # a subtree from elsewhere, adopted without a look inside
        value._parent = parent
        value._key = key
        return value
    # A tracked node's plain children were checked when they entered it.
    checked = isinstance(value, _Node)
    if isinstance(value, dict):
        node = _new_dict(TrackedDict)  # no Python-level __init__: a million rows, a million calls
        dict.update(node, value)
        node._parent, node._key, node._lazy = parent, key, False
        for k, v in dict.items(node):
            if type(k) is not str:
                if not isinstance(k, str):
                    raise TypeError(f"synced dict keys must be strings, not {type(k).__name__}")
            elif k.isascii() and (type(v) in _SELF_JSON or (type(v) is str and v.isascii())):
                continue
            check_text(k)
            if type(v) in _PLAIN and (checked or _plain_json(v)):
                node._lazy = True
                continue
            new = wrap(v, node, k, reclaim)
            if new is not v:
                dict.__setitem__(node, k, new)  # the size stays: iterating on is safe
        return node
    if isinstance(value, (list, tuple)):
        items = _new_list(TrackedList)
        list.extend(items, list.__iter__(value) if isinstance(value, TrackedList) else value)
        items._parent, items._key, items._sign, items._base = parent, key, 1, 0
        items._lazy = False
        rest: Iterable[tuple[int, Any]] = enumerate(list.__iter__(items))
        reach_now = False
        span = _adopt_unmoved(items, reclaim) if type(reclaim) is TrackedList else None
        if span is not None:
            start, stop = span
            rest = enumerate(list.__getitem__(items, slice(start, stop)), start)
            # A few new rows among tracked ones are tracked at once (costing less than the
            # adoption did), so that the list stays fully tracked: reading it scans nothing.
            reach_now = not items._lazy and 2 * (stop - start) <= len(items)
        for i, v in rest:
            leaf = type(v)
            if leaf in _SELF_JSON or (leaf is str and v.isascii()):
                continue
            if leaf in _PLAIN and (checked or _plain_json(v)):
                if reach_now:
                    list.__setitem__(items, i, _reached(v, items, items._stored(i)))
                else:
                    items._lazy = True  # kept as it is until reached
                continue
            # Inline fast path for the common case: rows kept from the list being replaced.
            if reclaim is not None and isinstance(v, _Node) and v._parent is reclaim:
                v._parent, v._key = items, items._stored(i)
                continue
            new = wrap(v, items, items._stored(i), reclaim)
            if new is not v:
                list.__setitem__(items, i, new)  # the size stays: iterating on is safe
        return items
    wire_conversions.count += 1
    if isinstance(value, (bytearray, memoryview)):
        return bytes(value)
    if isinstance(value, (str, int, bytes, Referable)):
        if isinstance(value, str):
            check_text(value)
        elif isinstance(value, Referable):
            _may_hold_models(parent)
        return value
    raise TypeError(
        f"a {kind.__name__} cannot be synced as JSON; give the trait a to_json/from_json"
    )


_PLAIN = frozenset({dict, list})


def _may_hold_models(parent: Parent) -> None:
    """Something under `parent` may be a model: its tree's slot is told (one climb, taken only
    when a model enters a tree, which `wrap` alone does), or a detached tree's top forgets that
    it left a plain tree."""
    while isinstance(parent, _Node):
        if parent._parent is None:
            parent._key = None
            return
        parent = parent._parent
    if isinstance(parent, Slot):
        parent.may_hold_models = True


def _tree_may_hold_models(parent: Parent) -> bool:
    while isinstance(parent, _Node):
        parent = parent._parent
    return not isinstance(parent, Slot) or parent.may_hold_models


#: The `_key` of a node detached from a tree that no model had entered (see `detach`).
_FROM_PLAIN_TREE = object()


def _adopt_unmoved(items: TrackedList, old: TrackedList) -> tuple[int, int] | None:
    """Adopt the leading and trailing elements of `items` that are the very objects at the same
    indexes of `old`, the list it replaces (the usual reassigned copy, as the diff finds them);
    return the span [start, stop) between them, to be wrapped.

    Such an element was checked when it entered `old` (a leaf, or plain JSON kept lazily) or is
    a tracked child of `old`: taking over `old`'s index map keeps its key, so only its parent
    changes. The runs are found at C speed; the loop visits the adopted elements only. If a
    tracked one has another parent (not expected), the adopted ones are given back and None
    says that every element is to be wrapped.
    """
    n = len(items)
    differs = map(operator.is_not, list.__iter__(items), list.__iter__(old))
    start = next(compress(count(), differs), min(n, len(old)))
    stop = n
    if n == len(old):  # with the same length, the elements after a change keep their indexes
        differs = map(operator.is_not, list.__reversed__(items), list.__reversed__(old))
        stop -= next(compress(count(), differs), n - start)
    unmoved = list.__getitem__(items, slice(0, start)) + list.__getitem__(items, slice(stop, n))
    for v in unmoved:
        if isinstance(v, _Node):
            if v._parent is not old:
                for adopted in unmoved:
                    if isinstance(adopted, _Node) and adopted._parent is items:
                        adopted._parent = old
                return None
            v._parent = items
    items._sign, items._base, items._lazy = old._sign, old._base, old._lazy
    return start, stop


def _plain_json(value: dict[Any, Any] | list[Any]) -> bool:
    """Whether a plain dict or list holds only plain JSON all the way down (text keys, valid
    text, finite numbers, plain dicts and lists), so that it can be kept as it is until reached.
    Anything else (bytes, tuples, models, subclasses, tracked nodes, bad values) is left to
    `wrap`, which converts it or says what is wrong. A dict's keys and values are checked in
    one loop (this runs once per row of a new model)."""
    pairs: Iterable[tuple[Any, Any]] = (
        dict.items(value) if type(value) is dict else zip(repeat(""), value)
    )
    for k, v in pairs:
        if type(k) is not str or not (k.isascii() or _valid_text(k)):
            return False
        kind = type(v)
        if kind in _SELF_JSON or (kind is str and v.isascii()):
            continue
        if not _plain_leaf_or_json(kind, v):
            return False
    return True


def _plain_leaf_or_json(kind: type, value: Any) -> bool:
    if kind is str:
        return _valid_text(value)
    if kind is float:
        return math.isfinite(value)
    return kind in _PLAIN and _plain_json(value)


def _valid_text(text: str) -> bool:
    try:
        check_text(text)
    except SyncError:
        return False
    return True


def _reached(value: dict[str, Any] | list[Any], parent: Any, key: Any) -> Any:
    """The tracked child for a plain one being reached: a shallow copy (its own children are
    reached in turn), so the plain value, perhaps the user's, is never changed."""
    if type(value) is dict:
        node = _new_dict(TrackedDict)
        dict.update(node, value)
        node._parent, node._key, node._lazy = parent, key, True
        return node
    items = _new_list(TrackedList)
    list.extend(items, value)
    items._parent, items._key, items._sign, items._base, items._lazy = parent, key, 1, 0, True
    return items


def plain_spine(value: Any) -> Any:
    """`value` with its tracked containers replaced by plain shallow copies, down to the plain
    children, for a JSON encoder: `json` reads a list or dict subclass through its Python
    methods, which would reach every child. Lists are scanned for tracked children at C speed,
    so a million unreached rows cost one pointer copy each."""
    if isinstance(value, list):
        items = list.__getitem__(value, slice(None))
        for i in compress(count(), map(isinstance, items, repeat(_Node))):
            items[i] = plain_spine(items[i])
        return items
    if isinstance(value, dict):
        return {k: plain_spine(v) if isinstance(v, _Node) else v for k, v in dict.items(value)}
    return value


class TrackedList(_Node, list[Any]):
    """A list that turns its mutations into ops; see the module docstring."""

    __slots__ = ("_base", "_key", "_lazy", "_parent", "_sign")

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self._parent = None
        self._key = None
        self._sign = 1
        self._base = 0
        #: Whether it may hold plain children not yet reached.
        self._lazy = True

    # -- reaching plain children (see the module docstring)

    def __getitem__(self, index: Any) -> Any:
        value = list.__getitem__(self, index)
        if type(value) not in _PLAIN:
            return value
        if isinstance(index, slice):
            if self._lazy:
                for i in range(*index.indices(len(self))):
                    self._reach(i)
            return list.__getitem__(self, index)
        return self._reach(self._position(index))

    def _reach(self, i: int) -> Any:
        value = list.__getitem__(self, i)
        if type(value) in _PLAIN:
            value = _reached(value, self, self._stored(i))
            list.__setitem__(self, i, value)
        return value

    def _reach_all(self) -> None:
        if not self._lazy:
            return
        with gc_paused():
            for i, value in enumerate(list.__iter__(self)):
                if type(value) in _PLAIN:
                    list.__setitem__(self, i, _reached(value, self, self._stored(i)))
        self._lazy = False

    def __iter__(self) -> Iterator[Any]:
        self._reach_all()
        return list.__iter__(self)

    def __reversed__(self) -> Iterator[Any]:
        self._reach_all()
        return list.__reversed__(self)

    def copy(self) -> list[Any]:
        self._reach_all()
        return list.copy(self)

    # -- index bookkeeping: a child at index i stores the key (i - base) * sign

    def _stored(self, index: int) -> int:
        return (index - self._base) * self._sign

    def _renumber(self, start: int, stop: int) -> None:
        """Give the children at [start, stop) the keys of the places they are at now."""
        sign, base = self._sign, self._base
        for i, item in enumerate(list.__getitem__(self, slice(start, stop)), start):
            if isinstance(item, _Node):
                item._key = (i - base) * sign

    def _shifted(self, start: int, stop: int, delta: int) -> None:
        """Places [start, stop) now hold new children and those after them moved by `delta`.

        Renumbers the shorter side only: the front explicitly, or the tail by moving the base
        (and then the front explicitly), so a change near either end costs O(1).
        """
        if delta and start < len(self) - stop:
            self._base += delta
            self._renumber(0, stop)
        else:
            self._renumber(start, len(self))

    def _reindexed(self) -> None:
        self._sign, self._base = 1, 0
        self._renumber(0, len(self))

    def _position(self, index: SupportsIndex, inserting: bool = False) -> int:
        i = operator.index(index)
        n = len(self)
        if i < 0:
            i += n
        if inserting:
            return min(max(i, 0), n)
        if not 0 <= i < n:
            raise IndexError("list index out of range")
        return i

    def __setitem__(self, index: Any, value: Any) -> None:
        if isinstance(index, slice):
            self._set_slice(index, value)
            return
        i = self._position(index)
        new = wrap(value, self, self._stored(i))
        old = list.__getitem__(self, i)
        list.__setitem__(self, i, new)
        detach(old)

        def undo() -> None:
            list.__setitem__(self, i, old)
            _attach(old, self, self._stored(i))

        self._emit([("replace", _escape(i), new)], undo)

    def insert(self, index: SupportsIndex, value: Any) -> None:
        i = self._position(index, inserting=True)
        new = wrap(value, self, None)
        list.insert(self, i, new)
        self._shifted(i, i + 1, 1)

        def undo() -> None:
            list.pop(self, i)
            self._shifted(i, i, -1)
            detach(new)

        self._emit([("add", _escape(i), new)], undo)

    def append(self, value: Any) -> None:
        self.insert(len(self), value)

    def extend(self, values: Iterable[Any]) -> None:
        start = len(self)
        new = [wrap(v, self, self._stored(start + j)) for j, v in enumerate(list(values))]
        list.extend(self, new)
        self._emit([("add", _escape(start + j), v) for j, v in enumerate(new)], None)

    def __iadd__(self, values: Iterable[Any]) -> TrackedList:  # type: ignore[misc]
        self.extend(values)
        return self

    def __imul__(self, count: SupportsIndex) -> TrackedList:
        n = operator.index(count)
        if n <= 0:
            self.clear()
        else:
            self.extend(list(self) * (n - 1))  # copies: each element lives in one place
        return self

    def pop(self, index: SupportsIndex = -1) -> Any:
        if not self:
            raise IndexError("pop from empty list")
        i = self._position(index)
        old = list.pop(self, i)
        self._shifted(i, i, -1)
        detach(old)

        def undo() -> None:
            list.insert(self, i, old)
            _attach(old, self, None)
            self._shifted(i, i + 1, 1)

        self._emit([("remove", _escape(i), _NO_VALUE)], undo)
        return old

    def remove(self, value: Any) -> None:
        self.pop(self.index(value))

    def __delitem__(self, index: Any) -> None:
        if not isinstance(index, slice):
            self.pop(index)
            return
        start, stop, step = index.indices(len(self))
        doomed = sorted(range(start, stop, step), reverse=True)
        plain = not _tree_may_hold_models(self)
        for i in doomed:
            detach(list.pop(self, i), plain)
        if step == 1:
            self._shifted(start, start, -len(doomed))
        else:
            self._reindexed()
        self._emit([("remove", _escape(i), _NO_VALUE) for i in doomed], None)

    def _set_slice(self, index: slice, values: Iterable[Any]) -> None:
        new_values = list(values)
        start, stop, step = index.indices(len(self))
        if step != 1:
            positions = list(range(start, stop, step))
            if len(positions) != len(new_values):
                raise ValueError(
                    f"attempt to assign sequence of size {len(new_values)} "
                    f"to extended slice of size {len(positions)}"
                )
            for i, v in zip(positions, new_values, strict=False):
                self[i] = v
            return
        stop = max(stop, start)
        old = list.__getitem__(self, slice(start, stop))
        wrapped = [wrap(v, self, None) for v in new_values]
        list.__setitem__(self, slice(start, stop), wrapped)
        self._shifted(start, start + len(wrapped), len(wrapped) - len(old))
        kept = {id(item) for item in wrapped}
        plain = not _tree_may_hold_models(self)
        for item in old:
            if id(item) not in kept:
                detach(item, plain)
        shared = min(len(old), len(wrapped))
        ops = [("replace", _escape(start + j), wrapped[j]) for j in range(shared)]
        ops += [("remove", _escape(start + shared), _NO_VALUE)] * (len(old) - shared)
        ops += [("add", _escape(start + j), wrapped[j]) for j in range(shared, len(wrapped))]
        self._emit(ops, None)

    def clear(self) -> None:
        plain = not _tree_may_hold_models(self)
        for item in list.__iter__(self):
            detach(item, plain)
        list.clear(self)
        self._sign, self._base = 1, 0
        self._emit([("replace", "", [])], None)

    def sort(self, *, key: Any = None, reverse: bool = False) -> None:
        list.sort(self, key=key, reverse=reverse)
        self._reindexed()
        self._emit([("replace", "", self)], None)

    def reverse(self) -> None:
        list.reverse(self)
        self._sign, self._base = -self._sign, len(self) - 1 - self._base
        self._emit([("replace", "", self)], None)


class TrackedDict(_Node, dict[str, Any]):
    """A dict that turns its mutations into ops; see the module docstring."""

    __slots__ = ("_key", "_lazy", "_parent")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._parent = None
        self._key = None
        #: Whether it may hold plain children not yet reached.
        self._lazy = True

    # -- reaching plain children (see the module docstring)

    def __getitem__(self, key: str) -> Any:
        value = dict.__getitem__(self, key)
        if type(value) in _PLAIN:
            value = _reached(value, self, key)
            dict.__setitem__(self, key, value)
        return value

    def get(self, key: str, default: Any = None) -> Any:
        return self[key] if dict.__contains__(self, key) else default

    def _reach_all(self) -> None:
        if self._lazy:
            for key, value in dict.items(self):
                if type(value) in _PLAIN:
                    dict.__setitem__(self, key, _reached(value, self, key))
            self._lazy = False

    def values(self) -> Any:
        self._reach_all()
        return dict.values(self)

    def items(self) -> Any:
        self._reach_all()
        return dict.items(self)

    def copy(self) -> dict[str, Any]:
        self._reach_all()
        return dict.copy(self)

    def __setitem__(self, key: str, value: Any) -> None:
        if not isinstance(key, str):
            raise TypeError(f"synced dict keys must be strings, not {type(key).__name__}")
        new = wrap(value, self, key)
        had = dict.__contains__(self, key)
        old = dict.get(self, key)
        dict.__setitem__(self, key, new)
        if had:
            detach(old)

        def undo() -> None:
            if had:
                dict.__setitem__(self, key, old)
                _attach(old, self, key)
            else:
                dict.pop(self, key)
            detach(new)

        self._emit([("replace" if had else "add", _escape(key), new)], undo)

    def __delitem__(self, key: str) -> None:
        old = dict.pop(self, key)
        detach(old)

        def undo() -> None:
            dict.__setitem__(self, key, old)
            _attach(old, self, key)

        self._emit([("remove", _escape(key), _NO_VALUE)], undo)

    _MISSING = object()

    def pop(self, key: str, default: Any = _MISSING) -> Any:
        if dict.__contains__(self, key):
            old = dict.__getitem__(self, key)
            del self[key]
            return old
        if default is TrackedDict._MISSING:
            raise KeyError(key)
        return default

    def popitem(self) -> tuple[str, Any]:
        if not self:
            raise KeyError("popitem(): dictionary is empty")
        key = next(reversed(self))
        return key, self.pop(key)

    def clear(self) -> None:
        plain = not _tree_may_hold_models(self)
        for value in dict.values(self):
            detach(value, plain)
        dict.clear(self)
        self._emit([("replace", "", {})], None)

    def update(self, *args: Any, **kwargs: Any) -> None:
        for key, value in dict(*args, **kwargs).items():
            self[key] = value

    def __ior__(self, other: Any) -> TrackedDict:  # type: ignore[override,misc]
        self.update(other)
        return self

    def setdefault(self, key: str, default: Any = None) -> Any:
        if not dict.__contains__(self, key):
            self[key] = default
        return self[key]
