"""Every `syncstate/1` message, written and read in one place (docs/protocol.md).

One `write_*` function a message kind builds it (with its binary buffers taken out, where it
can carry any); one `read_*` function a kind that Python receives checks its shape and gives
its fields. The field names of messages are spelled here and nowhere else in the package
(saved.py spells those of the view output). js/src/core/messages.ts is the TypeScript twin.
Readers raise SyncError (`bad_message`) for a message of the wrong shape; what the fields
mean is for their callers to check.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, TypeGuard

from .patch import json_copy
from .protocol import (
    BAD_MESSAGE,
    CHILD,
    CREATED,
    CUSTOM,
    ERROR,
    INVOKE,
    INVOKE_REPLY,
    LIST,
    MODELS,
    OPEN,
    PATCH,
    PROTOCOL,
    REJECT,
    STATE,
    SYNC,
    TOO_LARGE,
    SyncError,
    limits,
)
from .serialize import Path, put_buffers, take_buffers

Message = dict[str, Any]
#: A message and the binary buffers it travels with.
Wire = tuple[Message, list[bytes]]

_BINARY_OR_TREE = (bytes, dict, list)


def _encoded(data: Message, roots: Iterable[Path], *, omit_empty: bool = False) -> Wire:
    """Move the bytes under `roots` of `data` into buffers and list their `buffer_paths`
    (docs/protocol.md, "Binary values")."""
    paths, buffers = take_buffers(data, roots)
    if paths or not omit_empty:
        data["buffer_paths"] = paths
    return data, buffers


def _ops_encoded(data: Message) -> Wire:
    # Only values that can hold bytes are walked: a scalar update costs no walk.
    ops = data["ops"]
    roots: list[Path] = [
        ["ops", i] for i, op in enumerate(ops) if isinstance(op.get("value"), _BINARY_OR_TREE)
    ]
    return _encoded(data, roots, omit_empty=True) if roots else (data, [])


def _is_int(value: Any) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


# -- every message --------------------------------------------------------------------------


def read_method(data: Any) -> Any:
    """The `method` of a message; SyncError for one that is not an object."""
    if not isinstance(data, dict):
        raise SyncError(BAD_MESSAGE, "a message must be a JSON object")
    return data.get("method")


def read_buffers(data: Message, buffers: list[Any]) -> Message:
    """A copy of `data` with its binary buffers put back where its `buffer_paths` say."""
    data = dict(data)
    put_buffers(data, data.get("buffer_paths"), buffers)
    return data


def write_custom(content: Any) -> Message:
    return {"method": CUSTOM, "content": content}


def read_custom(data: Message) -> Any:
    return data.get("content")


# -- kernel -> frontend ---------------------------------------------------------------------


def write_open(model: str, state: dict[str, Any], binary_fields: Iterable[str]) -> Wire:
    """The `comm_open` data of a model whose state (already `to_wire`) is at version 0."""
    data = {"protocol": PROTOCOL, "method": OPEN, "model": model, "version": 0, "state": state}
    return _encoded(data, [["state", key] for key in binary_fields])


@dataclass
class Opened:
    """A model as a frontend first sees it: its class name, version and state."""

    model: str
    version: int
    state: dict[str, Any]


def read_model(data: Any, buffers: list[Any]) -> Opened:
    """The model of an `open`, or of an entry of `models`; its state is the reader's own copy,
    with the binary values in place."""
    if not isinstance(data, dict):
        raise SyncError(BAD_MESSAGE, "open data must be an object")
    data = {**data, "state": json_copy(data.get("state"))}
    put_buffers(data, data.get("buffer_paths"), buffers)
    version, state = data.get("version"), data["state"]
    if not isinstance(state, dict) or not _is_int(version):
        raise SyncError(BAD_MESSAGE, "open data needs a 'state' object and a 'version'")
    return Opened(str(data.get("model", "")), version, state)


def write_patch(version: int, ops: list[Any], ack: list[str]) -> Wire:
    data: Message = {"method": PATCH, "version": version, "ops": ops}
    if ack:
        data["ack"] = ack  # omitted when empty: small updates are the hot path
    return _ops_encoded(data)


@dataclass
class KernelPatch:
    version: int
    ops: Any  # its shape is the mirror's to check
    ack: list[Any]


def read_patch(data: Message) -> KernelPatch:
    version, ack = data.get("version"), data.get("ack", [])
    if not _is_int(version) or not isinstance(ack, list):
        raise SyncError(BAD_MESSAGE, "a patch needs an integer 'version' and 'ack' list")
    return KernelPatch(version, data.get("ops"), ack)


def write_state(version: int, state: dict[str, Any]) -> Wire:
    """The answer to `sync`; `state` is already `to_wire`."""
    data = {"method": STATE, "version": version, "state": state}
    return _encoded(data, [["state", key] for key in state])


@dataclass
class StateReply:
    version: int
    state: dict[str, Any]


def read_state(data: Message) -> StateReply:
    version, state = data.get("version"), data.get("state")
    if not _is_int(version) or not isinstance(state, dict):
        raise SyncError(BAD_MESSAGE, "a state needs an integer 'version' and a 'state'")
    return StateReply(version, state)


def write_reject(edit_id: str | None, version: int, code: str, message: str) -> Message:
    return {"method": REJECT, "id": edit_id, "version": version, "code": code, "message": message}


@dataclass
class Rejection:
    id: str | None
    code: str
    message: str
    version: Any  # compared only when it is an integer


def read_reject(data: Message) -> Rejection:
    edit_id, code, message = data.get("id"), data.get("code"), data.get("message")
    if not isinstance(code, str) or not (edit_id is None or isinstance(edit_id, str)):
        raise SyncError(BAD_MESSAGE, "a reject needs an 'id' and a string 'code'")
    text = message if isinstance(message, str) else code
    return Rejection(edit_id, code, text, data.get("version"))


# -- frontend -> kernel ---------------------------------------------------------------------


def write_edit(edit_id: str, base: int, ops: list[Any]) -> Wire:
    """A frontend's `patch`; the ops are the message's own (the caller copies them)."""
    return _ops_encoded({"method": PATCH, "id": edit_id, "base": base, "ops": ops})


@dataclass
class Edit:
    """A frontend `patch` message, checked for shape (not yet for meaning)."""

    id: str
    base: int
    ops: list[Any]


def read_edit(data: Message) -> Edit:
    edit_id = data.get("id")
    if not isinstance(edit_id, str):
        raise SyncError(BAD_MESSAGE, "an edit needs a string 'id'")
    base = data.get("base")
    if not _is_int(base):
        raise SyncError(BAD_MESSAGE, "an edit needs an integer 'base' version")
    ops = data.get("ops")
    if not isinstance(ops, list):
        raise SyncError(BAD_MESSAGE, "an edit needs a list of 'ops'")
    if len(ops) > limits.max_ops:
        raise SyncError(TOO_LARGE, f"{len(ops)} ops exceed the limit of {limits.max_ops}")
    return Edit(edit_id, base, ops)


def edit_id_of(data: Any) -> str | None:
    """The id to name in a rejection, when the message carries a usable one."""
    if isinstance(data, dict) and isinstance(data.get("id"), str):
        return str(data["id"])
    return None


def write_sync() -> Message:
    return {"method": SYNC}


# -- the widget comm (widget.py) ------------------------------------------------------------


def read_child(data: Message) -> Any:
    """The model id that a view's `child` request asks for."""
    return data.get("model_id")


def write_child(model_id: Any, widget_id: str | None, message: str = "") -> Message:
    """The answer to a `child` request: the child's widget comm id, or why there is none."""
    if widget_id is None:
        return {"method": CHILD, "model_id": model_id, "message": message}
    return {"method": CHILD, "model_id": model_id, "widget": widget_id}


# -- the control comm -----------------------------------------------------------------------


def read_request(data: Any) -> Any:
    """The `request` id of a control message, repeated in its reply."""
    return data.get("request") if isinstance(data, dict) else None


def write_list(request: str) -> Message:
    return {"protocol": PROTOCOL, "method": LIST, "request": request}


def write_models(request: Any, models: dict[str, Opened]) -> Wire:
    """The reply to `list`: each model's class name, version and state (already `to_wire`)."""
    entries = {
        model_id: {"model": m.model, "version": m.version, "state": m.state}
        for model_id, m in models.items()
    }
    data = {"method": MODELS, "request": request, "models": entries}
    roots: list[Path] = [
        ["models", mid, "state", key] for mid, m in models.items() for key in m.state
    ]
    return _encoded(data, roots)


def read_models(data: Message, buffers: list[bytes]) -> dict[str, Opened]:
    """The models of a `models` reply; an entry that is not a model's is left out."""
    if data.get("method") != MODELS or not isinstance(data.get("models"), dict):
        return {}
    found = {}
    for model_id, entry in read_buffers(data, buffers)["models"].items():
        with contextlib.suppress(SyncError):
            found[model_id] = read_model(entry, [])
    return found


@dataclass
class Create:
    cls: Any  # a class name, if the frontend sent a string
    state: Any  # field values, if the frontend sent an object


def read_create(data: Message) -> Create:
    return Create(data.get("class"), data.get("state", {}))


def write_created(request: Any, model_id: str) -> Message:
    return {"method": CREATED, "request": request, "model_id": model_id}


def write_error(request: Any, code: str, message: str) -> Message:
    return {"method": ERROR, "request": request, "code": code, "message": message}


# -- commands (the content of `custom` messages) --------------------------------------------


@dataclass
class Invoke:
    id: Any  # a request id, if the frontend sent a string
    name: Any
    msg: Any


def read_invoke(content: Any) -> Invoke | None:
    """A command request, or None for any other custom content."""
    if not isinstance(content, dict) or content.get("syncstate") != INVOKE:
        return None
    return Invoke(content.get("id"), content.get("name"), content.get("msg"))


def write_invoke_reply(request: str, value: Any) -> Message:
    return {"syncstate": INVOKE_REPLY, "id": request, "ok": True, "msg": value}


def write_invoke_failure(request: str, code: str, message: str) -> Message:
    return {"syncstate": INVOKE_REPLY, "id": request, "ok": False, "code": code, "message": message}
