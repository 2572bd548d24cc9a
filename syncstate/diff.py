"""A cheap JSON diff, run on every trait assignment.

Values that are the same object are skipped without looking inside, so the cost follows what
changed (plus one identity check per unchanged element on the way), not the value's size.
Tracked values are read raw (dict.items, list.__getitem__): a diff reaches nothing.
When the ops would take more bytes than the new value itself, one `replace` goes instead.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from functools import partial
from itertools import compress, count
from operator import is_not
from typing import Any

from syncstate.patch import format_pointer, json_equal
from syncstate.tracked import plain_spine

__all__ = ["diff", "edit_script", "json_size", "json_text"]


def diff(old: Any, new: Any, path: str = "") -> list[dict[str, Any]]:
    """The cheaper of `edit_script` and one `replace` of the whole value, by their bytes.

    Sizes are measured side by side and the measuring stops at the smaller of the two, so it
    costs about what the ops cost (`m.rows = []` is one replace, not one remove per row).
    """
    ops = edit_script(old, new, path)
    if len(ops) > 1 and _outweighs(ops, new):
        return [{"op": "replace", "path": path, "value": new}]
    return ops


def edit_script(old: Any, new: Any, path: str = "") -> list[dict[str, Any]]:
    """RFC 6902 ops, under the pointer ``path``, turning ``old`` into ``new``.

    Op values are parts of ``new`` itself, not copies. Lists are compared by trimming their
    common prefix and suffix, then pairing the remaining elements in order: not a minimal
    edit script, but one op for the usual single insert, remove or change.
    """
    ops: list[dict[str, Any]] = []
    _diff(old, new, path, ops)
    return ops


def _diff(old: Any, new: Any, path: str, ops: list[dict[str, Any]]) -> None:
    if old is new:
        return
    if isinstance(old, dict) and isinstance(new, dict):
        _diff_dict(old, new, path, ops)
    elif isinstance(old, list) and isinstance(new, list):
        _diff_list(old, new, path, ops)
    elif not json_equal(old, new):
        ops.append({"op": "replace", "path": path, "value": new})


def _diff_dict(
    old: dict[Any, Any], new: dict[Any, Any], path: str, ops: list[dict[str, Any]]
) -> None:
    for key, value in dict.items(old):
        if key in new:
            _diff(value, dict.__getitem__(new, key), path + format_pointer([key]), ops)
        else:
            ops.append({"op": "remove", "path": path + format_pointer([key])})
    for key, value in dict.items(new):
        if key not in old:
            ops.append({"op": "add", "path": path + format_pointer([key]), "value": value})


def _diff_list(old: list[Any], new: list[Any], path: str, ops: list[dict[str, Any]]) -> None:
    shorter = min(len(old), len(new))
    start = _common_run(old, new, shorter)
    tail = _common_run(old, new, shorter - start, from_end=True)
    old_end, new_end = len(old) - tail, len(new) - tail
    paired_end = min(old_end, new_end)
    at = list.__getitem__
    for i in range(start, paired_end):
        _diff(at(old, i), at(new, i), f"{path}/{i}", ops)
    # From the last, so that the indexes still to remove have not moved.
    for i in reversed(range(paired_end, old_end)):
        ops.append({"op": "remove", "path": f"{path}/{i}"})
    for i in range(paired_end, new_end):
        ops.append({"op": "add", "path": f"{path}/{i}", "value": at(new, i)})


def _common_run(old: list[Any], new: list[Any], limit: int, from_end: bool = False) -> int:
    """How many leading (or trailing) elements of old and new, at most `limit`, are equal.

    `compress` over `is_not` skips runs of identical elements at C speed, so an assignment
    that keeps most elements costs little even for a long list; only elements that are not
    the same object are compared as JSON.
    """
    if from_end:
        differs = map(is_not, list.__reversed__(old), list.__reversed__(new))
    else:
        differs = map(is_not, list.__iter__(old), list.__iter__(new))
    for i in compress(count(), differs):
        if i >= limit:
            return limit
        j = -1 - i if from_end else i
        if not json_equal(list.__getitem__(old, j), list.__getitem__(new, j)):
            return i
    return limit


#: The bytes of an op besides its path and value: `{"op":"replace","path":"","value":}`.
_OP_OVERHEAD = 32


def _outweighs(ops: list[dict[str, Any]], new: Any) -> bool:
    """Whether the ops' JSON is longer than `new`'s, measuring no more of either than needed."""
    value_sizes = _json_sizes(new)
    value_size = 0
    ops_size = 0
    for op in ops:
        ops_size += _OP_OVERHEAD + len(op["path"])
        if "value" in op:
            ops_size += json_size(op["value"])
        while value_size < ops_size:
            chunk = next(value_sizes, None)
            if chunk is None:
                return True  # the value is all measured, and smaller
            value_size += chunk
    return False


def _json_sizes(value: Any) -> Iterator[int]:
    """`value`'s JSON length in pieces (one per element or member), so a caller can stop early."""
    if isinstance(value, list):
        yield 2
        for item in list.__iter__(value):
            yield json_size(item) + 1
    elif isinstance(value, dict):
        yield 2
        for key, item in dict.items(value):
            yield len(key) + 4 + json_size(item)
    else:
        yield json_size(value)


def json_size(value: Any) -> int:
    """The length of `value`'s compact JSON text, binary values and models counted by their
    size on the wire."""
    return len(json_text(value))


def json_text(value: Any, stood_in: list[Any] | None = None) -> str:
    """`value`'s compact JSON text, with binary values and child models standing in by about
    what they cost on the wire; `stood_in`, if given, collects the values that did."""
    default = _stand_in if stood_in is None else partial(_collected_stand_in, stood_in)
    return json.dumps(plain_spine(value), separators=(",", ":"), default=default)


def _collected_stand_in(stood_in: list[Any], value: Any) -> Any:
    stood_in.append(value)
    return _stand_in(value)


def _stand_in(value: Any) -> Any:
    return len(value) if isinstance(value, (bytes, bytearray, memoryview)) else _REF_STAND_IN


_REF_STAND_IN = "syncstate:" + "0" * 32
