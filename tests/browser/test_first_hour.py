"""What a newcomer meets first, in a real JupyterLab: every tutorial notebook runs and renders
in the light and the dark theme (screenshots in test-artifacts/), the gallery's views work, and
error banners stay readable in both themes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import ARTIFACTS, Lab
from playwright.sync_api import expect

NOTEBOOKS = sorted((Path(__file__).resolve().parents[2] / "notebooks").glob("*.ipynb"))
THEMES = {"light": "JupyterLab Light", "dark": "JupyterLab Dark"}
# Tall enough that JupyterLab renders every cell of a tutorial (it skips cells out of view).
TALL_VIEWPORT = {"width": 1280, "height": 4200}

# The contrast ratio (WCAG 2) between an element's text and its background, both as the page
# paints them: each colour is drawn on a canvas over the background, which resolves every CSS
# colour syntax (color-mix, rgba) and any alpha.
CONTRAST_JS = """element => {
  const style = getComputedStyle(element);
  const canvas = document.createElement('canvas');
  canvas.width = canvas.height = 1;
  const context = canvas.getContext('2d', { willReadFrequently: true });
  const paint = (...colors) => {
    for (const color of colors) { context.fillStyle = color; context.fillRect(0, 0, 1, 1); }
    return Array.from(context.getImageData(0, 0, 1, 1).data.slice(0, 3));
  };
  const page = getComputedStyle(document.body).backgroundColor;
  const background = paint('white', page, style.backgroundColor);
  const text = paint('white', page, style.backgroundColor, style.color);
  const luminance = rgb => {
    const [r, g, b] = rgb.map(v => v / 255).map(
      c => (c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4));
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const [high, low] = [luminance(text), luminance(background)].sort((a, b) => b - a);
  return (high + 0.05) / (low + 0.05);
}"""


@pytest.fixture(params=list(THEMES), ids=list(THEMES))
def theme(lab: Lab, request: pytest.FixtureRequest) -> Iterator[str]:
    """The theme this test runs in; the lab server's settings are shared, so the light theme
    is put back afterwards."""
    yield request.param
    if request.param != "light":
        _set_theme(lab, "light")


def _set_theme(lab: Lab, theme: str) -> None:
    lab.page.evaluate(
        "theme => window.jupyterapp.commands.execute('apputils:change-theme', {theme})",
        THEMES[theme],
    )
    light = "true" if theme == "light" else "false"
    lab.page.wait_for_function(f"() => document.body.dataset.jpThemeLight === '{light}'")


def _open_notebook(lab: Lab, path: Path, theme: str) -> None:
    """Uploads a notebook of the repository (without outputs), opens it and sets the theme."""
    content = json.loads(path.read_text())
    for cell in content["cells"]:
        if cell["cell_type"] == "code":
            cell["outputs"], cell["execution_count"] = [], None
    lab.path = f"{lab.name}.ipynb"
    lab.paths.append(lab.path)
    lab.server.api("PUT", f"/api/contents/{lab.path}", {"type": "notebook", "content": content})
    lab.page.set_viewport_size(TALL_VIEWPORT)
    lab.open()
    _set_theme(lab, theme)


def _views(lab: Lab) -> int:
    """Runs every cell; returns how many syncstate views the outputs hold, once all rendered."""
    lab.run_all()
    views = lab.page.locator(".jp-NotebookPanel:visible .syncstate-view")
    count = views.count()
    for index in range(count):
        expect(views.nth(index).locator(".syncstate-host > *").first).to_be_visible()
    return count


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_tutorial_renders_in_both_themes(lab: Lab, theme: str, path: Path) -> None:
    _open_notebook(lab, path, theme)
    assert _views(lab) > 0
    notebook = lab.page.locator(".jp-NotebookPanel:visible")
    expect(notebook.locator(".syncstate-error")).to_have_count(0)
    expect(notebook.locator(".jp-OutputArea-output[data-mime-type*='error']")).to_have_count(0)
    lab.page.wait_for_timeout(300)  # let the last patches of running loops land
    lab.screenshot(f"tutorial-{path.stem}-{theme}")
    assert not lab.console_errors


def _run_tutorial(lab: Lab, name: str) -> None:
    """Opens the tutorial whose file name starts with `name` and runs it (light theme)."""
    _open_notebook(lab, _notebook(name), "light")
    _views(lab)


def _notebook(name: str) -> Path:
    (path,) = (p for p in NOTEBOOKS if p.stem.startswith(name))
    return path


def test_tutorials_01_and_04_survive_rerunning_their_cells(lab: Lab) -> None:
    """Run all, three times: the views of the newest models take clicks and drags (issue 8)."""
    _run_tutorial(lab, "01")
    _views(lab)
    _views(lab)
    button = lab.page.locator(".counter-button").first
    expect(button).to_be_visible()
    lab.wait_for_python("print(counter.count)", "43")
    button.click()
    lab.wait_for_python("print(counter.count)", "44")
    expect(lab.page.locator(".counter-value").last).to_have_text("44")

    _run_tutorial(lab, "04")
    _views(lab)
    _views(lab)
    slider = lab.page.locator(".lm-card input[type=range]").first
    slider.evaluate("el => { el.value = 50; el.dispatchEvent(new Event('input')); }")
    expect(lab.page.locator(".lm-total strong").first).to_have_text("70")
    lab.wait_for_python("print(a.value, sum(s.value for s in panel.sliders))", "50 70")
    assert not lab.console_errors


def test_tutorial_claims_are_visible(lab: Lab) -> None:
    """02 shows its title (hold_sync renames it), 03 shows the op a reassignment sent, and in
    05 each click (set + save_changes) arrives as one edit, one version after the last."""
    _run_tutorial(lab, "02")
    expect(lab.page.locator(".todo-card h3")).to_have_text("Tomorrow")

    _run_tutorial(lab, "03")
    # Run all renders the view after the cells ran; a user running cell by cell sees this:
    lab.run("rows = list(table.rows)\nrows[5] = {**rows[5], 'done': False}\ntable.rows = rows")
    expect(lab.page.locator(".bt-last")).to_contain_text('"path":"/rows/5/done","value":false')

    _run_tutorial(lab, "05")
    lines = lab.page.locator(".edit-log li")
    expect(lines).to_have_text(["edit: value 0 -> 10, version 1"])
    lab.page.locator(".counter-button").click()
    expect(lines).to_have_text(
        ["edit: value 0 -> 10, version 1", "edit: value 10 -> 11, version 2"]
    )


def test_every_click_of_tutorial_05_is_one_edit(lab: Lab) -> None:
    # Each answer was sent with the header of a message JupyterLab had addressed to a subshell,
    # so ipykernel delivered the next edit to that subshell, by then deleted: only the first
    # edit arrived (issue 8). syncstate/shell.py and js/src/lab/channel.ts keep them all.
    _run_tutorial(lab, "05")
    lines = lab.page.locator(".edit-log li")
    for value in (11, 12):
        lab.page.locator(".counter-button").click()
        expect(lines.last).to_have_text(
            f"edit: value {value - 1} -> {value}, version {value - 9}", timeout=10_000
        )


def test_gallery_million_rows_scroll_sort_and_edit(lab: Lab) -> None:
    _run_tutorial(lab, "06")
    page = lab.page

    # The table: scroll to the end of the million rows, sort, edit (the kernel clamps).
    table = page.locator(".gx-table")
    table.locator(".gx-scroll").evaluate("el => { el.scrollTop = el.scrollHeight; }")
    expect(table.locator(".gx-note")).to_contain_text("of 1,000,000")
    expect(table.locator(".gx-body .gx-row:visible").last.locator("span").first).to_have_text(
        "999,999"
    )
    table.locator(".gx-scroll").evaluate("el => { el.scrollTop = 0; }")
    table.get_by_role("button", name="score").click()
    table.get_by_role("button", name="score ▲").click()
    expect(table.get_by_role("button", name="score ▼")).to_be_visible()
    first_score = table.locator(".gx-row:not(.gx-head) input[type=number]").first
    expect(first_score).to_have_value("100")
    first_id = table.locator(".gx-row:not(.gx-head) span").first.inner_text().replace(",", "")
    first_score.fill("250")
    first_score.press("Enter")
    page.locator(".jp-NotebookPanel:visible").click(position={"x": 5, "y": 5})
    lab.wait_for_python(f"print(table._score[{first_id}])", "100.0")
    lab.wait_for_python("print(len(table.rows))", "60")


def test_gallery_form_chart_image_and_dashboard(lab: Lab) -> None:
    _run_tutorial(lab, "06")
    page = lab.page
    # docs/images/million-rows.png, shown in the README, is this picture.
    page.locator(".gx-table").screenshot(path=str(ARTIFACTS / "view-million-rows.png"))

    # The form: an invalid email shows the kernel's own message; Python keeps the old value.
    email = page.locator(".gx-form input[type=email]")
    email.fill("not-an-email")
    email.press("Tab")
    expect(page.locator(".gx-invalid").nth(1)).to_have_text(
        "'not-an-email' is not an email address (name@domain.tld)"
    )
    assert lab.run("form.email").strip() == "'ada@example.org'"

    # The chart holds the loop's last 120 points; the image is painted from binary pixels.
    expect(page.locator(".gx-chart .gx-note")).to_have_text("120 points · 240 steps so far")
    painted = page.locator(".gx-picture canvas").evaluate(
        "c => c.getContext('2d').getImageData(0, 0, c.width, c.height).data"
        ".reduce((sum, v) => sum + v, 0)"
    )
    assert painted > 320 * 200 * 255  # more than the alpha channel alone
    expect(page.locator(".gx-note", has_text="256,000 bytes, binary")).to_be_visible()

    # The dashboard follows its child models.
    lab.run("cpu.value = 77.5")
    expect(page.locator(".gx-metric").first).to_contain_text("77.5 %")
    lab.screenshot("gallery-after-interaction")


@pytest.mark.parametrize("name", list(THEMES))
def test_error_banners_are_readable_in_both_themes(lab: Lab, name: str) -> None:
    lab.new_notebook(
        [
            "import syncstate\n"
            "from traitlets import Int\n"
            "class Locked(syncstate.Model):\n"
            "    _esm = '''export default { render({ model, el }) {\n"
            "        const b = document.createElement('button'); b.textContent = 'edit';\n"
            "        b.onclick = () => model.patch([{op: 'replace', path: '/n', value: 1}]);\n"
            "        el.append(b); } };'''\n"
            "    n = Int(0).tag(sync=True, frontend_read_only=True)\n"
            "Locked()"
        ]
    )
    try:
        _set_theme(lab, name)
        lab.run_all()
        lab.cell_output(0).get_by_role("button", name="edit").click()
        banner = lab.cell_output(0).locator(".syncstate-error > span")
        expect(banner).to_contain_text("forbidden")
        contrast = banner.evaluate(CONTRAST_JS)
        lab.screenshot(f"error-banner-{name}")
        assert contrast >= 4.5, f"banner text contrast {contrast:.2f}:1 in the {name} theme"
    finally:
        _set_theme(lab, "light")
