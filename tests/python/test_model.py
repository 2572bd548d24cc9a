"""The Python model through an in-memory comm: outbound ops, inbound edits, rejections."""

from __future__ import annotations

import os
from typing import Any

import pytest
from helpers import FakeComm, FakeManager, Frontend
from traitlets import Bool, Bytes, Dict, Float, Instance, Int, List, TraitError, Unicode, validate

import syncstate


class Todo(syncstate.Model):
    _esm = "export default { render() {} }"
    title = Unicode("Today").tag(sync=True)
    items = List(Dict()).tag(sync=True)
    done_count = Int(0).tag(sync=True, frontend_read_only=True)
    count = Int(0).tag(sync=True)
    secret = Unicode("not synced")


class Range(syncstate.Model):
    low = Int(0).tag(sync=True)
    high = Int(10).tag(sync=True)

    @validate("low", "high")
    def _ordered(self, proposal: Any) -> Any:
        low = proposal.value if proposal.trait.name == "low" else self.low
        high = proposal.value if proposal.trait.name == "high" else self.high
        if low > high:
            raise TraitError(f"low {low} > high {high}")
        return proposal.value


def attach(model: syncstate.Model) -> Frontend:
    return Frontend(model._comm)


def last_ops(front: Frontend) -> list[dict[str, Any]]:
    return front.pump()[-1]["ops"]


def test_open_sends_full_state_and_esm(comms: FakeManager) -> None:
    m = Todo(title="x")
    data = m._comm.open_data
    assert data["protocol"] == "syncstate/1" and data["method"] == "open"
    assert data["version"] == 0
    assert data["state"]["title"] == "x"
    assert data["state"]["_esm"].startswith("export default")
    assert "secret" not in data["state"]
    view = m._repr_mimebundle_()["application/vnd.syncstate.view+json"]
    assert view["model_id"] == m.model_id and view["protocol"] == "syncstate/1"


def test_assignment_sends_one_patch_with_next_version(comms: FakeManager) -> None:
    m = Todo()
    front = attach(m)
    m.count = 5
    msgs = front.pump()
    assert msgs == [
        {
            "method": "patch",
            "version": 1,
            "ops": [{"op": "replace", "path": "/count", "value": 5}],
        }
    ]
    m.secret = "still not synced"
    assert front.pump() == []


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (lambda v: v.append({"t": 3}), [{"op": "add", "path": "/items/3", "value": {"t": 3}}]),
        (lambda v: v.insert(1, {"t": 9}), [{"op": "add", "path": "/items/1", "value": {"t": 9}}]),
        (lambda v: v.extend([{"t": 4}]), [{"op": "add", "path": "/items/3", "value": {"t": 4}}]),
        (lambda v: v.pop(), [{"op": "remove", "path": "/items/2"}]),
        (lambda v: v.pop(0), [{"op": "remove", "path": "/items/0"}]),
        (lambda v: v.remove({"t": 1}), [{"op": "remove", "path": "/items/1"}]),
        (lambda v: v.__delitem__(1), [{"op": "remove", "path": "/items/1"}]),
        (
            lambda v: v.__setitem__(2, {"t": 7}),
            [{"op": "replace", "path": "/items/2", "value": {"t": 7}}],
        ),
        (
            lambda v: v.__setitem__(slice(0, 1), [{"t": 8}, {"t": 9}]),
            [
                {"op": "replace", "path": "/items/0", "value": {"t": 8}},
                {"op": "add", "path": "/items/1", "value": {"t": 9}},
            ],
        ),
        (lambda v: v.clear(), [{"op": "replace", "path": "/items", "value": []}]),
        (
            lambda v: v.reverse(),
            [{"op": "replace", "path": "/items", "value": [{"t": 2}, {"t": 1}, {"t": 0}]}],
        ),
        (
            lambda v: v.sort(key=lambda r: -r["t"]),
            [{"op": "replace", "path": "/items", "value": [{"t": 2}, {"t": 1}, {"t": 0}]}],
        ),
        (
            lambda v: v[1].__setitem__("done", True),
            [{"op": "add", "path": "/items/1/done", "value": True}],
        ),
        (lambda v: v[1].__setitem__("t", 5), [{"op": "replace", "path": "/items/1/t", "value": 5}]),
        (lambda v: v[1].__delitem__("t"), [{"op": "remove", "path": "/items/1/t"}]),
        (lambda v: v[1].pop("t"), [{"op": "remove", "path": "/items/1/t"}]),
        (lambda v: v[1].update(t=6), [{"op": "replace", "path": "/items/1/t", "value": 6}]),
        (lambda v: v[1].setdefault("x", []), [{"op": "add", "path": "/items/1/x", "value": []}]),
        (lambda v: v[1].clear(), [{"op": "replace", "path": "/items/1", "value": {}}]),
        (
            lambda v: v[2].setdefault("tags", []).append("a"),
            [{"op": "add", "path": "/items/2/tags", "value": []}],
        ),
    ],
)
def test_each_in_place_mutation_is_one_minimal_message(
    comms: FakeManager, mutate: Any, expected: list[dict[str, Any]]
) -> None:
    m = Todo(items=[{"t": 0}, {"t": 1}, {"t": 2}])
    front = attach(m)
    mutate(m.items)
    msgs = front.pump()
    assert msgs[0]["ops"] == expected
    assert front.state["items"] == m.items


def test_nested_mutation_after_shift_finds_the_right_path(comms: FakeManager) -> None:
    m = Todo(items=[{"t": i, "tags": []} for i in range(5)])
    front = attach(m)
    row = m.items[3]
    m.items.insert(0, {"t": -1})
    row["tags"].append("late")
    assert front.pump()[-1]["ops"] == [{"op": "add", "path": "/items/4/tags/0", "value": "late"}]
    removed = m.items.pop(4)
    removed["t"] = 99  # detached: no longer part of the model
    front.pump()
    assert front.state["items"] == m.items and all(r["t"] != 99 for r in m.items)


def test_aliasing_copies_so_one_object_never_has_two_paths(comms: FakeManager) -> None:
    m = Todo(items=[{"t": 0}])
    front = attach(m)
    m.items.append(m.items[0])
    m.items[1]["t"] = 5
    front.pump()
    assert m.items == [{"t": 0}, {"t": 5}] == front.state["items"]


def test_reassigned_copy_with_one_change_is_one_op(comms: FakeManager) -> None:
    m = Todo(items=[{"id": i, "done": False} for i in range(10_000)])
    front = attach(m)
    rows = list(m.items)
    row = dict(rows[42])
    row["done"] = True
    rows[42] = row
    m.items = rows
    assert last_ops(front) == [{"op": "replace", "path": "/items/42/done", "value": True}]
    m.items[42]["done"] = False  # the new value is tracked too
    assert last_ops(front) == [{"op": "replace", "path": "/items/42/done", "value": False}]


def test_observers_fire_for_in_place_changes_with_ops(comms: FakeManager) -> None:
    m = Todo(items=[{"t": 0}])
    seen: list[Any] = []
    m.observe(seen.append, "items")
    m.items[0]["t"] = 1
    assert seen[-1]["ops"] == [{"op": "replace", "path": "/items/0/t", "value": 1}]
    assert seen[-1]["new"] is m.items


def test_hold_sync_coalesces_into_one_message_with_snapshots(comms: FakeManager) -> None:
    m = Todo()
    front = attach(m)
    with m.hold_sync():
        m.title = "a"
        m.items.append({"x": 1})
        m.items[0]["x"] = 2
        del m.items[0]["x"]
        m.count = 3
    msgs = front.pump()
    assert len(msgs) == 1 and msgs[0]["version"] == 1
    assert front.state["items"] == [{}] and front.state["title"] == "a"


def test_non_json_values_are_refused_and_nothing_changes(comms: FakeManager) -> None:
    m = Todo(items=[{"t": 0}])
    front = attach(m)
    with pytest.raises(TypeError):
        m.items.append({"bad": object()})
    with pytest.raises(ValueError):
        m.items[0]["t"] = float("nan")
    assert m.items == [{"t": 0}] and front.pump() == []


def test_frontend_edit_applies_fires_observer_and_acks(comms: FakeManager) -> None:
    m = Todo(items=[{"t": 0, "done": False}])
    front = attach(m)
    seen: list[Any] = []
    m.observe(seen.append, ["items", "title"])
    edit = front.edit(
        [
            {"op": "replace", "path": "/items/0/done", "value": True},
            {"op": "replace", "path": "/title", "value": "new"},
        ]
    )
    assert m.items[0]["done"] is True and m.title == "new"
    assert edit in front.acks and front.state == m._state | {}
    assert {c["name"] for c in seen} == {"items", "title"}


def test_observer_side_effects_travel_with_the_ack(comms: FakeManager) -> None:
    m = Todo(items=[{"done": False}, {"done": False}])
    m.observe(lambda c: setattr(m, "done_count", sum(r["done"] for r in m.items)), "items")
    front = attach(m)
    front.edit([{"op": "replace", "path": "/items/1/done", "value": True}])
    patch = front.comm.sent[-1][0]
    assert patch["ops"][-1] == {"op": "replace", "path": "/done_count", "value": 1}
    assert front.state["done_count"] == 1


@pytest.mark.parametrize(
    ("ops", "code"),
    [
        ([{"op": "replace", "path": "/done_count", "value": 3}], "forbidden"),
        ([{"op": "replace", "path": "/secret", "value": "x"}], "forbidden"),
        ([{"op": "replace", "path": "/_esm", "value": "x"}], "forbidden"),
        ([{"op": "replace", "path": "/nope", "value": 1}], "forbidden"),
        ([{"op": "replace", "path": "", "value": {}}], "forbidden"),
        ([{"op": "replace", "path": "/count", "value": "x"}], "invalid"),
        ([{"op": "replace", "path": "/items/9/t", "value": 1}], "bad_path"),
        ([{"op": "frob", "path": "/count"}], "bad_op"),
        ([{"op": "test", "path": "/count", "value": 99}], "test_failed"),
        (
            [
                {"op": "replace", "path": "/items/0/t", "value": 5},
                {"op": "replace", "path": "/count", "value": None},
            ],
            "invalid",
        ),
        (
            [
                {"op": "add", "path": "/items/-", "value": {"t": 1}},
                {"op": "replace", "path": "/items/0/t", "value": 5},
                {"op": "remove", "path": "/items/7"},
            ],
            "bad_path",
        ),
        ([{"op": "add", "path": "/items/-", "value": 3}], "invalid"),
        ("not a list", "bad_message"),
    ],
)
def test_rejected_edit_changes_nothing(comms: FakeManager, ops: Any, code: str) -> None:
    m = Todo(items=[{"t": 0}], count=1)
    front = attach(m)
    before = front.state
    seen: list[Any] = []
    m.observe(seen.append)
    edit = front.edit(ops)
    assert front.rejections[-1]["id"] == edit
    assert front.rejections[-1]["code"] == code, front.rejections[-1]
    assert front.rejections[-1]["message"]
    assert m._state == before and m.items == [{"t": 0}] and m.count == 1
    assert seen == [] and m.version == 0
    m.items[0]["t"] = 2  # still tracked after the rollback
    assert front.pump()[-1]["ops"] == [{"op": "replace", "path": "/items/0/t", "value": 2}]


def test_cross_validation_sees_the_whole_edit(comms: FakeManager) -> None:
    r = Range()
    front = attach(r)
    front.edit(
        [
            {"op": "replace", "path": "/low", "value": 20},
            {"op": "replace", "path": "/high", "value": 30},
        ]
    )
    assert (r.low, r.high) == (20, 30) and not front.rejections
    front.edit([{"op": "replace", "path": "/low", "value": 40}])
    assert front.rejections[-1]["code"] == "invalid" and r.low == 20


def test_coercion_is_broadcast_as_the_effective_change(comms: FakeManager) -> None:
    class Clamped(syncstate.Model):
        level = Int(0).tag(sync=True)

        @validate("level")
        def _clamp(self, proposal: Any) -> int:
            return int(min(max(proposal.value, 0), 10))

    m = Clamped()
    front = attach(m)
    edit = front.edit([{"op": "replace", "path": "/level", "value": 99}])
    assert m.level == 10 and front.state["level"] == 10 and edit in front.acks


def test_stale_edit_on_changed_path_is_a_conflict(comms: FakeManager) -> None:
    m = Todo(items=[{"t": i} for i in range(3)])
    front = attach(m)
    m.items.insert(0, {"t": -1})  # version 1 shifts every index
    front.pump()
    front.edit([{"op": "replace", "path": "/items/1/t", "value": 100}], base=0)
    assert front.rejections[-1]["code"] == "conflict"
    assert [r["t"] for r in m.items] == [-1, 0, 1, 2]
    front.edit([{"op": "replace", "path": "/title", "value": "fine"}], base=0)
    assert m.title == "fine"
    front.edit([{"op": "replace", "path": "/title", "value": "late"}], base=5)
    assert front.rejections[-1]["code"] == "stale"


def test_edit_that_changes_nothing_still_gets_acked(comms: FakeManager) -> None:
    m = Todo(count=3)
    front = attach(m)
    edit = front.edit([{"op": "replace", "path": "/count", "value": 3}])
    assert edit in front.acks and front.version == 1


@pytest.mark.parametrize(
    "data",
    [
        None,
        5,
        "x",
        [],
        {},
        {"method": 3},
        {"method": "nope"},
        {"method": "patch"},
        {"method": "patch", "id": 1, "base": 0, "ops": []},
        {"method": "patch", "id": "a", "base": "0", "ops": []},
        {"method": "patch", "id": "a", "base": 0, "ops": [None]},
        {"method": "patch", "id": "a", "base": 0, "ops": [{"op": "add", "path": 3}]},
        {"method": "patch", "id": "a", "base": 0, "ops": [{"op": "add", "path": "/count/~2"}]},
        {"method": "patch", "id": "a", "base": 0, "ops": [], "buffer_paths": [["x"]]},
        {"method": "patch", "id": "a", "base": True, "ops": []},
    ],
)
def test_malformed_messages_get_an_error_and_change_nothing(comms: FakeManager, data: Any) -> None:
    m = Todo()
    front = attach(m)
    m._comm.deliver(data)
    msgs = front.pump()
    assert [x["method"] for x in msgs] == ["reject"]
    assert msgs[0]["code"] in {"bad_message", "unknown_method", "bad_op", "bad_path"}
    assert m.version == 0


def test_sync_request_sends_the_state(comms: FakeManager) -> None:
    m = Todo(title="t")
    front = attach(m)
    m._comm.deliver({"method": "sync"})
    assert front.pump()[0]["state"]["title"] == "t"


def test_binary_values_travel_as_buffers(comms: FakeManager) -> None:
    class Image(syncstate.Model):
        data = Bytes(b"").tag(sync=True)
        frames = List().tag(sync=True)

    m = Image(data=b"\x00\x01")
    assert m._comm.open_data["buffer_paths"] == [["state", "data"]]
    assert m._comm.open_buffers == [b"\x00\x01"]
    m.frames.append({"png": b"\x89PNG"})
    data, buffers = m._comm.sent[-1]
    assert data["buffer_paths"] == [["ops", 0, "value", "png"]] and buffers == [b"\x89PNG"]
    m._comm.deliver(
        {
            "method": "patch",
            "id": "b",
            "base": 1,
            "ops": [{"op": "replace", "path": "/data", "value": None}],
            "buffer_paths": [["ops", 0, "value"]],
        },
        [memoryview(b"xyz")],
    )
    assert m.data == b"xyz"


def test_child_models_are_references_and_resolve_back(comms: FakeManager) -> None:
    class Child(syncstate.Model):
        n = Int(0).tag(sync=True)

    class Parent(syncstate.Model):
        kids = List(Instance(Child)).tag(sync=True)
        best = Instance(Child, allow_none=True).tag(sync=True)

    a, b = Child(), Child()
    p = Parent(kids=[a])
    assert p._comm.open_data["state"]["kids"] == [f"syncstate:{a.model_id}"]
    front = attach(p)
    p.kids.append(b)
    assert last_ops(front) == [{"op": "add", "path": "/kids/1", "value": f"syncstate:{b.model_id}"}]
    front.edit([{"op": "replace", "path": "/best", "value": f"syncstate:{b.model_id}"}])
    assert p.best is b
    front.edit([{"op": "add", "path": "/kids/0", "value": f"syncstate:{b.model_id}"}])
    assert p.kids == [b, a, b] and not front.rejections
    front.edit([{"op": "add", "path": "/kids/0", "value": "syncstate:nope"}])
    assert front.rejections[-1]["code"] == "invalid" and p.kids == [b, a, b]
    # A `test` of a model's place compares its reference, as the page sees it.
    front.edit(
        [
            {"op": "test", "path": "/kids/1", "value": f"syncstate:{a.model_id}"},
            {"op": "remove", "path": "/kids/1"},
        ]
    )
    assert p.kids == [b, b] and len(front.rejections) == 1
    front.edit([{"op": "test", "path": "/best", "value": f"syncstate:{a.model_id}"}])
    assert front.rejections[-1]["code"] == "test_failed" and p.best is b


def test_custom_messages_both_ways(comms: FakeManager) -> None:
    m = Todo()
    got: list[Any] = []
    m.on_msg(lambda model, content, buffers: got.append((model, content, buffers)))
    m._comm.deliver({"method": "custom", "content": {"hi": 1}, "buffer_paths": []}, [b"ab"])
    assert got == [(m, {"hi": 1}, [b"ab"])]
    m.send({"reply": 2}, [b"cd"])
    assert m._comm.sent[-1] == ({"method": "custom", "content": {"reply": 2}}, [b"cd"])


def test_close_frees_the_comm_and_the_registry(comms: FakeManager) -> None:
    import gc
    import weakref

    from syncstate import control

    m = Todo()
    channel = m._comm
    ref = weakref.ref(m)
    model_id = m.model_id
    assert control.live_model(model_id) is m
    m.close()
    assert channel.closed and control.live_model(model_id) is None
    m.count = 4  # no comm: nothing to send, no error
    del m, channel
    gc.collect()
    assert ref() is None


def test_control_comm_lists_models_and_creates_them(
    comms: FakeManager, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(syncstate.limits, "creatable", "any")
    m = Todo(title="listed")
    channel = comms.open_from_frontend(
        {"protocol": "syncstate/1", "method": "list", "request": "r1"}
    )
    reply = channel.sent[-1][0]
    assert reply["method"] == "models" and reply["request"] == "r1"
    assert reply["models"][m.model_id]["state"]["title"] == "listed"
    assert reply["models"][m.model_id]["version"] == m.version
    name = f"{Todo.__module__}.{Todo.__qualname__}"
    channel.deliver(
        {"method": "create", "request": "r2", "class": name, "state": {"title": "made in JS"}}
    )
    created = channel.sent[-1][0]
    assert created["method"] == "created", created
    from syncstate import control

    assert control.live_model(created["model_id"]).title == "made in JS"
    for bad, code in [
        ({"class": "no.Such"}, "unknown_class"),
        ({"class": name, "state": {"secret": "x"}}, "forbidden"),
        ({"class": name, "state": {"count": "x"}}, "invalid"),
        ({"class": name, "state": 3}, "bad_message"),
    ]:
        channel.deliver({"method": "create", "request": "r3", **bad})
        assert channel.sent[-1][0]["code"] == code


def test_esm_from_file(comms: FakeManager, tmp_path: Any, monkeypatch: Any) -> None:
    (tmp_path / "view.js").write_text("export default { render() {} };")
    monkeypatch.chdir(tmp_path)

    class FromFile(syncstate.Model):
        _esm = "view.js"
        flag = Bool(False).tag(sync=True)

    assert FromFile()._comm.open_data["state"]["_esm"].startswith("export default")


def test_float_and_unicode_roundtrip(comms: FakeManager) -> None:
    class F(syncstate.Model):
        x = Float(0.5).tag(sync=True)

    m = F()
    front = attach(m)
    front.edit([{"op": "replace", "path": "/x", "value": 2}])
    assert m.x == 2.0 and isinstance(m.x, float)
    assert isinstance(FakeComm, type)


def test_kernel_change_and_observer_side_effects_are_one_message(comms: FakeManager) -> None:
    m = Todo(items=[{"done": False}])
    m.observe(lambda c: setattr(m, "done_count", sum(r["done"] for r in m.items)), "items")
    front = attach(m)
    m.items[0]["done"] = True
    m.items = [*m.items, {"done": True}]
    msgs = front.pump()
    assert [len(x["ops"]) for x in msgs] == [2, 2]
    assert front.state["done_count"] == 2 == m.done_count


def test_numpy_arrays_travel_as_one_buffer(comms: FakeManager) -> None:
    np = pytest.importorskip("numpy")

    class Plot(syncstate.Model):
        ys = Instance(np.ndarray, allow_none=True).tag(sync=True, **syncstate.array_serialization)

    m = Plot(ys=np.arange(6, dtype="float32").reshape(2, 3))
    data, buffers = m._comm.open_data, m._comm.open_buffers
    assert data["state"]["ys"] == {"dtype": "float32", "shape": [2, 3], "buffer": None}
    assert data["buffer_paths"] == [["state", "ys", "buffer"]]
    assert buffers == [np.arange(6, dtype="float32").tobytes()]
    m._comm.deliver(
        {
            "method": "patch",
            "id": "a",
            "base": 0,
            "ops": [{"op": "replace", "path": "/ys/buffer", "value": None}],
            "buffer_paths": [["ops", 0, "value"]],
        },
        [np.ones(6, dtype="float32").tobytes()],
    )
    assert m.ys.tolist() == [[1, 1, 1], [1, 1, 1]]
    m._comm.deliver(
        {
            "method": "patch",
            "id": "b",
            "base": 1,
            "ops": [{"op": "replace", "path": "/ys/shape", "value": [7]}],
        }
    )
    assert m._comm.sent[-1][0]["code"] == "invalid" and m.ys.shape == (2, 3)


def test_hot_reload_sends_the_new_view_source(
    comms: FakeManager, tmp_path: Any, monkeypatch: Any
) -> None:
    import time

    from syncstate.esm import watcher

    view = tmp_path / "live.js"
    view.write_text("export default { render() {} };")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(watcher, "interval", 0.02)
    syncstate.hot_reload()
    try:

        class Live(syncstate.Model):
            _esm = "live.js"

        m = Live()
        view.write_text("export default { render({ el }) { el.textContent = 'v2'; } };")
        os.utime(view, (time.time() + 5, time.time() + 5))
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and not m._comm.sent:
            time.sleep(0.02)
        data, _ = m._comm.sent[-1]
        assert data["ops"] == [{"op": "replace", "path": "/_esm", "value": view.read_text()}]
    finally:
        syncstate.hot_reload(False)


@pytest.mark.parametrize("path", [["ops", -1, "value"], ["ops", 0, True], ["ops", 0.0, "value"]])
def test_buffer_paths_take_only_keys_and_plain_indexes(comms: FakeManager, path: Any) -> None:
    m = Todo()
    m._comm.deliver(
        {
            "method": "patch",
            "id": "b",
            "base": 0,
            "buffer_paths": [path],
            "ops": [{"op": "replace", "path": "/title", "value": None}],
        },
        [b"x"],
    )
    assert m._comm.sent[-1][0]["code"] == "bad_message" and m.title == "Today"


# -- creating and displaying a big model (issue 10, item 4) ------------------------------------


class CountedText(str):
    """Text that counts how often its repr is taken."""

    reprs = 0

    def __repr__(self) -> str:
        CountedText.reprs += 1
        return super().__repr__()


def test_display_reprs_only_what_the_text_shows(comms: FakeManager) -> None:
    m = Todo(items=[{"text": CountedText(f"row {i}")} for i in range(1000)])
    CountedText.reprs = 0
    text = m._repr_mimebundle_()["text/plain"]
    assert CountedText.reprs <= 4  # the rows that fit in 40 characters; was all 1000
    assert "items=[{'text': 'row 0'}, {'text': 'row 1'}..." in text and len(text) < 200


def test_creating_a_plain_model_copies_and_walks_its_state_once(
    comms: FakeManager, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Wrapping is the one pass: the tracked document is the open message's state (no wire
    copy by `to_wire`, no walk for binary values); only fields with bytes are converted."""
    copied: list[Any] = []
    walked: list[Any] = []
    to_wire, take_buffers = syncstate.model.to_wire, syncstate.messages.take_buffers
    monkeypatch.setattr(syncstate.model, "to_wire", lambda v: copied.append(v) or to_wire(v))
    monkeypatch.setattr(
        syncstate.messages, "take_buffers", lambda d, r: walked.append(r) or take_buffers(d, r)
    )
    rows = [{"text": f"row {i}", "done": False} for i in range(100)]
    m = Todo(items=rows)
    assert not any(isinstance(v, list) for v in copied) and walked == [[]]
    assert m._comm.open_data["state"]["items"] == rows
    copied.clear()
    m = Todo(items=[{"png": b"\x89PNG"}])
    assert copied == [m.items]
    assert m._comm.open_data["buffer_paths"] == [["state", "items", 0, "png"]]
    assert m._comm.open_buffers == [b"\x89PNG"]


def test_construction_validates_each_row_once(
    comms: FakeManager, monkeypatch: pytest.MonkeyPatch
) -> None:
    """traitlets sets the value it has just validated back after cross-validation; syncstate
    does not let it validate (and copy) the whole list a second time."""
    validated: list[Any] = []
    plain = Dict.validate
    monkeypatch.setattr(
        Dict, "validate", lambda self, o, v: validated.append(v) or plain(self, o, v)
    )
    Todo(items=[{"text": str(i)} for i in range(100)])
    assert len(validated) == 100
    validated.clear()

    class Fresh(syncstate.Model):  # its first instance too, before any other of its class
        items = List(Dict()).tag(sync=True)

    Fresh(items=[{"text": str(i)} for i in range(100)])
    assert len(validated) == 100
    validated.clear()
    m = Range(low=3, high=5)  # a cross-validated model still validates what it must
    assert (m.low, m.high) == (3, 5)
    with pytest.raises(TraitError, match="low 6 > high 5"):
        Range(low=6, high=5)


def test_displaying_a_state_over_the_saved_cap_measures_about_the_cap(
    comms: FakeManager, monkeypatch: pytest.MonkeyPatch
) -> None:
    from syncstate import saved

    measured: list[int] = []
    encode = saved.json_text
    monkeypatch.setattr(saved, "json_text", lambda *a: measured.append(len(t := encode(*a))) or t)
    monkeypatch.setattr(saved, "SAVED_STATE_MAX_CHARS", 10_000)
    monkeypatch.setattr(saved, "to_wire", lambda v: pytest.fail("the state was copied"))
    m = Todo(items=[{"text": f"row {i}"} for i in range(100_000)])
    view = m._repr_mimebundle_()["application/vnd.syncstate.view+json"]
    assert view["state_omitted"] == "too_large"
    assert 10_000 < sum(measured) < 12_000  # of about 1.8 MB
