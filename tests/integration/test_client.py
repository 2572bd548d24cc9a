"""`syncstate.client.Client` against a real ipykernel: connect, mirror, edit, restart."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from jupyter_client.manager import start_new_kernel

# The client runs in this process: use this checkout's syncstate (the kernel has its own).
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from syncstate.client import Client

TODO = """
import syncstate
from traitlets import Int, List, Dict, Unicode, Bytes
class Todo(syncstate.Model):
    title = Unicode("Today").tag(sync=True)
    items = List(Dict()).tag(sync=True)
    done_count = Int(0).tag(sync=True, frontend_read_only=True)
    image = Bytes(b"").tag(sync=True)
"""


@pytest.fixture
def kernel() -> Iterator[tuple[Any, Any]]:
    km, kc = start_new_kernel(kernel_name="python3")
    try:
        yield km, kc
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)


def test_client_sees_existing_models_edits_and_follows_changes(kernel: tuple[Any, Any]) -> None:
    km, kc = kernel
    kc.execute_interactive(TODO + "todo = Todo(items=[{'text': 'milk'}], image=b'PNG')", timeout=60)
    client = Client(km.client())  # a second connection, as a notebook page would be
    try:
        # Models created before the client connected come from the control comm's `list`.
        (mirror,) = client.models.values()
        assert mirror.state["items"] == [{"text": "milk"}] and mirror.state["image"] == b"PNG"
        changes: list[Any] = []
        mirror.observe(changes.append)

        # Kernel changes arrive as patches.
        client.execute("todo.items.append({'text': 'eggs'}); todo.title = 'Tomorrow'")
        assert mirror.state["items"] == [{"text": "milk"}, {"text": "eggs"}]
        assert mirror.get("title") == "Tomorrow" and len(changes) == 2

        # Edits: applied at once, acknowledged by the kernel.
        edit = mirror.patch(
            [
                {"op": "replace", "path": "/items/1/text", "value": "tea"},
                {"op": "replace", "path": "/image", "value": b"GIF"},
            ]
        )
        mirror.patch([{"op": "replace", "path": "/title", "value": "Later"}])  # queued
        client.sync()
        assert edit in mirror.acknowledged and mirror.settled
        out = client.execute("print(todo.items[1]['text'], todo.title, todo.image)").stdout
        assert out.split() == ["tea", "Later", "b'GIF'"]

        # A refused edit is reported and undone.
        mirror.patch([{"op": "replace", "path": "/done_count", "value": 9}])
        client.sync()
        assert mirror.errors[-1].code == "forbidden" and mirror.get("done_count") == 0

        # New models and closed ones.
        client.execute("other = Todo(title='second')")
        assert len(client.models) == 2
        client.execute("other.close()")
        assert list(client.models) == [mirror.model_id]
    finally:
        client.close()


def test_client_survives_kernel_restarts(kernel: tuple[Any, Any]) -> None:
    km, fixture_client = kernel
    # A second client connected through the restart (with its heartbeat) sometimes leaves the
    # new kernel without iopub traffic or makes it exit (jupyter_client 8.10, ipykernel 7.4);
    # ours is the only frontend here, as in a real headless use.
    fixture_client.stop_channels()
    client = Client(km.client())
    try:
        assert client.models == {}  # syncstate not even imported yet
        # Several restarts in a row: a request sent before the new kernel listens would be
        # lost now and then, so every round must see its models.
        for round in range(1, 4):
            client.execute(TODO + f"todo = Todo(title='before {round}')")
            (before,) = client.models.values()
            km.restart_kernel(now=True)
            client.sync(timeout=60)  # sees the new kernel (new session) and asks for its models
            assert client.restarts == round and before.closed and client.models == {}
        client.execute(TODO + "todo = Todo(title='after')")
        (after,) = client.models.values()
        assert after.get("title") == "after"
        after.patch([{"op": "replace", "path": "/title", "value": "edited"}])
        client.sync()
        assert client.execute("print(todo.title)").stdout.strip() == "edited"
    finally:
        client.close()


def test_client_from_connection_file(kernel: tuple[Any, Any]) -> None:
    km, kc = kernel
    kc.execute_interactive(TODO + "todo = Todo()", timeout=60)
    with Client.from_connection_file(km.connection_file) as client:
        assert [m.get("title") for m in client.models.values()] == ["Today"]
