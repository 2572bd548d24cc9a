"""A real JupyterLab in headless Chromium, for end-to-end scenarios.

One `jupyter lab` server and one browser serve the whole session; every test gets a fresh page
through the `lab` fixture and its own notebook (a new name, so a new kernel). Screenshots and
the server log land in test-artifacts/.

    def test_something(lab):
        lab.new_notebook(["x = 1", "x"])
        lab.run_all()
        expect(lab.cell_output(1)).to_contain_text("1")
        lab.screenshot("something")
"""

from __future__ import annotations

import json
import os
import re
import secrets
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Generator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Locator, Page, expect, sync_playwright
from playwright.sync_api import Error as PlaywrightError

CHROMIUM = os.environ.get("SYNCSTATE_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
LOG_PATH = ARTIFACTS / "jupyter-lab.log"
# In the server log (kernels write theirs there too): a message the kernel dropped, a failure.
LOG_PROBLEMS = ("Unknown subshell_id", "Traceback")
LOG_CONTEXT_LINES = 25
# Tracebacks that are not failures: the server writing to a tab a test closed (a user closing
# a tab does the same), and a kernel's own output flush or warning as the process ends in a
# restart, after its sockets are closed.
NOT_FAILURES = (
    "tornado.websocket.WebSocketClosedError",
    "tornado.iostream.StreamClosedError",
    "RuntimeError: Event loop is closed",
    "zmq.error.ZMQError: Socket operation on non-socket",
)
SERVER_START_TIMEOUT = 90
# A cell that imports, starts a kernel or renders a view can take a while on 2 busy cores.
CELL_TIMEOUT_MS = 60_000

# Runs the notebook's cells and resolves when they have all finished.
RUN_ALL_JS = "() => window.jupyterapp.commands.execute('notebook:run-all-cells')"

# Appends a code cell to the current notebook, runs it, and returns its outputs (nbformat JSON).
RUN_CODE_JS = """async code => {
  const panel = window.jupyterapp.shell.currentWidget;
  const notebook = panel.content;
  notebook.model.sharedModel.addCell({cell_type: 'code', source: code});
  notebook.activeCellIndex = notebook.widgets.length - 1;
  await window.jupyterapp.commands.execute('notebook:run-cell');
  return notebook.activeCell.model.outputs.toJSON();
}"""

# Resolves once the current notebook's kernel is connected and idle.
KERNEL_IDLE_JS = """async () => {
  const app = window.jupyterapp;
  if (app === undefined) return false;  // a page Lab is still redirecting
  await app.restored;
  const panel = app.shell.currentWidget;
  if (!panel || !panel.sessionContext) return false;
  await panel.sessionContext.ready;
  const kernel = panel.sessionContext.session?.kernel;
  return !!kernel && kernel.status === 'idle' && kernel.connectionStatus === 'connected';
}"""

# Runs the code cell at `index` again; resolves when it has finished.
RERUN_JS = """async index => {
  const panel = window.jupyterapp.shell.currentWidget;
  panel.content.activeCellIndex = index;
  await window.jupyterapp.commands.execute('notebook:run-cell');
}"""

# Appends a code cell and starts it without waiting; `window.syncstateRunning` settles at its end.
START_CODE_JS = """code => {
  const panel = window.jupyterapp.shell.currentWidget;
  const notebook = panel.content;
  notebook.model.sharedModel.addCell({cell_type: 'code', source: code});
  notebook.activeCellIndex = notebook.widgets.length - 1;
  window.syncstateRunning = window.jupyterapp.commands.execute('notebook:run-cell');
}"""

# Closes the notebook's tab (its kernel keeps running) and opens the notebook again.
CLOSE_AND_REOPEN_JS = """async path => {
  const app = window.jupyterapp;
  const panel = app.shell.currentWidget;
  await panel.context.save();
  panel.close();
  await new Promise(resolve => setTimeout(resolve, 500));
  await app.commands.execute('docmanager:open', { path });
}"""

# Opens a console on the current notebook's kernel.
OPEN_CONSOLE_JS = """async () => {
  const app = window.jupyterapp;
  const panel = await app.commands.execute('notebook:create-console', { activate: true });
  await panel.sessionContext.ready;
}"""

# Runs code in the console that is the current widget; resolves when it has finished.
RUN_IN_CONSOLE_JS = """async code => {
  const panel = window.jupyterapp.shell.currentWidget;
  panel.console.promptCell.model.sharedModel.setSource(code);
  await panel.console.execute(true);
}"""

RESTART_JS = """async () => {
  const panel = window.jupyterapp.shell.currentWidget;
  await panel.sessionContext.restartKernel();
}"""


def notebook_json(cells: list[str], outputs: dict[int, list[Any]] | None = None) -> dict[str, Any]:
    """A notebook with these code cells (and saved outputs, by cell index)."""
    return {
        "nbformat": 4,
        "nbformat_minor": 5,
        "metadata": {
            "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}
        },
        "cells": [
            {
                "cell_type": "code",
                "id": f"cell-{i}",
                "metadata": {},
                "execution_count": None,
                "source": source,
                "outputs": (outputs or {}).get(i, []),
            }
            for i, source in enumerate(cells)
        ],
    }


@dataclass
class LabServer:
    url: str
    token: str
    root: Path
    log_path: Path

    def api(self, method: str, path: str, body: Any = None) -> Any:
        """Calls the Jupyter REST API; returns the decoded JSON answer (None when empty)."""
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            f"{self.url}{path}",
            data=data,
            method=method,
            headers={"Authorization": f"token {self.token}", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            text = response.read()
        return json.loads(text) if text else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _write_settings(settings_dir: Path) -> None:
    """Settings that keep popups out of the page and the server off the network."""
    notification = settings_dir / "@jupyterlab" / "apputils-extension"
    notification.mkdir(parents=True)
    (notification / "notification.jupyterlab-settings").write_text(
        json.dumps({"fetchNews": "false", "checkForUpdates": False})
    )


@contextmanager
def _serve(
    tmp_path_factory: pytest.TempPathFactory, log_path: Path, options: list[str]
) -> Iterator[LabServer]:
    """A `jupyter lab` server of its own (settings, runtime and workspaces in a temp folder)."""
    home = tmp_path_factory.mktemp("jupyter")
    root = home / "notebooks"
    root.mkdir()
    dirs = {
        "JUPYTER_CONFIG_DIR": home / "config",
        "JUPYTER_DATA_DIR": home / "data",
        "JUPYTER_RUNTIME_DIR": home / "runtime",
        "JUPYTERLAB_SETTINGS_DIR": home / "settings",
        "JUPYTERLAB_WORKSPACES_DIR": home / "workspaces",
        "IPYTHONDIR": home / "ipython",
    }
    for path in dirs.values():
        path.mkdir()
    _write_settings(dirs["JUPYTERLAB_SETTINGS_DIR"])
    env = {**os.environ, **{name: str(path) for name, path in dirs.items()}}
    port, token = _free_port(), secrets.token_hex(16)
    ARTIFACTS.mkdir(exist_ok=True)
    # The server (and the kernels it starts) run from the venv that runs the tests, with the
    # installed syncstate wheel and its labextension.
    command = [
        sys.executable, "-m", "jupyterlab",
        "--no-browser", "--ip=127.0.0.1", f"--port={port}", f"--ServerApp.token={token}",
        f"--ServerApp.root_dir={root}", "--allow-root", "--expose-app-in-browser",
        # Notebook 7 pages (/notebooks/...) are served by the same server, with their own flag.
        "--JupyterNotebookApp.expose_app_in_browser=True",
        *options,
    ]  # fmt: skip
    with open(log_path, "w") as log:
        process = subprocess.Popen(
            command, cwd=root, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=log
        )
    server = LabServer(url=f"http://127.0.0.1:{port}", token=token, root=root, log_path=log_path)
    try:
        _wait_until_up(server, process, log_path)
        yield server
    finally:
        stop(process)


def stop(process: subprocess.Popen[bytes]) -> None:
    """Ends a server this suite started, and waits for it."""
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.fixture(scope="session")
def lab_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LabServer]:
    """JupyterLab as most users have it: real-time collaboration off (installed for the tests
    that need it, see `rtc_server`)."""
    with _serve(tmp_path_factory, LOG_PATH, ["--YDocExtension.disable_rtc=True"]) as server:
        yield server


@pytest.fixture(scope="session")
def rtc_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LabServer]:
    """JupyterLab with jupyter-collaboration on: several users share each notebook."""
    with _serve(tmp_path_factory, ARTIFACTS / "jupyter-lab-rtc.log", []) as server:
        yield server


def _wait_until_up(server: LabServer, process: subprocess.Popen[bytes], log_path: Path) -> None:
    deadline = time.monotonic() + SERVER_START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"jupyter lab exited with {process.returncode}:\n{log_path.read_text()}")
        try:
            server.api("GET", "/api/status")
            return
        except (urllib.error.URLError, ConnectionError):
            time.sleep(0.3)
    log = log_path.read_text()
    pytest.fail(f"jupyter lab did not answer within {SERVER_START_TIMEOUT} s:\n{log}")


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(
            f"{CHROMIUM} is missing: the browser tests need Debian's chromium "
            "(as root: apt-get update && apt-get install -y chromium; `make setup` does it)."
        )
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


class Lab:
    """One browser page on the lab server, working on one notebook at a time."""

    def __init__(self, server: LabServer, page: Page, name: str) -> None:
        self.server = server
        self.page = page
        self.name = name
        self.path = ""
        self.paths: list[str] = []
        self.ui = "lab"  # or "notebook": Notebook 7
        self.console_errors: list[str] = []
        # Where this test's part of the server log (with its kernels' stderr) starts.
        self.log_start = server.log_path.stat().st_size
        page.on("pageerror", lambda error: self.console_errors.append(error.stack or str(error)))
        page.on(
            "console",
            lambda msg: self.console_errors.append(msg.text) if msg.type == "error" else None,
        )

    def new_notebook(
        self, cells: list[str], outputs: dict[int, list[Any]] | None = None, ui: str = "lab"
    ) -> None:
        """Creates a notebook with these code cells (and saved outputs, by cell index), opens it
        in `ui` ("lab", or "notebook" for Notebook 7) and waits for its kernel. Each call makes
        a new file, so a new kernel session."""
        self.path = f"{self.name}-{secrets.token_hex(3)}.ipynb"
        self.paths.append(self.path)
        notebook = notebook_json(cells, outputs)
        self.server.api(
            "PUT", f"/api/contents/{self.path}", {"type": "notebook", "content": notebook}
        )
        self.open(ui)

    def open(self, ui: str | None = None) -> None:
        """Loads the page on the current notebook (in `ui`, by default the one it was last
        opened in) and waits until its kernel is idle."""
        self.ui = ui = ui or self.ui
        if ui == "lab":
            # A workspace of its own, so that Lab does not reopen the notebooks of earlier tests.
            page = f"lab/workspaces/{self.path.removesuffix('.ipynb')}/tree/{self.path}"
        else:
            page = f"notebooks/{self.path}"
        self.page.goto(f"{self.server.url}/{page}?token={self.server.token}")
        self.wait_for_kernel()

    def reload(self) -> None:
        """Reloads the page: the kernel and its models live on, the frontend starts afresh."""
        self.page.reload()
        self.wait_for_kernel()

    def wait_for_kernel(self) -> None:
        self.page.wait_for_function("() => window.jupyterapp !== undefined")
        deadline = time.monotonic() + CELL_TIMEOUT_MS / 1000
        while not self._kernel_idle():
            if time.monotonic() > deadline:
                pytest.fail("the notebook's kernel did not become idle")
            time.sleep(0.2)

    def _kernel_idle(self) -> bool:
        try:
            return bool(self.page.evaluate(KERNEL_IDLE_JS))
        except PlaywrightError as error:
            # Lab may still redirect the page it was opened on (a workspace URL): ask again.
            if "Execution context was destroyed" not in error.message:
                raise
            return False

    def run_all(self) -> None:
        """Runs every cell of the notebook; returns when all have finished."""
        self.page.evaluate(RUN_ALL_JS)

    def run(self, code: str) -> str:
        """Appends a cell with `code`, runs it, and returns the text it printed or returned."""
        outputs: list[dict[str, Any]] = self.page.evaluate(RUN_CODE_JS, code)
        texts = []
        for output in outputs:
            if output["output_type"] == "stream":
                texts.append(_text(output["text"]))
            elif output["output_type"] == "error":
                pytest.fail(f"the cell failed:\n{code}\n{output['ename']}: {output['evalue']}")
            elif "text/plain" in output.get("data", {}):
                texts.append(_text(output["data"]["text/plain"]))
        return "".join(texts)

    def wait_for_python(self, code: str, expected: str, timeout: float = 30) -> None:
        """Runs `code` until it prints `expected`: a frontend edit reaches the kernel on its
        own, so the next cell may run before it is applied."""
        deadline = time.monotonic() + timeout
        while (printed := self.run(code).strip()) != expected:
            assert time.monotonic() < deadline, f"{code!r} printed {printed!r}, not {expected!r}"
            time.sleep(0.3)

    def rerun_cell(self, index: int) -> None:
        """Runs the code cell at `index` again and waits until it has finished."""
        self.page.evaluate(RERUN_JS, index)

    def start(self, code: str) -> None:
        """Appends a cell with `code` and starts it; `wait_until_idle` waits for its end."""
        self.page.evaluate(START_CODE_JS, code)

    def wait_until_idle(self) -> None:
        self.page.evaluate("() => window.syncstateRunning")

    def close_and_reopen(self) -> None:
        """Saves and closes the notebook (its kernel keeps running), then opens it again: in
        Lab, its tab; in Notebook 7, where a notebook is a page, by loading the page anew."""
        if self.ui == "notebook":
            self.save()
            self.open()
            return
        self.page.evaluate(CLOSE_AND_REOPEN_JS, self.path)
        self.wait_for_kernel()

    def second_tab(self) -> Lab:
        """Another browser tab on the same notebook (and so the same kernel)."""
        other = Lab(self.server, self.page.context.new_page(), self.name)
        other.path = self.path
        other.open(self.ui)
        return other

    def open_console(self) -> None:
        """Opens a console on the notebook's kernel and makes it the current widget."""
        self.page.evaluate(OPEN_CONSOLE_JS)

    def run_in_console(self, code: str) -> None:
        self.page.evaluate(RUN_IN_CONSOLE_JS, code)

    def focus_notebook(self) -> None:
        self.page.evaluate(
            "() => window.jupyterapp.shell.activateById("
            "document.querySelector('.jp-NotebookPanel').id)"
        )

    def log_problems(self) -> list[str]:
        """This test's part of the server and kernel log, from each line that means something
        broke (with what follows it: a traceback's frames), but for `NOT_FAILURES`."""
        with open(self.server.log_path, encoding="utf-8", errors="replace") as log:
            log.seek(self.log_start)
            lines = log.read().splitlines()
        return [
            "\n".join(lines[i : i + LOG_CONTEXT_LINES])
            for i, line in enumerate(lines)
            if any(problem in line for problem in LOG_PROBLEMS)
            and not _raised(lines, i).startswith(NOT_FAILURES)
        ]

    def save(self) -> None:
        self.page.evaluate("() => window.jupyterapp.commands.execute('docmanager:save')")

    def restart_kernel(self) -> None:
        self.page.evaluate(RESTART_JS)
        self.wait_for_kernel()

    def cell(self, index: int) -> Locator:
        return self.page.locator(".jp-NotebookPanel:visible .jp-Cell").nth(index)

    def cell_output(self, index: int) -> Locator:
        """The output area of the code cell at `index`."""
        return self.cell(index).locator(".jp-OutputArea")

    def screenshot(self, name: str) -> Path:
        """Saves what the page shows to test-artifacts/<name>.png."""
        path = ARTIFACTS / f"{name}.png"
        self.page.screenshot(path=str(path))
        return path

    def shut_down(self) -> None:
        """Stops this test's kernels, so that they do not pile up over the session."""
        for session in self.server.api("GET", "/api/sessions"):
            if session["path"] in self.paths:
                self.server.api("DELETE", f"/api/sessions/{session['id']}")


def _raised(lines: list[str], start: int) -> str:
    """The exception a traceback starting at `lines[start]` ends with ("" if none)."""
    for line in lines[start + 1 :]:
        if line and not line[0].isspace():
            return line
    return ""


def _text(value: str | list[str]) -> str:
    return value if isinstance(value, str) else "".join(value)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item,
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Keeps each phase's report on the test item, so that `lab` can tell a failed test."""
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture
def lab(lab_server: LabServer, browser: Browser, request: pytest.FixtureRequest) -> Iterator[Lab]:
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    context.set_default_timeout(CELL_TIMEOUT_MS)
    page = context.new_page()
    lab = Lab(lab_server, page, re.sub(r"\W+", "-", request.node.name).strip("-"))
    try:
        yield lab
        report = getattr(request.node, "report_call", None)
        if report is not None and report.failed:
            print("screenshot of the failure:", lab.screenshot(f"FAILED-{lab.name}"))
    finally:
        if lab.console_errors:
            print("browser console errors:", *lab.console_errors, sep="\n  ")
        # Kernels first, while the page still listens: their last messages (each open comm's
        # close) written to a page already gone make the server log a WebSocketClosedError.
        lab.shut_down()
        context.close()
    problems = lab.log_problems()
    assert not problems, "the server or kernel log says:\n" + "\n".join(problems)


@pytest.fixture
def two_users(
    rtc_server: LabServer, browser: Browser, request: pytest.FixtureRequest
) -> Iterator[tuple[Lab, Lab]]:
    """Two users (browser contexts of their own) on a collaborative JupyterLab."""
    name = re.sub(r"\W+", "-", request.node.name).strip("-")
    contexts = [browser.new_context(viewport={"width": 1280, "height": 800}) for _ in range(2)]
    for context in contexts:
        context.set_default_timeout(CELL_TIMEOUT_MS)
    first, second = (Lab(rtc_server, context.new_page(), name) for context in contexts)
    try:
        yield first, second
    finally:
        for context in contexts:
            context.close()
        first.shut_down()
    problems = first.log_problems()
    assert not problems, "the server or kernel log says:\n" + "\n".join(problems)


expect.set_options(timeout=CELL_TIMEOUT_MS)
