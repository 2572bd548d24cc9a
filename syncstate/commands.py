"""Commands: Python methods a view calls with `experimental.invoke(name, msg, {buffers})`,
answered with a value and buffers (docs/protocol.md, "Commands").

Requests and replies are custom messages with a request id, so they need nothing new from a
frontend that already speaks `syncstate/1` custom messages.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, TypeVar

from .protocol import (
    INTERNAL,
    INVOKE,
    INVOKE_REPLY,
    UNKNOWN_COMMAND,
    SyncError,
    check_value,
    limits,
)
from .serialize import BINARY, to_wire

log = logging.getLogger("syncstate")

F = TypeVar("F", bound=Callable[..., Any])


def command(method: F) -> F:
    """Make a model method callable from its views: `experimental.invoke("name", msg)`.

    The method is called as `method(self, msg, buffers)` on the kernel's main shell and returns
    either a JSON value, or a tuple `(value, buffers)` whose buffers (bytes) go back as binary.
    An exception it raises reaches the view as a rejected promise with its message.
    """
    method._syncstate_command = True  # type: ignore[attr-defined]
    return method


def commands_of(cls: type) -> dict[str, Callable[..., Any]]:
    """The commands of a model class, by name (subclasses may override them)."""
    found: dict[str, Callable[..., Any]] = {}
    for klass in reversed(cls.__mro__):
        for name, value in vars(klass).items():
            if getattr(value, "_syncstate_command", False):
                found[name] = value
    return found


def is_invoke(content: Any) -> bool:
    return isinstance(content, dict) and content.get("syncstate") == INVOKE


def run_invoke(model: Any, content: dict[str, Any], buffers: list[bytes]) -> None:
    """Answer one invoke request: exactly one reply, whatever the handler does."""
    request = content.get("id")
    if not isinstance(request, str):
        log.warning("syncstate: an invoke request without an id was ignored")
        return
    try:
        value, out = _call(model, content, buffers)
        reply: dict[str, Any] = {"syncstate": INVOKE_REPLY, "id": request, "ok": True, "msg": value}
    except SyncError as error:
        reply, out = _failure(request, error.code, error.message), []
    except Exception as error:
        log.exception("syncstate: command %r failed", content.get("name"))
        reply, out = _failure(request, INTERNAL, f"{type(error).__name__}: {error}"), []
    model.send(reply, out)


def _call(model: Any, content: dict[str, Any], buffers: list[bytes]) -> tuple[Any, list[bytes]]:
    name = content.get("name")
    handler = commands_of(type(model)).get(name) if isinstance(name, str) else None
    if handler is None:
        raise SyncError(UNKNOWN_COMMAND, f"{type(model).__name__} has no command {name!r}")
    check_value(content.get("msg"), limits.max_change_bytes)
    result = handler(model, content.get("msg"), buffers)
    value, out = result if isinstance(result, tuple) else (result, [])
    if isinstance(result, tuple) and len(result) != 2:
        raise TypeError("a command returns a value, or a tuple (value, buffers)")
    if not all(isinstance(buffer, BINARY) for buffer in out):
        raise TypeError("a command's buffers must be bytes-like")
    return to_wire(value), [bytes(buffer) for buffer in out]


def _failure(request: str, code: str, message: str) -> dict[str, Any]:
    return {"syncstate": INVOKE_REPLY, "id": request, "ok": False, "code": code, "message": message}
