"""The user's scenarios in a real JupyterLab page: in-place edits, observers, validation,
several views, new models after a restart, and an anywidget module run unchanged."""

from __future__ import annotations

from conftest import Lab
from playwright.sync_api import expect

TODO = '''
import syncstate
from traitlets import Dict, Int, List, TraitError, observe, validate

class Todo(syncstate.Model):
    _esm = """
export default {
  render({ model, el }) {
    const list = document.createElement("ul");
    const status = document.createElement("p");
    status.className = "status";
    const draw = () => {
      list.replaceChildren(...model.get("items").map((item, i) => {
        const row = document.createElement("li");
        const box = Object.assign(document.createElement("input"),
                                  { type: "checkbox", checked: item.done });
        box.onchange = () =>
          model.patch([{ op: "replace", path: `/items/${i}/done`, value: box.checked }]);
        row.append(box, " ", item.text);
        return row;
      }));
      status.textContent = `${model.get("done_count")} done`;
    };
    model.on("change", draw);
    draw();
    el.append(list, status);
  },
};
"""
    items = List(Dict()).tag(sync=True)
    done_count = Int(0).tag(sync=True, frontend_read_only=True)

    @observe("items")
    def _count(self, change):
        self.done_count = sum(item["done"] for item in self.items)

    @validate("items")
    def _at_most_two_done(self, proposal):
        if sum(item["done"] for item in proposal.value) > 2:
            raise TraitError("at most two items may be done")
        return proposal.value

todo = Todo(items=[{"text": t, "done": False} for t in ["milk", "eggs", "tea"]])
seen = []
todo.observe(lambda change: seen.append(change.get("ops")), "items")
todo
'''


def test_click_fires_the_observer_and_in_place_edits_update_every_view(lab: Lab) -> None:
    lab.new_notebook([TODO, "todo"])
    lab.run_all()
    first, second = lab.cell_output(0), lab.cell_output(1)
    expect(first.locator("li")).to_have_count(3)

    first.locator("input").nth(1).check()
    expect(second.locator("input").nth(1)).to_be_checked()  # the other view of the model
    expect(second.locator(".status")).to_have_text("1 done")  # the observer's side effect
    lab.wait_for_python(
        "print(seen[-1])", "[{'op': 'replace', 'path': '/items/1/done', 'value': True}]"
    )

    lab.run("todo.items.append({'text': 'bread', 'done': True})")
    for view in (first, second):
        expect(view.locator("li")).to_have_count(4)
        expect(view.locator("li").nth(3)).to_have_text("bread")
        expect(view.locator(".status")).to_have_text("2 done")
    lab.run("todo.items[0]['text'] = 'oat milk'")
    expect(first.locator("li").nth(0)).to_have_text("oat milk")
    lab.screenshot("scenario-todo-two-views")
    assert not lab.console_errors


def test_an_edit_that_fails_validation_shows_why_and_the_kernel_value(lab: Lab) -> None:
    lab.new_notebook([TODO])
    lab.run_all()
    view = lab.cell_output(0)
    boxes = view.locator("input")
    boxes.nth(0).check()
    boxes.nth(1).check()
    expect(view.locator(".status")).to_have_text("2 done")
    boxes.nth(2).click()  # a third: traitlets refuses it (check() would retry the click)
    expect(view.locator(".syncstate-error")).to_have_count(1)
    expect(view.locator(".syncstate-error")).to_contain_text("at most two items may be done")
    expect(boxes.nth(2)).not_to_be_checked()  # back to the kernel's value
    expect(view.locator(".status")).to_have_text("2 done")
    lab.wait_for_python("print([i['done'] for i in todo.items])", "[True, True, False]")
    lab.screenshot("scenario-invalid-edit")


def test_new_models_work_after_a_kernel_restart(lab: Lab) -> None:
    lab.new_notebook([TODO])
    lab.run_all()
    expect(lab.cell_output(0).locator("li")).to_have_count(3)
    lab.restart_kernel()
    expect(lab.cell_output(0)).to_contain_text("is not available")
    lab.run_all()
    view = lab.cell_output(0)
    expect(view.locator("li")).to_have_count(3)
    view.locator("input").nth(2).check()
    lab.wait_for_python("print(todo.done_count)", "1")
    lab.screenshot("scenario-after-restart")


ANYWIDGET_COUNTER = '''
import syncstate
from traitlets import Int

# Written against the anywidget API only (get / set / save_changes / on).
ESM = """
function render({ model, el }) {
  let btn = document.createElement("button");
  btn.classList.add("counter-button");
  btn.innerHTML = `count is ${model.get("value")}`;
  btn.addEventListener("click", () => {
    model.set("value", model.get("value") + 1);
    model.save_changes();
  });
  model.on("change:value", () => { btn.innerHTML = `count is ${model.get("value")}`; });
  el.appendChild(btn);
}
export default { render };
"""

class CounterWidget(syncstate.Model):
    _esm = ESM
    value = Int(0).tag(sync=True)

w = CounterWidget()
w
'''


def test_an_anywidget_module_runs_unchanged(lab: Lab) -> None:
    lab.new_notebook([ANYWIDGET_COUNTER])
    lab.run_all()
    button = lab.cell_output(0).locator("button.counter-button")
    expect(button).to_have_text("count is 0")
    button.click()
    button.click()
    expect(button).to_have_text("count is 2")
    lab.wait_for_python("print(w.value)", "2")
    lab.run("w.value = 10")
    expect(button).to_have_text("count is 10")
    lab.screenshot("scenario-anywidget")
    assert not lab.console_errors
