"""Keeping syncstate's comms on the kernel's main shell.

ipykernel 7 runs kernel subshells in threads, concurrently with the user's cells, and delivers
a comm message to the subshell the frontend names — or, for a comm that has spoken, to the
subshell it last spoke from. A frontend edit must be applied between cells, in arrival order
(docs/design.md), so syncstate's comms ask to be delivered to the main shell always, through
the routing hook ipykernel consults for each comm (`_reply_subshell_for`, pinned by
tests/integration/test_main_shell.py). A kernel without that hook that still hands us a
message on another thread gets it refused, never applied concurrently.
"""

from __future__ import annotations

import threading
from typing import Any

from .messages import read_method
from .protocol import BAD_MESSAGE, SyncError


def keep_on_main_shell(channel: Any) -> None:
    """Have ipykernel deliver every message of this comm to the main shell."""
    channel._reply_subshell_for = _main_shell


def on_main_shell() -> bool:
    """Whether the current message is handled on the main shell (the main thread)."""
    return threading.current_thread() is threading.main_thread()


def message_data(msg: Any) -> Any:
    """The `data` of a comm message as ipykernel hands it to a handler (None if it has none)."""
    return msg.get("content", {}).get("data") if isinstance(msg, dict) else None


def method_of(data: Any) -> Any:
    """The `method` of an inbound message; SyncError (`bad_message`) for one that is not an
    object, or that reached us on another thread than the main shell."""
    method = read_method(data)
    if not on_main_shell():
        raise SyncError(
            BAD_MESSAGE, "syncstate messages are handled on the kernel's main shell, not a subshell"
        )
    return method


def _main_shell(data: Any, requested: str | None) -> None:
    return None  # None names the main shell
