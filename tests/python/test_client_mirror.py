"""The Python frontend `Mirror`: shared vectors, and what they cannot show (buffers, costs)."""

from __future__ import annotations

import base64
import functools
import json
import random
import sys
from pathlib import Path
from typing import Any

import pytest
from helpers import FakeManager, fake_comms

from syncstate.client import Mirror, anywidget_model
from syncstate.messages import read_model
from syncstate.patch import PatchError, apply_patch, json_copy, json_equal

VECTORS = Path(__file__).resolve().parents[1] / "vectors"
#: Random scenarios from a real kernel, and hand-written ones that follow docs/protocol.md's rules.
SCENARIOS = json.loads((VECTORS / "mirror_scenarios.json").read_text())["scenarios"]
RULES = json.loads((VECTORS / "mirror_rules.json").read_text())["scenarios"]


def make(state: dict[str, Any], version: int = 0) -> tuple[Mirror, list[Any]]:
    sent: list[Any] = []
    mirror = Mirror(
        json_copy(state),
        version,
        lambda data, buffers=None: sent.append((data, buffers or [])),
        client_id="c",
    )
    return mirror, sent


def from_vector(value: Any) -> Any:
    """A vector's JSON with binary values as `{"$binary": base64}`, as the mirror takes it."""
    if isinstance(value, dict):
        if set(value) == {"$binary"}:
            return base64.b64decode(value["$binary"])
        return {k: from_vector(v) for k, v in value.items()}
    if isinstance(value, list):
        return [from_vector(v) for v in value]
    return value


def to_vector(value: Any) -> Any:
    if isinstance(value, bytes):
        return {"$binary": base64.b64encode(value).decode()}
    if isinstance(value, dict):
        return {k: to_vector(v) for k, v in value.items()}
    if isinstance(value, list):
        return [to_vector(v) for v in value]
    return value


def replay(scenario: dict[str, Any]) -> None:
    """Do each step's event; compare the mirror with what the step expects (the keys it has)."""
    sent: list[tuple[Any, list[bytes]]] = []
    opened = read_model(scenario["open"], [])
    mirror = Mirror(
        opened.state,
        opened.version,
        lambda data, buffers=None: sent.append((json_copy(data), list(buffers or []))),
        client_id=scenario["client_id"],
    )
    for number, step in enumerate(scenario["steps"]):
        expect = step["expect"]
        errors, mark = len(mirror.errors), len(sent)
        raised = None
        try:
            if "edit" in step:
                mirror.patch(from_vector(step["edit"]))
            elif "receive" in step:
                buffers = [base64.b64decode(b) for b in step.get("buffers", [])]
                mirror.handle_message(step["receive"], buffers)
            elif "set" in step:
                anywidget_model(mirror).set(step["set"]["key"], from_vector(step["set"]["value"]))
            elif "save_changes" in step:
                anywidget_model(mirror).save_changes()
            elif "close" in step:
                mirror.handle_close()
            else:
                mirror.request_sync()
        except PatchError as error:
            raised = error.code
        where = f"step {number}: {step}"
        assert raised == expect.get("raises"), where
        pending = [
            {"id": e.id, "base": e.base, "sent": e.sent, "ops": to_vector(e.ops)}
            for e in mirror.pending
        ]
        actual = {
            "visible": to_vector(mirror.state),
            "version": mirror.version,
            "pending": pending,
            "in_flight": mirror.in_flight,
            "syncing": mirror.syncing,
            "sent": [data for data, _ in sent[mark:]],
            "sent_buffers": [[base64.b64encode(b).decode() for b in bs] for _, bs in sent[mark:]],
            "errors": [{"id": e.id, "code": e.code} for e in mirror.errors[errors:]],
        }
        for key, value in actual.items():
            if key in expect:
                assert (
                    json_equal(value, expect[key]) if key == "visible" else value == expect[key]
                ), (key, where)


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s["name"] for s in SCENARIOS])
def test_vectors(scenario: dict[str, Any]) -> None:
    replay(scenario)


@pytest.mark.parametrize("scenario", RULES, ids=[s["name"] for s in RULES])
def test_rules(scenario: dict[str, Any]) -> None:
    replay(scenario)


def test_vectors_cover_the_interesting_paths() -> None:
    codes = {e["code"] for s in SCENARIOS for st in s["steps"] for e in st["expect"]["errors"]}
    # `dropped` and `out_of_sync` are the mirror's own; the others are the kernel's rejections.
    assert {"dropped", "conflict", "out_of_sync", "invalid", "forbidden"} <= codes
    rebased = any(
        p["base"] > 0 and not p["sent"]
        for s in SCENARIOS
        for st in s["steps"]
        for p in st["expect"]["pending"]
    )
    assert rebased


def test_no_copy_of_the_state_when_nothing_is_pending() -> None:
    mirror, _ = make({"rows": [{"t": i} for i in range(1000)], "n": 0})
    rows = mirror.state["rows"]
    mirror.handle_message(
        {
            "method": "patch",
            "version": 1,
            "ack": [],
            "ops": [{"op": "replace", "path": "/rows/5/t", "value": 9}],
        }
    )
    assert mirror.state is mirror.confirmed and mirror.state["rows"] is rows
    mirror.patch([{"op": "replace", "path": "/n", "value": 1}])
    # Pending: the edit is applied in place; `confirmed` is then a copy made on demand.
    assert mirror.state is not mirror.confirmed and mirror.state["rows"] is rows
    assert mirror.confirmed["n"] == 0 and mirror.state["n"] == 1
    mirror.handle_message(
        {
            "method": "patch",
            "version": 2,
            "ack": ["c:1"],
            "ops": [{"op": "replace", "path": "/n", "value": 1}],
        }
    )
    assert mirror.state is mirror.confirmed and mirror.settled


class CountedRows(list[Any]):
    """A list that counts element reads and iterations: a copy or a diff of it reads them all."""

    reads = 0

    def __getitem__(self, index: Any) -> Any:
        CountedRows.reads += 1
        return super().__getitem__(index)

    def __iter__(self) -> Any:
        CountedRows.reads += len(self)
        return super().__iter__()


def test_with_an_edit_pending_kernel_patches_and_answers_touch_only_their_rows() -> None:
    rows = CountedRows({"id": i, "done": False} for i in range(10_000))
    mirror, _ = make({"rows": [], "n": 0})
    mirror.state["rows"] = rows  # the mirror copies what it is opened with; count this one
    seen: list[Any] = []
    mirror.observe(seen.append)
    CountedRows.reads = 0

    def kernel(ops: list[Any], ack: list[str] | None = None) -> None:
        mirror.handle_message(
            {"method": "patch", "version": mirror.version + 1, "ack": ack or [], "ops": ops}
        )

    mirror.patch([{"op": "replace", "path": "/rows/5/done", "value": True}])
    kernel([{"op": "replace", "path": "/rows/7/done", "value": True}])
    kernel([{"op": "add", "path": "/rows/10000", "value": {"id": 10000, "done": False}}])
    mirror.patch([{"op": "replace", "path": "/rows/9/done", "value": True}])
    kernel([{"op": "replace", "path": "/rows/5/done", "value": True}], ["c:1"])
    kernel([{"op": "replace", "path": "/rows/9/done", "value": "coerced"}], ["c:2"])
    assert CountedRows.reads < 100
    assert mirror.state["rows"] is rows and mirror.settled  # one document, never copied
    assert [r["done"] for r in rows[:10]] == [False] * 5 + [True, False, True, False, "coerced"]
    assert seen[1:] == [
        [{"op": "replace", "path": "/rows/7/done", "value": True}],
        [{"op": "add", "path": "/rows/10000", "value": {"id": 10000, "done": False}}],
        [{"op": "replace", "path": "/rows/9/done", "value": True}],
        [{"op": "replace", "path": "/rows/9/done", "value": "coerced"}],
    ]


def test_a_kernel_insert_under_a_pending_edit_reports_the_exact_change() -> None:
    mirror, _ = make({"rows": [{"id": 0}, {"id": 1}]})
    shown = json_copy(mirror.state)
    mirror.observe(lambda ops: apply_patch(shown, json_copy(ops)))
    mirror.patch([{"op": "add", "path": "/rows/1/done", "value": True}])
    mirror.handle_message(
        {
            "method": "patch",
            "version": 1,
            "ack": [],
            "ops": [{"op": "add", "path": "/rows/0", "value": {"id": -1}}],
        }
    )
    assert mirror.state == {"rows": [{"id": -1}, {"id": 0, "done": True}, {"id": 1}]}
    assert shown == mirror.state
    assert mirror.confirmed == {"rows": [{"id": -1}, {"id": 0}, {"id": 1}]}


def test_local_refusals_change_nothing() -> None:
    mirror, sent = make({"a": [1], "_esm": ""})
    for ops, code in [
        ([{"op": "replace", "path": "/_esm", "value": "x"}], "forbidden"),
        ([{"op": "copy", "from": "/_esm", "path": "/b"}], "forbidden"),
        ([{"op": "replace", "path": "", "value": {}}], "forbidden"),
        ([{"op": "add", "path": "/a/0", "value": 2}, {"op": "remove", "path": "/a/9"}], "bad_path"),
        ([{"op": "test", "path": "/a/0", "value": 5}], "test_failed"),
        ([{"op": "frob", "path": "/a"}], "bad_op"),
        ([{"path": 3}], "bad_op"),
        ([{"op": "replace", "path": "/a/~2", "value": 1}], "bad_path"),
    ]:
        with pytest.raises(PatchError) as info:
            mirror.patch(ops)
        assert info.value.code == code
    assert mirror.state == {"a": [1], "_esm": ""} and sent == [] and mirror.settled
    assert mirror.patch([]) is None


def test_the_callers_ops_are_not_kept() -> None:
    mirror, sent = make({"a": {}})
    value = {"deep": [1]}
    mirror.patch([{"op": "add", "path": "/a/k", "value": value}])
    value["deep"].append(2)
    assert mirror.state["a"]["k"] == {"deep": [1]}
    assert sent[0][0]["ops"][0]["value"] == {"deep": [1]}


def test_values_set_are_read_back_until_saved_then_leave_as_one_edit() -> None:
    """The anywidget adapter, as js/src/core/anywidget.ts: the mirror itself has no `set`."""
    mirror, sent = make({"a": 1, "b": [1], "_esm": ""})
    assert not hasattr(mirror, "set") and not hasattr(mirror, "save_changes")
    anywidget_model(mirror).set("b", [1, 2])
    anywidget_model(mirror).set("a", 5)
    assert anywidget_model(mirror).get("a") == 5 and mirror.get("a") == 1 and sent == []
    with pytest.raises(PatchError):
        anywidget_model(mirror).set("_esm", "x")
    assert anywidget_model(mirror).save_changes() == "c:1"
    assert [op["path"] for op in sent[0][0]["ops"]] == ["/b/1", "/a"]
    assert mirror.state == {"a": 5, "b": [1, 2], "_esm": ""}
    assert anywidget_model(mirror).save_changes() is None


def test_binary_values_travel_as_buffers() -> None:
    sent: list[Any] = []
    opened = read_model(
        {
            "method": "open",
            "version": 0,
            "state": {"img": None, "n": 0},
            "buffer_paths": [["state", "img"]],
        },
        [b"PNG"],
    )
    mirror = Mirror(
        opened.state,
        opened.version,
        lambda data, buffers=None: sent.append((data, buffers)),
        client_id="c",
    )
    assert mirror.get("img") == b"PNG"
    mirror.patch([{"op": "replace", "path": "/img", "value": b"GIF"}])
    paths = [["ops", 0, "value"]]
    ops = [{"op": "replace", "path": "/img", "value": None}]
    assert sent == [
        ({"method": "patch", "id": "c:1", "base": 0, "buffer_paths": paths, "ops": ops}, [b"GIF"])
    ]
    mirror.handle_message(
        {"method": "patch", "version": 1, "ack": ["c:1"], "buffer_paths": paths, "ops": ops},
        [memoryview(b"GIF")],
    )
    assert mirror.state == {"img": b"GIF", "n": 0} and mirror.settled
    # A bad buffer path is a bad kernel message: reported, and the mirror asks for the state.
    mirror.handle_message(
        {"method": "patch", "version": 2, "ack": [], "buffer_paths": [["ops", 5]], "ops": []},
        [b"x"],
    )
    assert mirror.syncing and sent[-1] == ({"method": "sync"}, None)
    assert mirror.errors[-1].code == "out_of_sync"


@pytest.mark.parametrize(
    "data",
    [
        None,
        [],
        "x",
        {"method": "what"},
        {"method": "patch"},
        {"method": "patch", "version": "1"},
        {"method": "patch", "version": 1, "ops": [{"op": "add", "path": "/zz/0", "value": 1}]},
        {"method": "patch", "version": 1, "ops": [{"op": "replace", "path": "", "value": {}}]},
        {"method": "reject"},
        {"method": "state", "version": 3, "state": []},
    ],
)
def test_bad_kernel_messages_mean_resync_not_a_crash(data: Any) -> None:
    mirror, sent = make({"a": 1})
    mirror.handle_message(data)
    assert mirror.state == {"a": 1} and mirror.version == 0
    assert sent == [({"method": "sync"}, [])] and mirror.syncing
    mirror.handle_message({"method": "state", "version": 4, "state": {"a": 2}})
    assert mirror.state == {"a": 2} and mirror.version == 4 and mirror.settled


def test_observers_and_error_callbacks() -> None:
    mirror, _ = make({"a": 1, "b": 1})
    changes: list[Any] = []
    errors: list[Any] = []
    stop = mirror.observe(changes.append)
    mirror.on_error(errors.append)
    mirror.patch([{"op": "replace", "path": "/a", "value": 2}])
    mirror.handle_message(
        {
            "method": "patch",
            "version": 1,
            "ack": [],
            "ops": [{"op": "replace", "path": "/b", "value": 5}],
        }
    )
    mirror.handle_message(
        {"method": "reject", "id": "c:1", "version": 1, "code": "invalid", "message": "no"}
    )
    assert changes == [
        [{"op": "replace", "path": "/a", "value": 2}],
        [{"op": "replace", "path": "/b", "value": 5}],
        [{"op": "replace", "path": "/a", "value": 1}],
    ]
    assert [(e.id, e.code, e.message) for e in errors] == [("c:1", "invalid", "no")]
    stop()
    mirror.handle_message(
        {
            "method": "patch",
            "version": 2,
            "ack": [],
            "ops": [{"op": "replace", "path": "/b", "value": 6}],
        }
    )
    assert len(changes) == 3


def test_close_reports_unanswered_edits(comms: FakeManager) -> None:
    mirror, _ = make({"a": 1})
    mirror.patch([{"op": "replace", "path": "/a", "value": 2}])
    mirror.handle_close()
    assert mirror.closed and [e.code for e in mirror.errors] == ["closed"]
    with pytest.raises(RuntimeError):
        mirror.patch([{"op": "replace", "path": "/a", "value": 3}])


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("\ud83d", "bad_message"),  # half an emoji
        ({"\udcff": 1}, "bad_message"),
        (float("nan"), "bad_message"),
        (10**4000, "too_large"),  # ipykernel parses it; over max_int_digits
        (
            functools.reduce(lambda value, _: [value], range(1000), 1),
            "too_large",
        ),  # ipykernel's parser would drop it unanswered
    ],
    ids=["surrogate", "surrogate-key", "nan", "long-int", "deep"],
)
def test_edits_the_kernel_would_refuse_are_refused_locally(value: Any, code: str) -> None:
    mirror, sent = make({"meta": {}})
    with pytest.raises(PatchError) as info:
        mirror.patch([{"op": "replace", "path": "/meta", "value": value}])
    assert info.value.code == code
    assert [(e.id, e.code) for e in mirror.errors] == [(None, code)]
    assert sent == [] and mirror.state == {"meta": {}} and mirror.pending == []


def test_the_mirror_follows_the_rules_model_on_new_random_runs() -> None:
    """tests/vectors/generate.py refuses to write a step where the Python mirror and the naive
    rules model (tests/vectors/rules_model.py) disagree; here on runs the file does not hold."""
    sys.path.insert(0, str(VECTORS))
    import generate

    rng = random.Random(7)
    with fake_comms():
        for index in range(40):
            generate.scenario(index, rng)
