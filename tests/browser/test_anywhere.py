"""Views beyond a notebook's own outputs: a console, ipywidgets' Output widget and containers,
a notebook reopened with no kernel, and the nbconvert HTML opened offline from file://."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from conftest import ARTIFACTS, Lab
from models import COUNTER
from playwright.sync_api import Browser, Page, Route, expect
from test_elsewhere import DASHBOARD


def test_a_console_renders_a_live_view(lab: Lab) -> None:
    lab.new_notebook(["1"])
    lab.open_console()
    lab.run_in_console(COUNTER)
    button = lab.page.locator(".jp-CodeConsole button.counter")
    expect(button).to_have_text("count is 0")
    button.click()
    expect(button).to_have_text("count is 1")
    lab.run_in_console("counter.count = 9")
    expect(button).to_have_text("count is 9")
    lab.screenshot("anywhere-console")
    assert not lab.console_errors


def test_output_widget_and_vbox_hold_live_views(lab: Lab) -> None:
    lab.new_notebook(
        [
            COUNTER,
            "from ipywidgets import Output, VBox, IntSlider\n"
            "out = Output()\nwith out:\n    display(counter)\nout",
            "view = Output()\nview.append_display_data(counter)\n"
            "VBox([IntSlider(description='beside'), view])",
        ]
    )
    lab.run_all()
    in_output = lab.cell_output(1).locator("button.counter")
    in_vbox = lab.cell_output(2).locator(".widget-vbox button.counter")
    expect(in_output).to_have_text("count is 0")
    expect(in_vbox).to_have_text("count is 0")
    expect(lab.cell_output(2).locator(".widget-vbox .widget-slider")).to_have_count(1)
    in_vbox.click()
    expect(in_output).to_have_text("count is 1")
    lab.wait_for_python("print(counter.count)", "1")
    lab.screenshot("anywhere-output-widget-vbox")
    assert not lab.console_errors


PANEL = (
    COUNTER
    + '''
from traitlets import Instance

class Panel(syncstate.Model):
    _esm = """
export default {
  async render({ model, el, signal, host, experimental }) {
    const child = await host.getWidget(model.get("child"));
    const slot = document.createElement("div");
    el.append(slot);
    await child.render({ el: slot, signal });
    const bytes = new Uint8Array([1, 2, 3]);
    const [value, buffers] = await experimental.invoke("_double", 21, { buffers: [bytes] });
    const out = document.createElement("p");
    out.className = "answer";
    out.textContent = `answer ${value} ${Array.from(new Uint8Array(buffers[0].buffer))}`;
    el.append(out);
  },
};
"""
    child = Instance(Counter).tag(sync=True)

    @syncstate.command
    def _double(self, msg, buffers):
        return msg * 2, [bytes(reversed(b)) for b in buffers]

panel = Panel(child=counter)
panel
'''
)


def test_anywidget_module_api_host_and_invoke(lab: Lab) -> None:
    lab.new_notebook([PANEL])
    lab.run_all()
    output = lab.cell_output(0)
    expect(output.locator("p.answer")).to_have_text("answer 42 3,2,1")
    button = output.locator("button.counter")
    button.click()
    expect(button).to_have_text("count is 1")
    lab.wait_for_python("print(counter.count)", "1")
    lab.screenshot("anywhere-afm-2026")
    assert not lab.console_errors


def test_a_notebook_reopened_without_a_kernel_shows_the_last_state(lab: Lab) -> None:
    lab.new_notebook([COUNTER])
    lab.run_all()
    button = lab.cell_output(0).locator("button.counter")
    button.click()
    lab.run("counter.count = 5")
    expect(button).to_have_text("count is 5")
    lab.save()
    lab.page.wait_for_timeout(1000)
    saved = lab.server.api("GET", f"/api/contents/{lab.path}")["content"]
    view = saved["cells"][0]["outputs"][0]["data"]["application/vnd.syncstate.view+json"]
    assert view["state"]["count"] == 5 and view["version"] >= 2
    lab.shut_down()  # the kernel that had the model is gone

    # Opened again, the notebook gets a new kernel, without the model; then that one goes too.
    lab.open()
    lab.page.evaluate("() => window.jupyterapp.shell.currentWidget.sessionContext.shutdown()")
    output = lab.cell_output(0)
    saved_button = output.locator("button.counter")
    expect(saved_button).to_have_text("count is 5")
    expect(output.locator(".syncstate-notice")).to_contain_text("not live")
    saved_button.click()
    expect(output.locator(".syncstate-error")).to_contain_text("Not sent")
    expect(saved_button).to_have_text("count is 5")
    lab.screenshot("anywhere-reopened-no-kernel")


#: What plain `--to html` pages fetch: nbconvert's require.js and MathJax, from cdnjs.
NBCONVERT_CDN = "https://cdnjs.cloudflare.com/ajax/libs/"


@contextmanager
def exported_page(lab: Lab, browser: Browser, exporter: str) -> Iterator[Page]:
    """The saved notebook exported with `jupyter nbconvert --to <exporter>` (no config written:
    plain `html` gets the viewer from the wheel's jupyter_nbconvert_config.json), opened from
    file:// with every request off the machine refused. On leaving: no page error, and only
    plain html asked for anything (nbconvert's CDN scripts, which the views do without)."""
    lab.save()
    lab.page.wait_for_timeout(1000)
    notebook = lab.server.root / lab.path
    html = ARTIFACTS / f"anywhere-export-{lab.name}-{exporter}.html"
    subprocess.run(
        [sys.executable, "-m", "nbconvert", "--to", exporter, str(notebook),
         "--output", html.stem, "--output-dir", str(ARTIFACTS)],
        check=True, capture_output=True,
    )  # fmt: skip
    assert html.read_text().count("[data-syncstate-view]") == 1  # the viewer's selector: once

    context = browser.new_context()
    attempted: list[str] = []

    def block(route: Route) -> None:
        attempted.append(route.request.url)
        route.abort()

    context.route(lambda url: not url.startswith(("file:", "blob:", "data:")), block)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(html.as_uri())
    yield page
    page.screenshot(path=str(html.with_suffix(".png")), full_page=True)
    context.close()
    if exporter == "html":
        assert attempted and all(url.startswith(NBCONVERT_CDN) for url in attempted), attempted
    else:
        assert attempted == [], attempted
    assert errors == [], errors


@pytest.mark.parametrize("exporter", ["syncstate-html", "html"])
def test_nbconvert_html_shows_views_offline_from_file(
    lab: Lab, browser: Browser, exporter: str
) -> None:
    """Both `--to syncstate-html` and plain `--to html` show each view's last state."""
    lab.new_notebook([COUNTER, "counter.count = 5"])
    lab.run_all()
    expect(lab.cell_output(0).locator("button.counter")).to_have_text("count is 5")
    with exported_page(lab, browser, exporter) as page:
        expect(page.locator(".syncstate-saved")).to_have_count(1)
        button = page.locator("button.counter")
        expect(button).to_have_text("count is 5")
        expect(page.locator(".syncstate-notice")).to_contain_text("not live")
        button.click()
        expect(page.locator(".syncstate-error")).to_contain_text("Not sent")


def test_an_exported_dashboard_shows_its_child_models_last_state(
    lab: Lab, browser: Browser
) -> None:
    """The children's state is saved with the dashboard's output (by the extension, before the
    save: later than the display), and the static view resolves `host.getWidget` from it."""
    lab.new_notebook([COUNTER, DASHBOARD])
    lab.run_all()
    buttons = lab.cell_output(1).locator(".slot button.counter")
    expect(buttons).to_have_count(2)
    buttons.nth(0).click()
    expect(buttons.nth(0)).to_have_text("count is 1")
    lab.run("dashboard.children[1].count = 7")
    expect(buttons.nth(1)).to_have_text("count is 7")
    with exported_page(lab, browser, "html") as page:
        saved = page.locator(".syncstate-saved .slot button.counter")
        expect(saved).to_have_text(["count is 1", "count is 7"])
        expect(page.locator(".syncstate-saved .syncstate-error")).to_have_count(0)
