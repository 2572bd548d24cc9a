"""Issue 9: a buggy or hostile frontend can never corrupt, stall or blow up the kernel.

Each test speaks to a real ipykernel as a frontend would (a view with a bug, or a dashboard
visitor who cannot run code), and checks the one truthful answer and the kernel's state after.
"""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from kernel_client import KernelFrontend, comm_data

TARGET = """
import syncstate
from traitlets import Dict, Int, List, Unicode
class Target(syncstate.Model):
    title = Unicode("").tag(sync=True)
    count = Int(0).tag(sync=True)
    total = Int(0).tag(sync=True, frontend_read_only=True)
    meta = Dict().tag(sync=True)
    rows = List().tag(sync=True)
target = Target()
"""


def raw_edit(edit_id: str, base: int, op_text: str) -> str:
    """An edit's JSON text with one op given as text (what Python's encoder would refuse)."""
    return f'{{"method": "patch", "id": "{edit_id}", "base": {base}, "ops": [{op_text}]}}'


def open_target(kernel: KernelFrontend, setup: str = "") -> str:
    msgs = kernel.execute(TARGET + setup)
    return str(next(m["content"]["comm_id"] for m in msgs if m["msg_type"] == "comm_open"))


def edit(ops: list[dict[str, Any]], base: int = 0, edit_id: str = "e") -> dict[str, Any]:
    return {"method": "patch", "id": edit_id, "base": base, "ops": ops}


def answer(msgs: list[dict[str, Any]]) -> dict[str, Any]:
    """The one comm answer among the iopub messages; no traceback may appear."""
    assert not [m for m in msgs if m["msg_type"] == "error"]
    assert not [m for m in msgs if m["msg_type"] == "stream" and m["content"]["name"] == "stderr"]
    replies = comm_data(msgs)
    assert len(replies) == 1, replies
    return replies[0]


def control(kernel: KernelFrontend, data: dict[str, Any]) -> dict[str, Any]:
    _, msgs = kernel.open_comm("syncstate", {"protocol": "syncstate/1", **data})
    return answer(msgs)


def next_patch_version(kernel: KernelFrontend) -> int:
    """The version of the next kernel change: a gap would show here."""
    [patch] = comm_data(kernel.execute("target.count += 1"))
    return int(patch["version"])


@pytest.mark.parametrize("text", ["\\ud800", "\\udcff", "a\\ud83d"])
def test_a_invalid_unicode_is_refused_and_versions_never_skip(
    kernel: KernelFrontend, text: str
) -> None:
    comm_id = open_target(kernel)
    op = f'{{"op": "replace", "path": "/title", "value": "{text}"}}'
    reply = answer(kernel.send_json(comm_id, raw_edit("u2", 0, op)))
    assert (reply["method"], reply["id"], reply["code"]) == ("reject", "u2", "bad_message")
    assert kernel.output("print(repr(target.title))").strip() == "''"
    assert next_patch_version(kernel) == 1
    assert answer(kernel.send(comm_id, {"method": "sync"}))["state"]["title"] == ""
    assert control(kernel, {"method": "list", "request": "r"})["method"] == "models"
    key = f'{{"op": "add", "path": "/meta/{text}", "value": 1}}'
    reply = answer(kernel.send_json(comm_id, raw_edit("k", 1, key)))
    assert reply["code"] == "bad_message"


def test_b_create_cannot_write_read_only_private_or_unknown_fields(kernel: KernelFrontend) -> None:
    open_target(kernel, "syncstate.limits.creatable = 'any'")
    for state in [{"total": 999}, {"_esm": "x"}, {"nope": 1}]:
        reply = control(
            kernel, {"method": "create", "request": "r", "class": "__main__.Target", "state": state}
        )
        assert (reply["method"], reply["code"]) == ("error", "forbidden"), reply
    models = control(kernel, {"method": "list", "request": "l"})["models"]
    assert len(models) == 1


def deep(depth: int) -> Any:
    value: Any = 1
    for _ in range(depth):
        value = [value]
    return value


@pytest.mark.parametrize(
    ("value", "code"),
    [(deep(300), "too_large"), (deep(900), "too_large"), (float("nan"), "bad_message")],
)
def test_c_create_gets_the_limits_of_edits(kernel: KernelFrontend, value: Any, code: str) -> None:
    open_target(kernel, "syncstate.limits.creatable = {'__main__.Target'}")
    comm_id, _ = kernel.open_comm("syncstate", {"method": None})
    request = {"method": "create", "request": "r", "class": "__main__.Target"}
    text = json.dumps({**request, "state": {"rows": [value]}})
    reply = answer(kernel.send_json(comm_id, text))
    assert (reply["method"], reply["code"]) == ("error", code), reply
    assert len(control(kernel, {"method": "list", "request": "l"})["models"]) == 1


def test_create_is_off_by_default_and_follows_the_allow_list(kernel: KernelFrontend) -> None:
    open_target(kernel)
    request = {"method": "create", "request": "r", "class": "__main__.Target", "state": {}}
    assert control(kernel, request)["code"] == "forbidden"
    kernel.execute("syncstate.limits.creatable = {'__main__.Other'}")
    assert control(kernel, request)["code"] == "forbidden"
    kernel.execute("syncstate.limits.creatable = {'__main__.Target'}")
    assert control(kernel, request)["method"] == "created"


def test_d_a_frontend_comm_close_closes_the_comm_for_everyone(kernel: KernelFrontend) -> None:
    comm_id = open_target(kernel)
    msgs = kernel.close_comm(comm_id)
    closes = [m["content"]["comm_id"] for m in msgs if m["msg_type"] == "comm_close"]
    assert closes == [comm_id]  # every frontend hears that the model's comm is gone
    assert control(kernel, {"method": "list", "request": "l"})["models"] == {}
    assert kernel.output("print(syncstate.control.live_models())") == "[]\n"
    # The kernel no longer sends on the closed comm; the model itself stays open for its
    # widget comm (tests/integration/test_widget.py), until closed and reopened with a new one.
    assert comm_data(kernel.execute("target.count = 3")) == []
    assert kernel.output(f"print(target.model_id == {comm_id!r}, target.count)") == "True 3\n"
    opened = [
        m for m in kernel.execute("target.close(); target.open()") if m["msg_type"] == "comm_open"
    ]
    assert len(opened) == 1 and opened[0]["content"]["comm_id"] != comm_id


def test_e_copy_amplification_is_refused(kernel: KernelFrontend) -> None:
    comm_id = open_target(kernel, "target.meta = {'a': 'x' * 4000}")
    ops = [{"op": "copy", "from": "/meta", "path": f"/meta/k{i}"} for i in range(15)]
    kernel.execute("syncstate.limits.max_change_bytes = 1_000_000")
    reply = answer(kernel.send(comm_id, edit(ops, base=1)))
    assert (reply["method"], reply["code"]) == ("reject", "too_large"), reply
    assert kernel.output("print(list(target.meta), target.version)") == "['a'] 1\n"
    assert next_patch_version(kernel) == 2


def test_f_conflict_checks_cost_the_edit_not_edit_times_history(kernel: KernelFrontend) -> None:
    comm_id = open_target(kernel)
    keys = [{"op": "add", "path": f"/meta/k{i}", "value": i} for i in range(10_000)]
    assert answer(kernel.send(comm_id, edit(keys)))["ack"] == ["e"]
    tests = [{"op": "test", "path": f"/rows/{i}", "value": i} for i in range(10_000)]
    start = time.monotonic()
    reply = answer(kernel.send(comm_id, edit(tests, base=0, edit_id="slow")))
    assert time.monotonic() - start < 3  # was 23.5 s: 10,000 x 10,000 path comparisons
    assert (reply["method"], reply["code"]) == ("reject", "bad_path")  # not a conflict: applied


def test_g_history_holds_paths_not_values(kernel: KernelFrontend) -> None:
    comm_id = open_target(kernel, "import tracemalloc; tracemalloc.start()")
    big = "x" * 2_000_000
    for version in range(8):
        ops = [{"op": "replace", "path": "/title", "value": big + str(version)}]
        assert answer(kernel.send(comm_id, edit(ops, base=version, edit_id=str(version))))["ack"]
    kernel.execute("for i in range(8): target.title = str(i) * 2_000_000")
    held = kernel.output(
        "import gc; gc.collect(); print(tracemalloc.get_traced_memory()[0] // 1_000_000)"
    )
    assert int(held) < 8, held  # one title (2 MB) and change; was 16 values (32 MB)


def test_a_json_true_is_not_an_int(kernel: KernelFrontend) -> None:
    comm_id = open_target(kernel)
    ops = [{"op": "replace", "path": "/count", "value": True}]
    reply = answer(kernel.send(comm_id, edit(ops)))
    assert (reply["method"], reply["code"]) == ("reject", "invalid"), reply
    ops = [{"op": "add", "path": "/rows/-", "value": True}]  # a List() takes any JSON
    assert answer(kernel.send(comm_id, edit(ops)))["ack"] == ["e"]
    assert kernel.output("print(repr(target.count), target.rows)") == "0 [True]\n"


@pytest.mark.parametrize(
    "data_text",
    [
        raw_edit("n", 0, '{"op": "replace", "path": "/count", "value": NaN}'),
        raw_edit("n", 0, '{"op": "replace", "path": "/count", "value": 1%s}' % ("0" * 200)),
        json.dumps(edit([{"op": "add", "path": "/meta/d", "value": deep(150)}], edit_id="n")),
        json.dumps(edit([{"op": "add", "path": "/meta" + "/x" * 150, "value": 1}], edit_id="n")),
    ],
)
def test_edits_over_the_limits_get_an_answer(kernel: KernelFrontend, data_text: str) -> None:
    comm_id = open_target(kernel)
    reply = answer(kernel.send_json(comm_id, data_text))
    assert (reply["method"], reply["id"]) == ("reject", "n")
    assert reply["code"] in ("too_large", "bad_message")
    assert next_patch_version(kernel) == 1


def add_rows_until_refused(kernel: KernelFrontend, comm_id: str, version: int) -> tuple[int, int]:
    """Adds 1 KB rows one edit at a time until one is refused `too_large`: (rows added, version)."""
    for i in range(40):
        ops = [{"op": "add", "path": "/rows/-", "value": "x" * 1_000}]
        reply = answer(kernel.send(comm_id, edit(ops, base=version, edit_id=f"r{i}")))
        if reply["method"] == "reject":
            assert reply["code"] == "too_large", reply
            return i, version
        version = reply["version"]
    raise AssertionError("40 rows of 1 KB were all admitted")


def test_h_frontends_cannot_grow_a_model_past_max_document_bytes(kernel: KernelFrontend) -> None:
    comm_id = open_target(kernel, "syncstate.limits.max_document_bytes = 20_000")
    added, version = add_rows_until_refused(kernel, comm_id, 0)
    assert 15 <= added <= 20  # each row adds ~1 KB to a nearly empty document
    assert kernel.output("print(len(target.rows))") == f"{added}\n"
    assert next_patch_version(kernel) == version + 1
    # Once the kernel makes room, frontends may add again: the document is measured anew.
    kernel.execute("target.rows = target.rows[:10]")
    added, version = add_rows_until_refused(kernel, comm_id, version + 2)
    assert 5 <= added <= 10
    # A document the kernel made over the limit can shrink from a frontend; frontends can
    # never add more than the limit to it (kernel changes count from the next measure).
    kernel.execute("target.rows = ['y' * 1_000] * 30")
    ops = [{"op": "remove", "path": "/rows/0"}]
    assert answer(kernel.send(comm_id, edit(ops, base=version + 1, edit_id="shrink")))["ack"]
    added, version = add_rows_until_refused(kernel, comm_id, version + 2)
    assert added <= 20
    assert kernel.output("print(len(target.rows))") == f"{29 + added}\n"
