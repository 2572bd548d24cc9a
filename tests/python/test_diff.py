"""diff: correctness on random values, minimality on the usual edits, and its cost."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import syncstate.diff
from syncstate.diff import diff, edit_script
from syncstate.patch import apply_patch, json_copy, json_equal

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-3, 3)
    | st.sampled_from([0.0, 1.0, 2.5])
    | st.text("ab~/", max_size=3),
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text("ab~/", max_size=2), children)
    ),
    max_leaves=20,
)


@st.composite
def edited(draw: st.DrawFn, value: Any) -> Any:
    """``value`` with random edits, sharing its untouched parts (as trait assignments do)."""
    choice = draw(st.integers(0, 3))
    if choice == 0:
        return value
    if choice == 1:
        return draw(json_values)
    if isinstance(value, dict):
        kept = {k: draw(edited(v)) for k, v in value.items() if draw(st.booleans())}
        return kept | draw(st.dictionaries(st.text("ab~/", max_size=2), json_values, max_size=2))
    if isinstance(value, list):
        items = [draw(edited(v)) for v in value if draw(st.integers(0, 3))]
        for _ in range(draw(st.integers(0, 2))):
            items.insert(draw(st.integers(0, len(items))), draw(json_values))
        return items
    return draw(json_values)


def check(a: Any, b: Any) -> list[dict[str, Any]]:
    """The edit script from a to b, checked to apply, as is the cheaper form `diff` picks."""
    ops = edit_script(a, b)
    for patch in (ops, diff(a, b)):
        assert json_equal(apply_patch(json_copy(a), json_copy(patch)), b)
    return ops


@settings(max_examples=500)
@given(json_values, json_values)
def test_diff_of_unrelated_values_applies(a: Any, b: Any) -> None:
    check(a, b)


@settings(max_examples=500)
@given(st.data())
def test_diff_of_edited_values_applies(data: st.DataObject) -> None:
    a = data.draw(json_values)
    check(a, data.draw(edited(a)))


@given(json_values)
def test_equal_values_give_no_ops(a: Any) -> None:
    assert diff(a, a) == []
    assert diff(a, json_copy(a)) == []


def test_diff_under_a_path() -> None:
    assert diff({"a": 1}, {"a": 2}, "/field") == [{"op": "replace", "path": "/field/a", "value": 2}]


@pytest.mark.parametrize(
    ("old", "new", "ops"),
    [
        (1, 2, [{"op": "replace", "path": "", "value": 2}]),
        (1, True, [{"op": "replace", "path": "", "value": True}]),
        (0, False, [{"op": "replace", "path": "", "value": False}]),
        (1, 1.0, []),
        ([1], {"0": 1}, [{"op": "replace", "path": "", "value": {"0": 1}}]),
        ({"a": []}, {"a": {}}, [{"op": "replace", "path": "/a", "value": {}}]),
        (None, "x", [{"op": "replace", "path": "", "value": "x"}]),
        (
            {"a/b": 1, "~": 2},
            {"a/b": 3},
            [
                {"op": "replace", "path": "/a~1b", "value": 3},
                {"op": "remove", "path": "/~0"},
            ],
        ),
        ({}, {"x": [1]}, [{"op": "add", "path": "/x", "value": [1]}]),
        ([1, 2, 3], [1, 2, 3, 4], [{"op": "add", "path": "/3", "value": 4}]),
        ([1, 2, 3], [0, 1, 2, 3], [{"op": "add", "path": "/0", "value": 0}]),
        ([1, 2, 3], [1, 9, 2, 3], [{"op": "add", "path": "/1", "value": 9}]),
        ([1, 2, 3], [1, 3], [{"op": "remove", "path": "/1"}]),
        ([1, 2, 3], [2, 3], [{"op": "remove", "path": "/0"}]),
        ([1, 2, 3], [1, 2], [{"op": "remove", "path": "/2"}]),
        (
            [1, 2, 3, 4],
            [1, 4],
            [
                {"op": "remove", "path": "/2"},
                {"op": "remove", "path": "/1"},
            ],
        ),
        (
            [1, 2],
            [1, 7, 8, 2],
            [
                {"op": "add", "path": "/1", "value": 7},
                {"op": "add", "path": "/2", "value": 8},
            ],
        ),
        ([1, 2, 3], [1, 5, 3], [{"op": "replace", "path": "/1", "value": 5}]),
        ([{"a": 1}], [{"a": 1, "b": 2}], [{"op": "add", "path": "/0/b", "value": 2}]),
    ],
)
def test_ops(old: Any, new: Any, ops: list[dict[str, Any]]) -> None:
    assert check(old, new) == ops


def test_op_values_are_parts_of_new() -> None:
    row = {"x": 1}
    (op,) = diff([], [row])
    assert op["value"] is row


def test_other_objects_are_leaves() -> None:
    thing = object()
    assert diff({"a": thing}, {"a": thing}) == []
    other = object()
    assert diff({"a": thing}, {"a": other}) == [{"op": "replace", "path": "/a", "value": other}]
    assert diff(b"x", b"x") == []
    assert diff(b"x", b"y") == [{"op": "replace", "path": "", "value": b"y"}]


# --- minimality and cost on a big table ------------------------------------------------


class Row(dict[str, Any]):
    """Counts every look inside, so a test can check unchanged rows were skipped."""

    looks = 0

    def _look(self) -> None:
        Row.looks += 1

    def __getitem__(self, key: str) -> Any:
        self._look()
        return super().__getitem__(key)

    def __contains__(self, key: object) -> bool:
        self._look()
        return super().__contains__(key)

    def __len__(self) -> int:
        self._look()
        return super().__len__()

    def items(self) -> Any:
        self._look()
        return super().items()


ROWS = 10_000


def table() -> list[Row]:
    return [Row(id=i, name=f"row {i}", done=False) for i in range(ROWS)]


def test_one_field_of_one_row_of_many_gives_one_op_without_looking_at_the_rest() -> None:
    old = table()
    new = list(old)
    new[5000] = Row(old[5000], done=True)
    Row.looks = 0
    assert diff({"rows": old}, {"rows": new}) == [
        {"op": "replace", "path": "/rows/5000/done", "value": True}
    ]
    assert Row.looks < 50


def test_one_field_of_one_row_of_many_is_fast() -> None:
    old = [{"id": i, "name": f"row {i}", "done": False} for i in range(ROWS)]
    new = list(old)
    new[5000] = {**old[5000], "done": True}
    times = []
    for _ in range(5):
        start = time.perf_counter()
        diff(old, new)
        times.append(time.perf_counter() - start)
    # Identity checks over 10k rows take about a millisecond; deep comparisons take 10x more.
    assert min(times) < 0.01


@pytest.mark.parametrize(
    ("edit", "ops"),
    [
        (lambda rows, row: [*rows, row], [{"op": "add", "path": f"/{ROWS}"}]),
        (lambda rows, row: [*rows[:4000], row, *rows[4000:]], [{"op": "add", "path": "/4000"}]),
        (lambda rows, row: [*rows[:4000], *rows[4001:]], [{"op": "remove", "path": "/4000"}]),
        (lambda rows, row: rows[1:], [{"op": "remove", "path": "/0"}]),
        (lambda rows, row: list(rows), []),
        (lambda rows, row: rows, []),
    ],
)
def test_usual_list_edits_give_one_op(edit: Any, ops: list[dict[str, Any]]) -> None:
    old = table()
    row = Row(id=-1, name="new", done=False)
    new = edit(old, row)
    Row.looks = 0
    got = diff(old, new)
    assert [{k: v for k, v in op.items() if k != "value"} for op in got] == ops
    assert all(op["value"] is row for op in got if op["op"] == "add")
    # At most the one pair of rows where the edit is gets compared.
    assert Row.looks < 20


# --- the cheaper form ---------------------------------------------------------------------


def wire_size(ops: list[dict[str, Any]]) -> int:
    return len(json.dumps(ops, separators=(",", ":")))


def test_emptying_a_big_list_is_one_replace() -> None:
    rows = [{"id": i, "done": False} for i in range(ROWS)]
    assert diff(rows, [], "/rows") == [{"op": "replace", "path": "/rows", "value": []}]


@pytest.mark.parametrize(
    "make_new",
    [
        lambda rows: [],
        lambda rows: sorted(rows, key=lambda r: -r["id"]),
        lambda rows: [{**r, "done": True} for r in rows],
        lambda rows: rows[::2],
        lambda rows: [{"id": -1}],
    ],
)
def test_an_assignment_costs_at_most_about_the_new_value(make_new: Any) -> None:
    rows = [{"id": i, "label": f"item {i}", "done": False} for i in range(1000)]
    new = make_new(rows)
    ops = diff(rows, new, "/rows")
    assert json_equal(apply_patch({"rows": json_copy(rows)}, json_copy(ops)), {"rows": new})
    assert wire_size(ops) <= max(1.1 * len(json.dumps(new, separators=(",", ":"))), 200)


def test_few_changes_stay_ops() -> None:
    rows = [{"id": i, "done": False} for i in range(100)]
    new = [*rows[:10], {"id": 10, "done": True}, *rows[11:], {"id": 100, "done": False}]
    assert [op["op"] for op in diff(rows, new)] == ["replace", "add"]


def test_measuring_stops_at_the_smaller_side(monkeypatch: pytest.MonkeyPatch) -> None:
    measured: list[Any] = []
    size = syncstate.diff.json_size
    monkeypatch.setattr(syncstate.diff, "json_size", lambda v: measured.append(v) or size(v))
    old = list(range(ROWS))
    new = [*old[:-3], -1, -2, -3]  # three changes at the end of a long list
    assert len(diff(old, new)) == 3
    assert len(measured) < 100  # about the ops' bytes of it, not the 10,000 elements
