"""The registries of live models and model classes, and the frontend-opened control comm.

A frontend opens a comm with target `syncstate` to ask for the state of every live model (after
a page reload) or to create a model of a registered class. docs/protocol.md, "The control comm".
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import comm

from .messages import (
    Opened,
    read_buffers,
    read_create,
    read_method,
    read_request,
    write_created,
    write_error,
    write_models,
)
from .protocol import (
    BAD_MESSAGE,
    CREATE,
    FORBIDDEN,
    INTERNAL,
    LIST,
    TARGET,
    UNKNOWN_CLASS,
    UNKNOWN_METHOD,
    SyncError,
    limits,
)
from .serialize import to_wire
from .shell import keep_on_main_shell, message_data, method_of
from .transaction import Transaction, create_ops

if TYPE_CHECKING:
    from .model import Model

log = logging.getLogger("syncstate")
_models: dict[str, Model] = {}
_classes: dict[str, type[Model]] = {}
_registered_on: set[int] = set()


def class_name(cls: type) -> str:
    """How the protocol names a model class (`module.QualName`)."""
    return f"{cls.__module__}.{cls.__qualname__}"


def register_class(cls: type[Model]) -> None:
    _classes[class_name(cls)] = cls


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
    data = message_data(open_msg)
    if isinstance(data, dict) and read_method(data):
        _handle(channel, open_msg)


def _handle(channel: Any, msg: dict[str, Any]) -> None:
    data = message_data(msg)
    request = read_request(data)
    try:
        method = method_of(data)
        if method == LIST:
            _reply_models(channel, request)
        elif method == CREATE:
            create = read_create(read_buffers(data, msg.get("buffers") or []))
            model = _create(create.cls, create.state)
            channel.send(write_created(request, model.model_id))
        else:
            raise SyncError(UNKNOWN_METHOD, f"unknown method {method!r}")
    except SyncError as error:
        _reply_error(channel, request, error.code, error.message)
    except Exception as error:
        log.exception("syncstate: unexpected error on the control comm")
        _reply_error(channel, request, INTERNAL, f"{type(error).__name__}: {error}")


def _reply_error(channel: Any, request: Any, code: str, message: str) -> None:
    channel.send(write_error(request, code, message))


def _reply_models(channel: Any, request: Any) -> None:
    models = {
        m.model_id: Opened(class_name(type(m)), m.version, to_wire(m._state)) for m in live_models()
    }
    data, buffers = write_models(request, models)
    channel.send(data, buffers=buffers)


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
