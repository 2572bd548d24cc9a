"""The registries of live models and model classes, and the frontend-opened control comm.

A frontend opens a comm with target `syncstate` to ask for the state of every live model (after
a page reload) or to create a model of a registered class. docs/protocol.md, "The control comm".
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import comm

from .channel import encode
from .protocol import (
    BAD_MESSAGE,
    CREATE,
    CREATED,
    ERROR,
    FORBIDDEN,
    INTERNAL,
    LIST,
    MODELS,
    TARGET,
    UNKNOWN_CLASS,
    UNKNOWN_METHOD,
    SyncError,
    limits,
)
from .serialize import put_buffers, to_wire
from .shell import keep_on_main_shell, message_data, method_of
from .transaction import Transaction, create_ops

if TYPE_CHECKING:
    from .model import Model

log = logging.getLogger("syncstate")
_models: dict[str, Model] = {}
_classes: dict[str, type[Model]] = {}
_registered_on: set[int] = set()


def register_class(cls: type[Model]) -> None:
    _classes[f"{cls.__module__}.{cls.__qualname__}"] = cls


def register_model(model: Model) -> None:
    _models[model.model_id] = model


def unregister_model(model: Model) -> None:
    _models.pop(model.model_id, None)


def live_model(model_id: str) -> Model | None:
    return _models.get(model_id)


def live_models() -> list[Model]:
    """Every model whose comm is open (closed models are forgotten, hence collectable)."""
    return list(_models.values())


def ensure_target() -> None:
    """Register the control comm target with the current comm manager, once per manager."""
    manager = comm.get_comm_manager()
    if manager is not None and id(manager) not in _registered_on:
        manager.register_target(TARGET, _on_open)
        _registered_on.add(id(manager))


def _on_open(channel: Any, open_msg: dict[str, Any]) -> None:
    keep_on_main_shell(channel)

    def on_msg(msg: dict[str, Any]) -> None:
        _handle(channel, msg)

    channel.on_msg(on_msg)
    data = open_msg.get("content", {}).get("data")
    if isinstance(data, dict) and data.get("method"):
        _handle(channel, open_msg)


def _handle(channel: Any, msg: dict[str, Any]) -> None:
    data = message_data(msg)
    request = data.get("request") if isinstance(data, dict) else None
    try:
        method = method_of(data)
        if method == LIST:
            _reply_models(channel, request)
        elif method == CREATE:
            put_buffers(data, data.get("buffer_paths"), msg.get("buffers") or [])
            model = _create(data.get("class"), data.get("state", {}))
            channel.send({"method": CREATED, "request": request, "model_id": model.model_id})
        else:
            raise SyncError(UNKNOWN_METHOD, f"unknown method {method!r}")
    except SyncError as error:
        _reply_error(channel, request, error.code, error.message)
    except Exception as error:
        log.exception("syncstate: unexpected error on the control comm")
        _reply_error(channel, request, INTERNAL, f"{type(error).__name__}: {error}")


def _reply_error(channel: Any, request: Any, code: str, message: str) -> None:
    channel.send({"method": ERROR, "request": request, "code": code, "message": message})


def _reply_models(channel: Any, request: Any) -> None:
    models = {
        m.model_id: {
            "model": f"{type(m).__module__}.{type(m).__qualname__}",
            "version": m.version,
            "state": to_wire(m._state),
        }
        for m in live_models()
    }
    data = {"method": MODELS, "request": request, "models": models}
    roots = [
        ["models", mid, "state", key] for mid, entry in models.items() for key in entry["state"]
    ]
    channel.send(data, buffers=encode(data, roots))


def _create(name: Any, state: Any) -> Model:
    """A model of a registered class that the kernel lets frontends create
    (`limits.creatable`), its initial values checked as an edit's are."""
    if limits.creatable != "any" and name not in limits.creatable:
        raise SyncError(FORBIDDEN, f"frontends may not create {name!r} models here")
    cls = _classes.get(name) if isinstance(name, str) else None
    if cls is None:
        raise SyncError(UNKNOWN_CLASS, f"no registered model class {name!r}")
    if not isinstance(state, dict):
        raise SyncError(BAD_MESSAGE, "'state' must be an object of field values")
    fields = cls._sync_traits()
    return Transaction(fields, create_ops(state), readable=()).create(cls)
