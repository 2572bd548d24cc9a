"""Test helpers shared by the Python tests and tests/vectors/generate.py.

An in-memory comm pair (the kernel side of `comm`, and the simplest correct frontend), the
convergence model `Doc`, random kernel changes and frontend edits, and `World`: one kernel
model and several `Mirror`s with FIFO queues between them. For fast unit tests only;
tests/integration proves the same behaviour through a real kernel.
"""

from __future__ import annotations

import itertools
import json
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import comm
import pytest
from hypothesis import strategies as st
from traitlets import Dict, Int, List, TraitError, Unicode, observe, validate

import syncstate
from syncstate.client import Mirror
from syncstate.messages import read_model
from syncstate.patch import PatchError, apply_patch, json_copy, json_equal

_ids = itertools.count()


class FakeComm:
    """Stands in for ipykernel's Comm: records what the kernel sends."""

    def __init__(self, target_name: str = "", data: Any = None, buffers: Any = None, **_: Any):
        self.comm_id = f"comm{next(_ids)}"
        self.target_name = target_name
        # The real comm serialises the message at once: later edits cannot change it.
        self.open_data = json_copy(data)
        self.open_buffers = list(buffers or [])
        self.sent: list[tuple[dict[str, Any], list[bytes]]] = []
        self.closed = False
        self.published: list[str] = []
        self._handler: Any = None
        self._close_handler: Any = None

    def send(self, data: Any = None, buffers: Any = None, **_: Any) -> None:
        self.sent.append((data, list(buffers or [])))

    def on_msg(self, callback: Any) -> None:
        self._handler = callback

    def on_close(self, callback: Any) -> None:
        self._close_handler = callback

    def close(self, **_: Any) -> None:
        self.closed = True

    def publish_msg(self, msg_type: str, **_: Any) -> None:
        self.published.append(msg_type)

    def close_from_frontend(self) -> None:
        """A comm_close from the frontend, as ipykernel's comm manager handles it."""
        self.closed = True
        self._close_handler({"content": {"comm_id": self.comm_id, "data": {}}})

    def deliver(self, data: Any, buffers: list[bytes] | None = None) -> None:
        """A message from the frontend, shaped as ipykernel hands it to the handler."""
        self._handler(
            {"content": {"comm_id": self.comm_id, "data": data}, "buffers": buffers or []}
        )


class FakeManager:
    def __init__(self) -> None:
        self.targets: dict[str, Any] = {}

    def register_target(self, name: str, callback: Any) -> None:
        self.targets[name] = callback

    def open_from_frontend(self, data: dict[str, Any]) -> FakeComm:
        channel = FakeComm("syncstate", data)
        self.targets["syncstate"](channel, {"content": {"data": data}, "buffers": []})
        return channel


class Frontend:
    """The simplest correct mirror: confirmed state from `open`, kernel patches applied in order."""

    def __init__(self, channel: FakeComm):
        self.comm = channel
        self.state = json_copy(channel.open_data["state"])
        self.version = channel.open_data["version"]
        self.seen = 0
        self.rejections: list[dict[str, Any]] = []
        self.acks: list[str] = []
        self._ids = itertools.count()

    def pump(self) -> list[dict[str, Any]]:
        """Apply every message the kernel sent since the last pump; return them."""
        new = self.comm.sent[self.seen :]
        self.seen = len(self.comm.sent)
        for data, _ in new:
            if data["method"] == "patch":
                assert data["version"] == self.version + 1, (data, self.version)
                self.state = apply_patch(self.state, json_copy(data["ops"]))
                self.version = data["version"]
                self.acks += data.get("ack", [])
            elif data["method"] == "reject":
                self.rejections.append(data)
            elif data["method"] == "state":
                self.state, self.version = json_copy(data["state"]), data["version"]
        return [data for data, _ in new]

    def edit(self, ops: list[dict[str, Any]], base: int | None = None) -> str:
        edit_id = f"f:{next(self._ids)}"
        self.comm.deliver(
            {
                "method": "patch",
                "id": edit_id,
                "ops": ops,
                "base": self.version if base is None else base,
            }
        )
        self.pump()
        return edit_id


class Doc(syncstate.Model):
    """A list of dicts, a dict, an int, a str and a read-only field set by an observer."""

    rows = List(Dict()).tag(sync=True)
    meta = Dict().tag(sync=True)
    count = Int(0).tag(sync=True)
    name = Unicode("").tag(sync=True)
    total = Int(0).tag(sync=True, frontend_read_only=True)

    @validate("count")
    def _non_negative(self, proposal: Any) -> Any:
        if proposal.value < 0:
            raise TraitError("count must not be negative")
        return proposal.value

    @observe("count")
    def _count_changed(self, change: Any) -> None:
        self.total = change["new"] * 2  # a side effect: it travels in the same patch as the ack


_manager = FakeManager()  # one for the module: control.ensure_target remembers managers by id


@contextmanager
def fake_comms() -> Iterator[FakeManager]:
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(comm, "create_comm", FakeComm)
        mp.setattr(comm, "get_comm_manager", lambda: _manager)
        yield _manager


def wire(data: Any) -> Any:
    """What the other end receives: a fresh JSON copy, sharing nothing with the sender."""
    return json.loads(json.dumps(data))


class Chooser:
    """The source of every random choice: hypothesis data in tests, a seeded Random elsewhere."""

    def __init__(self, pick: Callable[[Sequence[Any]], Any], integer: Callable[[int, int], int]):
        self.pick = pick
        self.integer = integer

    @classmethod
    def from_data(cls, data: Any) -> Chooser:
        return cls(
            lambda seq: data.draw(st.sampled_from(seq)),
            lambda lo, hi: data.draw(st.integers(lo, hi)),
        )

    @classmethod
    def from_random(cls, rng: Any) -> Chooser:
        return cls(rng.choice, rng.randint)


TEXTS = ["", "a", "b", "x/y", "~0", "é", "long " * 3]
KEYS = ["k", "t", "a/b", "~", ""]


def row(c: Chooser) -> dict[str, Any]:
    return {"t": c.integer(0, 9), **({"k": c.pick(TEXTS)} if c.integer(0, 1) else {})}


# -- kernel-side changes ------------------------------------------------------------------


def kernel_change(m: Doc, c: Chooser) -> None:
    """One change made by kernel code: assignment or in-place mutation, sometimes grouped."""
    kind = c.pick(
        [
            "count",
            "name",
            "rows",
            "meta",
            "append",
            "insert",
            "pop",
            "set_key",
            "del_key",
            "meta_set",
            "meta_pop",
            "clear",
            "reverse",
            "group",
        ]
    )
    n = len(m.rows)
    if kind == "count":
        m.count = c.integer(0, 5)
    elif kind == "name":
        m.name = c.pick(TEXTS)
    elif kind == "rows":
        m.rows = [row(c) for _ in range(c.integer(0, 3))]
    elif kind == "meta":
        m.meta = {c.pick(KEYS): c.integer(0, 3)}
    elif kind == "append":
        m.rows.append(row(c))
    elif kind == "insert":
        m.rows.insert(c.integer(0, n), row(c))
    elif kind == "pop" and n:
        m.rows.pop(c.integer(0, n - 1))
    elif kind == "set_key" and n:
        m.rows[c.integer(0, n - 1)][c.pick(["t", "k"])] = c.integer(0, 9)
    elif kind == "del_key" and n:
        target = m.rows[c.integer(0, n - 1)]
        if target:
            del target[c.pick(sorted(target))]
    elif kind == "meta_set":
        m.meta[c.pick(KEYS)] = c.pick([1, "v", [1, 2], {"n": None}])
    elif kind == "meta_pop" and m.meta:
        m.meta.pop(c.pick(sorted(m.meta)))
    elif kind == "clear":
        m.rows.clear()
    elif kind == "reverse":
        m.rows.reverse()
    elif kind == "group":
        with m.hold_sync():
            m.count += 1
            m.rows.append(row(c))
            m.name = c.pick(TEXTS)


# -- frontend edits -----------------------------------------------------------------------


def frontend_op(state: dict[str, Any], c: Chooser) -> dict[str, Any]:
    """One op, usually valid on `state`; sometimes one the kernel (or the mirror) refuses."""
    # The scratch state may hold values the kernel would refuse (a `bad_type` op before).
    rows = state.get("rows") if isinstance(state.get("rows"), list) else []
    meta = state.get("meta") if isinstance(state.get("meta"), dict) else {}
    n = len(rows)
    kind = c.pick(
        [
            "count",
            "bad_count",
            "name",
            "add_row",
            "remove_row",
            "set_t",
            "add_key",
            "remove_key",
            "move_row",
            "copy_row",
            "meta_add",
            "meta_remove",
            "rows",
            "test",
            "read_only",
            "bad_path",
            "bad_type",
        ]
    )
    if kind == "count":
        return {"op": "replace", "path": "/count", "value": c.integer(-1, 6)}
    if kind == "bad_count":
        return {"op": "replace", "path": "/count", "value": c.pick(["x", 1.5, None])}
    if kind == "name":
        return {"op": "replace", "path": "/name", "value": c.pick(TEXTS)}
    if kind == "add_row":
        return {
            "op": "add",
            "path": f"/rows/{c.pick([str(c.integer(0, n)), '-'])}",
            "value": row(c),
        }
    if kind == "remove_row" and n:
        return {"op": "remove", "path": f"/rows/{c.integer(0, n - 1)}"}
    if kind == "set_t" and n:
        return {"op": "replace", "path": f"/rows/{c.integer(0, n - 1)}/t", "value": c.integer(0, 9)}
    if kind == "add_key" and n:
        return {"op": "add", "path": f"/rows/{c.integer(0, n - 1)}/k", "value": c.pick(TEXTS)}
    if kind == "remove_key" and n:
        i = c.integer(0, n - 1)
        if isinstance(rows[i], dict) and rows[i]:
            return {"op": "remove", "path": f"/rows/{i}/{c.pick(sorted(rows[i]))}"}
    if kind == "move_row" and n:
        return {
            "op": "move",
            "from": f"/rows/{c.integer(0, n - 1)}",
            "path": f"/rows/{c.integer(0, n - 1)}",
        }
    if kind == "copy_row" and n:
        return {"op": "copy", "from": f"/rows/{c.integer(0, n - 1)}", "path": "/rows/-"}
    if kind == "meta_add":
        key = c.pick(KEYS).replace("~", "~0").replace("/", "~1")
        return {"op": "add", "path": f"/meta/{key}", "value": c.pick([0, "w", [3], {}])}
    if kind == "meta_remove" and meta:
        key = c.pick(sorted(meta)).replace("~", "~0").replace("/", "~1")
        return {"op": "remove", "path": f"/meta/{key}"}
    if kind == "rows":
        return {"op": "replace", "path": "/rows", "value": [row(c) for _ in range(c.integer(0, 2))]}
    if kind == "test":
        return {"op": "test", "path": "/count", "value": c.pick([state.get("count"), -7])}
    if kind == "read_only":
        return {"op": "replace", "path": "/total", "value": 1}
    if kind == "bad_path":
        return {
            "op": "replace",
            "path": c.pick(["/rows/99/t", "/nope", "/_esm", "rows"]),
            "value": 1,
        }
    if kind == "bad_type":
        return {"op": "replace", "path": "/rows", "value": c.pick([{}, "x", [1]])}
    return {"op": "replace", "path": "/name", "value": "fallback"}


def frontend_edit(state: dict[str, Any], c: Chooser) -> list[dict[str, Any]]:
    """1-3 ops, each drawn against the state the previous ones leave."""
    scratch = json_copy(state)
    ops = []
    for _ in range(c.integer(1, 3)):
        op = frontend_op(scratch, c)
        ops.append(op)
        try:
            apply_patch(scratch, [json_copy(op)])
        except PatchError:
            break
    return ops


# -- the world: one kernel model, several mirrors, FIFO queues between them -----------------


class World:
    def __init__(self, mirrors: int) -> None:
        self.model = Doc(rows=[{"t": 0}, {"t": 1}], meta={"k": 0}, count=1, name="a")
        self.comm: FakeComm = self.model._comm
        self.seen = 0
        self.snapshots = {0: wire(self.comm.open_data["state"])}
        self.mirrors: list[Mirror] = []
        self.inbox: list[deque[Any]] = []  # kernel -> mirror i
        self.outbox: list[deque[Any]] = []  # mirror i -> kernel
        self.edits: list[tuple[int, str]] = []  # (mirror, edit id) of every accepted patch()
        self.answers: dict[str, list[str]] = {}  # edit id -> the kernel's answers
        self.received: list[str] = []  # ids of the edits the kernel received
        for _ in range(mirrors):
            self.join(wire(self.comm.open_data))

    def join(self, open_data: dict[str, Any]) -> Mirror:
        index = len(self.mirrors)
        out: deque[Any] = deque()
        opened = read_model(open_data, [])
        mirror = Mirror(
            opened.state,
            opened.version,
            lambda data, buffers=None: out.append(wire(data)),
            model_id=self.comm.comm_id,
            client_id=f"m{index}",
        )
        self.mirrors.append(mirror)
        self.inbox.append(deque())
        self.outbox.append(out)
        return mirror

    def join_late(self) -> Mirror:
        """A frontend that arrives now and asks the control comm for the state (`list`)."""
        channel = _manager.open_from_frontend({"method": "list", "request": "r"})
        reply = wire(channel.sent[-1][0])
        return self.join(reply["models"][self.comm.comm_id])

    def collect(self) -> None:
        """Broadcast what the kernel sent; record the document at every version it sent."""
        for data, _ in self.comm.sent[self.seen :]:
            message = wire(data)
            for box in self.inbox:
                box.append(wire(message))  # each frontend gets its own copy
            if message["method"] == "patch":
                version = message["version"]
                assert version == max(self.snapshots) + 1, "kernel versions must be consecutive"
                doc = json_copy(self.snapshots[version - 1])
                self.snapshots[version] = apply_patch(doc, json_copy(message["ops"]))
                for edit_id in message.get("ack", []):
                    self.answers.setdefault(edit_id, []).append("ack")
            elif message["method"] == "reject" and message["id"] is not None:
                self.answers.setdefault(message["id"], []).append(message["code"])
        self.seen = len(self.comm.sent)
        # The kernel's own document must be what its patches say it is.
        assert json_equal(self.snapshots[self.model.version], wire(self.model._state))
        # ... and what its trait values are.
        for name in self.model._sync_traits():
            assert json_equal(wire(getattr(self.model, name)), wire(self.model._state[name])), name

    def kernel_step(self, c: Chooser) -> None:
        kernel_change(self.model, c)
        self.collect()

    def edit(self, i: int, c: Chooser) -> None:
        mirror = self.mirrors[i]
        before = json_copy(mirror.state)
        sent = len(self.outbox[i])
        try:
            edit_id = mirror.patch(frontend_edit(mirror.state, c))
        except PatchError:
            # Refused locally: nothing changed, nothing sent.
            assert json_equal(mirror.state, before) and len(self.outbox[i]) == sent
            return
        if edit_id is not None:
            self.edits.append((i, edit_id))

    def to_kernel(self, i: int) -> None:
        data = self.outbox[i].popleft()
        if data.get("method") == "patch":
            self.received.append(data["id"])
        self.comm.deliver(data)
        self.collect()

    def lose(self, i: int) -> None:
        """Drop a kernel patch on its way to mirror i; the mirror must see the gap and `sync`.
        Not one answering an edit: the protocol gives no way to notice a lost answer."""
        box = self.inbox[i]
        # A later message must follow, or nothing could reveal the gap.
        if len(box) > 1 and box[0]["method"] == "patch" and not box[0].get("ack"):
            box.popleft()

    def to_mirror(self, i: int) -> None:
        self.mirrors[i].handle_message(self.inbox[i].popleft())

    def check(self) -> None:
        """Invariants at every step: never diverge from what the kernel sent."""
        for mirror in self.mirrors:
            assert json_equal(mirror.confirmed, self.snapshots[mirror.version])
            replayed = json_copy(mirror.confirmed)
            for edit in mirror.pending:
                replayed = apply_patch(replayed, json_copy(edit.ops))
            assert json_equal(mirror.state, replayed)
            assert len([e for e in mirror.pending if e.sent]) <= 1  # one edit in flight
            assert len([e for e in mirror.pending if not e.sent]) <= 1  # later ones combined

    def busy(self) -> list[tuple[str, int]]:
        return [("out", i) for i, box in enumerate(self.outbox) if box] + [
            ("in", i) for i, box in enumerate(self.inbox) if box
        ]

    def deliver(self, where: tuple[str, int]) -> None:
        if where[0] == "out":
            self.to_kernel(where[1])
        else:
            self.to_mirror(where[1])

    def drain(self, c: Chooser) -> None:
        while busy := self.busy():
            self.deliver(c.pick(busy))
            self.check()

    def check_converged(self) -> None:
        kernel = wire(self.model._state)
        for mirror in self.mirrors:
            assert mirror.settled, (mirror.pending, mirror.in_flight, mirror.syncing)
            assert mirror.version == self.model.version
            assert json_equal(mirror.state, kernel), (mirror.state, kernel)
        # The kernel answered every edit it received exactly once.
        for edit_id in self.received:
            assert len(self.answers.get(edit_id, [])) == 1, (edit_id, self.answers.get(edit_id))
        # No edit silently lost: each was acknowledged, rejected, or dropped with an error.
        for i, edit_id in self.edits:
            mirror = self.mirrors[i]
            reported = [e.code for e in mirror.errors if e.id == edit_id]
            acked = edit_id in mirror.acknowledged
            assert acked or reported, f"edit {edit_id} vanished"
            assert not (acked and reported), (edit_id, reported)
            if edit_id in self.received:
                # What the mirror concluded is what the kernel answered.
                answer = self.answers[edit_id][0]
                assert (answer == "ack") == acked and (acked or answer in reported)
