"""The inbound edit transaction on its own: one undo log, pointers parsed once, limits."""

from __future__ import annotations

from typing import Any

import pytest
from helpers import FakeManager
from traitlets import Dict, Int, List

import syncstate
from syncstate.protocol import SyncError
from syncstate.transaction import Transaction


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
