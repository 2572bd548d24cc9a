"""The last state of a model, carried by its output (docs/protocol.md, "Saved state").

A view's output data gets the state document as it was when the output was made (here) or
when the notebook was last saved (the JupyterLab extension rewrites it), so a notebook opened
without its kernel, or exported to HTML, can still show the view, read-only.
"""

from __future__ import annotations

import base64
import json
from typing import TYPE_CHECKING, Any, cast

from .diff import json_size
from .protocol import PROTOCOL
from .serialize import models_in, take_buffers, to_wire

if TYPE_CHECKING:
    from .model import Model

#: The most JSON text (binary values counted as their base64 text) a saved state may take; a
#: larger one is left out (`state_omitted: "too_large"`). Same cap as js/src/core/saved.ts.
SAVED_STATE_MAX_CHARS = 4_000_000
TOO_LARGE = "too_large"


def view_data(model: Model) -> dict[str, Any]:
    """The data of a model's view output: which model, and its state as saved."""
    return {"model_id": model.model_id, "protocol": PROTOCOL} | saved_state(model)


def saved_state(model: Model) -> dict[str, Any]:
    """The output-data keys that carry the model's state, and those of the models it holds
    (its children, theirs, …: `models`, by id), or say why they do not.

    A state over the cap is found by measuring at most about the cap (`_over_cap`), before any
    copy: displaying a million rows costs no copy and no encoding of the whole state."""
    if _over_cap(model._state):
        return {"state_omitted": TOO_LARGE}  # before looking for children among its rows
    held = _held_models(model)
    if any(_over_cap(child._state) for child in held):
        return {"state_omitted": TOO_LARGE}
    saved = _saved_entry(model)
    if held:
        saved["models"] = {child.model_id: _saved_entry(child) for child in held}
    if len(json.dumps(saved)) > SAVED_STATE_MAX_CHARS:
        return {"state_omitted": TOO_LARGE}
    return saved


def _held_models(model: Model) -> list[Model]:
    """The models that `model` holds, directly or through others, each once, without itself."""
    found: dict[str, Model] = {model.model_id: model}
    unvisited = [model]
    while unvisited:
        for held in models_in(unvisited.pop()._state):
            child = cast("Model", held)
            if child.model_id and child.model_id not in found:  # a closed model has no id
                found[child.model_id] = child
                unvisited.append(child)
    return list(found.values())[1:]


def _saved_entry(model: Model) -> dict[str, Any]:
    """One model's state, version and base64 buffers."""
    document = to_wire(model._state)
    paths, buffers = take_buffers(document, [[key] for key in document])
    saved: dict[str, Any] = {"state": document, "version": model.version}
    if buffers:
        saved["buffer_paths"] = paths
        saved["buffers"] = [base64.b64encode(buffer).decode("ascii") for buffer in buffers]
    return saved


def _over_cap(state: dict[str, Any]) -> bool:
    """Whether the state's compact JSON is surely longer than the cap (binary values counted
    by their bytes, less than their base64), measuring a list in doubling slices so that the
    text encoded stays within about twice the cap."""
    size = 0
    for value in state.values():
        if not isinstance(value, list):
            size += json_size(value)
            continue
        start, step = 0, 64
        while start < len(value) and size <= SAVED_STATE_MAX_CHARS:
            size += json_size(list.__getitem__(value, slice(start, start + step)))
            start, step = start + step, step * 2
        if size > SAVED_STATE_MAX_CHARS:
            return True
    return size > SAVED_STATE_MAX_CHARS
