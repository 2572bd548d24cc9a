"""The Python side through a real ipykernel, with jupyter_client acting as the frontend."""

from __future__ import annotations

from kernel_client import KernelFrontend, comm_data

TODO = """
import syncstate
from traitlets import Int, List, Dict, Unicode
class Todo(syncstate.Model):
    _esm = "export default { render({ el }) { el.textContent = 'todo'; } }"
    title = Unicode("Today").tag(sync=True)
    items = List(Dict()).tag(sync=True)
    done_count = Int(0).tag(sync=True, frontend_read_only=True)
seen = []
todo = Todo(items=[{"text": "milk", "done": False}])
todo.observe(lambda change: seen.append(change["name"]), ["items", "title"])
todo
"""


def open_model(kernel: KernelFrontend) -> tuple[str, dict]:
    msgs = kernel.execute(TODO)
    kinds = [m["msg_type"] for m in msgs]
    assert kinds.index("comm_open") < kinds.index("execute_result")
    opened = next(m["content"] for m in msgs if m["msg_type"] == "comm_open")
    assert opened["target_name"] == "syncstate"
    result = next(m["content"] for m in msgs if m["msg_type"] == "execute_result")
    view = result["data"]["application/vnd.syncstate.view+json"]
    assert view["model_id"] == opened["comm_id"] and view["protocol"] == "syncstate/1"
    # The state travels with the output, for a view shown without the kernel.
    assert view["state"] == opened["data"]["state"] and view["version"] == 0
    assert "Todo(" in result["data"]["text/plain"]
    return opened["comm_id"], opened["data"]


def test_display_opens_comm_with_full_state(kernel: KernelFrontend) -> None:
    _, data = open_model(kernel)
    assert data["version"] == 0
    assert data["state"]["items"] == [{"text": "milk", "done": False}]
    assert data["state"]["_esm"].startswith("export default")


def test_kernel_changes_arrive_as_patches(kernel: KernelFrontend) -> None:
    _comm_id, _ = open_model(kernel)
    msgs = comm_data(kernel.execute("todo.title = 'Tomorrow'\ntodo.items.append({'text': 'eggs'})"))
    assert msgs == [
        {
            "method": "patch",
            "version": 1,
            "ops": [{"op": "replace", "path": "/title", "value": "Tomorrow"}],
        },
        {
            "method": "patch",
            "version": 2,
            "ops": [{"op": "add", "path": "/items/1", "value": {"text": "eggs"}}],
        },
    ]
    msgs = comm_data(kernel.execute("todo.items[0]['done'] = True"))
    assert msgs[0]["ops"] == [{"op": "replace", "path": "/items/0/done", "value": True}]


def test_frontend_edit_changes_trait_and_fires_observer(kernel: KernelFrontend) -> None:
    comm_id, _ = open_model(kernel)
    replies = comm_data(
        kernel.send(
            comm_id,
            {
                "method": "patch",
                "id": "c:1",
                "base": 0,
                "ops": [
                    {"op": "replace", "path": "/items/0/done", "value": True},
                    {"op": "add", "path": "/items/-", "value": {"text": "tea", "done": False}},
                ],
            },
        )
    )
    assert replies == [
        {
            "method": "patch",
            "version": 1,
            "ack": ["c:1"],
            "ops": [
                {"op": "replace", "path": "/items/0/done", "value": True},
                {"op": "add", "path": "/items/1", "value": {"text": "tea", "done": False}},
            ],
        }
    ]
    out = kernel.output("print(todo.items[0]['done'], len(todo.items), seen)")
    assert out.strip() == "True 2 ['items']"


def test_invalid_edit_is_rejected_and_changes_nothing(kernel: KernelFrontend) -> None:
    comm_id, _ = open_model(kernel)
    for ops, code in [
        ([{"op": "replace", "path": "/title", "value": 5}], "invalid"),
        ([{"op": "replace", "path": "/done_count", "value": 5}], "forbidden"),
        (
            [
                {"op": "replace", "path": "/items/0/done", "value": True},
                {"op": "remove", "path": "/items/5"},
            ],
            "bad_path",
        ),
    ]:
        replies = comm_data(
            kernel.send(comm_id, {"method": "patch", "id": "bad", "base": 0, "ops": ops})
        )
        assert replies[0]["method"] == "reject" and replies[0]["code"] == code
        assert replies[0]["id"] == "bad" and replies[0]["version"] == 0
    out = kernel.output("print(todo.title, todo.items, todo.version, seen)")
    assert out.strip() == "Today [{'text': 'milk', 'done': False}] 0 []"


def test_malformed_messages_never_crash_the_kernel(kernel: KernelFrontend) -> None:
    comm_id, _ = open_model(kernel)
    for data in [
        None,
        [],
        "x",
        {"method": "patch", "ops": 7},
        {"method": "what"},
        {"method": "patch", "id": "x", "base": 0, "ops": [{"op": "add"}]},
    ]:
        replies = comm_data(kernel.send(comm_id, data))
        assert replies and replies[0]["method"] == "reject"
    errors = [
        m for m in kernel.inbox if m["msg_type"] == "stream" and "Traceback" in m["content"]["text"]
    ]
    assert errors == []
    assert kernel.output("print(1 + 1)").strip() == "2"


def test_frontend_opened_comm_lists_all_models(kernel: KernelFrontend) -> None:
    comm_id, _ = open_model(kernel)
    kernel.execute("todo.title = 'listed'")
    _, msgs = kernel.open_comm(
        "syncstate", {"protocol": "syncstate/1", "method": "list", "request": "r1"}
    )
    reply = comm_data(msgs)[0]
    assert reply["method"] == "models" and reply["request"] == "r1"
    assert reply["models"][comm_id]["version"] == 1
    assert reply["models"][comm_id]["state"]["title"] == "listed"


def test_frontend_creates_a_model(kernel: KernelFrontend) -> None:
    open_model(kernel)
    kernel.execute("syncstate.limits.creatable = {'__main__.Todo'}")
    _, msgs = kernel.open_comm(
        "syncstate",
        {
            "protocol": "syncstate/1",
            "method": "create",
            "request": "r2",
            "class": "__main__.Todo",
            "state": {"title": "from js"},
        },
    )
    opened = [m["content"] for m in msgs if m["msg_type"] == "comm_open"]
    reply = comm_data(msgs)[-1]
    assert reply["method"] == "created" and reply["model_id"] == opened[0]["comm_id"]
    assert opened[0]["data"]["state"]["title"] == "from js"


def test_custom_message_round_trip_with_buffers(kernel: KernelFrontend) -> None:
    comm_id, _ = open_model(kernel)
    kernel.execute(
        "todo.on_msg(lambda m, content, buffers: "
        "m.send({'echo': content, 'sizes': [len(b) for b in buffers]}, buffers))"
    )
    msgs = kernel.send(comm_id, {"method": "custom", "content": {"ping": 1}}, [b"abc"])
    reply = next(m for m in msgs if m["msg_type"] == "comm_msg")
    assert reply["content"]["data"] == {
        "method": "custom",
        "content": {"echo": {"ping": 1}, "sizes": [3]},
    }
    assert bytes(reply["buffers"][0]) == b"abc"


def test_close_closes_the_comm(kernel: KernelFrontend) -> None:
    comm_id, _ = open_model(kernel)
    msgs = kernel.execute("todo.close()")
    closes = [m["content"] for m in msgs if m["msg_type"] == "comm_close"]
    assert closes and closes[0]["comm_id"] == comm_id
    assert kernel.output("print(syncstate.control.live_models())").strip() == "[]"


ECHO = """
import syncstate
class Echo(syncstate.Model):
    @syncstate.command
    def _echo(self, msg, buffers):
        return msg.upper(), [bytes(reversed(b)) for b in buffers]
echo = Echo()
"""


def test_a_command_answers_through_a_real_kernel(kernel: KernelFrontend) -> None:
    opened = next(m["content"] for m in kernel.execute(ECHO) if m["msg_type"] == "comm_open")
    request = {"syncstate": "invoke", "id": "page:invoke:1", "name": "_echo", "msg": "hello"}
    msgs = kernel.send(opened["comm_id"], {"method": "custom", "content": request}, [b"abc"])
    replies = [m for m in msgs if m["msg_type"] == "comm_msg"]
    assert [m["content"]["data"] for m in replies] == [
        {
            "method": "custom",
            "content": {
                "syncstate": "invoke-reply",
                "id": "page:invoke:1",
                "ok": True,
                "msg": "HELLO",
            },
        }
    ]
    assert [bytes(b) for b in replies[0]["buffers"]] == [b"cba"]


ROWS = """
import syncstate
from traitlets import Bool, Dict, List

class CountedDict(Dict):
    validated = 0

    def validate(self, obj, value):
        CountedDict.validated += 1
        return super().validate(obj, value)

class Table(syncstate.Model):
    rows = List(CountedDict(per_key_traits={"done": Bool()})).tag(sync=True)

table = Table(rows=[{"done": False} for _ in range(5000)])
CountedDict.validated = 0
"""


def test_a_row_edit_validates_that_row_with_traitlets_message(kernel: KernelFrontend) -> None:
    """Issue 10: an edit of one field of a `List(Dict())` validates one row, not 5000; a bad
    value gets the message traitlets gives for the whole list."""
    msgs = kernel.execute(ROWS)
    comm_id = next(m["content"]["comm_id"] for m in msgs if m["msg_type"] == "comm_open")
    ok = {
        "method": "patch",
        "id": "a",
        "base": 0,
        "ops": [{"op": "replace", "path": "/rows/4321/done", "value": True}],
    }
    [patch] = comm_data(kernel.send(comm_id, ok))
    assert patch["ack"] == ["a"]
    bad = {
        "method": "patch",
        "id": "b",
        "base": 1,
        "ops": [{"op": "replace", "path": "/rows/7/done", "value": "yes"}],
    }
    [reject] = comm_data(kernel.send(comm_id, bad))
    assert kernel.output("print(CountedDict.validated, table.rows[4321], table.rows[7])") == (
        "2 {'done': True} {'done': False}\n"
    )
    expected = kernel.output(
        "rows = [dict(r) for r in table.rows]\nrows[7]['done'] = 'yes'\n"
        "try:\n    Table.rows._validate(table, rows)\nexcept Exception as e:\n    print(e)"
    )
    assert reject["method"] == "reject" and reject["message"] == expected.strip()
