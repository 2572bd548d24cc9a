"""Conflict detection: may an edit made on version `base` be applied to the current version?

The kernel remembers, per recent version, the ops it sent. An edit conflicts when a path it
touches and a path changed since its base are equal or one contains the other. Inserting into
or removing from an array touches the whole array, since it shifts every later index: an edit
of `/rows/3/done` made before the kernel inserted at `/rows/0` would otherwise land on the
wrong row. See docs/protocol.md, "Conflicts".
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from .patch import parse_pointer
from .protocol import CONFLICT, STALE, Edit, ProtocolError

Segments = tuple[str, ...]


def touched(op: dict[str, Any]) -> list[Segments]:
    """The paths an op reads or writes, with array inserts and removals widened to the array."""
    pointers = [op["path"]] + ([op["from"]] if op.get("op") in ("move", "copy") else [])
    paths = []
    for pointer in pointers:
        segments = tuple(parse_pointer(pointer))
        if op.get("op") in ("add", "remove", "move") and segments and _is_index(segments[-1]):
            segments = segments[:-1]
        paths.append(segments)
    return paths


def interferes(changes: list[dict[str, Any]], ops: list[dict[str, Any]]) -> bool:
    """Whether `changes` touch what `ops` touch, by the conflict rule above."""
    mine = [path for op in ops for path in touched(op)]
    return any(_overlap(p, q) for op in changes for p in touched(op) for q in mine)


def _is_index(segment: str) -> bool:
    return segment == "-" or segment.isdigit()


def _overlap(a: Segments, b: Segments) -> bool:
    n = min(len(a), len(b))
    return a[:n] == b[:n]


def find_conflict(
    edit: Edit, version: int, history: Iterable[tuple[int, list[dict[str, Any]]]]
) -> None:
    """Raise ProtocolError (`stale` or `conflict`) unless the edit may apply at `version`."""
    if edit.base > version or edit.base < 0:
        raise ProtocolError(STALE, f"base version {edit.base} is not one the kernel sent")
    if edit.base == version:
        return
    since = [(v, ops) for v, ops in history if v > edit.base]
    if len(since) < version - edit.base:
        raise ProtocolError(STALE, f"base version {edit.base} is older than the kept history")
    mine = [path for op in edit.ops for path in touched(op)]
    for v, ops in since:
        for op in ops:
            for theirs in touched(op):
                for path in mine:
                    if _overlap(path, theirs):
                        raise ProtocolError(
                            CONFLICT,
                            f"{_show(path)} changed in version {v}, after the edit's base "
                            f"{edit.base}; the edit was not applied",
                        )


def _show(segments: Segments) -> str:
    return "/" + "/".join(segments)
