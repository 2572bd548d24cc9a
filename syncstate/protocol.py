"""The `syncstate/1` wire protocol: names, error codes, limits, and checks of inbound values.

docs/protocol.md is the prose version of this module; keep the two in step. Every method name
and error code is defined here once; the other modules import them (the fields of messages
are spelled in messages.py alone). js/src/core/protocol.ts
is the TypeScript twin, with the same names; tests/python/test_protocol_vocabulary.py checks
that the two and docs/protocol.md's "Vocabulary" tables say the same.
"""

from __future__ import annotations

import math
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any, Literal

PROTOCOL = "syncstate/1"
TARGET = "syncstate"
MIME_TYPE = "application/vnd.syncstate.view+json"
REF_PREFIX = "syncstate:"

# -- methods (docs/protocol.md) ----------------------------------------------------------------
#: Kernel -> frontend, on a model comm.
OPEN = "open"
PATCH = "patch"  # also frontend -> kernel: an edit
REJECT = "reject"
STATE = "state"
CUSTOM = "custom"  # both ways
#: Frontend -> kernel, on a model comm.
SYNC = "sync"
#: Both ways, on a widget comm only: a view asks for a child model's widget; the kernel answers.
CHILD = "child"
#: The control comm: requests, then replies.
LIST = "list"
CREATE = "create"
MODELS = "models"
CREATED = "created"
ERROR = "error"
#: Commands: the `syncstate` member of a `custom` message's content (docs/protocol.md, "Commands").
INVOKE = "invoke"
INVOKE_REPLY = "invoke-reply"

# -- error codes (docs/protocol.md, "reject") ---------------------------------------------------
BAD_MESSAGE = "bad_message"
UNKNOWN_METHOD = "unknown_method"
BAD_OP = "bad_op"
BAD_PATH = "bad_path"
TEST_FAILED = "test_failed"
FORBIDDEN = "forbidden"
INVALID = "invalid"
CONFLICT = "conflict"
STALE = "stale"
TOO_LARGE = "too_large"
INTERNAL = "internal"
UNKNOWN_CLASS = "unknown_class"
UNKNOWN_COMMAND = "unknown_command"
#: Codes a frontend mirror reports itself; the kernel never sends them (docs/protocol.md).
#: A queued edit never sent: the edit it was made on top of was rejected, or it no longer applies.
DROPPED = "dropped"
#: An edit that will get no answer: its model closed, or the kernel restarted or died.
CLOSED = "closed"
#: A kernel message did not follow on from the last one; the mirror asked for the whole state.
OUT_OF_SYNC = "out_of_sync"


class SyncError(Exception):
    """Something the protocol refuses, with its error code (one of the codes above)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


#: Former names of `SyncError`, kept for compatibility.
ProtocolError = SyncError


@dataclass
class Limits:
    """Bounds on what one frontend message may cost the kernel; see docs/protocol.md, "Limits".

    A message over any of them is refused `too_large` and changes nothing. Frontends refuse
    locally the edits that break them, so an honest view never waits for an answer.
    """

    max_ops: int = 10_000
    max_buffer_bytes: int = 64 * 1024 * 1024
    #: Nesting of any value (ipykernel's own JSON parser stops at 1,000).
    max_depth: int = 100
    #: Decimal digits of an integer (ipykernel's parser stops at 4,300).
    max_int_digits: int = 100
    #: Bytes one edit may make the kernel broadcast: the values it carries and copies.
    max_change_bytes: int = 64 * 1024 * 1024
    #: Bytes a model's document may reach through frontend edits (syncstate/size.py).
    max_document_bytes: int = 256 * 1024 * 1024
    #: Versions of change history kept per model for conflict checks; older bases are `stale`.
    history: int = 1_000
    #: Bytes of paths that history may hold per model (it holds paths, never values).
    history_bytes: int = 4 * 1024 * 1024
    #: Model classes a frontend may `create` (`module.QualName`), or "any" registered class.
    creatable: Collection[str] | Literal["any"] = field(default_factory=frozenset)


limits = Limits()


def check_text(text: str) -> None:
    """Refuse text that is not valid Unicode (a lone surrogate: half an emoji)."""
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError as error:
            raise SyncError(BAD_MESSAGE, f"text is not valid Unicode ({error.reason})") from None


def check_value(value: Any, budget: int) -> int:
    """Check a JSON value against the limits; return its size in bytes (roughly its JSON text).

    Refuses nesting over `max_depth`, NaN and Infinity, integers over `max_int_digits`, text
    that is not valid Unicode, and a size over `budget`, which ends the walk early: the cost
    is bounded by the budget, not by the value.
    """
    bound = 10**limits.max_int_digits
    size = 0
    stack = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if depth > limits.max_depth:
            raise SyncError(TOO_LARGE, f"a value is nested deeper than {limits.max_depth} levels")
        kind = type(item)
        if kind is str:
            check_text(item)
            size += len(item) + 2
        elif isinstance(item, dict):
            for key, child in dict.items(item):  # raw: nothing reached (tracked.py)
                check_text(key)
                size += len(key) + 4
                stack.append((child, depth + 1))
        elif isinstance(item, list):
            size += 2 + len(item)
            stack.extend((child, depth + 1) for child in list.__iter__(item))
        elif kind is float:
            if not math.isfinite(item):
                # Python's json module parses NaN and Infinity; JSON has neither.
                raise SyncError(BAD_MESSAGE, f"{item!r} is not a JSON number")
            size += 24
        elif kind is int:
            if not -bound < item < bound:
                raise SyncError(TOO_LARGE, f"an integer has over {limits.max_int_digits} digits")
            size += 20
        elif kind is bytes:
            size += len(item)
        else:
            size += 5  # null, true, false
        if size > budget:
            raise SyncError(TOO_LARGE, f"the change exceeds {limits.max_change_bytes} bytes")
    return size


def check_edit(ops: list[Any]) -> None:
    """What a frontend checks before it sends an edit: the limits the kernel would enforce
    (and ipykernel's parser, which drops unanswered what is deeper or longer still)."""
    if len(ops) > limits.max_ops:
        raise SyncError(TOO_LARGE, f"{len(ops)} ops exceed the limit of {limits.max_ops}")
    budget = limits.max_change_bytes
    for op in ops:
        for pointer in (op.get("path"), op.get("from")):
            if isinstance(pointer, str):
                check_text(pointer)
                if pointer.count("/") > limits.max_depth:
                    raise SyncError(TOO_LARGE, f"a path is deeper than {limits.max_depth}")
        if "value" in op:
            budget -= check_value(op["value"], budget)
