"""A headless Python frontend: `Client` drives a `Mirror` (syncstate/mirror.py) of every
syncstate model of a running kernel, through jupyter_client. See docs/client.md.
"""

from __future__ import annotations

import contextlib
import itertools
import queue
import secrets
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .anywidget_model import AnywidgetModel, anywidget_model
from .messages import (
    Opened,
    read_method,
    read_model,
    read_models,
    read_request,
    write_list,
    write_state,
)
from .mirror import Mirror, MirrorError, PendingEdit
from .protocol import OPEN, TARGET, SyncError

__all__ = [
    "AnywidgetModel",
    "Client",
    "Execution",
    "Mirror",
    "MirrorError",
    "PendingEdit",
    "anywidget_model",
]

#: How long the client waits for a restarted kernel to answer, in seconds.
RESTART_TIMEOUT = 60


@dataclass
class Execution:
    """The outcome of `Client.execute`: the shell reply and the iopub messages it caused."""

    reply: dict[str, Any]
    messages: list[dict[str, Any]]

    @property
    def stdout(self) -> str:
        return "".join(
            m["content"]["text"]
            for m in self.messages
            if m["msg_type"] == "stream" and m["content"].get("name") == "stdout"
        )


class Client:
    """Mirrors of every syncstate model of a running kernel, kept up to date from iopub.

    Single-threaded: messages are processed while you call `wait`, `sync`, `execute` or
    `pump`. `Client(kernel_client)` takes a started jupyter_client KernelClient (a blocking
    one); `Client.from_connection_file(path)` makes one.
    """

    def __init__(self, kernel_client: Any, *, timeout: float = 30) -> None:
        self.kc = kernel_client
        self.client_id = secrets.token_hex(4)
        self.models: dict[str, Mirror] = {}
        self.restarts = 0
        self._owns_channels = False
        self._kernel_session: str | None = None
        self._control: str | None = None  # our control comm's id
        self._listing: str | None = None  # the request id of the `list` awaiting its reply
        self._requests = itertools.count(1)
        if not self.kc.channels_running:
            self.kc.start_channels()
            self._owns_channels = True
        self.kc.wait_for_ready(timeout=timeout)
        # A reply on iopub proves our subscription is live, so the `list` reply cannot be missed.
        self._barrier(time.monotonic() + timeout)
        self._fetch()
        self.wait(lambda: self._listing is None, timeout)

    @classmethod
    def from_connection_file(cls, path: str, *, timeout: float = 30) -> Client:
        from jupyter_client.blocking.client import BlockingKernelClient

        kc = BlockingKernelClient(connection_file=path)
        kc.load_connection_file()
        client = cls(kc, timeout=timeout)
        client._owns_channels = True
        return client

    def close(self) -> None:
        """Close the control comm, and stop the channels if this client started them."""
        if self._control is not None:
            self._shell_send("comm_close", {"comm_id": self._control, "data": {}})
            self._control = None
        if self._owns_channels:
            self.kc.stop_channels()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # -- pumping ----------------------------------------------------------------------------

    def pump(self, timeout: float = 0) -> bool:
        """Process one iopub message if one arrives within `timeout`; whether one did."""
        try:
            msg = self.kc.get_iopub_msg(timeout=timeout)
        except queue.Empty:
            return False
        self._on_iopub(msg)
        return True

    def wait(self, predicate: Callable[[], bool], timeout: float = 30) -> None:
        """Process messages until `predicate()` holds; TimeoutError after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while not predicate():
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("syncstate.Client.wait: the condition did not hold in time")
            self.pump(min(left, 0.1))

    def sync(self, timeout: float = 30) -> None:
        """Wait until the kernel has handled everything sent so far and every mirror is settled.

        A kernel_info request goes behind our comm messages on the shell channel; once its
        iopub `idle` arrives, everything they caused has been published before it.
        """
        deadline = time.monotonic() + timeout
        while True:
            self._barrier(deadline)
            if self._listing is None and all(m.settled for m in self.models.values()):
                return

    def _barrier(self, deadline: float) -> None:
        while True:
            msg_id = self.kc.kernel_info()
            done: list[bool] = []
            retry = time.monotonic() + 2  # a request sent while the kernel restarts may be lost
            while not done and time.monotonic() < min(retry, deadline):
                self._pump_until_idle(msg_id, done, min(retry, deadline))
            self._drain_shell()
            if done:
                return
            if time.monotonic() >= deadline:
                raise TimeoutError("syncstate.Client.sync: the kernel did not answer in time")

    def _pump_until_idle(self, msg_id: str, done: list[bool], until: float) -> None:
        try:
            msg = self.kc.get_iopub_msg(timeout=max(0.0, min(until - time.monotonic(), 0.1)))
        except queue.Empty:
            return
        self._on_iopub(msg)
        if (
            msg["parent_header"].get("msg_id") == msg_id
            and msg["msg_type"] == "status"
            and msg["content"].get("execution_state") == "idle"
        ):
            done.append(True)

    def _drain_shell(self) -> None:
        while True:
            try:
                self.kc.get_shell_msg(timeout=0)
            except queue.Empty:
                return

    def execute(self, code: str, *, timeout: float = 60, check: bool = True) -> Execution:
        """Run code in the kernel, processing the messages it causes; raises RuntimeError on
        an error when `check`."""
        msg_id = self.kc.execute(code)
        messages: list[dict[str, Any]] = []
        deadline = time.monotonic() + timeout
        idle = False
        while not idle:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"execution did not finish in {timeout} s")
            try:
                msg = self.kc.get_iopub_msg(timeout=min(left, 0.5))
            except queue.Empty:
                continue
            self._on_iopub(msg)
            if msg["parent_header"].get("msg_id") == msg_id:
                messages.append(msg)
                idle = (
                    msg["msg_type"] == "status" and msg["content"].get("execution_state") == "idle"
                )
        reply = self._shell_reply(msg_id, deadline)
        if check and reply.get("status") != "ok":
            trace = "\n".join(reply.get("traceback", [])) or str(reply)
            raise RuntimeError(
                f"kernel error: {reply.get('ename')}: {reply.get('evalue')}\n{trace}"
            )
        return Execution(reply, messages)

    def _shell_reply(self, msg_id: str, deadline: float) -> dict[str, Any]:
        while True:
            msg = self.kc.get_shell_msg(timeout=max(0.1, deadline - time.monotonic()))
            if msg["parent_header"].get("msg_id") == msg_id:
                content: dict[str, Any] = msg["content"]
                return content

    # -- iopub ------------------------------------------------------------------------------

    def _on_iopub(self, msg: dict[str, Any]) -> None:
        session = msg.get("header", {}).get("session")
        kind = msg.get("msg_type")
        content = msg.get("content", {})
        # A fresh kernel process has a new session id; its `starting` status is one of its
        # messages, so the restart is counted once, whichever message comes first.
        restarted = bool(session and self._kernel_session and session != self._kernel_session)
        if session:
            self._kernel_session = session
        if restarted:
            self._on_restart()
        comm_id = content.get("comm_id")
        if kind == "comm_open" and content.get("target_name") == TARGET:
            data = content.get("data")
            if isinstance(data, dict) and read_method(data) == OPEN:
                with contextlib.suppress(SyncError):  # an open we do not understand
                    self._attach(comm_id, read_model(data, msg.get("buffers") or []))
        elif kind == "comm_msg" and comm_id == self._control:
            self._on_control(content.get("data"), msg.get("buffers") or [])
        elif kind == "comm_msg" and comm_id in self.models:
            self.models[comm_id].handle_message(content.get("data"), list(msg.get("buffers") or []))
        elif kind == "comm_close" and comm_id in self.models:
            self.models.pop(comm_id).handle_close()
        elif kind == "comm_close" and comm_id == self._control:
            # The kernel has no syncstate control target (syncstate not in use yet): no models.
            self._control = self._listing = None

    def _on_restart(self) -> None:
        """A new kernel process: every model is gone; ask the new one for what it has."""
        self.restarts += 1
        for mirror in self.models.values():
            mirror.handle_close()
        self.models.clear()
        self._until_answered(time.monotonic() + RESTART_TIMEOUT)
        self._fetch()

    def _until_answered(self, deadline: float) -> None:
        """Until the kernel answers a request on the shell channel. Right after a restart, a
        request can reach the old process's socket and be lost; one that is answered proves
        the new process is listening, so what is sent next arrives."""
        while time.monotonic() < deadline:
            msg_id = self.kc.kernel_info()
            retry = time.monotonic() + 1
            while time.monotonic() < retry:
                try:
                    reply = self.kc.get_shell_msg(timeout=max(0.0, retry - time.monotonic()))
                except queue.Empty:
                    break
                if reply["parent_header"].get("msg_id") == msg_id:
                    return
        raise TimeoutError("syncstate.Client: the restarted kernel did not answer in time")

    def _fetch(self) -> None:
        """Open a control comm asking for every live model (`list`)."""
        self._control = uuid.uuid4().hex
        self._listing = f"{self.client_id}:r{next(self._requests)}"
        data = write_list(self._listing)
        self._shell_send(
            "comm_open", {"comm_id": self._control, "target_name": TARGET, "data": data}
        )

    def _on_control(self, data: Any, buffers: list[bytes]) -> None:
        if not isinstance(data, dict) or read_request(data) != self._listing:
            return
        self._listing = None
        for model_id, opened in read_models(data, buffers).items():
            if model_id in self.models:
                # Opened while the list was on its way: catch up if the list is newer.
                self.models[model_id].handle_message(*write_state(opened.version, opened.state))
            else:
                self._attach(model_id, opened)

    def _attach(self, model_id: str, opened: Opened) -> None:
        def send(payload: dict[str, Any], out: list[bytes] | None = None) -> None:
            self._shell_send("comm_msg", {"comm_id": model_id, "data": payload}, out or [])

        self.models[model_id] = Mirror(
            opened.state, opened.version, send, model_id=model_id, client_id=self.client_id
        )

    def _shell_send(
        self, kind: str, content: dict[str, Any], buffers: list[bytes] | None = None
    ) -> None:
        msg = self.kc.session.msg(kind, content)
        self.kc.session.send(self.kc.shell_channel.socket, msg, buffers=buffers or [])
