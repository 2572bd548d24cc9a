"""How big frontend edits may make one model's document (`limits.max_document_bytes`).

Measuring the document on every edit would cost the size of the state, and tracking its size
through every kernel change would cost the hot path. So a model keeps an estimate instead:
the size it had when last measured (0 before the first measure) plus the bytes each admitted
edit carried or copied since. Only when an edit would take the estimate past the limit is the
document measured (one walk), and then at most a tenth of the time: a frontend that sends
edit after edit against a nearly full model cannot make the kernel walk it for each one.
Frontends therefore can never add more than the limit, and no edit is admitted that takes a
measured document past it. docs/protocol.md, "Limits".
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from .protocol import TOO_LARGE, SyncError, limits

#: A measure is followed by at least this many times its own duration without another one.
MEASURE_PAUSE = 9


class DocumentSize:
    """One model's size estimate, and the admission of edits against it."""

    def __init__(self) -> None:
        #: Bytes at the last measure plus what admitted edits added since.
        self.estimate = 0
        #: The model's version at the last measure (-1: none, or not trusted).
        self.measured_at = -1
        self.next_measure = 0.0

    def admit(self, added: int, version: int, measure: Callable[[], int]) -> None:
        """Admit an edit that adds `added` bytes to a model at `version`, or refuse it
        (`too_large`); `measure()` is the document's size with the edit applied."""
        if added == 0:
            return  # removing and moving never grow a document
        size = self.estimate + added
        if size > limits.max_document_bytes and self._may_measure(version):
            start = time.monotonic()
            size = measure()
            now = time.monotonic()
            self.next_measure = now + MEASURE_PAUSE * (now - start)
            if size > limits.max_document_bytes:
                # The edit is rolled back; without it the document has at least this much.
                self.estimate = max(self.estimate, size - added)
                self.measured_at = version
            else:
                self.measured_at = -1  # the edit may still be refused by validation
        if size > limits.max_document_bytes:
            raise SyncError(
                TOO_LARGE, f"the model's document would exceed {limits.max_document_bytes} bytes"
            )
        self.estimate = size

    def grew(self, added: int) -> None:
        """A created model starts with the bytes its frontend sent."""
        self.estimate += added

    def _may_measure(self, version: int) -> bool:
        # Nothing changed since the last measure: it still holds, and the edit does not fit.
        return version != self.measured_at and time.monotonic() >= self.next_measure


def document_size(value: Any) -> int:
    """The size of a document in bytes, counted as `check_value` counts an edit's values.

    Reads raw contents (dict.items, list.__iter__) so that nothing lazily tracked is reached.
    """
    size = 0
    stack = [value]
    while stack:
        item = stack.pop()
        kind = type(item)
        if kind is str:
            size += len(item) + 2
        elif isinstance(item, dict):
            for key, child in dict.items(item):
                size += len(key) + 4
                stack.append(child)
        elif isinstance(item, list):
            size += 2 + len(item)
            stack.extend(list.__iter__(item))
        elif kind is float:
            size += 24
        elif kind is int:
            size += 20
        elif isinstance(item, (bytes, bytearray, memoryview)):
            size += len(item)
        else:
            size += 5  # null, true, false, a child model
    return size
