"""RFC 6902 JSON Patch applied in place, atomically, at a cost proportional to the patch.

Containers are changed only through ``insert``, ``append``, ``pop``, ``__setitem__`` (lists)
and ``__setitem__``, ``pop`` (dicts), because the model's tracked containers override exactly
those to emit change events and keep parent links.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

__all__ = [
    "PatchError",
    "apply_patch",
    "format_pointer",
    "json_copy",
    "json_equal",
    "parse_pointer",
]

_OPS = frozenset({"add", "remove", "replace", "move", "copy", "test"})
_INDEX = re.compile(r"0|[1-9][0-9]*")
_BAD_ESCAPE = re.compile(r"~(?![01])")


class PatchError(Exception):
    """A patch that cannot be applied. ``code`` is the protocol's reject code."""

    code: str
    message: str

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def parse_pointer(path: str) -> list[str]:
    """RFC 6901: "" -> [], "/a~1b/~0c" -> ["a/b", "~c"]."""
    if path == "":
        return []
    if not path.startswith("/"):
        raise PatchError("bad_path", f"pointer {path!r} does not start with '/'")
    if _BAD_ESCAPE.search(path):
        raise PatchError("bad_path", f"pointer {path!r} has a '~' not followed by '0' or '1'")
    # "~1" first: "~01" must become "~1", not "/".
    return [s.replace("~1", "/").replace("~0", "~") for s in path[1:].split("/")]


def format_pointer(segments: Sequence[str | int]) -> str:
    """The RFC 6901 pointer for ``segments``; the inverse of `parse_pointer`."""
    return "".join("/" + str(s).replace("~", "~0").replace("/", "~1") for s in segments)


def json_equal(a: Any, b: Any) -> bool:
    """JSON equality: True != 1, 1 == 1.0, dicts and lists deeply, anything else by ==."""
    if a is b:
        return True
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b
    if isinstance(a, dict):
        return (
            isinstance(b, dict)
            and len(a) == len(b)
            and all(k in b and json_equal(v, b[k]) for k, v in a.items())
        )
    if isinstance(a, list):
        return isinstance(b, list) and len(a) == len(b) and all(map(json_equal, a, b))
    if isinstance(b, (dict, list)):
        return False
    try:
        return bool(a == b)
    except (TypeError, ValueError):
        # e.g. numpy arrays, whose == has no single truth value: "different" is the safe answer.
        return False


def json_copy(value: Any) -> Any:
    """Deep copy into plain dicts and lists; leaves are shared, not copied."""
    if isinstance(value, dict):
        return {k: json_copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [json_copy(v) for v in value]
    return value


def apply_patch(
    doc: Any, ops: Sequence[Mapping[str, Any]], undo: list[Callable[[], object]] | None = None
) -> Any:
    """Apply ``ops`` to ``doc`` in place, all or nothing, and return the resulting document.

    On success, the steps that undo the patch are appended to ``undo`` if given (run them last
    to first): a patch can be taken back at the cost of its ops, without a copy.

    The result is a new object only when an op targets the root (""). On failure every op
    already applied is undone, re-inserting the very objects that were removed, and
    `PatchError` is raised. One difference may remain after an undo: a dict key that was
    removed comes back at the end of its dict (JSON objects are unordered, and finding its
    old position would cost time proportional to the dict).
    """
    if not isinstance(ops, Sequence):
        raise PatchError("bad_op", f"a patch is a list of operations, not {type(ops).__name__}")
    patch = _Patch(doc)
    for index, op in enumerate(ops):
        try:
            patch.run(op)
        except PatchError as error:
            patch.rollback()
            raise PatchError(error.code, f"{_describe(index, op)}: {error.message}") from None
        except BaseException:
            # A tracked container's override may raise: the document must still be restored.
            patch.rollback()
            raise
    if undo is not None:
        undo.extend(patch._undo)
    return patch.root


def _describe(index: int, op: object) -> str:
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
        raise PatchError("bad_op", f"'{op['op']}' needs a '{name}' member")
    return op[name]


def _pointer_member(op: Mapping[str, Any], name: str) -> str:
    value = _member(op, name)
    if not isinstance(value, str):
        raise PatchError("bad_op", f"'{name}' must be a string, not {type(value).__name__}")
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
            "bad_path", f"{segment!r} is not an index of the array at {_where(segments, depth)}"
        )
    limit = len(array) if for_add else len(array) - 1
    # 19 digits exceed any list length; checking first keeps int() off huge strings.
    if len(segment) > 18 or int(segment) > limit:
        raise PatchError(
            "bad_path",
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
            "bad_path", f"{_where(segments, depth)} is a {type(node).__name__}, not a container"
        )
    if segments[depth] not in node:
        raise PatchError(
            "bad_path", f"no key {segments[depth]!r} in the object at {_where(segments, depth)}"
        )
    return segments[depth]


class _Patch:
    """The state of one `apply_patch` call: the root, and the log that undoes its changes."""

    def __init__(self, root: Any) -> None:
        self.root = root
        self._undo: list[Callable[[], object]] = []

    def rollback(self) -> None:
        while self._undo:
            self._undo.pop()()

    def run(self, op: object) -> None:
        if not isinstance(op, Mapping):
            raise PatchError("bad_op", f"an operation is an object, not {type(op).__name__}")
        name = op.get("op")
        if not isinstance(name, str) or name not in _OPS:
            raise PatchError("bad_op", f"unknown op {name!r}")
        path = _pointer_member(op, "path")
        if name == "remove":
            self._remove(parse_pointer(path))
        elif name in ("add", "replace", "test"):
            value = _member(op, "value")
            target = parse_pointer(path)
            if name == "add":
                self._add(target, value)
            elif name == "replace":
                self._replace(target, value)
            elif not json_equal(self._get(target), value):
                raise PatchError("test_failed", "the value there is different")
        else:
            source = _pointer_member(op, "from")
            if name == "copy":
                self._add(parse_pointer(path), json_copy(self._get(parse_pointer(source))))
            else:
                self._move(parse_pointer(source), parse_pointer(path))

    def _get(self, segments: list[str]) -> Any:
        node = self.root
        for depth in range(len(segments)):
            node = node[_member_key(node, segments, depth)]
        return node

    def _parent(self, segments: list[str]) -> Any:
        """The container holding the location ``segments`` (not empty) names."""
        parent = self._get(segments[:-1])
        if not isinstance(parent, (dict, list)):
            where = _where(segments, len(segments) - 1)
            raise PatchError("bad_path", f"{where} is a {type(parent).__name__}, not a container")
        return parent

    def _set_root(self, value: Any) -> None:
        old = self.root

        def undo() -> None:
            self.root = old

        self.root = value
        self._undo.append(undo)

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
                self._undo.append(lambda: parent.pop(key))
            return
        index = _index(parent, segments, len(segments) - 1, for_add=True)
        if index == len(parent):
            parent.append(value)
        else:
            parent.insert(index, value)
        self._undo.append(lambda: parent.pop(index))

    def _remove(self, segments: list[str]) -> Any:
        if not segments:
            raise PatchError("bad_path", "cannot remove the whole document")
        parent = self._parent(segments)
        key = _member_key(parent, segments, len(segments) - 1)
        old = parent.pop(key)
        if isinstance(parent, dict):
            self._undo.append(lambda: parent.__setitem__(key, old))
        else:
            self._undo.append(lambda: parent.insert(key, old))
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
        self._undo.append(lambda: container.__setitem__(key, old))

    def _move(self, source: list[str], target: list[str]) -> None:
        if source == target:
            self._get(source)  # changes nothing, but 'from' must exist
        elif target[: len(source)] == source:
            raise PatchError("bad_path", "cannot move a location into its own child")
        else:
            self._add(target, self._remove(source))
