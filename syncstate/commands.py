"""Commands: Python methods a view calls with `experimental.invoke(name, msg, {buffers})`,
answered with a value and buffers (docs/protocol.md, "Commands").

Requests and replies are custom messages with a request id, so they need nothing new from a
frontend that already speaks `syncstate/1` custom messages.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, TypeVar

from .messages import Invoke, write_invoke_failure, write_invoke_reply
from .protocol import INTERNAL, UNKNOWN_COMMAND, SyncError, check_value, limits
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


def run_invoke(model: Any, invoke: Invoke, buffers: list[bytes]) -> None:
    """Answer one invoke request: exactly one reply, whatever the handler does."""
    request = invoke.id
    if not isinstance(request, str):
        log.warning("syncstate: an invoke request without an id was ignored")
        return
    try:
        value, out = _call(model, invoke, buffers)
        reply = write_invoke_reply(request, value)
    except SyncError as error:
        reply, out = write_invoke_failure(request, error.code, error.message), []
    except Exception as error:
        log.exception("syncstate: command %r failed", invoke.name)
        reply, out = write_invoke_failure(request, INTERNAL, f"{type(error).__name__}: {error}"), []
    model.send(reply, out)


def _call(model: Any, invoke: Invoke, buffers: list[bytes]) -> tuple[Any, list[bytes]]:
    name = invoke.name
    handler = commands_of(type(model)).get(name) if isinstance(name, str) else None
    if handler is None:
        raise SyncError(UNKNOWN_COMMAND, f"{type(model).__name__} has no command {name!r}")
    check_value(invoke.msg, limits.max_change_bytes)
    result = handler(model, invoke.msg, buffers)
    value, out = result if isinstance(result, tuple) else (result, [])
    if isinstance(result, tuple) and len(result) != 2:
        raise TypeError("a command returns a value, or a tuple (value, buffers)")
    if not all(isinstance(buffer, BINARY) for buffer in out):
        raise TypeError("a command's buffers must be bytes-like")
    return to_wire(value), [bytes(buffer) for buffer in out]
