"""Views outside a JupyterLab server (docs/where-it-runs.md): through the frontend's own widget
manager and anywidget's front end in Voila, nbclassic, and JupyterLab with the syncstate
extension disabled (the stand-in for VS Code and Colab, which cannot run here); and JupyterLite
with the Pyodide kernel, offline.

Each view shows `doubled`, which only the kernel computes: seeing it change after a click proves
that the click reached Python and the answer came back.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from conftest import (
    ARTIFACTS,
    CELL_TIMEOUT_MS,
    SERVER_START_TIMEOUT,
    Lab,
    LabServer,
    _free_port,
    _write_settings,
    notebook_json,
    stop,
)
from playwright.sync_api import Browser, Page, Route, expect

COUNTER = '''
import syncstate
from traitlets import Int, observe

class Counter(syncstate.Model):
    _esm = """
// Written against the anywidget API (get / set / save_changes / on), through the bridge too.
export default {
  render({ model, el }) {
    const button = Object.assign(document.createElement("button"), { className: "counter" });
    const show = () => {
      button.textContent = `count is ${model.get("count")}, doubled ${model.get("doubled")}`;
    };
    model.on("change:count", show);
    model.on("change:doubled", show);
    button.addEventListener("click", () => {
      model.set("count", model.get("count") + 1);
      model.save_changes();
    });
    show();
    el.appendChild(button);
  },
};
"""
    _css = ".counter { background: rgb(255, 224, 138); font-size: 16px; padding: 4px 12px; }"
    count = Int(0).tag(sync=True)
    doubled = Int(0).tag(sync=True, frontend_read_only=True)

    @observe("count")
    def _double(self, change):
        self.doubled = 2 * self.count

counter = Counter()
counter
'''
SLIDER = "import ipywidgets\nipywidgets.IntSlider(description='slider')"


def jupyter_home(tmp_path: Path) -> dict[str, str]:
    """The environment of a server with its own Jupyter folders (the venv's stay untouched)."""
    dirs = {
        "JUPYTER_CONFIG_DIR": tmp_path / "config",
        "JUPYTER_DATA_DIR": tmp_path / "data",
        "JUPYTER_RUNTIME_DIR": tmp_path / "runtime",
        "JUPYTERLAB_SETTINGS_DIR": tmp_path / "settings",
        "JUPYTERLAB_WORKSPACES_DIR": tmp_path / "workspaces",
        "IPYTHONDIR": tmp_path / "ipython",
    }
    for path in dirs.values():
        path.mkdir(parents=True, exist_ok=True)
    _write_settings(dirs["JUPYTERLAB_SETTINGS_DIR"])
    return {**os.environ, **{name: str(path) for name, path in dirs.items()}}


@contextmanager
def serve(
    command: list[str], env: dict[str, str], cwd: Path, name: str, port_option: str = "--port={}"
) -> Iterator[str]:
    """Runs a Jupyter server on a free port (given as `port_option`); yields its URL. Its log
    (with its kernels') goes to test-artifacts/<name>.log and may hold no traceback."""
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    ARTIFACTS.mkdir(exist_ok=True)
    log_path = ARTIFACTS / f"{name}.log"
    with open(log_path, "w") as log:
        process = subprocess.Popen(
            [*command, port_option.format(port)],
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
        )
    try:
        deadline = time.monotonic() + SERVER_START_TIMEOUT
        while True:
            if process.poll() is not None:
                pytest.fail(f"{name} exited:\n{log_path.read_text()}")
            try:
                urllib.request.urlopen(f"{url}/api/kernelspecs", timeout=5).close()
                break
            except urllib.error.HTTPError:
                break  # it answers (a token may be needed)
            except (urllib.error.URLError, ConnectionError):
                assert time.monotonic() < deadline, log_path.read_text()
                time.sleep(0.3)
        yield url
        # Read before the server stops: what it logs while shutting down (jupyter-collaboration's
        # extension complains then) is not this test's concern.
        log_text = log_path.read_text()
    finally:
        stop(process)
    assert "Traceback" not in log_text, log_text


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    context.set_default_timeout(CELL_TIMEOUT_MS)
    page = context.new_page()
    page.on("console", lambda msg: print("console:", msg.type, msg.text[:300]))
    yield page
    context.close()


def click_and_see_the_kernel_answer(page: Page, name: str) -> None:
    button = page.locator("button.counter")
    expect(button).to_have_text("count is 0, doubled 0")
    expect(button).to_have_css("background-color", "rgb(255, 224, 138)")
    button.click()
    expect(button).to_have_text("count is 1, doubled 2")  # doubled: computed by the kernel
    button.click()
    expect(button).to_have_text("count is 2, doubled 4")
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"))


def test_voila_renders_an_interactive_view(page: Page, tmp_path: Path) -> None:
    root = tmp_path / "notebooks"
    root.mkdir()
    (root / "counter.ipynb").write_text(json.dumps(notebook_json([COUNTER, SLIDER])))
    command = [
        sys.executable,
        "-m",
        "voila",
        "counter.ipynb",
        "--no-browser",
        "--Voila.ip=127.0.0.1",
    ]
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    with serve(command, jupyter_home(tmp_path), root, "voila") as url:
        page.goto(url)
        # An ipywidgets slider beside it still renders: the page's widget manager is intact.
        expect(page.locator(".widget-slider")).to_be_visible()
        click_and_see_the_kernel_answer(page, "elsewhere-voila")
    # Voila has no notebook tracker: syncstate's extension activates without one, quietly.
    assert not [error for error in errors if "syncstate" in error]


DASHBOARD = """
from traitlets import Instance, Int, List, observe

class Dashboard(syncstate.Model):
    _esm = \"\"\"
export default {
  async render({ model, el, host }) {
    let shown = 0;  // two changes in one patch start two renders: the later one is shown
    const show = async () => {
      const mine = ++shown;
      const slots = [];
      for (const ref of model.get("children")) {
        const slot = Object.assign(document.createElement("div"), { className: "slot" });
        await (await host.getWidget(ref)).render({ el: slot });
        slots.push(slot);
      }
      // The view edits the list of models itself: the kernel gets references to resolve.
      const again = Object.assign(document.createElement("button"), {
        className: "again", textContent: "show the last one again",
      });
      again.addEventListener("click", () => {
        const children = model.get("children");
        model.set("children", [...children, children[children.length - 1]]);
        model.save_changes();
      });
      const total = Object.assign(document.createElement("p"), { className: "total" });
      total.textContent = `total ${model.get("total")}`;
      if (mine === shown) {
        el.replaceChildren(...slots, again, total);
      }
    };
    model.on("change:children", show);
    model.on("change:total", show);
    await show();
  },
};
\"\"\"
    children = List(Instance(Counter)).tag(sync=True)
    total = Int(0).tag(sync=True)

    @observe("children")
    def _sum(self, change):
        self.total = sum(child.count for child in self.children)  # only the kernel knows

dashboard = Dashboard(children=[Counter(), Counter(count=5)])
dashboard
"""


def test_voila_renders_a_dashboard_of_child_models(page: Page, tmp_path: Path) -> None:
    """Child models through the bridge: `host.getWidget(ref)` gets each child's widget, which
    the kernel opens on request (the children are never displayed themselves)."""
    root = tmp_path / "notebooks"
    root.mkdir()
    cells = [COUNTER.replace("counter = Counter()\ncounter\n", ""), DASHBOARD]
    (root / "dashboard.ipynb").write_text(json.dumps(notebook_json(cells)))
    command = [sys.executable, "-m", "voila", "dashboard.ipynb", "--no-browser",
               "--Voila.ip=127.0.0.1"]  # fmt: skip
    with serve(command, jupyter_home(tmp_path), root, "voila-dashboard") as url:
        page.goto(url)
        buttons = page.locator(".slot button.counter")
        expect(buttons).to_have_count(2)
        first, second = buttons.all()
        expect(first).to_have_text("count is 0, doubled 0")
        expect(second).to_have_text("count is 5, doubled 10")
        second.click()
        expect(second).to_have_text("count is 6, doubled 12")  # computed by the kernel
        first.click()
        expect(first).to_have_text("count is 1, doubled 2")
        # The view puts a model reference in the list: the kernel resolves it to the model.
        page.locator("button.again").click()
        expect(page.locator(".total")).to_have_text("total 13")  # 1 + 6 + 6, from Python
        expect(buttons).to_have_count(3)
        buttons.nth(2).click()  # the same model as the second
        expect(buttons.nth(1)).to_have_text("count is 7, doubled 14")
        expect(buttons.nth(2)).to_have_text("count is 7, doubled 14")
        expect(page.locator(".syncstate-error")).to_have_count(0)
        page.screenshot(path=str(ARTIFACTS / "elsewhere-voila-dashboard.png"))


# nbclassic loads its nbextensions after the notebook: widget comms that open before the
# widget manager registers its comm target are lost (for ipywidgets too), so the cells run after.
NBCLASSIC_READY_JS = """() => window.Jupyter?.notebook?.kernel?.is_connected()
  && require.defined('nbextensions/jupyter-js-widgets/extension')
  && require.defined('nbextensions/anywidget/extension')
  && !!Jupyter.notebook.kernel.comm_manager.targets['jupyter.widget']"""


def test_nbclassic_renders_an_interactive_view(page: Page, tmp_path: Path) -> None:
    root = tmp_path / "notebooks"
    root.mkdir()
    (root / "counter.ipynb").write_text(json.dumps(notebook_json([COUNTER])))
    token = secrets.token_hex(16)
    command = [
        sys.executable, "-m", "nbclassic", "--no-browser", "--ip=127.0.0.1", "--allow-root",
        f"--ServerApp.token={token}", f"--ServerApp.root_dir={root}",
    ]  # fmt: skip
    with serve(command, jupyter_home(tmp_path), root, "nbclassic") as url:
        page.goto(f"{url}/nbclassic/notebooks/counter.ipynb?token={token}")
        page.wait_for_function(NBCLASSIC_READY_JS)
        page.evaluate("() => Jupyter.notebook.execute_all_cells()")
        click_and_see_the_kernel_answer(page, "elsewhere-nbclassic")


#: Made by `make setup` (tools/lite_site.py): a venv with JupyterLite and the syncstate wheel,
#: and a JupyterLite folder whose Pyodide and Python packages are all local.
LITE_VENV = Path(__file__).resolve().parents[2] / ".build" / "lite-venv"
LITE_DIR = LITE_VENV.parent / "lite-dir"


def test_jupyterlite_renders_an_interactive_view_offline(page: Page, tmp_path: Path) -> None:
    """JupyterLite: the kernel is Pyodide in the page, syncstate is installed into it with
    `%pip` from the site's own package index, and nothing is fetched from anywhere else."""
    assert LITE_DIR.is_dir(), "run `make setup`: it prepares the JupyterLite folder"
    lite_dir = tmp_path / "lite"
    shutil.copytree(LITE_DIR, lite_dir)
    notebook = notebook_json(["%pip install syncstate", COUNTER])
    notebook["metadata"]["kernelspec"] = {"name": "python", "display_name": "Python (Pyodide)"}
    (lite_dir / "files").mkdir()
    (lite_dir / "files" / "counter.ipynb").write_text(json.dumps(notebook))
    subprocess.run(
        [LITE_VENV / "bin" / "jupyter", "lite", "build", "--output-dir", "site"],
        cwd=lite_dir, check=True, capture_output=True,
    )  # fmt: skip

    attempted: list[str] = []
    command = [sys.executable, "-m", "http.server", "--bind", "127.0.0.1"]
    with serve(command, os.environ.copy(), lite_dir / "site", "jupyterlite", "{}") as url:

        def block(route: Route) -> None:
            attempted.append(route.request.url)
            route.abort()

        page.context.route(lambda address: not address.startswith((url, "blob:", "data:")), block)
        page.goto(f"{url}/lab/index.html?path=counter.ipynb")
        # Pyodide starts and installs the kernel's packages in the page: slow on a busy machine.
        expect(page.get_by_text("Python (Pyodide) | Idle")).to_be_visible(timeout=240_000)
        page.locator(".jp-Cell").first.click()
        page.keyboard.press("Shift+Enter")  # %pip install syncstate
        page.keyboard.press("Shift+Enter")  # the counter
        click_and_see_the_kernel_answer(page, "elsewhere-jupyterlite")
        # JupyterLite 0.8 is a JupyterLab 4.6: the syncstate extension renders, not the bridge.
        expect(page.locator(".syncstate-view button.counter")).to_be_visible()
        expect(page.locator(".syncstate-widget")).to_have_count(0)
    assert attempted == [], attempted


@pytest.fixture
def lab_without_syncstate(browser: Browser, page: Page, tmp_path: Path) -> Iterator[Lab]:
    """JupyterLab with the syncstate extension disabled but ipywidgets and anywidget present:
    the frontends that have only a widget manager (VS Code, Colab), here."""
    env = jupyter_home(tmp_path)
    subprocess.run(
        [sys.executable, "-m", "jupyter", "labextension", "disable", "--level=user", "syncstate"],
        env=env,
        check=True,
        capture_output=True,
    )
    root = tmp_path / "notebooks"
    root.mkdir()
    token = secrets.token_hex(16)
    command = [
        sys.executable, "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1", "--allow-root",
        f"--ServerApp.token={token}", f"--ServerApp.root_dir={root}", "--expose-app-in-browser",
    ]  # fmt: skip
    with serve(command, env, root, "jupyter-lab-without-syncstate") as url:
        log_path = ARTIFACTS / "jupyter-lab-without-syncstate.log"
        server = LabServer(url=url, token=token, root=root, log_path=log_path)
        lab = Lab(server, page, "without-syncstate")
        yield lab
        lab.shut_down()


def test_jupyterlab_without_the_extension_renders_through_the_widget_manager(
    lab_without_syncstate: Lab,
) -> None:
    lab = lab_without_syncstate
    lab.new_notebook([COUNTER])
    assert lab.page.evaluate("() => window.jupyterapp.hasPlugin('syncstate:plugin')") is False
    lab.run_all()
    output = lab.cell_output(0)
    expect(output.locator(".syncstate-widget button.counter")).to_be_visible()
    click_and_see_the_kernel_answer(lab.page, "elsewhere-lab-without-syncstate")
    lab.wait_for_python("print(counter.count, counter.doubled)", "2 4")
    lab.run("counter.count = 10")
    expect(output.locator("button.counter")).to_have_text("count is 10, doubled 20")


def test_the_native_renderer_wins_where_the_extension_is(lab: Lab) -> None:
    """ipywidgets' renderer (rank -10) is there too, and the output carries its MIME type."""
    lab.new_notebook([COUNTER])
    lab.run_all()
    output = lab.cell_output(0)
    click_and_see_the_kernel_answer(lab.page, "elsewhere-lab-native")
    expect(output.locator(".syncstate-widget")).to_have_count(0)
    expect(output.locator(".syncstate-view button.counter")).to_be_visible()
