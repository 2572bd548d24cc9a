"""List index bookkeeping: exact paths after any reorder, at a cost that follows the change."""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from typing import Any

import pytest
from helpers import FakeManager, Frontend
from traitlets import List

import syncstate
from syncstate.tracked import TrackedList, wrap


class Table(syncstate.Model):
    rows = List().tag(sync=True)


ROWS = 1000


@pytest.fixture
def renumbered(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many children each renumbering visited, in order."""
    counts: list[int] = []
    renumber = TrackedList._renumber

    def counting(self: TrackedList, start: int, stop: int) -> None:
        counts.append(max(0, min(stop, len(self)) - start))
        renumber(self, start, stop)

    monkeypatch.setattr(TrackedList, "_renumber", counting)
    return counts


def assert_paths_exact(items: TrackedList) -> None:
    for i, row in enumerate(items):
        where = row._locate()
        assert where is not None and where[1] == [i]


Reorder = Callable[[TrackedList], Any]

#: What each reorder may renumber: about the change, not the list.
REORDERS: list[tuple[str, Reorder, int]] = [
    ("insert(0)", lambda v: v.insert(0, {"t": -1}), 1),
    ("pop(0)", lambda v: v.pop(0), 0),
    ("insert near the end", lambda v: v.insert(len(v) - 2, {"t": -1}), 3),
    ("del front slice", lambda v: v.__delitem__(slice(0, 3)), 0),
    ("front slice grows", lambda v: v.__setitem__(slice(0, 1), [{"t": -1}, {"t": -2}]), 2),
    ("reverse", lambda v: v.reverse(), 0),
    ("remove the first", lambda v: v.remove(v[0]), 0),
]


@pytest.mark.parametrize(("name", "reorder", "most"), REORDERS, ids=[r[0] for r in REORDERS])
def test_a_reorder_renumbers_about_the_change_and_later_edits_nothing(
    comms: FakeManager, renumbered: list[int], name: str, reorder: Reorder, most: int
) -> None:
    m = Table(rows=[{"t": i} for i in range(ROWS)])
    front = Frontend(m._comm)
    reorder(m.rows)
    assert sum(renumbered) <= most
    renumbered.clear()
    for k in random.Random(1).sample(range(len(m.rows)), 100):
        m.rows[k]["t"] = -k
    assert renumbered == []
    front.pump()
    assert front.state["rows"] == m.rows
    assert_paths_exact(m.rows)


def test_sort_renumbers_once_then_edits_renumber_nothing(
    comms: FakeManager, renumbered: list[int]
) -> None:
    m = Table(rows=[{"t": i} for i in range(ROWS)])
    front = Frontend(m._comm)
    m.rows.sort(key=lambda r: -r["t"])
    assert renumbered == [ROWS]
    renumbered.clear()
    for k in range(0, ROWS, 7):
        m.rows[k]["t"] = "x"
    assert renumbered == []
    front.pump()
    assert front.state["rows"] == m.rows


def test_paths_stay_exact_through_random_reorders(comms: FakeManager) -> None:
    rng = random.Random(7)
    m = Table(rows=[{"t": i} for i in range(50)])
    front = Frontend(m._comm)
    steps: list[Reorder] = [
        lambda v: v.insert(rng.randint(0, len(v)), {"t": "new"}),
        lambda v: v.pop(rng.randrange(len(v))) if v else None,
        lambda v: v.reverse(),
        lambda v: v.sort(key=lambda r: str(r["t"])),
        lambda v: v.__delitem__(slice(rng.randint(0, 3), rng.randint(3, 6))),
        lambda v: v.__delitem__(slice(0, None, 3)),
        lambda v: v.__setitem__(slice(1, 3), [{"t": "s"}] * rng.randint(0, 4)),
        lambda v: v.extend([{"t": "e"}, {"t": "f"}]),
        lambda v: v.append({"t": "a"}),
        lambda v: v[rng.randrange(len(v))].__setitem__("t", "edited") if v else None,
    ]
    for _ in range(400):
        rng.choice(steps)(m.rows)
        assert_paths_exact(m.rows)
    front.pump()
    assert front.state["rows"] == m.rows


def test_a_rejected_inbound_edit_restores_exact_paths(comms: FakeManager) -> None:
    m = Table(rows=[{"t": i} for i in range(20)])
    front = Frontend(m._comm)
    m.rows.reverse()
    ops = [
        {"op": "add", "path": "/rows/0", "value": {"t": "in"}},
        {"op": "remove", "path": "/rows/5"},
        {"op": "test", "path": "/rows/0/t", "value": "not this"},
    ]
    front.edit(ops)
    front.pump()
    assert [r["t"] for r in m.rows] == list(range(19, -1, -1))
    assert_paths_exact(m.rows)
    m.rows[3]["t"] = "after"
    front.pump()
    assert front.state["rows"] == m.rows


# -- a reassigned copy: rows kept at their index are adopted as they are ----------------------


def reassigned_copy(m: Table, changes: dict[int, Any]) -> None:
    rows = list(m.rows)
    for k, value in changes.items():
        rows[k] = value
    m.rows = rows


@pytest.mark.parametrize(("name", "reorder", "most"), REORDERS, ids=[r[0] for r in REORDERS])
def test_a_reassigned_copy_after_a_reorder_keeps_every_path_exact(
    comms: FakeManager, name: str, reorder: Reorder, most: int
) -> None:
    m = Table(rows=[{"t": i} for i in range(ROWS)])
    front = Frontend(m._comm)
    reorder(m.rows)
    kept = m.rows[10]
    reassigned_copy(m, {3: {"t": "three"}, 20: {"t": "twenty"}})
    assert [op["path"] for op in front.pump()[-1]["ops"]] == ["/rows/3/t", "/rows/20/t"]
    assert m.rows[10] is kept  # adopted, not copied
    assert_paths_exact(m.rows)
    rows = list(m.rows)
    rows.insert(500, {"t": "middle"})
    del rows[1]
    m.rows = rows
    assert m.rows[9] is kept
    assert_paths_exact(m.rows)
    for k in (0, 3, 9, 499, 500, len(m.rows) - 1):
        m.rows[k]["t"] = f"edited {k}"
    front.pump()
    assert front.state["rows"] == m.rows


def test_a_row_kept_twice_is_copied_so_each_place_syncs_alone(comms: FakeManager) -> None:
    m = Table(rows=[{"t": i} for i in range(5)])
    front = Frontend(m._comm)
    list(m.rows)  # every row tracked
    for k in (1, 2):  # the row stays at its index too (1) or not (2): it stays at 2
        kept = m.rows[k]
        rows = list(m.rows)
        rows[0:2] = [kept, kept]
        m.rows = rows
        assert m.rows[k] is kept and len({id(row) for row in m.rows}) == 5
        assert_paths_exact(m.rows)
        m.rows[0]["t"] = "zero"
        m.rows[1]["t"] = "one"
        front.pump()
        assert front.state["rows"] == m.rows and m.rows[1]["t"] == "one"


def test_a_kept_row_that_lives_elsewhere_is_copied_not_taken() -> None:
    elsewhere = wrap([{"t": "x"}], None, None)
    old = wrap([{"t": 0}, {"t": 1}], None, None)
    first, stranger = old[0], elsewhere[0]
    list.__setitem__(old, 1, stranger)  # not expected in a tracked tree; adopting it would
    new = wrap(list(list.__iter__(old)), None, None, reclaim=old)  # make one row two paths
    assert new[0] is first and new[1] is not stranger and new[1] == stranger
    assert stranger._parent is elsewhere


def test_a_reassigned_copy_refuses_what_is_not_json_and_keeps_the_old_rows(
    comms: FakeManager,
) -> None:
    m = Table(rows=plain_rows(50))
    front = Frontend(m._comm)
    list(m.rows)
    for bad in ({"t": "\ud800"}, {"t": float("inf")}, {"t": {1, 2}}, {1: "int key"}, object()):
        with pytest.raises(Exception, match=r"JSON|string|Unicode|cannot be synced"):
            reassigned_copy(m, {7: {"t": "fine"}, 30: bad})
        assert m.rows == plain_rows(50)
        assert_paths_exact(m.rows)
    m.rows[30]["done"] = True
    assert front.pump()[-1]["ops"] == [{"op": "replace", "path": "/rows/30/done", "value": True}]


def test_an_assignment_that_fails_after_wrapping_gives_the_old_rows_back(
    comms: FakeManager, monkeypatch: pytest.MonkeyPatch
) -> None:
    m = Table(rows=plain_rows(50))
    front = Frontend(m._comm)
    list(m.rows)

    def failing_diff(*args: object) -> None:
        raise MemoryError("no room for the ops")

    monkeypatch.setattr(syncstate.model, "diff", failing_diff)
    with pytest.raises(Exception, match="no room"):
        reassigned_copy(m, {7: {"t": "fine"}})
    monkeypatch.undo()
    assert m.rows == plain_rows(50)
    m.rows.insert(0, {"t": "first", "tags": [], "done": False})
    assert_paths_exact(m.rows)
    m.rows[30]["done"] = True
    assert front.pump()[-1]["ops"] == [{"op": "replace", "path": "/rows/30/done", "value": True}]


def test_a_few_new_rows_among_tracked_ones_are_tracked_at_once_many_when_reached(
    comms: FakeManager, reached: list[Any]
) -> None:
    m = Table(rows=plain_rows(100))
    front = Frontend(m._comm)
    list(m.rows)
    reached.clear()
    changed = {"t": "new", "tags": [], "done": True}
    reassigned_copy(m, {42: changed})
    assert reached == [changed]  # now, so that reading the list later scans no row
    for row in m.rows:
        row["done"] = False
    assert reached == [changed]
    m.rows = plain_rows(100)  # all new: kept plain until reached, as at creation
    assert reached == [changed]
    for row in m.rows:
        row["done"] = True
    assert len(reached) == 101
    front.pump()
    assert front.state["rows"] == m.rows and changed["done"] is True


# -- lazy tracking: rows become tracked when reached, not when the model is made ---------------


@pytest.fixture
def reached(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Every plain value made a tracked child (the copy lazy tracking defers)."""
    values: list[Any] = []
    make = syncstate.tracked._reached

    def counting(value: Any, parent: Any, key: Any) -> Any:
        values.append(value)
        return make(value, parent, key)

    monkeypatch.setattr(syncstate.tracked, "_reached", counting)
    return values


def plain_rows(n: int) -> list[dict[str, Any]]:
    return [{"t": i, "tags": ["a"], "done": False} for i in range(n)]


def test_creating_and_displaying_reaches_no_row(comms: FakeManager, reached: list[Any]) -> None:
    rows = plain_rows(ROWS)
    m = Table(rows=rows)
    m._repr_mimebundle_()
    json.dumps(m._comm.open_data)  # as the kernel's session encodes the open message
    assert reached == []
    assert m._comm.open_data["state"]["rows"] == rows


def test_an_edit_reaches_its_row_only_and_leaves_the_assigned_value_alone(
    comms: FakeManager, reached: list[Any]
) -> None:
    rows = plain_rows(ROWS)
    m = Table(rows=rows)
    front = Frontend(m._comm)
    m.rows[500]["tags"].append("b")
    m.rows[500]["done"] = True
    assert [op["path"] for data in front.pump() for op in data["ops"]] == [
        "/rows/500/tags/1",
        "/rows/500/done",
    ]
    assert reached == [rows[500], rows[500]["tags"]]
    assert rows[500] == {"t": 500, "tags": ["a"], "done": False}  # the user's row: unchanged
    front.edit([{"op": "replace", "path": "/rows/7/tags/0", "value": "z"}])
    assert len(reached) == 4 and front.state["rows"] == m.rows and not front.rejections
    assert rows[7]["tags"] == ["a"]


def test_reordering_and_reassigning_reach_nothing(comms: FakeManager, reached: list[Any]) -> None:
    m = Table(rows=plain_rows(ROWS))
    front = Frontend(m._comm)
    m.rows.insert(0, {"t": -1})
    m.rows.reverse()
    m.rows.pop()
    m.rows.sort(key=lambda row: row["t"])
    m.rows = m.rows + [{"t": ROWS}]  # noqa: RUF005 (unpacking would iterate, and reach every row)
    assert len(front.pump()[-1]["ops"]) == 1  # the diff is one add: kept rows are compared by id
    assert reached == []
    assert front.state["rows"] == m.rows and m.rows[0]["t"] == 0
    assert_paths_exact(m.rows)


def test_iterating_reaches_every_row_once_and_their_edits_sync(
    comms: FakeManager, reached: list[Any]
) -> None:
    m = Table(rows=plain_rows(100))
    front = Frontend(m._comm)
    for row in m.rows:
        row["done"] = True
    for row in m.rows:
        for tags in row.values():
            if isinstance(tags, list):
                tags.append("x")
    assert len(reached) == 200  # each row, then each row's tags
    front.pump()
    assert front.state["rows"] == m.rows and front.state["rows"][99]["tags"] == ["a", "x"]


def test_a_failed_edit_puts_unreached_rows_back(comms: FakeManager) -> None:
    m = Table(rows=plain_rows(10))
    front = Frontend(m._comm)
    front.edit(
        [
            {"op": "remove", "path": "/rows/3"},
            {"op": "move", "from": "/rows/0", "path": "/rows/5"},
            {"op": "test", "path": "/rows/0/t", "value": "no"},
        ]
    )
    assert front.rejections and m.rows == plain_rows(10)
    m.rows[3]["tags"].append("b")
    front.pump()
    assert front.state["rows"] == m.rows and front.state["rows"][3]["tags"] == ["a", "b"]
    assert_paths_exact(m.rows)


def test_values_that_are_not_plain_json_are_converted_or_refused_at_once(
    comms: FakeManager,
) -> None:
    m = Table(rows=[{"pair": (1, 2), "raw": bytearray(b"x")}, [{"t": 1}]])
    assert isinstance(m.rows[0]["pair"], TrackedList) and m.rows[0]["raw"] == b"x"
    for bad in ({"n": float("nan")}, {1: "int key"}, {"t": "\ud800"}, {"s": {1, 2}}):
        with pytest.raises(Exception, match=r"JSON|string|Unicode|cannot be synced"):
            Table(rows=[{"ok": [bad]}])
