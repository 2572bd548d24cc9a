"""Conflict detection: may an edit made on version `base` be applied to the current version?

The kernel remembers, per recent version, the paths it changed (never the values). An edit
conflicts when a path it touches and a path changed since its base are equal or one contains
the other. Inserting into or removing from an array touches the whole array, since it shifts
every later index: an edit of `/rows/3/done` made before the kernel inserted at `/rows/0` would
otherwise land on the wrong row. See docs/protocol.md, "Conflicts".

The paths are indexed, so a check costs time proportional to the edit, not edit x history.
"""

from __future__ import annotations

import functools
from collections import deque
from typing import Any

from .patch import Op, parse_pointer
from .protocol import CONFLICT, STALE, SyncError, limits

Segments = tuple[str, ...]
_WIDENED = frozenset({"add", "remove", "move"})


def touched_paths(kind: Any, path: list[str], source: list[str] | None) -> list[Segments]:
    """The paths an op reads or writes, with array inserts and removals widened to the array."""
    paths = []
    for segments in (path, source) if source is not None else (path,):
        if kind in _WIDENED and segments and _is_index(segments[-1]):
            segments = segments[:-1]
        paths.append(tuple(segments))
    return paths


def touched(op: dict[str, Any]) -> list[Segments]:
    """`touched_paths` of a wire op (pointers not yet parsed)."""
    kind = op.get("op")
    source = op.get("from") if kind in ("move", "copy") else None
    return touched_paths(
        kind, parse_pointer(op["path"]), None if source is None else parse_pointer(source)
    )


#: What the history notes of a path: the path, its prefixes (itself included), its cost.
Noted = tuple[Segments, tuple[Segments, ...], int]

#: Pointers up to this long have their notes cached: a kernel that updates one field in a loop
#: records the same pointer each time. Longer ones (deeper, or with long keys, which a
#: frontend's edits may carry) are not, so the cache holds little whatever frontends send.
_CACHED_POINTER = 32


def _noted(op: dict[str, Any]) -> tuple[Noted, ...]:
    kind, path = op.get("op"), op["path"]
    source = op.get("from") if kind in ("move", "copy") else None
    if len(path) <= _CACHED_POINTER and (source is None or len(source) <= _CACHED_POINTER):
        return _noted_cached(kind, path, source)
    return _noted_paths(kind, path, source)


def _noted_paths(kind: Any, path: str, source: str | None) -> tuple[Noted, ...]:
    parsed = None if source is None else parse_pointer(source)
    return tuple(
        (p, tuple(p[:n] for n in range(1, len(p) + 1)), _cost(p))
        for p in touched_paths(kind, parse_pointer(path), parsed)
    )


_noted_cached = functools.lru_cache(maxsize=1024)(_noted_paths)


def interferes(changes: list[dict[str, Any]], ops: list[dict[str, Any]]) -> bool:
    """Whether `changes` touch what `ops` touch, by the conflict rule above."""
    mine = [path for op in ops for path in touched(op)]
    return any(_overlap(p, q) for op in changes for p in touched(op) for q in mine)


def _is_index(segment: str) -> bool:
    return segment == "-" or segment.isdigit()


def _overlap(a: Segments, b: Segments) -> bool:
    n = min(len(a), len(b))
    return a[:n] == b[:n]


class History:
    """The paths changed by each recent version, bounded by `limits.history` versions and
    `limits.history_bytes`, indexed by path and by every prefix of a path."""

    def __init__(self, floor: int = 0) -> None:
        self._versions: deque[tuple[int, list[Noted], int]] = deque()
        self._bytes = 0
        #: The oldest base the history can still check (the last version forgotten).
        self._floor = floor
        #: path -> the last version that changed exactly it.
        self._at: dict[Segments, int] = {}
        #: path -> the last version that changed it or anything below it.
        self._within: dict[Segments, int] = {}

    @property
    def held_bytes(self) -> int:
        """Roughly what the kept paths cost in memory."""
        return self._bytes

    def record(self, version: int, ops: list[dict[str, Any]]) -> None:
        noted = [note for op in ops for note in _noted(op)]
        size = 0
        for path, prefixes, cost in noted:
            size += cost
            self._at[path] = version
            for prefix in prefixes:
                self._within[prefix] = version
        self._versions.append((version, noted, size))
        self._bytes += size
        while len(self._versions) > limits.history or self._bytes > limits.history_bytes:
            self._forget_oldest()

    def _forget_oldest(self) -> None:
        version, noted, size = self._versions.popleft()
        self._bytes -= size
        self._floor = version
        for path, prefixes, _ in noted:
            if self._at.get(path) == version:
                del self._at[path]
            for prefix in prefixes:
                if self._within.get(prefix) == version:
                    del self._within[prefix]

    def check(self, base: int, version: int, ops: list[Op]) -> None:
        """Raise SyncError (`stale` or `conflict`) unless ops made on `base` may apply now."""
        if base > version or base < 0:
            raise SyncError(STALE, f"base version {base} is not one the kernel sent")
        if base == version:
            return
        if base < self._floor:
            raise SyncError(STALE, f"base version {base} is older than the kept history")
        for op in ops:
            for path in touched_paths(op.kind, op.path, op.source):
                changed = self._within.get(path, 0)
                for n in range(1, len(path)):
                    changed = max(changed, self._at.get(path[:n], 0))
                if changed > base:
                    raise SyncError(
                        CONFLICT,
                        f"{_show(path)} changed in version {changed}, after the edit's base "
                        f"{base}; the edit was not applied",
                    )


def _cost(path: Segments) -> int:
    """About the bytes the history keeps for a path: its text, and its prefixes' tuples (which
    grow with the square of its depth)."""
    depth = len(path)
    return sum(map(len, path)) + 120 * depth + 4 * depth * (depth + 1)


def _show(segments: Segments) -> str:
    return "/" + "/".join(segments)
