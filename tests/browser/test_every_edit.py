"""Every edit arrives, where users go: several models on a page, cells re-run, a cell running
while the user clicks, a notebook closed and reopened, two tabs, a restart from the other tab,
a console on the same kernel, two users collaborating. Each scenario checks both directions: a
click reaches Python (an observer fires) and a Python change reaches every view. Every scenario
that Notebook 7 has too (it has no console beside a notebook) runs in JupyterLab and in
Notebook 7."""

from __future__ import annotations

import time

import pytest
from conftest import Lab
from models import COUNTERS
from playwright.sync_api import Locator, expect


@pytest.fixture(params=["lab", "notebook"], ids=["lab", "notebook7"])
def ui(request: pytest.FixtureRequest) -> str:
    """JupyterLab, or Notebook 7 (the same extension in another shell)."""
    value: str = request.param
    return value


def assert_no_console_errors(*tabs: Lab, model_ids: tuple[str, ...] = ()) -> None:
    """No browser console error, but for two that are not syncstate's:
    - Notebook 7.6 logs an error of its own at startup (with or without syncstate): there,
      only errors naming syncstate count;
    - jupyterlab_widgets (installed beside syncstate) asks for its widgets on a control comm
      when a tab opens; the answer reaches every tab, and the others log "Comm not found" for
      that comm, which is never one of syncstate's;
    - JupyterLab's debugger logs that it could not restore its state when a notebook closes
      while it asks."""
    for tab in tabs:
        errors = [
            error
            for error in tab.console_errors
            if (tab.ui == "lab" or "syncstate" in error)
            and not (error.startswith("Comm not found") and not any(i in error for i in model_ids))
            and not error.startswith("Could not restore the debugger state")
        ]
        assert not errors


def buttons(lab: Lab, cell: int | None = None) -> Locator:
    scope = lab.page if cell is None else lab.cell_output(cell)
    return scope.locator("button.counter")


def click_each_and_check_python(lab: Lab, labels: list[str], cell: int | None = None) -> None:
    """Clicks every view once, then checks that each click reached its model's observer."""
    views = buttons(lab, cell)
    expect(views).to_have_count(len(labels))
    for index, label in enumerate(labels):
        views.nth(index).click()
        expect(views.nth(index)).to_have_text(f"{label}: 1")
    expected = sorted((label, 1) for label in labels)
    lab.wait_for_python("print(sorted(seen))", str(expected))


def test_three_models_from_one_cell(lab: Lab, ui: str) -> None:
    lab.new_notebook(
        [COUNTERS, "a, b, c = make('a'), make('b'), make('c')\ndisplay(a, b, c)"], ui=ui
    )
    lab.run_all()
    click_each_and_check_python(lab, ["a", "b", "c"], cell=1)
    lab.run("a.count, b.count, c.count = 10, 20, 30")
    for index, text in enumerate(["a: 10", "b: 20", "c: 30"]):
        expect(buttons(lab, 1).nth(index)).to_have_text(text)
    lab.screenshot(f"every-edit-three-models-{ui}")
    assert_no_console_errors(lab)


def test_models_from_separate_cells_and_a_dozen_more(lab: Lab, ui: str) -> None:
    dozen = [str(i) for i in range(12)]
    lab.new_notebook(
        [
            COUNTERS,
            "x = make('x')\nx",
            "y = make('y')\ny",
            "many = [make(str(i)) for i in range(12)]\ndisplay(*many)",
        ],
        ui=ui,
    )
    lab.run_all()
    click_each_and_check_python(lab, ["x", "y", *dozen])
    lab.run("x.count = 5\nfor m in many: m.count = 7")
    expect(buttons(lab, 1)).to_have_text("x: 5")
    for index in range(12):
        expect(buttons(lab, 3).nth(index)).to_have_text(f"{index}: 7")
    assert_no_console_errors(lab)


def test_a_model_cell_run_several_times(lab: Lab, ui: str) -> None:
    lab.new_notebook([COUNTERS, "r = make('r')\nr"], ui=ui)
    lab.run_all()
    for _ in range(3):
        lab.rerun_cell(1)
        expect(lab.cell_output(1).locator("button.counter")).to_have_text("r: 0")
    click_each_and_check_python(lab, ["r"], cell=1)
    lab.run("r.count = 9")
    expect(buttons(lab, 1)).to_have_text("r: 9")
    assert_no_console_errors(lab)


def test_an_edit_made_while_a_cell_runs_is_applied_after_it(lab: Lab, ui: str) -> None:
    lab.new_notebook([COUNTERS, "a = make('a')\na"], ui=ui)
    lab.run_all()
    button = buttons(lab, 1)
    expect(button).to_have_text("a: 0")
    lab.start(
        "import time\nsamples = []\nfor _ in range(50):\n"
        "    samples.append(a.count)\n    time.sleep(0.1)"
    )
    time.sleep(1)  # the cell is running now
    for clicks in range(1, 4):
        button.click()
        expect(button).to_have_text(f"a: {clicks}")
    lab.wait_until_idle()
    # The cell never saw the edits: they waited for it, and were applied after it.
    assert lab.run("print(set(samples))").strip() == "{0}"
    lab.wait_for_python("print(a.count)", "3")
    assert_no_console_errors(lab)


def show_two_models_and_save(lab: Lab, ui: str) -> None:
    """Models `a` and `b`, displayed from cell 1 of a notebook saved with their outputs."""
    lab.new_notebook([COUNTERS, "a, b = make('a'), make('b')\ndisplay(a, b)"], ui=ui)
    lab.run_all()
    expect(buttons(lab, 1)).to_have_count(2)
    lab.save()


def test_a_notebook_closed_and_reopened_while_its_kernel_runs(lab: Lab, ui: str) -> None:
    show_two_models_and_save(lab, ui)
    lab.close_and_reopen()
    click_each_and_check_python(lab, ["a", "b"], cell=1)
    lab.run("b.count = 4")
    expect(buttons(lab, 1).nth(1)).to_have_text("b: 4")
    assert_no_console_errors(lab)


def click_a_here_and_b_there(here: Lab, there: Lab) -> None:
    """A click on `a` in one page shows in the other, and the other way round for `b`; both
    clicks reach Python."""
    buttons(here, 1).nth(0).click()
    expect(buttons(there, 1).nth(0)).to_have_text("a: 1")
    buttons(there, 1).nth(1).click()
    expect(buttons(here, 1).nth(1)).to_have_text("b: 1")
    here.wait_for_python("print(sorted(seen))", "[('a', 1), ('b', 1)]")


def test_two_tabs_edit_the_same_models(lab: Lab, ui: str) -> None:
    show_two_models_and_save(lab, ui)
    other = lab.second_tab()
    expect(buttons(other, 1)).to_have_count(2)

    click_a_here_and_b_there(lab, other)
    lab.run("a.count = 8")
    expect(buttons(lab, 1).nth(0)).to_have_text("a: 8")
    expect(buttons(other, 1).nth(0)).to_have_text("a: 8")
    model_ids = tuple(lab.run("print(a.model_id, b.model_id)").split())
    assert_no_console_errors(lab, other, model_ids=model_ids)


def test_a_restart_from_the_other_tab_ends_this_tabs_views(lab: Lab, ui: str) -> None:
    lab.new_notebook([COUNTERS, "a = make('a')\na"], ui=ui)
    lab.run_all()
    lab.save()
    other = lab.second_tab()
    expect(buttons(other, 1)).to_have_text("a: 0")

    lab.restart_kernel()
    for tab in (lab, other):
        expect(tab.cell_output(1)).to_contain_text("is not available")
        expect(buttons(tab, 1)).to_have_count(0)
    other.screenshot(f"every-edit-restarted-in-the-other-tab-{ui}")
    # New models work again.
    lab.run_all()
    click_each_and_check_python(lab, ["a"], cell=1)


def test_a_console_on_the_same_kernel(lab: Lab) -> None:
    lab.new_notebook([COUNTERS, "a = make('a')\na"])
    lab.run_all()
    expect(buttons(lab, 1)).to_have_text("a: 0")
    lab.open_console()
    lab.run_in_console("a.count = 6")
    expect(buttons(lab, 1)).to_have_text("a: 6")
    # Models made after the console connected work too.
    lab.focus_notebook()
    lab.run("b = make('b')\nb")
    view = lab.page.locator(".jp-NotebookPanel button.counter").last
    expect(view).to_have_text("b: 0")
    view.click()
    expect(view).to_have_text("b: 1")
    lab.wait_for_python("print(b.count)", "1")
    assert_no_console_errors(lab)


def test_two_users_collaborating_on_one_notebook(two_users: tuple[Lab, Lab]) -> None:
    """jupyter-collaboration: two users (own browsers, own kernel connections) share the
    notebook, its outputs and its kernel."""
    first, second = two_users
    first.new_notebook([COUNTERS, "a, b = make('a'), make('b')\ndisplay(a, b)"])
    first.run_all()
    expect(buttons(first, 1)).to_have_count(2)
    second.path = first.path
    second.open()  # joins after the models exist: finds them
    expect(buttons(second, 1)).to_have_count(2)

    click_a_here_and_b_there(second, first)

    # A model made while both are there reaches both, and both can edit it.
    first.run("c = make('c')\nc")
    view_of = {user: user.page.locator("button.counter", has_text="c:") for user in two_users}
    for view in view_of.values():
        expect(view).to_have_text("c: 0")
    view_of[second].click()
    expect(view_of[first]).to_have_text("c: 1")
    first.run("a.count = 5")
    for user in two_users:
        expect(buttons(user, 1).nth(0)).to_have_text("a: 5")
    second.screenshot("every-edit-collaboration-second-user")
