"""End to end in JupyterLab: a syncstate model rendered by its ES-module view, both directions."""

from __future__ import annotations

import os
import time

from conftest import Lab
from models import COUNTER
from playwright.sync_api import expect


def test_view_syncs_both_ways(lab: Lab) -> None:
    lab.new_notebook([COUNTER])
    lab.run_all()
    button = lab.cell_output(0).locator("button.counter")
    expect(button).to_have_text("count is 0")
    expect(button).to_have_css("background-color", "rgb(255, 224, 138)")

    button.click()
    expect(button).to_have_text("count is 1")
    lab.wait_for_python("print(counter.count)", "1")

    lab.run("counter.count = 42")
    expect(button).to_have_text("count is 42")
    lab.screenshot("lab-counter")
    assert not lab.console_errors


def test_views_come_back_after_a_page_reload(lab: Lab) -> None:
    lab.new_notebook([COUNTER, "counter"])
    lab.run_all()
    lab.save()
    lab.reload()
    # The comms opened before this page existed: the views find the models through `list`.
    buttons = lab.page.locator(".jp-OutputArea button.counter")
    expect(buttons).to_have_count(2)
    expect(buttons.nth(0)).to_have_text("count is 0")

    buttons.nth(1).click()
    expect(buttons.nth(0)).to_have_text("count is 1")
    lab.wait_for_python("print(counter.count)", "1")
    lab.run("counter.count = 7")
    expect(buttons.nth(0)).to_have_text("count is 7")
    expect(buttons.nth(1)).to_have_text("count is 7")
    lab.screenshot("lab-reload")
    assert not lab.console_errors


def test_closed_model_and_restarted_kernel_say_so(lab: Lab) -> None:
    lab.new_notebook([COUNTER, "other = Counter()\nother"])
    lab.run_all()
    expect(lab.cell_output(1).locator("button.counter")).to_have_text("count is 0")

    lab.run("other.close()")
    expect(lab.cell_output(1)).to_contain_text("is not available")
    expect(lab.cell_output(1).locator("button.counter")).to_have_count(0)
    expect(lab.cell_output(0).locator("button.counter")).to_have_text("count is 0")

    lab.restart_kernel()
    expect(lab.cell_output(0)).to_contain_text(
        "the kernel was restarted or the model was closed. Re-run the cell."
    )
    lab.screenshot("lab-restarted")


def test_output_naming_an_unknown_model(lab: Lab) -> None:
    # A notebook from disk (untrusted) whose output names a model no kernel has.
    output = {
        "output_type": "display_data",
        "metadata": {},
        "data": {
            "application/vnd.syncstate.view+json": {
                "model_id": "3fa4c0de0000000000000000000000aa",
                "protocol": "syncstate/1",
            },
            "text/plain": "Counter()",
        },
    }
    lab.new_notebook(["counter"], outputs={0: [output]})
    expect(lab.cell_output(0)).to_contain_text(
        "syncstate: model 3fa4c0de… is not available — the kernel was restarted or the model "
        "was closed. Re-run the cell."
    )
    lab.screenshot("lab-unknown-model")


def test_rejected_edit_shows_a_dismissible_banner(lab: Lab) -> None:
    locked = COUNTER.replace(
        "count = Int(0).tag(sync=True)", "count = Int(0).tag(sync=True, frontend_read_only=True)"
    )
    lab.new_notebook([locked])
    lab.run_all()
    button = lab.cell_output(0).locator("button.counter")
    button.click()
    banner = lab.cell_output(0).locator(".syncstate-error")
    expect(banner).to_contain_text("forbidden")
    expect(button).to_have_text("count is 0")
    lab.screenshot("lab-rejected")

    banner.locator("button").click()
    expect(banner).to_have_count(0)
    expect(button).to_have_text("count is 0")


def one_element_view(tag: str, css_class: str, prefix: str) -> str:
    """A view module that shows one element: `prefix` and the count."""
    return f"""
export default {{
  render({{ model, el }}) {{
    const node = document.createElement("{tag}");
    node.className = "{css_class}";
    node.textContent = `{prefix}${{model.get("count")}}`;
    el.append(node);
  }},
}};
"""


BUTTON_JS = one_element_view("button", "counter", "count is ")
LABEL_JS = one_element_view("span", "reloaded", "reloaded at ")
FILE_COUNTER = """
import syncstate
from traitlets import Int

syncstate.hot_reload()

class FileCounter(syncstate.Model):
    _esm = "counter.js"
    _css = "counter.css"
    count = Int(3).tag(sync=True)

counter = FileCounter()
counter
"""


def test_edited_view_files_rerender_every_view(lab: Lab) -> None:
    # The kernel runs in the notebook's folder, where relative view files are looked up.
    js, css = lab.server.root / "counter.js", lab.server.root / "counter.css"
    js.write_text(BUTTON_JS)
    css.write_text(".counter { color: rgb(0, 0, 255); }")
    lab.new_notebook([FILE_COUNTER, "counter"])
    lab.run_all()
    expect(lab.page.locator(".jp-OutputArea button.counter")).to_have_count(2)

    js.write_text(LABEL_JS)
    css.write_text(".reloaded { color: rgb(0, 128, 0); }")
    for path in (js, css):  # a new mtime even on a coarse-grained file system
        os.utime(path, (time.time() + 2, time.time() + 2))
    labels = lab.page.locator(".jp-OutputArea .reloaded")
    expect(labels).to_have_count(2)
    expect(labels.first).to_have_text("reloaded at 3")
    expect(labels.first).to_have_css("color", "rgb(0, 128, 0)")
    expect(lab.page.locator(".jp-OutputArea button.counter")).to_have_count(0)
    lab.screenshot("lab-hot-reload")
    assert not lab.console_errors


def test_notebook_7_uses_the_same_extension(lab: Lab) -> None:
    lab.new_notebook([COUNTER], ui="notebook")
    lab.run_all()
    button = lab.cell_output(0).locator("button.counter")
    expect(button).to_have_text("count is 0")
    button.click()
    lab.wait_for_python("print(counter.count)", "1")
    lab.run("counter.count = 5")
    expect(button).to_have_text("count is 5")
    lab.screenshot("notebook7-counter")
    # Notebook 7.6 logs an error of its own at startup (its shortcuts plugin, with or without
    # syncstate): only ours count here, and they all name syncstate (message or script URL).
    assert not [error for error in lab.console_errors if "syncstate" in error]
