"""Hostile input, fuzzed: every inbound message gets one answer and leaves a valid state.

Messages go through the real handlers (`Model._handle_msg` via the fake comm, and the control
comm's handler). After each one: the handler did not raise; the kernel answered as the
protocol says (one `patch` ack or one `reject` per edit, one `state` per `sync`, one reply per
control request); every answer is plain JSON; and the model's document equals a mirror that
applied only the patches the kernel sent, and matches the trait values.
"""

from __future__ import annotations

import dataclasses
import json
import random
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest
from helpers import Chooser, Doc, fake_comms, frontend_edit
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from traitlets import Bytes, Int, List, TraitError, Unicode, validate

import syncstate
from syncstate.patch import apply_patch, json_copy, json_equal
from syncstate.serialize import put_buffers, to_wire

MESSAGES = 10_000


class Target(Doc):
    """The convergence model's fields, plus a binary field and one that is not synced."""

    img = Bytes(b"").tag(sync=True)
    secret = Unicode("hidden")

    @validate("count")
    def _non_negative(self, proposal: Any) -> Any:  # replaces Doc's rule with a wider one
        if isinstance(proposal.value, bool):
            raise TraitError("count must be an int, not a bool")
        if not -100 <= proposal.value <= 100:
            raise TraitError("count out of range")
        return proposal.value


POINTERS = [
    "",
    "rows",
    "/rows/-1",
    "/rows/01",
    "/rows/99999999999999999999999",
    "/rows/-",
    "/~2",
    "/meta/~01",
    "/meta/a~1b",
    "/meta/~",
    "/secret",
    "/_esm",
    "/_css",
    "/total",
    "/nope",
    "/rows/0/t/x",
    "/count/0",
    "/img",
    "/name",
    "/meta",
    "/rows/0",
    "//",
    "/ ",
    "/meta/\udfff",
    "/meta" + "/x" * 40,  # deeper than max_depth
]
VALUES: list[Any] = [
    None,
    True,
    0,
    -1,
    10**400,
    1e308,
    -0.0,
    float("inf"),
    float("nan"),
    "x",
    "\u0000",
    [],
    {},
    [1],
    {"t": "x"},
    [{"t": 1}],
    {"": {"": []}},
    "syncstate:nope",
    "\ud800",  # half an emoji: not valid Unicode
    "a\udcff",
    {"\ud83d": 1},
    10**150,  # over max_int_digits
]


def deep(depth: int) -> Any:
    value: Any = 1
    for _ in range(depth):
        value = [value] if depth % 2 else {"d": value}
    return value


def hostile_op(rng: random.Random) -> Any:
    kind = rng.randrange(6)
    if kind == 0:
        return rng.choice([None, 1, "op", [], {"op": "add"}, {"path": "/count"}])
    op: dict[str, Any] = {
        "op": rng.choice(["add", "remove", "replace", "move", "copy", "test", "frob", None, 3])
    }
    op["path"] = rng.choice([*POINTERS, 5, None, ["rows"]])
    if rng.random() < 0.8:
        op["value"] = rng.choice([*VALUES, deep(rng.choice([5, 19, 30, 150]))])
    if rng.random() < 0.4:
        op["from"] = rng.choice([*POINTERS, 7])
    return op


def hostile_message(
    rng: random.Random, state: dict[str, Any], version: int
) -> tuple[Any, list[Any]]:
    """One inbound message for a model comm, and its buffers."""
    kind = rng.randrange(12)
    base = rng.choice(
        [version, version, version - 1, 0, version + 1, -1, 2**70, "1", None, 1.0, True]
    )
    if kind <= 2:  # a plausible edit, usually valid
        ops = frontend_edit(state, Chooser.from_random(rng))
        return {"method": "patch", "id": f"v{rng.random()}", "base": version, "ops": ops}, []
    if kind == 3:  # hostile ops
        ops = [hostile_op(rng) for _ in range(rng.randint(1, 3))]
        return {"method": "patch", "id": "h", "base": base, "ops": ops}, []
    if kind == 4:  # wrong shapes
        return rng.choice(
            [
                None,
                [],
                "patch",
                7,
                {},
                {"method": None},
                {"method": "patch", "id": 1, "base": 0, "ops": []},
                {"method": "patch", "id": "s", "base": 0, "ops": {"op": "add"}},
                {"method": "patch", "id": "s", "base": 0},
                {"method": "patch", "id": "s", "base": base, "ops": "ops"},
                {"method": "patch", "id": ["s"], "base": 0, "ops": []},
            ]
        ), []
    if kind == 5:  # methods
        method = rng.choice(["sync", "custom", "state", "reject", "open", "", "PATCH", 0])
        return {"method": method, "content": rng.choice(VALUES)}, rng.choice([[], [b"x"]])
    if kind == 6:  # too large: the limits are small during the fuzz run
        size = rng.choice(["ops", "depth", "buffers", "copies", "bytes"])
        if size == "copies":  # amplification: each copy doubles what is broadcast
            ops = [{"op": "copy", "from": "/meta", "path": f"/meta/c{i}"} for i in range(12)]
            return {"method": "patch", "id": "amp", "base": version, "ops": ops}, []
        if size == "bytes":
            ops = [{"op": "replace", "path": "/name", "value": "x" * 9000}]
            return {"method": "patch", "id": "bytes", "base": version, "ops": ops}, []
        if size == "ops":
            ops = [{"op": "test", "path": "/count", "value": state["count"]}] * 60
            return {"method": "patch", "id": "big", "base": version, "ops": ops}, []
        if size == "depth":
            ops = [{"op": "add", "path": "/meta/deep", "value": deep(40)}]
            return {"method": "patch", "id": "deep", "base": version, "ops": ops}, []
        ops = [{"op": "replace", "path": "/img", "value": None}]
        return (
            {
                "method": "patch",
                "id": "buf",
                "base": version,
                "ops": ops,
                "buffer_paths": [["ops", 0, "value"]],
            },
            [b"\0" * 5000],
        )
    if kind == 7:  # binary: good and bad buffer paths
        paths = rng.choice(
            [
                [["ops", 0, "value"]],
                [["ops", 0, "path"]],
                [["ops", 5, "value"]],
                [[]],
                ["ops"],
                [["ops", "0", "value"]],
                [["ops", 0, "value", 0]],
                [["ops", {"a": 1}]],
                3,
                None,
                [["ops", 0, "value"]] * 2,
            ]
        )
        ops = [{"op": "replace", "path": rng.choice(["/img", "/name", "/meta"]), "value": None}]
        buffers = rng.choice([[b"PNG"], [memoryview(b"GIF")], [], [b"a", b"b"]])
        return (
            {"method": "patch", "id": "bin", "base": version, "ops": ops, "buffer_paths": paths},
            buffers,
        )
    if kind == 8:  # read-only, private, not synced, unknown fields
        path = rng.choice(["/total", "/_esm", "/_css", "/secret", "/nope", "/img"])
        op = rng.choice(
            [
                {"op": "replace", "path": path, "value": 1},
                {"op": "remove", "path": path},
                {"op": "move", "from": path, "path": "/name"},
                {"op": "copy", "from": path, "path": "/name"},
                {"op": "test", "path": path, "value": ""},
            ]
        )
        return {"method": "patch", "id": "ro", "base": version, "ops": [op]}, []
    if kind == 9:  # values that fail validation
        path, value = rng.choice(
            [
                ("/count", "x"),
                ("/count", 1.5),
                ("/count", 10**400),
                ("/count", 101),
                ("/rows", [1]),
                ("/rows", {}),
                ("/name", 5),
                ("/meta", []),
                ("/img", "text"),
                ("/rows/-", "row"),
                ("/count", True),
                ("/name", None),
            ]
        )
        return {
            "method": "patch",
            "id": "inv",
            "base": version,
            "ops": [{"op": "replace", "path": path, "value": value}],
        }, []
    if kind == 10:  # stale and future bases, and conflicts
        ops = frontend_edit(state, Chooser.from_random(rng))
        return {"method": "patch", "id": "old", "base": base, "ops": ops}, []
    # `~` escapes, done right and wrong
    key = rng.choice(["a/b", "~", "~1", "x~0y", ""])
    escaped = key.replace("~", "~0").replace("/", "~1")
    path = rng.choice([f"/meta/{escaped}", f"/meta/{key}", "/meta/~3", "/meta/x~"])
    return {
        "method": "patch",
        "id": "esc",
        "base": version,
        "ops": [{"op": "add", "path": path, "value": key}],
    }, []


def hostile_control(rng: random.Random) -> Any:
    request = rng.choice(["r", None, 5, {"a": 1}])
    return rng.choice(
        [
            None,
            [],
            {"method": "list", "request": request},
            {"method": "nope", "request": request},
            {
                "method": "create",
                "request": request,
                "class": "test_fuzz.Target",
                "state": rng.choice(
                    [
                        {"count": 3},
                        {"count": "x"},
                        {"secret": "s"},
                        {"_esm": ""},
                        [],
                        None,
                        {"rows": [{"t": 1}]},
                        {"total": 5},
                        {"nope": 1},
                        {"name": "\ud800"},
                        {"rows": [deep(40)]},
                        {"count": float("nan")},
                        {"count": True},
                        {"count": 10**150},
                    ]
                ),
            },
            {"method": "create", "request": request, "class": rng.choice(["x.Y", None, 5, ""])},
            {
                "method": "create",
                "request": request,
                "class": "test_fuzz.Target",
                "state": {"img": None},
                "buffer_paths": rng.choice([[["state", "img"]], [["x"]], 7]),
            },
        ]
    )


@dataclass
class Stats:
    messages: int = 0
    control: int = 0
    answers: Counter[str] = field(default_factory=Counter)
    #: The longest time the kernel took to handle one message, in seconds.
    worst_seconds: float = 0.0


def is_plain_json(value: Any) -> bool:
    try:
        json.dumps(value, allow_nan=False)
    except (TypeError, ValueError):
        return False
    return True


@contextmanager
def small_limits() -> Iterator[None]:
    """Reach the limits with small messages, so that the fuzz run stays fast."""
    saved = dataclasses.replace(syncstate.limits)
    syncstate.limits.max_ops, syncstate.limits.max_depth = 50, 30
    syncstate.limits.max_buffer_bytes = syncstate.limits.max_change_bytes = 8192
    syncstate.limits.max_document_bytes = 32_768
    syncstate.limits.creatable = "any"
    try:
        yield
    finally:
        for limit in dataclasses.fields(saved):
            setattr(syncstate.limits, limit.name, getattr(saved, limit.name))


def check_model(model: Target, mirror: dict[str, Any]) -> None:
    assert json_equal(to_wire(model._state), mirror)
    for name in model._sync_traits():
        assert json_equal(to_wire(getattr(model, name)), to_wire(model._state[name])), name


def fuzz(count: int, seed: int, stats: Stats | None = None) -> Stats:
    """Send `count` hostile messages to a model (and some to the control comm); check each."""
    stats = stats or Stats()
    rng = random.Random(seed)
    with fake_comms() as manager, small_limits():
        model = Target(rows=[{"t": 1}, {"t": 2}], meta={"k": 0}, count=1, name="a", img=b"I")
        channel = model._comm
        mirror = json_copy(to_wire(model._state))
        try:
            for _ in range(count):
                if rng.random() < 0.05:
                    fuzz_control(manager, rng, stats)
                    continue
                data, buffers = hostile_message(rng, json_copy(mirror), model.version)
                seen = len(channel.sent)
                start = time.perf_counter()
                channel.deliver(data, buffers)  # must not raise
                stats.worst_seconds = max(stats.worst_seconds, time.perf_counter() - start)
                stats.messages += 1
                replies = channel.sent[seen:]
                method = data.get("method") if isinstance(data, dict) else None
                if method == "custom":
                    assert replies == []
                    continue
                assert len(replies) == 1, (data, replies)
                reply, _ = replies[0]
                assert is_plain_json(reply), reply
                expected = {"sync": "state", "patch": "patch"}.get(method, "reject")
                if reply["method"] == "reject":
                    stats.answers[reply["code"]] += 1
                    sent_id = data.get("id") if isinstance(data, dict) else None
                    assert reply["id"] == (sent_id if isinstance(sent_id, str) else None)
                    assert reply["version"] == model.version
                else:
                    assert reply["method"] == expected, (data, reply)
                    stats.answers[reply["method"]] += 1
                if reply["method"] == "patch":
                    assert reply["ack"] == [data["id"]]
                    received = {**reply, "ops": json_copy(reply["ops"])}
                    put_buffers(received, reply.get("buffer_paths"), replies[0][1])
                    mirror = apply_patch(mirror, received["ops"])
                check_model(model, mirror)
        finally:
            model.close()
    return stats


def fuzz_control(manager: Any, rng: random.Random, stats: Stats) -> None:
    from syncstate import control

    before = set(control._models)
    data = hostile_control(rng)
    buffers = [b"B"] if isinstance(data, dict) and "buffer_paths" in data else []
    channel = manager.open_from_frontend({"method": None})  # opened without a request: no reply
    assert channel.sent == []
    channel.deliver(data, buffers)
    stats.control += 1
    assert len(channel.sent) == 1, (data, channel.sent)
    reply = channel.sent[0][0]
    assert is_plain_json({k: v for k, v in reply.items() if k != "models"})
    assert reply["method"] in ("models", "created", "error")
    stats.answers["control:" + reply.get("code", reply["method"])] += 1
    for model_id in set(control._models) - before:
        control._models[model_id].close()  # models made by `create`


def test_ten_thousand_hostile_messages() -> None:
    stats = fuzz(MESSAGES, seed=1)
    assert stats.messages + stats.control == MESSAGES
    # Every kind of answer turns up, so the fuzzer reaches every refusal.
    for code in [
        "patch",
        "state",
        "bad_message",
        "unknown_method",
        "bad_op",
        "bad_path",
        "test_failed",
        "forbidden",
        "invalid",
        "conflict",
        "stale",
        "too_large",
        "control:models",
        "control:created",
        "control:unknown_class",
        "control:bad_message",
        "control:forbidden",
        "control:invalid",
        "control:unknown_method",
    ]:
        assert stats.answers[code] > 0, (code, stats.answers)
    assert stats.answers["internal"] == 0, stats.answers


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 2**32))
def test_fuzz_seeds(seed: int) -> None:
    """Hypothesis picks the seeds (and shrinks to a short failing run)."""
    stats = fuzz(st_count := 20, seed=seed)
    assert stats.messages + stats.control == st_count
    assert stats.answers["internal"] == 0


# -- kernel bugs the fuzzer and the convergence test found ----------------------------------


class Plain(syncstate.Model):
    rows = List().tag(sync=True)
    count = Int(0).tag(sync=True)


def test_an_equal_python_assignment_keeps_the_list_tracked() -> None:
    """Was: `m.rows = [1]` when rows == [1] left an untracked plain list in the trait
    (traitlets stays silent on equal values), so later `m.rows.append(2)` never synced."""
    with fake_comms():
        model = Plain(rows=[1])
        try:
            model.rows = [1]
            model.rows.append(2)
            assert model._comm.sent[-1][0]["ops"] == [{"op": "add", "path": "/rows/1", "value": 2}]
            assert model._state["rows"] == [1, 2]
        finally:
            model.close()


def test_an_equal_frontend_replace_keeps_the_list_tracked() -> None:
    """Was: an edit `replace /rows []` when rows == [] acked with no ops, but the trait then
    held the edit's plain list, apart from the document: kernel changes stopped syncing."""
    with fake_comms():
        model = Plain(rows=[], count=1)
        try:
            model._comm.deliver(
                {
                    "method": "patch",
                    "id": "e",
                    "base": 0,
                    "ops": [
                        {"op": "replace", "path": "/count", "value": 5},
                        {"op": "replace", "path": "/rows", "value": []},
                    ],
                }
            )
            model.rows.append(3)
            assert model._comm.sent[-1][0]["ops"] == [{"op": "add", "path": "/rows/0", "value": 3}]
            assert model.rows is model._state["rows"]
        finally:
            model.close()


@pytest.mark.parametrize(
    ("op", "code"),
    [
        ({"op": "copy", "path": "/rows/0"}, "bad_op"),  # was `internal` (KeyError 'from')
        ({"op": "remove", "path": "/rows"}, "forbidden"),  # was `internal` (KeyError 'rows')
        ({"op": "move", "from": "/rows", "path": "/count"}, "forbidden"),
    ],
)
def test_malformed_or_field_removing_ops_get_their_code(op: dict[str, Any], code: str) -> None:
    with fake_comms():
        model = Plain(rows=[1])
        try:
            model.count = 1  # a version to be stale against: conflict checks read 'from'
            model._comm.deliver({"method": "patch", "id": "e", "base": 0, "ops": [op]})
            reply = model._comm.sent[-1][0]
            assert (reply["method"], reply["code"]) == ("reject", code), reply
            assert model._state["rows"] == [1] == model.rows
        finally:
            model.close()


class Strict(syncstate.Model):
    count = Int(0).tag(sync=True)

    @validate("count")
    def _no_bools(self, proposal: Any) -> Any:
        if isinstance(proposal.value, bool):
            raise TraitError("count must be an int, not a bool")
        return proposal.value


def test_an_edit_equal_in_python_but_not_in_json() -> None:
    """`replace /count true` when count is 1: inside hold_trait_notifications traitlets finds
    no change (1 == True) and would skip the @validate cross-validator, which refuses bools;
    the kernel notifies such assignments itself (Model._after_silent_set)."""
    with fake_comms():
        model = Strict(count=1)
        try:
            model._comm.deliver(
                {
                    "method": "patch",
                    "id": "e",
                    "base": 0,
                    "ops": [{"op": "replace", "path": "/count", "value": True}],
                }
            )
            reply = model._comm.sent[-1][0]
            assert reply["method"] == "reject" and reply["code"] == "invalid", reply
            assert model.count == 1 and not isinstance(model.count, bool)
        finally:
            model.close()
