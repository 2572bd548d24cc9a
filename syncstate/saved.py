"""The last state of a model, carried by its output (docs/protocol.md, "Saved state").

A view's output data gets the state document as it was when the output was made (here) or
when the notebook was last saved (the JupyterLab extension rewrites it), so a notebook opened
without its kernel, or exported to HTML, can still show the view, read-only.
"""

from __future__ import annotations

import base64
import json
from typing import TYPE_CHECKING, Any, cast

from .diff import json_text
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

    The state is encoded within the cap (`_encode_within_cap`): displaying a million rows
    encodes about the cap, with no copy of the state. A state of plain JSON (the usual case)
    is then done: no buffers, no models held, and its snapshot is its text read back."""
    encoded = _encode_within_cap(model._state)
    if encoded is None:
        return {"state_omitted": TOO_LARGE}  # before looking for children among its rows
    text, plain = encoded
    if plain:
        if len(text) + len(f'{{"state":,"version":{model.version}}}') > SAVED_STATE_MAX_CHARS:
            return {"state_omitted": TOO_LARGE}
        return {"state": json.loads(text), "version": model.version}
    held = _held_models(model)
    room = SAVED_STATE_MAX_CHARS - len(text)  # the cap counts the whole output, children too
    for child in held:
        child_encoded = _encode_within_cap(child._state, room)
        if child_encoded is None:
            return {"state_omitted": TOO_LARGE}  # before copying any of them
        room -= len(child_encoded[0])
    saved: dict[str, Any] = _saved_entry(model)
    if held:
        saved["models"] = {child.model_id: _saved_entry(child) for child in held}
    if len(json.dumps(saved, separators=(",", ":"))) > SAVED_STATE_MAX_CHARS:
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


def _encode_within_cap(state: dict[str, Any], cap: int | None = None) -> tuple[str, bool] | None:
    """The state's compact JSON text and whether it is plain JSON, or None when the text is
    over `cap` (by default the saved-state cap). Binary values and models stand in by about
    their size on the wire (counted by their bytes, less than their base64), and make the state
    not plain.

    A list is encoded in slices, each sized from the rows so far to end near the cap, so a
    state far over the cap costs the encoding of about the cap, not of the state. The text is
    joined once, from its parts, to hold no more than about twice the cap at any time."""
    cap = SAVED_STATE_MAX_CHARS if cap is None else cap
    stood_in: list[Any] = []
    parts: list[str] = []
    size = 1  # the closing brace; the size of the parts so far follows
    for key, value in state.items():
        parts.append(("," if parts else "{") + json.dumps(key) + ":")
        size += len(parts[-1])
        if not isinstance(value, list) or not value:
            parts.append(json_text(value, stood_in))
            size += len(parts[-1])
        else:
            parts.append("[")
            size += 1  # with the closing bracket, and less the first slice's comma
            start, step = 0, 64
            while start < len(value) and size <= cap:
                piece = json_text(list.__getitem__(value, slice(start, start + step)), stood_in)
                parts += ("," if start else "", piece[1:-1])
                size += len(piece) - 1
                per_row = len(piece) / min(step, len(value) - start)
                start += step
                step = max(64, min(2 * start, int((cap - size) / per_row) + 64))
            parts.append("]")
        if size > cap:
            return None
    text = "".join(parts) + "}" if parts else "{}"
    return None if len(text) > cap else (text, not stood_in)
