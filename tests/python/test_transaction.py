"""The inbound edit transaction on its own: one undo log, pointers parsed once, limits."""

from __future__ import annotations

from typing import Any, ClassVar

import pytest
from helpers import FakeManager, Frontend
from traitlets import Bool, CInt, Dict, Int, List, TraitError, Unicode, validate

import syncstate
from syncstate.protocol import SyncError
from syncstate.transaction import Transaction
from syncstate.validation import Changes


class Rows(syncstate.Model):
    rows = List().tag(sync=True)
    meta = Dict().tag(sync=True)
    count = Int(0).tag(sync=True)


class CountedList(list[Any]):
    appended = 0

    def append(self, item: Any) -> None:
        self.appended += 1
        super().append(item)


def test_a_failed_edit_undoes_each_change_once(comms: FakeManager) -> None:
    """Was: two undo logs stacked, four undo steps for two changes."""
    model = Rows(rows=[1, 2])
    ops: list[Any] = [
        {"op": "add", "path": "/rows/-", "value": 3},
        {"op": "replace", "path": "/meta", "value": {"a": 1}},
        {"op": "remove", "path": "/rows/9"},
    ]
    transaction = Transaction(model._sync_traits(), ops, readable=model._state)
    steps = transaction.undo = CountedList()
    with pytest.raises(SyncError) as error, model.hold_sync():
        transaction.apply(model)
    assert error.value.code == "bad_path"
    assert steps.appended == 2 and steps == []
    assert model.rows == [1, 2] and model._state["rows"] is model.rows
    assert model.meta == {}
    assert model._comm.sent == []


def test_pointers_are_parsed_once_per_edit(comms: FakeManager) -> None:
    model = Rows()
    transaction = Transaction(
        model._sync_traits(), [{"op": "add", "path": "/meta/a~1b", "value": 1}], model._state
    )
    assert transaction.ops[0].path == ["meta", "a/b"]
    transaction.apply(model)
    assert model.meta == {"a/b": 1}


def test_copies_spend_the_change_budget(comms: FakeManager, monkeypatch: Any) -> None:
    monkeypatch.setattr(syncstate.limits, "max_change_bytes", 10_000)
    model = Rows(meta={"a": "x" * 1000})
    ops = [{"op": "copy", "from": "/meta", "path": f"/meta/k{i}"} for i in range(8)]
    transaction = Transaction(model._sync_traits(), ops, model._state)
    with pytest.raises(SyncError) as error, model.hold_sync():
        transaction.apply(model)
    assert error.value.code == "too_large"
    assert list(model.meta) == ["a"]


# -- validating only what an edit changed (issue 10, item 2) ----------------------------------


class CountedDict(Dict):  # type: ignore[type-arg]
    """A Dict element trait that counts the elements it validates."""

    validated = 0

    def validate(self, obj: Any, value: Any) -> Any:
        CountedDict.validated += 1
        return super().validate(obj, value)


class Table(syncstate.Model):
    rows = List(CountedDict(per_key_traits={"done": Bool(), "n": CInt()})).tag(sync=True)
    grid = List(List(Dict(value_trait=Int()), maxlen=3)).tag(sync=True)
    names = Dict(value_trait=Unicode()).tag(sync=True)


def table(rows: int = 1000) -> tuple[Table, Frontend]:
    model = Table(rows=[{"done": False, "n": i} for i in range(rows)])
    CountedDict.validated = 0
    return model, Frontend(model._comm)


def test_an_edit_of_one_row_validates_that_row_only(comms: FakeManager) -> None:
    model, frontend = table()
    frontend.edit([{"op": "replace", "path": "/rows/500/done", "value": True}])
    assert frontend.rejections == [] and model.rows[500]["done"] is True
    assert CountedDict.validated == 1  # was 1000: the whole list, on every edit
    frontend.edit([{"op": "add", "path": "/rows/-", "value": {"done": True, "n": 1}}])
    frontend.edit([{"op": "remove", "path": "/rows/0"}])
    assert CountedDict.validated == 2 and len(model.rows) == 1000


def test_a_refused_element_gives_traitlets_own_message(comms: FakeManager) -> None:
    model, frontend = table(10)
    bad = [dict(row) for row in model.rows]
    bad[3]["done"] = "yes"
    with pytest.raises(TraitError) as expected:
        Table.rows._validate(model, bad)
    frontend.edit([{"op": "replace", "path": "/rows/3/done", "value": "yes"}])
    assert [r["message"] for r in frontend.rejections] == [str(expected.value)]
    assert model.rows[3]["done"] is False and frontend.state["rows"][3]["done"] is False


def test_nested_containers_check_each_level_passed(comms: FakeManager) -> None:
    model = Table(grid=[[{"a": 1}], [{"a": 2}, {"a": 3}]])
    frontend = Frontend(model._comm)
    frontend.edit([{"op": "replace", "path": "/grid/1/0/a", "value": "x"}])
    frontend.edit([{"op": "add", "path": "/grid/1/-", "value": {}}])
    frontend.edit([{"op": "add", "path": "/grid/1/-", "value": {}}])  # a 4th: maxlen is 3
    frontend.edit([{"op": "add", "path": "/names/k", "value": 5}])
    assert [r["message"].split(" ")[:2] for r in frontend.rejections] == [
        ["The", "'grid'"],
        ["The", "'grid'"],
        ["Values", "of"],
    ]
    assert model.grid == [[{"a": 1}], [{"a": 2}, {"a": 3}, {}]] and model.names == {}


def test_indexes_shifted_by_later_ops_still_name_the_changed_row(comms: FakeManager) -> None:
    model, frontend = table(5)
    bad = {"done": "no", "n": 0}
    # The bad row moves to index 1, then to 0: it is still found and refused.
    frontend.edit(
        [{"op": "add", "path": "/rows/2", "value": bad}, {"op": "remove", "path": "/rows/0"}]
    )
    frontend.edit(
        [
            {"op": "add", "path": "/rows/1", "value": bad},
            {"op": "move", "from": "/rows/1", "path": "/rows/4"},
            {"op": "add", "path": "/rows/0", "value": {"done": True}},
        ]
    )
    assert len(frontend.rejections) == 2
    # A bad row removed again by the same edit leaves nothing to refuse.
    frontend.edit(
        [{"op": "add", "path": "/rows/3", "value": bad}, {"op": "remove", "path": "/rows/3"}]
    )
    assert len(frontend.rejections) == 2 and len(model.rows) == 5
    assert CountedDict.validated == 2  # the bad row of each refused edit, no other


def test_an_element_coercion_is_written_back_and_sent(comms: FakeManager) -> None:
    model, frontend = table(3)
    frontend.edit([{"op": "replace", "path": "/rows/1/n", "value": "7"}])  # CInt: "7" -> 7
    assert frontend.rejections == [] and model.rows[1]["n"] == 7
    assert frontend.state["rows"][1]["n"] == 7
    assert model._state["rows"] is model.rows  # still edited in place


class Checked(syncstate.Model):
    rows = List(CountedDict()).tag(sync=True)
    proposals: ClassVar[list[Any]] = []

    @validate("rows")
    def _rows_valid(self, proposal: Any) -> Any:
        self.proposals.append(proposal.value)
        if len(proposal.value) > 3:
            raise TraitError("at most 3 rows")
        return [row for row in proposal.value if row.get("keep", True)]


def test_a_cross_validator_still_sees_the_whole_proposal(comms: FakeManager) -> None:
    model = Checked(rows=[{"a": 1}, {"a": 2}])
    frontend = Frontend(model._comm)
    Checked.proposals.clear()
    CountedDict.validated = 0
    frontend.edit([{"op": "add", "path": "/rows/-", "value": {"a": 3}}])
    assert Checked.proposals == [[{"a": 1}, {"a": 2}, {"a": 3}]] and CountedDict.validated == 1
    frontend.edit([{"op": "add", "path": "/rows/-", "value": {"a": 4}}])
    assert frontend.rejections[0]["message"] == "at most 3 rows"
    frontend.edit([{"op": "add", "path": "/rows/0/keep", "value": False}])
    assert len(frontend.rejections) == 1
    assert model.rows == [{"a": 2}, {"a": 3}] == frontend.state["rows"]


def test_an_edit_of_many_places_validates_the_field_once_whole(comms: FakeManager) -> None:
    """Noting paths costs each op every path noted before it: past `Changes.most` the field
    is validated whole, once (bounded by the field, not by ops squared)."""
    model, frontend = table(10)
    many = Changes.most + 8
    ops = [{"op": "add", "path": "/rows/0", "value": {"done": True}} for _ in range(many)]
    frontend.edit(ops)
    assert frontend.rejections == [] and len(model.rows) == 10 + many
    assert CountedDict.validated == 10 + many
    frontend.edit([*ops, {"op": "add", "path": "/rows/-", "value": {"done": 0.5}}])
    assert len(frontend.rejections) == 1 and len(model.rows) == 10 + many
