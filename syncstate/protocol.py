"""The `syncstate/1` wire protocol: names, error codes, limits, and inbound message parsing.

docs/protocol.md is the prose version of this module; keep the two in step.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

PROTOCOL = "syncstate/1"
TARGET = "syncstate"
MIME_TYPE = "application/vnd.syncstate.view+json"
REF_PREFIX = "syncstate:"

#: Rejection codes (docs/protocol.md, "reject").
BAD_MESSAGE = "bad_message"
UNKNOWN_METHOD = "unknown_method"
FORBIDDEN = "forbidden"
INVALID = "invalid"
CONFLICT = "conflict"
STALE = "stale"
TOO_LARGE = "too_large"
INTERNAL = "internal"
UNKNOWN_CLASS = "unknown_class"
#: Codes a frontend mirror reports itself; the kernel never sends them (docs/protocol.md).
#: A queued edit never sent: the edit it was made on top of was rejected, or it no longer applies.
DROPPED = "dropped"
#: An edit that will get no answer: its model closed, or the kernel restarted or died.
CLOSED = "closed"
#: A kernel message did not follow on from the last one; the mirror asked for the whole state.
OUT_OF_SYNC = "out_of_sync"

NOT_MAIN_SHELL = "syncstate messages are handled on the kernel's main shell, not a subshell"


class ProtocolError(Exception):
    """An inbound message the kernel refuses; `code` is one of the codes above."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass
class Limits:
    """Bounds on what a frontend may send; a message over any of them is refused `too_large`."""

    max_ops: int = 10_000
    max_buffer_bytes: int = 64 * 1024 * 1024
    max_depth: int = 100
    #: Versions of change history kept per model for conflict checks; older bases are `stale`.
    history: int = 1_000


limits = Limits()


@dataclass
class Edit:
    """A frontend `patch` message, checked for shape (not yet for meaning)."""

    id: str
    base: int
    ops: list[dict[str, Any]]


def parse_edit(data: dict[str, Any]) -> Edit:
    edit_id = data.get("id")
    if not isinstance(edit_id, str):
        raise ProtocolError(BAD_MESSAGE, "an edit needs a string 'id'")
    base = data.get("base")
    if not isinstance(base, int) or isinstance(base, bool):
        raise ProtocolError(BAD_MESSAGE, "an edit needs an integer 'base' version")
    ops = data.get("ops")
    if not isinstance(ops, list):
        raise ProtocolError(BAD_MESSAGE, "an edit needs a list of 'ops'")
    if len(ops) > limits.max_ops:
        raise ProtocolError(TOO_LARGE, f"{len(ops)} ops exceed the limit of {limits.max_ops}")
    for op in ops:
        check_depth(op, limits.max_depth)
    return Edit(edit_id, base, ops)


def check_depth(value: Any, limit: int) -> None:
    """Refuse values nested deeper than `limit` before any recursive code touches them."""
    stack = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if depth > limit:
            raise ProtocolError(TOO_LARGE, f"a value is nested deeper than {limit} levels")
        if isinstance(item, dict):
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item)
        elif isinstance(item, float) and not math.isfinite(item):
            # Python's json module parses NaN and Infinity; JSON (and the document) has neither.
            raise ProtocolError(BAD_MESSAGE, f"{item!r} is not a JSON number")


def edit_id_of(data: Any) -> str | None:
    """The id to name in a rejection, when the message carries a usable one."""
    if isinstance(data, dict) and isinstance(data.get("id"), str):
        return str(data["id"])
    return None
