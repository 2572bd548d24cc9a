"""RFC 6902 JSON Patch applied in place, atomically, at a cost proportional to the patch.

Containers are changed only through ``insert``, ``append``, ``pop``, ``__setitem__`` (lists)
and ``__setitem__``, ``pop`` (dicts), because the model's tracked containers override exactly
those to emit change events and keep parent links.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from itertools import repeat
from typing import Any, NamedTuple

from .protocol import BAD_OP, BAD_PATH, TEST_FAILED, SyncError
from .serialize import Referable, ref_text

__all__ = [
    "Op",
    "Patch",
    "PatchError",
    "apply_patch",
    "format_pointer",
    "json_copy",
    "json_equal",
    "parse_op",
    "parse_pointer",
]

_OPS = frozenset({"add", "remove", "replace", "move", "copy", "test"})
_INDEX = re.compile(r"0|[1-9][0-9]*")
_BAD_ESCAPE = re.compile(r"~(?![01])")


#: A patch that cannot be applied; the protocol's one error type (``code``, ``message``).
PatchError = SyncError
Undo = Callable[[], object]


class Op(NamedTuple):
    """One operation, checked for shape, its pointers parsed (once)."""

    kind: str
    path: list[str]
    #: The parsed 'from' of move and copy, else None.
    source: list[str] | None
    #: The 'value' of add, replace and test, else None.
    value: Any
    raw: Mapping[str, Any]


def parse_op(op: object) -> Op:
    """Check an operation's shape and parse its pointers; PatchError when malformed."""
    if not isinstance(op, Mapping):
        raise PatchError(BAD_OP, f"an operation is an object, not {type(op).__name__}")
    kind = op.get("op")
    if not isinstance(kind, str) or kind not in _OPS:
        raise PatchError(BAD_OP, f"unknown op {kind!r}")
    path = _pointer_member(op, "path")
    value = _member(op, "value") if kind in ("add", "replace", "test") else None
    source = _pointer_member(op, "from") if kind in ("move", "copy") else None
    return Op(
        kind, parse_pointer(path), None if source is None else parse_pointer(source), value, op
    )


def parse_pointer(path: str) -> list[str]:
    """RFC 6901: "" -> [], "/a~1b/~0c" -> ["a/b", "~c"]."""
    if path == "":
        return []
    if not path.startswith("/"):
        raise PatchError(BAD_PATH, f"pointer {path!r} does not start with '/'")
    if "~" not in path:  # the usual pointer: nothing to unescape (every small update parses one)
        return path[1:].split("/")
    if _BAD_ESCAPE.search(path):
        raise PatchError(BAD_PATH, f"pointer {path!r} has a '~' not followed by '0' or '1'")
    # "~1" first: "~01" must become "~1", not "/".
    return [s.replace("~1", "/").replace("~0", "~") for s in path[1:].split("/")]


def format_pointer(segments: Sequence[str | int]) -> str:
    """The RFC 6901 pointer for ``segments``; the inverse of `parse_pointer`."""
    pointer = "/" + "/".join(map(str, segments)) if segments else ""
    if "~" not in pointer and pointer.count("/") == len(segments):
        return pointer  # the usual pointer: nothing to escape (every edit's echo formats one)
    return "".join("/" + str(s).replace("~", "~0").replace("/", "~1") for s in segments)


def json_equal(a: Any, b: Any, refs_as_text: bool = False) -> bool:
    """JSON equality: True != 1, 1 == 1.0, dicts and lists deeply, anything else by ==.

    `refs_as_text`: a model also equals its reference text (`"syncstate:<id>"`), as a page
    sees it (a page's `test` op). Nowhere else: the diff must see a model put where its
    reference text was, since which models a state holds changes."""
    if a is b:
        return True
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b
    # Raw contents: tracked values' plain children are compared, not reached (tracked.py).
    if isinstance(a, dict):
        return (
            isinstance(b, dict)
            and len(a) == len(b)
            and all(
                k in b and json_equal(v, dict.__getitem__(b, k), refs_as_text)
                for k, v in dict.items(a)
            )
        )
    if isinstance(a, list):
        return (
            isinstance(b, list)
            and len(a) == len(b)
            and all(map(json_equal, list.__iter__(a), list.__iter__(b), repeat(refs_as_text)))
        )
    if isinstance(b, (dict, list)):
        return False
    if refs_as_text:
        a, b = _as_sent(a), _as_sent(b)
    try:
        return bool(a == b)
    except (TypeError, ValueError):
        # e.g. numpy arrays, whose == has no single truth value: "different" is the safe answer.
        return False


def _as_sent(value: Any) -> Any:
    return ref_text(value) if isinstance(value, Referable) else value


def json_copy(value: Any) -> Any:
    """Deep copy into plain dicts and lists; leaves are shared, not copied."""
    if isinstance(value, dict):
        return {k: json_copy(v) for k, v in dict.items(value)}
    if isinstance(value, list):
        return [json_copy(v) for v in list.__iter__(value)]
    return value


def apply_patch(
    doc: Any, ops: Sequence[Mapping[str, Any] | Op], undo: list[Undo] | None = None
) -> Any:
    """Apply ``ops`` (raw or parsed) to ``doc`` in place, all or nothing; return the result.

    The result is a new object only when an op targets the root (""). On failure every op
    already applied is undone, re-inserting the very objects that were removed, and
    `PatchError` is raised. One difference may remain after an undo: a dict key that was
    removed comes back at the end of its dict (JSON objects are unordered, and finding its
    old position would cost time proportional to the dict).

    With ``undo`` (a caller's undo log: an edit transaction's, or a mirror's pending edit),
    the steps that undo the ops stay appended there on success, so that the caller can take
    the patch back later at the cost of its ops (run them last to first). On failure only this
    call's steps are run and removed.
    """
    if not isinstance(ops, Sequence):
        raise PatchError(BAD_OP, f"a patch is a list of operations, not {type(ops).__name__}")
    patch = Patch(doc, [] if undo is None else undo)
    mark = len(patch.undo_log)
    try:
        for index, op in enumerate(ops):
            patch.apply(index, op)
    except BaseException:
        # (A tracked container's override may raise too: the document must still be restored.)
        patch.rollback(mark)
        raise
    return patch.root


def _describe(index: int, op: object) -> str:
    if isinstance(op, Op):
        op = op.raw
    if not isinstance(op, Mapping):
        return f"op {index}"
    name, path, source = op.get("op"), op.get("path"), op.get("from")
    if not isinstance(name, str) or not isinstance(path, str):
        return f"op {index}"
    if name in ("move", "copy") and isinstance(source, str):
        return f"op {index} ({name} {source!r} -> {path!r})"
    return f"op {index} ({name} {path!r})"


def _member(op: Mapping[str, Any], name: str) -> Any:
    if name not in op:
        raise PatchError(BAD_OP, f"'{op['op']}' needs a '{name}' member")
    return op[name]


def _pointer_member(op: Mapping[str, Any], name: str) -> str:
    value = _member(op, name)
    if not isinstance(value, str):
        raise PatchError(BAD_OP, f"'{name}' must be a string, not {type(value).__name__}")
    return value


def _where(segments: list[str], depth: int) -> str:
    return repr(format_pointer(segments[:depth])) if depth else "the root"


def _index(array: list[Any], segments: list[str], depth: int, *, for_add: bool) -> int:
    """The array index named by ``segments[depth]``: an element's, or len(array) to add."""
    segment = segments[depth]
    if for_add and segment == "-":
        return len(array)
    if not _INDEX.fullmatch(segment):
        raise PatchError(
            BAD_PATH, f"{segment!r} is not an index of the array at {_where(segments, depth)}"
        )
    limit = len(array) if for_add else len(array) - 1
    # 19 digits exceed any list length; checking first keeps int() off huge strings.
    if len(segment) > 18 or int(segment) > limit:
        raise PatchError(
            BAD_PATH,
            f"index {segment} is out of range for the array at {_where(segments, depth)}"
            f" (length {len(array)})",
        )
    return int(segment)


def _member_key(node: Any, segments: list[str], depth: int) -> Any:
    """The key or index of the existing member of ``node`` named by ``segments[depth]``."""
    if isinstance(node, list):
        return _index(node, segments, depth, for_add=False)
    if not isinstance(node, dict):
        raise PatchError(
            BAD_PATH, f"{_where(segments, depth)} is a {type(node).__name__}, not a container"
        )
    if segments[depth] not in node:
        raise PatchError(
            BAD_PATH, f"no key {segments[depth]!r} in the object at {_where(segments, depth)}"
        )
    return segments[depth]


class Patch:
    """Ops being applied to one document, in place: the root, and the log that undoes them.

    The undo log is the caller's when it passes one (an edit transaction owns one log for the
    whole edit); `rollback` runs it backwards.
    """

    def __init__(self, root: Any, undo: list[Undo]) -> None:
        self.root = root
        self.undo_log = undo

    def rollback(self, mark: int = 0) -> None:
        """Run the log backwards down to `mark`, the length it had before the steps to undo."""
        while len(self.undo_log) > mark:
            self.undo_log.pop()()

    def apply(self, index: int, op: Mapping[str, Any] | Op) -> None:
        """Apply op number ``index`` (raw or parsed); PatchError names it on failure."""
        try:
            self._run(op if isinstance(op, Op) else parse_op(op))
        except PatchError as error:
            raise PatchError(error.code, f"{_describe(index, op)}: {error.message}") from None

    def _run(self, op: Op) -> None:
        kind, path = op.kind, op.path
        if kind == "remove":
            self._remove(path)
        elif kind == "add":
            self._add(path, op.value)
        elif kind == "replace":
            self._replace(path, op.value)
        elif kind == "test":
            if not json_equal(self.get(path), op.value, refs_as_text=True):
                raise PatchError(TEST_FAILED, "the value there is different")
        elif kind == "copy":
            assert op.source is not None
            self._add(path, json_copy(self.get(op.source)))
        else:
            assert op.source is not None
            self._move(op.source, path)

    def get(self, segments: list[str]) -> Any:
        node = self.root
        for depth in range(len(segments)):
            node = node[_member_key(node, segments, depth)]
        return node

    def _parent(self, segments: list[str]) -> Any:
        """The container holding the location ``segments`` (not empty) names."""
        parent = self.get(segments[:-1])
        if not isinstance(parent, (dict, list)):
            where = _where(segments, len(segments) - 1)
            raise PatchError(BAD_PATH, f"{where} is a {type(parent).__name__}, not a container")
        return parent

    def _set_root(self, value: Any) -> None:
        old = self.root

        def undo() -> None:
            self.root = old

        self.root = value
        self.undo_log.append(undo)

    def _add(self, segments: list[str], value: Any) -> None:
        if not segments:
            self._set_root(value)
            return
        parent = self._parent(segments)
        key = segments[-1]
        if isinstance(parent, dict):
            if key in parent:
                self._overwrite(parent, key, value)
            else:
                parent[key] = value
                self.undo_log.append(lambda: parent.pop(key))
            return
        index = _index(parent, segments, len(segments) - 1, for_add=True)
        if index == len(parent):
            parent.append(value)
        else:
            parent.insert(index, value)
        self.undo_log.append(lambda: parent.pop(index))

    def _remove(self, segments: list[str]) -> Any:
        if not segments:
            raise PatchError(BAD_PATH, "cannot remove the whole document")
        parent = self._parent(segments)
        key = _member_key(parent, segments, len(segments) - 1)
        old = parent.pop(key)
        if isinstance(parent, dict):
            self.undo_log.append(lambda: parent.__setitem__(key, old))
        else:
            self.undo_log.append(lambda: parent.insert(key, old))
        return old

    def _replace(self, segments: list[str], value: Any) -> None:
        if not segments:
            self._set_root(value)
            return
        parent = self._parent(segments)
        self._overwrite(parent, _member_key(parent, segments, len(segments) - 1), value)

    def _overwrite(self, container: Any, key: Any, value: Any) -> None:
        old = container[key]
        container[key] = value
        self.undo_log.append(lambda: container.__setitem__(key, old))

    def _move(self, source: list[str], target: list[str]) -> None:
        if source == target:
            self.get(source)  # changes nothing, but 'from' must exist
        elif target[: len(source)] == source:
            raise PatchError(BAD_PATH, "cannot move a location into its own child")
        else:
            self._add(target, self._remove(source))
