"""The state a view's output carries (docs/protocol.md, "Saved state")."""

from __future__ import annotations

import base64

from helpers import FakeManager
from traitlets import Bytes, Instance, Int, List, Unicode

import syncstate
from syncstate import saved

MIME = "application/vnd.syncstate.view+json"


class Picture(syncstate.Model):
    _esm = "export default { render() {} }"
    count = Int(0).tag(sync=True)
    image = Bytes(b"").tag(sync=True)
    note = Unicode("").tag(sync=True)


def test_the_output_carries_the_current_state_and_version(comms: FakeManager) -> None:
    model = Picture()
    model.count = 5
    view = model._repr_mimebundle_()[MIME]
    assert view["state"]["count"] == 5 and view["version"] == 1
    assert view["state"]["_esm"] == "export default { render() {} }"


def test_binary_values_are_saved_as_base64_at_their_paths(comms: FakeManager) -> None:
    view = Picture(image=b"\x89PNG")._repr_mimebundle_()[MIME]
    assert view["state"]["image"] is None
    assert view["buffer_paths"] == [["image"]]
    assert base64.b64decode(view["buffers"][0]) == b"\x89PNG"


def test_a_state_over_the_cap_is_left_out_and_says_so(comms: FakeManager, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(saved, "SAVED_STATE_MAX_CHARS", 1000)
    view = Picture(note="x" * 2000)._repr_mimebundle_()[MIME]
    assert view["state_omitted"] == "too_large" and "state" not in view
    assert view["protocol"] == "syncstate/1"


class Board(syncstate.Model):
    _esm = "export default { render() {} }"
    items = List(Instance(syncstate.Model)).tag(sync=True)


def test_the_models_a_view_holds_are_saved_with_it_each_once(comms: FakeManager) -> None:
    """Children, grandchildren and a model held twice, by id; the view's own model is not."""
    leaf = Picture(count=3, image=b"\x01")
    inner = Board(items=[leaf])
    board = Board(items=[inner, leaf, Picture(count=4)])
    view = board._repr_mimebundle_()[MIME]
    assert view["state"]["items"][0] == f"syncstate:{inner.model_id}"
    models = view["models"]
    assert set(models) == {inner.model_id, leaf.model_id, board.items[2].model_id}
    assert models[inner.model_id]["state"]["items"] == [f"syncstate:{leaf.model_id}"]
    assert models[leaf.model_id]["state"]["count"] == 3
    assert base64.b64decode(models[leaf.model_id]["buffers"][0]) == b"\x01"
    assert "models" not in Picture()._repr_mimebundle_()[MIME]


def test_a_held_model_over_the_cap_leaves_the_state_out(comms: FakeManager, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(saved, "SAVED_STATE_MAX_CHARS", 1000)
    view = Board(items=[Picture(note="x" * 2000)])._repr_mimebundle_()[MIME]
    assert view["state_omitted"] == "too_large" and "state" not in view
