"""A model's view through an ipywidgets widget manager (docs/where-it-runs.md).

Frontends without the syncstate extension (Voila, nbclassic, VS Code, Colab, JupyterLite) render
`application/vnd.jupyter.widget-view+json` with their own widget manager, and anywidget's front
end is present wherever anywidget is installed. So a displayed model also opens one anywidget
model: a widget comm whose `_esm` is syncstate's bridge module (syncstate/static/widget.js,
built from js/src/widget). The bridge carries `syncstate/1` messages unchanged as the widget's
custom messages. It is silent until a view asks for the state (`sync`): a page that shows the
model natively never asks, so there no patch is sent twice.
"""

from __future__ import annotations

import functools
import logging
from importlib import metadata, resources
from typing import TYPE_CHECKING, Any

import comm

from .protocol import PROTOCOL, SYNC
from .shell import keep_on_main_shell, on_main_shell

if TYPE_CHECKING:
    from .model import Model

log = logging.getLogger("syncstate")

WIDGET_MIME_TYPE = "application/vnd.jupyter.widget-view+json"
WIDGET_TARGET = "jupyter.widget"
#: The Jupyter widget message protocol that the widget comm speaks.
WIDGET_PROTOCOL = (2, 1)


@functools.cache
def anywidget_version() -> str | None:
    """The version of anywidget's front end to ask for (the installed package's, as anywidget
    itself does); None without anywidget, and then models show only natively."""
    try:
        return metadata.version("anywidget")
    except metadata.PackageNotFoundError:
        return None


@functools.cache
def bridge_source() -> str:
    return resources.files("syncstate").joinpath("static/widget.js").read_text(encoding="utf-8")


class WidgetBridge:
    """One model's widget comm; `model._channel.bridge` while it is open."""

    def __init__(self, model: Model, version: str) -> None:
        self._model = model
        #: Whether a view uses this comm: only then does the model's traffic go on it.
        self.subscribed = False
        self.state = {
            "_model_module": "anywidget",
            "_model_name": "AnyModel",
            "_model_module_version": version,
            "_view_module": "anywidget",
            "_view_name": "AnyView",
            "_view_module_version": version,
            "_view_count": None,
            "_anywidget_id": "syncstate",
            "_esm": bridge_source(),
            "protocol": PROTOCOL,
            "model_id": model.model_id,
        }
        major, minor = WIDGET_PROTOCOL
        self.comm = comm.create_comm(
            target_name=WIDGET_TARGET,
            data={"state": self.state, "buffer_paths": []},
            metadata={"version": f"{major}.{minor}.0"},
        )
        keep_on_main_shell(self.comm)
        self.comm.on_msg(self._handle_msg)
        self.comm.on_close(self._closed_by_frontend)

    def view_data(self) -> dict[str, Any]:
        major, minor = WIDGET_PROTOCOL
        return {"version_major": major, "version_minor": minor, "model_id": self.comm.comm_id}

    def relay(self, data: dict[str, Any], buffers: list[bytes]) -> None:
        """A message of the model's (already encoded for its own comm), once a view listens."""
        if self.subscribed:
            self.comm.send({"method": "custom", "content": data}, buffers=buffers)

    def close(self) -> None:
        self.comm.close()

    def _handle_msg(self, msg: dict[str, Any]) -> None:
        data = msg.get("content", {}).get("data") if isinstance(msg, dict) else None
        method = data.get("method") if isinstance(data, dict) else None
        if method == "request_state":  # a widget manager restoring its widgets (Voila does)
            self.comm.send({"method": "update", "state": self.state, "buffer_paths": []})
        elif method == "custom":
            self._receive(data.get("content"), msg.get("buffers") or [])
        # `update`: a widget manager writing widget state; nothing in it is the model's.

    def _receive(self, content: Any, buffers: list[Any]) -> None:
        channel = self._model._channel
        if isinstance(content, dict) and content.get("method") == SYNC and on_main_shell():
            with channel.lock:
                self.subscribed = True
                self.relay(*channel.state_message(self._model._state))
        else:  # the model answers everything else, and refuses what it must
            self._model._handle_msg({"content": {"data": content}, "buffers": buffers})

    def _closed_by_frontend(self, msg: Any) -> None:
        channel = self._model._channel
        if channel.bridge is self:
            channel.bridge = None


def widget_view(model: Model) -> dict[str, Any]:
    """The widget-view part of a model's output: opens the model's widget comm on its first
    display. Empty without anywidget, or when the model is closed."""
    channel = model._channel
    version = anywidget_version()
    if version is None or not channel.live:
        return {}
    if channel.bridge is None:
        channel.bridge = WidgetBridge(model, version)
    return {WIDGET_MIME_TYPE: channel.bridge.view_data()}
