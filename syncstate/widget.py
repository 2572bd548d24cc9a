"""A model's view through an ipywidgets widget manager (docs/where-it-runs.md).

Frontends without the syncstate extension (Voila, nbclassic, VS Code, Colab, JupyterLite) render
`application/vnd.jupyter.widget-view+json` with their own widget manager, and anywidget's front
end is present wherever anywidget is installed. So a displayed model also opens one anywidget
widget whose `_esm` is syncstate's bridge module (syncstate/static/widget.js, built from
js/src/widget). The bridge carries `syncstate/1` messages unchanged as the widget's
custom messages. It is silent until a view asks for the state (`sync`): a page that shows the
model natively never asks, so there no patch is sent twice.
"""

from __future__ import annotations

import functools
from importlib import resources
from typing import TYPE_CHECKING, Any

from . import control
from .messages import read_child, read_method, write_child
from .protocol import CHILD, PROTOCOL, SYNC
from .serialize import models_in
from .shell import keep_on_main_shell, on_main_shell

if TYPE_CHECKING:
    from .model import Model

WIDGET_MIME_TYPE = "application/vnd.jupyter.widget-view+json"


@functools.cache
def bridge_class() -> type[Any] | None:
    """The widget class of the bridge; None without anywidget (models then show natively only).

    A real `anywidget.AnyWidget`: ipywidgets then answers widget managers that restore their
    widgets (`request_state`, and Voila's `request_states` for every widget at once), and in
    Colab anywidget turns on the custom widget manager.
    """
    try:
        import anywidget
    except ImportError:
        return None
    from traitlets import Unicode

    class ModelWidget(anywidget.AnyWidget):
        _esm = resources.files("syncstate").joinpath("static/widget.js").read_text("utf-8")
        protocol = Unicode(PROTOCOL).tag(sync=True)
        #: The id of the syncstate model shown (`model_id` is the widget's own).
        syncstate_id = Unicode().tag(sync=True)

    return ModelWidget


class WidgetBridge:
    """One model's widget; `model._channel.bridge` while it is open."""

    def __init__(self, model: Model, widget_class: type[Any]) -> None:
        self._model = model
        #: Whether a view uses this widget: only then does the model's traffic go on it.
        self.subscribed = False
        #: The models the state holds, and the version they were found at. The models, not
        #: their ids: a model closed and opened again has a new id, and the same place.
        self._held: tuple[int, frozenset[Any]] = (-1, frozenset())
        #: Per field walked for them: its document then, and the models found in it.
        self._found: dict[str, tuple[Any, frozenset[Any]]] = {}
        self.widget = widget_class(syncstate_id=model.model_id)
        keep_on_main_shell(self.widget.comm)
        self.widget.on_msg(self._receive)
        self.widget.comm.on_close(self._closed_by_frontend)

    def view_data(self) -> Any:
        bundle = self.widget._repr_mimebundle_()  # (data, metadata) from anywidget 0.10 on
        return (bundle[0] if isinstance(bundle, tuple) else bundle)[WIDGET_MIME_TYPE]

    def relay(self, data: dict[str, Any], buffers: list[bytes]) -> None:
        """A message of the model's (already encoded for its own comm), once a view listens."""
        if self.subscribed:
            self.widget.send(data, buffers)

    def close(self) -> None:
        self.widget.layout.close()  # the Layout widget every ipywidgets DOMWidget makes
        self.widget.close()

    def _receive(self, widget: Any, content: Any, buffers: list[Any]) -> None:
        """A custom message of the widget's: a `syncstate/1` message for the model."""
        channel = self._model._channel
        method = read_method(content) if isinstance(content, dict) else None
        if method == SYNC and on_main_shell():
            with channel.lock:
                self.subscribed = True
                self.relay(*channel.state_message(self._model._state))
        elif method == CHILD and on_main_shell():
            self._answer_child(read_child(content))
        else:  # the model answers everything else, and refuses what it must
            self._model._handle_msg({"content": {"data": content}, "buffers": buffers})

    def _answer_child(self, model_id: Any) -> None:
        """A view of this model wants a model it refers to (`host.getWidget`): open that
        model's widget, and name it in the answer, which follows the widget's `comm_open`."""
        child = control.live_model(model_id)
        if child not in self._held_models():
            child = None
        bridge = None if child is None else bridge_of(child)
        if bridge is None:
            message = f"syncstate: this model holds no live model {model_id!r}"
            answer = write_child(model_id, None, message)
        else:
            answer = write_child(model_id, bridge.widget.model_id)
        self.widget.send(answer)

    def _held_models(self) -> frozenset[Any]:
        """Found by one walk per version of the fields that may hold models and changed: a
        request costs no walk of its own, rows that no model ever entered are never walked, and
        an untracked field (a custom `to_json`) only once per value. So a frontend that
        alternates an edit and a request cannot make each pair walk a million rows."""
        model = self._model
        version = model._channel.version
        if self._held[0] != version:
            found = {}
            for name, document in model._state.items():
                if not model._may_hold_models(name):
                    continue
                last = self._found.get(name)
                if last is not None and last[0] is document and model._changes_by_replacing(name):
                    found[name] = last  # an untracked document changes only by being replaced
                else:
                    found[name] = (document, frozenset(models_in(document)))
            self._found = found
            self._held = (version, frozenset().union(*(held for _, held in found.values())))
        return self._held[1]

    def _closed_by_frontend(self, msg: Any) -> None:
        channel = self._model._channel
        if channel.bridge is self:
            channel.bridge = None


def bridge_of(model: Model) -> WidgetBridge | None:
    """The model's widget, opened on first use; None without anywidget, or once it is closed."""
    channel = model._channel
    widget_class = bridge_class()
    if widget_class is None or not channel.live:
        return None
    if channel.bridge is None:
        channel.bridge = WidgetBridge(model, widget_class)
    return channel.bridge


def widget_view(model: Model) -> dict[str, Any]:
    """The widget-view part of a model's output: opens the model's widget on its first
    display. Empty without anywidget, or when the model is closed."""
    bridge = bridge_of(model)
    return {} if bridge is None else {WIDGET_MIME_TYPE: bridge.view_data()}
