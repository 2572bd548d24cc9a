"""The state a view's output carries (docs/protocol.md, "Saved state")."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from helpers import FakeManager, fake_comms
from hypothesis import given
from hypothesis import strategies as st
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


class Table(syncstate.Model):
    _esm = "export default { render() {} }"
    rows = List().tag(sync=True)
    title = Unicode("").tag(sync=True)


plain_rows = st.lists(
    st.recursive(
        st.none()
        | st.booleans()
        | st.integers()
        | st.floats(allow_nan=False, allow_infinity=False)
        | st.text(st.characters(exclude_categories=("Cs",)), max_size=4),
        lambda children: (
            st.lists(children, max_size=3)
            | st.dictionaries(st.text(max_size=3), children, max_size=3)
        ),
        max_leaves=8,
    ),
    max_size=300,
)


@given(rows=plain_rows, cap=st.integers(2, 20_000))
def test_a_plain_state_is_saved_exactly_as_the_full_encoding_would_save_it(
    rows: list[Any], cap: int
) -> None:
    """The fast path of plain JSON (encoded in slices, read back) saves what copying and
    encoding the whole state saves, and leaves it out exactly when that is over the cap."""
    with fake_comms(), pytest.MonkeyPatch.context() as mp:
        mp.setattr(saved, "SAVED_STATE_MAX_CHARS", cap)
        model = Table(rows=rows, title="ü")
        whole = saved._saved_entry(model)
        fits = len(json.dumps(whole, separators=(",", ":"))) <= cap
        assert saved.saved_state(model) == (whole if fits else {"state_omitted": "too_large"})


def test_the_saved_state_is_a_snapshot_of_the_display(comms: FakeManager) -> None:
    model = Table(rows=[{"done": False}])
    view = model._repr_mimebundle_()[MIME]
    model.rows[0]["done"] = True
    model.rows.append({"done": False})
    assert view["state"]["rows"] == [{"done": False}] and view["version"] == 0


def test_held_models_under_the_cap_each_but_over_it_together_are_not_copied(
    comms: FakeManager, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(saved, "SAVED_STATE_MAX_CHARS", 3000)
    board = Board(items=[Picture(note="x" * 1600, image=b"\x01"), Picture(note="y" * 1600)])
    monkeypatch.setattr(saved, "_saved_entry", lambda m: pytest.fail("a state was copied"))
    view = board._repr_mimebundle_()[MIME]
    assert view["state_omitted"] == "too_large"
