"""Which fields may hold models (`Slot.may_hold_models`): a view's child requests walk only
those, so the flag must be set by every way a model can enter a field, and stay clear for
plain data. tests/integration/test_widget.py counts the walks through a real kernel."""

from __future__ import annotations

from typing import Any

import pytest
from helpers import FakeManager, fake_comms
from hypothesis import given, settings
from hypothesis import strategies as st
from traitlets import Dict, Instance, Int, List

import syncstate
from syncstate.serialize import models_in


class Leaf(syncstate.Model):
    _esm = "export default { render() {} }"


class Holder(syncstate.Model):
    _esm = "export default { render() {} }"
    rows = List().tag(sync=True)
    meta = Dict().tag(sync=True)
    children = List(Instance(Leaf)).tag(sync=True)
    one = Instance(Leaf, allow_none=True).tag(sync=True)


def walked(model: syncstate.Model) -> set[str]:
    """The fields a child request walks; each field that holds a model must be among them."""
    fields = {name for name in model._state if model._may_hold_models(name)}
    holding = {name for name, value in model._state.items() if any(models_in(value))}
    assert holding <= fields, f"{holding - fields} hold models but would not be walked"
    return fields


def edit(model: syncstate.Model, *ops: dict[str, Any]) -> None:
    sent = len(model._comm.sent)
    patch = {"method": "patch", "id": "e", "base": model.version, "ops": list(ops)}
    model._comm.deliver(patch)
    assert not [data for data, _ in model._comm.sent[sent:] if data.get("method") == "reject"]


def test_plain_data_is_never_walked_however_it_is_edited(comms: FakeManager) -> None:
    m = Holder(rows=[{"id": i, "tags": ["a"]} for i in range(100)], meta={"k": [1]})
    m.rows[5]["tags"].append("b")
    m.rows.insert(0, {"id": -1})
    m.rows = [*m.rows[::-1], {"id": 100}]
    m.meta["x"] = {"y": [2]}
    edit(m, {"op": "replace", "path": "/rows/3/id", "value": 7})
    edit(m, {"op": "add", "path": "/rows/-", "value": {"ref": "syncstate:not-a-model"}})
    edit(m, {"op": "move", "from": "/rows/0", "path": "/rows/5"})
    edit(m, {"op": "copy", "from": "/rows/0", "path": "/meta/copied"})
    edit(m, {"op": "move", "from": "/rows/0", "path": "/meta/moved"})
    assert "rows" not in walked(m) and "meta" not in walked(m)


@pytest.mark.parametrize(
    "fields",
    [
        lambda: {"children": [Leaf()]},
        lambda: {"rows": [{"owner": Leaf()}]},
        lambda: {"one": Leaf()},
    ],
)
def test_a_model_given_at_creation_is_walked(comms: FakeManager, fields: Any) -> None:
    m = Holder(**fields())
    held = {name for name, value in m._state.items() if any(models_in(value))}
    assert held and held <= walked(m)


def test_a_model_put_in_place_by_the_kernel_is_walked(comms: FakeManager) -> None:
    m = Holder(rows=[{"id": 1}, [2]], meta={"a": {}})
    m.rows[0]["owner"] = Leaf()
    m.rows[1].append(Leaf())
    m.meta["a"]["b"] = [Leaf()]
    assert {"rows", "meta"} <= walked(m)


def test_a_model_in_a_subtree_taken_from_another_model_is_walked(comms: FakeManager) -> None:
    source = Holder(rows=[{"owner": Leaf()}])
    row = source.rows.pop()  # a tracked subtree, detached: adopting it looks inside nothing
    m = Holder(rows=[{"id": 1}])
    m.rows.append(row)
    assert "rows" in walked(m)


def test_a_model_put_by_a_frontend_is_walked(comms: FakeManager) -> None:
    leaf = Leaf()
    m = Holder()
    ref = f"syncstate:{leaf.model_id}"
    edit(m, {"op": "add", "path": "/children/-", "value": ref})
    edit(m, {"op": "replace", "path": "/one", "value": ref})
    assert m.children == [leaf] and m.one is leaf
    assert {"children", "one"} <= walked(m)
    edit(m, {"op": "copy", "from": "/children/0", "path": "/rows/-"})  # as the ref text, in rows
    walked(m)


def test_a_model_put_into_a_detached_plain_subtree_is_walked_once_it_is_back(
    comms: FakeManager,
) -> None:
    m = Holder(rows=[{"id": 1}, {"id": 2}])
    m.rows[1]["id"] = 3  # reached: a tracked node
    row = m.rows.pop()  # left a plain tree: adopting it again looks inside nothing...
    row["owner"] = Leaf()  # ...unless something entered it meanwhile
    m.rows.append(row)
    assert "rows" in walked(m)


def test_a_refused_edit_that_removed_rows_leaves_the_field_plain(comms: FakeManager) -> None:
    m = Holder(rows=[{"id": 1}, {"id": 2}])
    m.rows[0]["id"] = 3  # rows reached: tracked nodes, detached and adopted by the undo
    sent = len(m._comm.sent)
    m._comm.deliver(
        {
            "method": "patch",
            "id": "e",
            "base": m.version,
            "ops": [
                {"op": "remove", "path": "/rows/0"},
                {"op": "test", "path": "/rows/0", "value": 0},  # fails: the edit is undone
            ],
        }
    )
    assert [data["method"] for data, _ in m._comm.sent[sent:]] == ["reject"]
    assert "rows" not in walked(m)


def _pick(m: Holder, k: int) -> int:
    return k % len(m.rows) if m.rows else 0


ACTIONS: dict[str, Any] = {
    "append plain": lambda m, k, kept: m.rows.append({"id": k, "sub": [k]}),
    "append holding": lambda m, k, kept: m.rows.append({"owner": Leaf()}),
    "put a model in a row": lambda m, k, kept: (
        m.rows
        and isinstance(m.rows[_pick(m, k)], dict)
        and m.rows[_pick(m, k)].update(owner=Leaf())
    ),
    "reach a row": lambda m, k, kept: m.rows and m.rows[_pick(m, k)],
    "reach, pop and keep": lambda m, k, kept: (
        m.rows and m.rows[_pick(m, k)] is not None and kept.append(m.rows.pop(_pick(m, k)))
    ),
    "put a model in a kept row": lambda m, k, kept: (
        kept and isinstance(kept[-1], dict) and kept[-1].update(late=Leaf())
    ),
    "bring a kept row back": lambda m, k, kept: kept and m.rows.insert(0, kept.pop()),
    "sort": lambda m, k, kept: m.rows.sort(key=lambda row: str(row)),
    "reassign reversed": lambda m, k, kept: setattr(m, "rows", m.rows[::-1]),
    "frontend move": lambda m, k, kept: (
        len(m.rows) > 1
        and edit(m, {"op": "move", "from": f"/rows/{_pick(m, k)}", "path": "/rows/0"})
    ),
    "frontend copy to meta": lambda m, k, kept: (
        m.rows and edit(m, {"op": "copy", "from": f"/rows/{_pick(m, k)}", "path": f"/meta/c{k}"})
    ),
    "frontend move to meta": lambda m, k, kept: (
        m.rows and edit(m, {"op": "move", "from": f"/rows/{_pick(m, k)}", "path": f"/meta/m{k}"})
    ),
    "frontend adds a child": lambda m, k, kept: edit(
        m, {"op": "add", "path": "/children/-", "value": f"syncstate:{Leaf().model_id}"}
    ),
    "frontend moves a child into rows": lambda m, k, kept: (
        m.children and edit(m, {"op": "move", "from": "/children/0", "path": "/rows/-"})
    ),
}


@settings(max_examples=400)
@given(st.lists(st.tuples(st.sampled_from(sorted(ACTIONS)), st.integers(0, 9)), max_size=16))
def test_every_field_that_holds_a_model_is_walked_whatever_happened(
    steps: list[tuple[str, int]],
) -> None:
    with fake_comms():
        m = Holder(rows=[{"id": 0}, {"id": 1, "sub": [{"x": 1}]}])
        kept: list[Any] = []
        for action, k in steps:
            ACTIONS[action](m, k, kept)
            walked(m)


def test_a_plain_document_assigned_back_stays_plain(comms: FakeManager) -> None:
    m = Holder(rows=[{"id": 1}])
    document = m.rows
    m.rows = []
    m.rows = document  # the tracked tree the field had, detached from a plain slot
    assert "rows" not in walked(m)


class Plotted(syncstate.Model):
    _esm = "export default { render() {} }"
    # A custom wire form: the document is not tracked, and changes only by being replaced.
    points = List().tag(sync=True, to_json=lambda value, model: [list(p) for p in value])
    children = List(Instance(Leaf)).tag(sync=True)
    n = Int(0).tag(sync=True)


def test_child_requests_walk_an_untracked_field_once_per_value(
    comms: FakeManager, monkeypatch: pytest.MonkeyPatch
) -> None:
    from syncstate import widget

    m = Plotted(points=[(i, i) for i in range(1000)], children=[Leaf()])
    bridge = widget.bridge_of(m)
    assert bridge is not None
    walked_sizes: list[int] = []
    walk = widget.models_in
    monkeypatch.setattr(widget, "models_in", lambda v: walked_sizes.append(len(v)) or walk(v))
    child = m.children[0]
    for n in range(3):
        m.n = n  # a new version, the points unchanged
        assert child in bridge._held_models()
    assert walked_sizes.count(1000) == 1 and walked_sizes.count(1) == 3
    m.points = [(0, 0)]  # a new value: walked again
    assert child in bridge._held_models()
    assert walked_sizes[-2:] == [1, 1] and len(walked_sizes) == 6


def test_a_child_closed_and_opened_again_is_found_by_its_new_id(comms: FakeManager) -> None:
    from syncstate import widget

    leaf = Leaf()
    m = Holder(one=leaf, children=[Leaf()])
    bridge = widget.bridge_of(m)
    assert bridge is not None
    assert leaf in bridge._held_models()
    leaf.close()
    leaf.open()  # a new comm, a new id, the same place in the state
    m.children = [*m.children, Leaf()]  # a new version of the parent
    bridge.widget.comm.sent.clear()
    bridge._answer_child(leaf.model_id)
    [(answer, _)] = bridge.widget.comm.sent
    child_widget = widget.bridge_of(leaf)
    assert child_widget is not None
    assert answer["content"] == {
        "method": "child",
        "model_id": leaf.model_id,
        "widget": child_widget.widget.model_id,
    }


def test_a_model_put_where_its_reference_text_was_is_a_change(comms: FakeManager) -> None:
    """The same on the wire, but not the same state: the field now holds the model."""
    leaf = Leaf()
    m = Holder(rows=[f"syncstate:{leaf.model_id}"])
    version = m.version
    m.rows = [leaf]
    assert m.version == version + 1 and "rows" in walked(m)
