"""A cheap JSON diff, run on every trait assignment.

Values that are the same object are skipped without looking inside, so the cost follows what
changed (plus one identity check per unchanged element on the way), not the value's size.
"""

from __future__ import annotations

from typing import Any

from syncstate.patch import format_pointer, json_equal

__all__ = ["diff"]


def diff(old: Any, new: Any, path: str = "") -> list[dict[str, Any]]:
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
    for key, value in old.items():
        if key in new:
            _diff(value, new[key], path + format_pointer([key]), ops)
        else:
            ops.append({"op": "remove", "path": path + format_pointer([key])})
    for key, value in new.items():
        if key not in old:
            ops.append({"op": "add", "path": path + format_pointer([key]), "value": value})


def _diff_list(old: list[Any], new: list[Any], path: str, ops: list[dict[str, Any]]) -> None:
    start, old_end, new_end = 0, len(old), len(new)
    # "is" before json_equal: the call costs more than the check, on every unchanged element.
    while start < old_end and start < new_end:
        a, b = old[start], new[start]
        if a is not b and not json_equal(a, b):
            break
        start += 1
    while old_end > start and new_end > start:
        a, b = old[old_end - 1], new[new_end - 1]
        if a is not b and not json_equal(a, b):
            break
        old_end -= 1
        new_end -= 1
    paired_end = min(old_end, new_end)
    for i in range(start, paired_end):
        _diff(old[i], new[i], f"{path}/{i}", ops)
    # From the last, so that the indexes still to remove have not moved.
    for i in reversed(range(paired_end, old_end)):
        ops.append({"op": "remove", "path": f"{path}/{i}"})
    for i in range(paired_end, new_end):
        ops.append({"op": "add", "path": f"{path}/{i}", "value": new[i]})
