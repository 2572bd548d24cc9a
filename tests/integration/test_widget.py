"""The widget comm, through a real ipykernel: what a widget manager's frontend sees (VS Code,
Colab, nbclassic, Voila). docs/where-it-runs.md; in a browser: tests/browser/test_elsewhere.py."""

from __future__ import annotations

from typing import Any

from kernel_client import KernelFrontend, comm_data

COUNTER = """
import syncstate
from traitlets import Int
class Counter(syncstate.Model):
    _esm = "export default { render() {} };"
    count = Int(0).tag(sync=True)
counter = Counter()
"""


def opened(msgs: list[dict[str, Any]], target: str) -> dict[str, Any]:
    """The comm opened for the model (the widget's own `Layout` widget opens one too)."""
    [content] = [
        m["content"]
        for m in msgs
        if m["msg_type"] == "comm_open"
        and m["content"]["target_name"] == target
        and m["content"]["data"].get("state", {}).get("_model_name", "AnyModel") == "AnyModel"
    ]
    return content


def on(msgs: list[dict[str, Any]], comm_id: str) -> list[dict[str, Any]]:
    return [m["content"]["data"] for m in msgs if m["content"].get("comm_id") == comm_id]


def display(kernel: KernelFrontend) -> tuple[str, str]:
    """Creates and shows the counter; returns its model id and its widget comm's id."""
    model_id = opened(kernel.execute(COUNTER), "syncstate")["comm_id"]
    msgs = kernel.execute("counter")
    widget = opened(msgs, "jupyter.widget")
    [result] = [m["content"]["data"] for m in msgs if m["msg_type"] == "execute_result"]
    view = result["application/vnd.jupyter.widget-view+json"]
    assert view == {"version_major": 2, "version_minor": 1, "model_id": widget["comm_id"]}
    assert result["application/vnd.syncstate.view+json"]["model_id"] == model_id
    state = widget["data"]["state"]
    assert (state["_model_module"], state["_model_name"]) == ("anywidget", "AnyModel")
    assert state["syncstate_id"] == model_id and "export{" in state["_esm"]
    return model_id, widget["comm_id"]


def subscribe(kernel: KernelFrontend, widget_id: str) -> dict[str, Any]:
    [reply] = on(
        kernel.send(widget_id, {"method": "custom", "content": {"method": "sync"}}), widget_id
    )
    assert reply["method"] == "custom"
    return dict(reply["content"])


def test_the_widget_comm_is_silent_until_a_view_asks(kernel: KernelFrontend) -> None:
    model_id, widget_id = display(kernel)
    msgs = kernel.execute("counter.count = 1")
    assert on(msgs, widget_id) == []  # a native page never asks: nothing goes twice
    assert on(msgs, model_id) == [{"method": "patch", "version": 1, "ops": [
        {"op": "replace", "path": "/count", "value": 1}]}]  # fmt: skip

    state = subscribe(kernel, widget_id)
    assert state["method"] == "state" and state["version"] == 1
    assert state["state"]["count"] == 1
    # Shown again: the same widget comm, no second one.
    again = kernel.execute("counter")
    assert not [m for m in again if m["msg_type"] == "comm_open"]

    msgs = kernel.execute("counter.count = 2")
    patch = {
        "method": "patch",
        "version": 2,
        "ops": [{"op": "replace", "path": "/count", "value": 2}],
    }
    assert on(msgs, widget_id) == [{"method": "custom", "content": patch}]
    assert on(msgs, model_id) == [patch]


def test_an_edit_through_the_widget_comm_is_applied_and_answered(kernel: KernelFrontend) -> None:
    _, widget_id = display(kernel)
    subscribe(kernel, widget_id)
    edit = {"method": "patch", "id": "w:1", "base": 0,
            "ops": [{"op": "replace", "path": "/count", "value": 5}]}  # fmt: skip
    [reply] = on(kernel.send(widget_id, {"method": "custom", "content": edit}), widget_id)
    ops = [{"op": "replace", "path": "/count", "value": 5}]
    assert reply["content"] == {"method": "patch", "version": 1, "ack": ["w:1"], "ops": ops}
    assert kernel.output("print(counter.count)") == "5\n"

    bad = {**edit, "id": "w:2", "ops": [{"op": "replace", "path": "/_esm", "value": "x"}]}
    [reply] = on(kernel.send(widget_id, {"method": "custom", "content": bad}), widget_id)
    assert reply["content"]["method"] == "reject" and reply["content"]["code"] == "forbidden"


def test_a_widget_manager_restoring_its_widgets_gets_the_widget_state(
    kernel: KernelFrontend,
) -> None:
    _, widget_id = display(kernel)
    [reply] = on(kernel.send(widget_id, {"method": "request_state"}), widget_id)
    assert reply["method"] == "update" and reply["state"]["_model_name"] == "AnyModel"
    # A widget manager writing widget state changes nothing and gets no answer.
    assert on(kernel.send(widget_id, {"method": "update", "state": {"x": 1}}), widget_id) == []


def test_a_frontend_without_the_comm_target_leaves_the_widget_path_working(
    kernel: KernelFrontend,
) -> None:
    """Such a frontend (JupyterLab without the extension, VS Code) closes the model's comm on
    seeing it open; the model is shown in a later cell through its widget comm."""
    model_id = opened(kernel.execute(COUNTER), "syncstate")["comm_id"]
    kernel.close_comm(model_id)
    msgs = kernel.execute("counter")
    widget_id = opened(msgs, "jupyter.widget")["comm_id"]
    assert subscribe(kernel, widget_id)["state"]["count"] == 0
    msgs = kernel.execute("counter.count = 4")
    assert on(msgs, model_id) == []
    [relayed] = on(msgs, widget_id)
    assert relayed["content"]["ops"] == [{"op": "replace", "path": "/count", "value": 4}]

    # Closed from Python, the model closes its widget comm too.
    closes = [m["content"]["comm_id"] for m in kernel.execute("counter.close()")
              if m["msg_type"] == "comm_close"]  # fmt: skip
    assert widget_id in closes  # with the Layout widget that ipywidgets made for it
    assert comm_data(kernel.execute("counter.count = 5")) == []


PANEL = """
from traitlets import Instance, List
class Panel(syncstate.Model):
    _esm = "export default { render() {} };"
    children = List(Instance(Counter)).tag(sync=True)
    rows = List().tag(sync=True)
panel = Panel(children=[Counter(count=7)], rows=[{"i": i} for i in range(10_000)])
other = Counter()
"""


def test_a_view_gets_a_child_models_widget_through_its_parents(kernel: KernelFrontend) -> None:
    """`host.getWidget(ref)` through the bridge: the kernel opens the child's widget, then
    answers with its id; a model the parent does not hold is refused, and nothing breaks."""
    display(kernel)
    kernel.execute(PANEL)
    msgs = kernel.execute("panel")
    panel_widget = opened(msgs, "jupyter.widget")["comm_id"]
    state = subscribe(kernel, panel_widget)
    [ref] = state["state"]["children"]
    child_id = ref.removeprefix("syncstate:")

    def ask(model_id: str) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        request = {"method": "custom", "content": {"method": "child", "model_id": model_id}}
        msgs = kernel.send(panel_widget, request)
        [answer] = on(msgs, panel_widget)
        return msgs, answer["content"]

    msgs, answer = ask(child_id)
    child_widget = opened(msgs, "jupyter.widget")
    assert child_widget["data"]["state"]["syncstate_id"] == child_id
    assert answer == {"method": "child", "model_id": child_id, "widget": child_widget["comm_id"]}
    kinds = [m["msg_type"] for m in msgs if m["msg_type"].startswith("comm_")]
    assert kinds.index("comm_open") < kinds.index("comm_msg")  # the widget exists first
    # The child's widget is a bridge like any other: it answers `sync` with the child's state.
    assert subscribe(kernel, child_widget["comm_id"])["state"]["count"] == 7

    # Asked again: the same widget, no new comm.
    msgs, again = ask(child_id)
    assert again == answer and not [m for m in msgs if m["msg_type"] == "comm_open"]

    other_id = kernel.output("print(other.model_id)").strip()
    # Requests cost no walk of the parent's state each: one walk per version of it, of the
    # fields that may hold models. The 10,000 plain rows are never walked, so a frontend that
    # alternates an edit of a row and a request cannot make each pair walk them.
    kernel.execute(
        "import syncstate.widget as bridge_module\nwalked = []\nwalk = bridge_module.models_in\n"
        "bridge_module.models_in = lambda value: walked.append(len(value)) or walk(value)\n"
        "panel.children = [*panel.children, Counter()]  # a new version of the parent"
    )
    for refused in (other_id, "nope") * 3:
        msgs, answer = ask(refused)
        assert answer["model_id"] == refused and "widget" not in answer
        assert "holds no live model" in answer["message"]
        assert not [m for m in msgs if m["msg_type"] == "comm_open"]
    assert kernel.output("print(walked)") == "[2]\n"  # the two children, once
    for flip in range(3):
        base = int(kernel.output("print(panel.version)"))
        edit = {"method": "patch", "id": f"flip{flip}", "base": base,
                "ops": [{"op": "replace", "path": "/rows/5000/i", "value": -flip}]}  # fmt: skip
        kernel.send(panel_widget, {"method": "custom", "content": edit})
        assert ask(child_id)[1]["widget"] == child_widget["comm_id"]
    assert kernel.output("print(walked, panel.rows[5000])") == "[2, 2, 2, 2] {'i': -2}\n"
    assert kernel.output("print(panel.children[0].count)") == "7\n"
