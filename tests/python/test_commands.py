"""Commands (`@syncstate.command`) answered through the in-memory comm pair."""

from __future__ import annotations

from typing import Any

from helpers import FakeManager
from traitlets import Int

import syncstate


class Echo(syncstate.Model):
    count = Int(0).tag(sync=True)

    @syncstate.command
    def _echo(self, msg: Any, buffers: list[bytes]) -> tuple[Any, list[bytes]]:
        return str(msg).upper(), [b[::-1] for b in buffers]

    @syncstate.command
    def bump(self, msg: Any, buffers: list[bytes]) -> int:
        self.count += int(msg)
        return self.count

    @syncstate.command
    def broken(self, msg: Any, buffers: list[bytes]) -> None:
        raise ValueError("no such row")

    def not_a_command(self, msg: Any, buffers: list[bytes]) -> None:
        raise AssertionError("must not be callable from a view")


def invoke(
    model: Echo, name: str, msg: Any, buffers: list[bytes] | None = None
) -> tuple[dict[str, Any], list[bytes]]:
    """Sends one invoke request; returns the reply and its buffers."""
    model._comm.sent.clear()
    content = {"syncstate": "invoke", "id": "page:invoke:1", "name": name, "msg": msg}
    model._comm.deliver({"method": "custom", "content": content}, buffers)
    replies = [(d, b) for d, b in model._comm.sent if d.get("method") == "custom"]
    assert len(replies) == 1, replies
    data, out = replies[0]
    return data["content"], out


def test_a_command_answers_with_a_value_and_buffers(comms: FakeManager) -> None:
    reply, buffers = invoke(Echo(), "_echo", "hello", [b"abc"])
    assert reply == {"syncstate": "invoke-reply", "id": "page:invoke:1", "ok": True, "msg": "HELLO"}
    assert buffers == [b"cba"]


def test_a_command_may_change_state_and_return_a_plain_value(comms: FakeManager) -> None:
    model = Echo()
    reply, buffers = invoke(model, "bump", 5)
    assert reply["ok"] is True and reply["msg"] == 5 and buffers == []
    assert model.count == 5
    patches = [d for d, _ in model._comm.sent if d.get("method") == "patch"]
    assert patches and patches[0]["ops"] == [{"op": "replace", "path": "/count", "value": 5}]


def test_a_failing_command_answers_with_its_error(comms: FakeManager) -> None:
    reply, _ = invoke(Echo(), "broken", None)
    assert reply["ok"] is False and reply["code"] == "internal"
    assert reply["message"] == "ValueError: no such row"


def test_only_decorated_methods_can_be_invoked(comms: FakeManager) -> None:
    for name in ("not_a_command", "__init__", "close", 42):
        reply, _ = invoke(Echo(), name, None)  # type: ignore[arg-type]
        assert reply["ok"] is False and reply["code"] == "unknown_command"


def test_invoke_requests_do_not_reach_custom_message_handlers(comms: FakeManager) -> None:
    model = Echo()
    seen: list[Any] = []
    model.on_msg(lambda _model, content, _buffers: seen.append(content))
    invoke(model, "_echo", "x")
    model._comm.deliver({"method": "custom", "content": {"plain": 1}})
    assert seen == [{"plain": 1}]


def test_a_subclass_inherits_and_overrides_commands(comms: FakeManager) -> None:
    class Louder(Echo):
        @syncstate.command
        def _echo(self, msg: Any, buffers: list[bytes]) -> str:
            return str(msg) + "!"

    reply, _ = invoke(Louder(), "_echo", "hi")
    assert reply["msg"] == "hi!"
    assert invoke(Louder(), "bump", 1)[0]["msg"] == 1
