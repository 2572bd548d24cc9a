"""Issue 10's browser workloads: a real JupyterLab in headless Chromium, ipywidgets, anywidget and
syncstate side by side in one run. See benchmarks/README.md ("In the browser").

    .venv/bin/python benchmarks/browser.py            # 10k, 100k, 1M rows, 3 repeats (~10 min)
    .venv/bin/python benchmarks/browser.py --quick    # 10k and 100k rows, 1 repeat

The server and the browser are the browser tests' own (tests/browser/conftest.py): the kernels
run the installed wheel, so run `make setup` after changing syncstate. Each system gets a
notebook (and a kernel) of its own; every view is the same table of the first 20 rows with the
row count, so the page never lays out a million rows. Times are taken in the page, from the
moment a cell is started until the view's table shows the change (a MutationObserver).
"""

from __future__ import annotations

import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

CLONE = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(CLONE / "tests" / "browser"), str(CLONE / "benchmarks")]

from conftest import CHROMIUM, CHROMIUM_ARGS, START_CODE_JS, Lab, _serve  # noqa: E402
from playwright.sync_api import sync_playwright  # noqa: E402
from scale import ANYW, IPYW, SYNC, SYSTEMS, Config, Figures, run_main  # noqa: E402

TIMEOUT_MS = 600_000

# The view: the first 20 rows and the count, with what a test waits for in data attributes.
ESM = """
function draw(model, el) {
  const rows = model.get('rows');
  const body = rows.slice(0, 20).map(r => `<tr><td>${r.id}</td><td>${r.label}</td>
    <td>${r.done}</td></tr>`);
  const done = rows.length ? rows[0].done : '';
  el.innerHTML = `<table class="bench" data-n="${rows.length}" data-done="${done}"
    data-int="${model.get('n')}">${body.join('')}</table>`;
}
export default {
  render({ model, el }) {
    draw(model, el);
    model.on('change:rows', () => draw(model, el));
    model.on('change:n', () => draw(model, el));
  }
};
"""

PRELUDE = f"""
import traitlets as T
ESM = {ESM!r}

def make_rows(n):
    return [{{"id": i, "label": f"item {{i}}", "done": False}} for i in range(n)]
"""

# anywidget and syncstate: the same model with the same view module.
ESM_MODEL = """
import {module}

class M({base}):
    _esm = ESM
    rows = T.List(T.Dict()).tag(sync=True)
    n = T.Int(0).tag(sync=True)

def make(rows):
    return M(rows=rows)
"""

# Per system: the model class, and the code of each change (`m` is the displayed model).
# ipywidgets has no view module of its own here: an HTML widget whose `rows` are synced and whose
# table is rendered by the kernel (the same table), what a widget without custom JS can do.
MODELS = {
    IPYW: """
import ipywidgets as W

def table(rows, n):
    cells = ("".join(f"<td>{r[k]}</td>" for k in ("id", "label", "done")) for r in rows[:20])
    body = "".join(f"<tr>{c}</tr>" for c in cells)
    done = str(rows[0]["done"]).lower() if rows else ""
    data = f'data-n="{len(rows)}" data-done="{done}" data-int="{n}"'
    return f'<table class="bench" {data}>{body}</table>'

class M(W.HTML):
    rows = T.List(T.Dict()).tag(sync=True)
    n = T.Int(0).tag(sync=True)

    @T.observe("rows", "n")
    def _draw(self, change):
        self.value = table(self.rows, self.n)

def make(rows):
    return M(rows=rows, value=table(rows, 0))
""",
    ANYW: ESM_MODEL.format(module="anywidget", base="anywidget.AnyWidget"),
    SYNC: ESM_MODEL.format(module="syncstate", base="syncstate.Model"),
}

# The same effect in each system: ipywidgets and anywidget sync by assignment of a new list.
APPEND = {
    IPYW: "m.rows = m.rows + [{'id': -1, 'label': 'new', 'done': True}]",
    ANYW: "m.rows = m.rows + [{'id': -1, 'label': 'new', 'done': True}]",
    SYNC: "m.rows.append({'id': -1, 'label': 'new', 'done': True})",
}
FLIP_COPY = "rows = list(m.rows); rows[0] = {**rows[0], 'done': not rows[0]['done']}; m.rows = rows"
FLIP = {IPYW: FLIP_COPY, ANYW: FLIP_COPY, SYNC: "m.rows[0]['done'] = not m.rows[0]['done']"}

# Starts a cell and resolves with the ms until an element matching `selector` is in the page.
TIMED_RUN_JS = (
    """async ({ code, selector, timeout }) => {
  const t0 = performance.now();
  const shown = new Promise((resolve, reject) => {
    const check = () => {
      if (document.querySelector(selector)) {
        observer.disconnect();
        resolve(performance.now() - t0);
      }
    };
    const observer = new MutationObserver(check);
    observer.observe(document.body, { subtree: true, childList: true, attributes: true });
    const fail = () => { observer.disconnect(); reject(new Error('not shown: ' + selector)); };
    setTimeout(fail, timeout);
  });
  ("""
    + START_CODE_JS
    + """)(code);
  const ms = await shown;
  await window.syncstateRunning;
  return ms;
}"""
)


class _Temp:
    """What conftest's `_serve` needs of pytest's tmp_path_factory."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def mktemp(self, name: str) -> Path:
        return Path(tempfile.mkdtemp(prefix=name, dir=self.root))


def timed(lab: Lab, code: str, selector: str) -> float:
    ms: float = lab.page.evaluate(
        TIMED_RUN_JS, {"code": code, "selector": selector, "timeout": TIMEOUT_MS}
    )
    return ms


def measure(
    lab: Lab, system: str, config: Config, figures: Figures, log: Callable[[str], None]
) -> None:
    lab.new_notebook([PRELUDE + MODELS[system]])
    lab.run_all()
    for size in config.sizes:
        for rep in range(config.repeats):
            log(f"{system}: {size:,} rows, repeat {rep + 1} of {config.repeats}")
            lab.run(f"rows = make_rows({size})")
            figures.add(
                f"render@{size}|{system}",
                timed(lab, "m = make(rows)\nm", f'.bench[data-n="{size}"][data-int="0"]'),
            )
            figures.add(
                f"append@{size}|{system}",
                timed(lab, APPEND[system], f'.bench[data-n="{size + 1}"]'),
            )
            figures.add(
                f"flip@{size}|{system}", timed(lab, FLIP[system], '.bench[data-done="true"]')
            )
            figures.add(f"int@{size}|{system}", timed(lab, "m.n += 1", '.bench[data-int="1"]'))
            # The next repeat's table starts afresh: this one's output goes with its model.
            lab.run("m.close() if hasattr(m, 'close') else None\ndel m\nimport gc; gc.collect()")
            lab.page.evaluate(
                "() => window.jupyterapp.commands.execute('notebook:clear-all-cell-outputs')"
            )


def run(config: Config, log: Callable[[str], None]) -> Figures:
    figures = Figures()
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as playwright:
        log_path = Path(tmp) / "jupyter-lab.log"
        with _serve(_Temp(Path(tmp)), log_path, ["--YDocExtension.disable_rtc=True"]) as server:  # type: ignore[arg-type]
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                for system in SYSTEMS:
                    context = browser.new_context(viewport={"width": 1280, "height": 800})
                    context.set_default_timeout(TIMEOUT_MS)
                    lab = Lab(server, context.new_page(), f"bench-{system}")
                    try:
                        measure(lab, system, config, figures, log)
                    finally:
                        for session in server.api("GET", "/api/sessions"):
                            server.api("DELETE", f"/api/sessions/{session['id']}")
                        context.close()
            finally:
                browser.close()
    return figures


LABELS = (
    ("render", "first render, ms"),
    ("append", "append a row: change to view, ms"),
    ("flip", "flip a field: change to view, ms"),
    ("int", "small Int: change to view, ms"),
)


def render(config: Config, f: Figures, elapsed: float) -> str:
    lines = [f"{'workload':<36} {'rows':>10} {IPYW:>11} {ANYW:>10} {SYNC:>10}"]
    lines.append("-" * len(lines[0]))

    def cell(value: float | None) -> str:
        return "-" if value is None else f"{value:,.1f}" if value < 100 else f"{value:,.0f}"

    for key, label in LABELS:
        for size in config.sizes:
            cells = [cell(f.median(f"{key}@{size}|{s}")) for s in SYSTEMS]
            lines.append(f"{label:<36} {size:>10,} {cells[0]:>11} {cells[1]:>10} {cells[2]:>10}")
    lines.append("")
    lines.append(f"{'goal':<64} {'ratio':>8}   verdict")
    for text, ratio, goal in goals(config, f):
        verdict = "n/a" if ratio is None else "PASS" if ratio <= goal else "MISS"
        shown = "-" if ratio is None else f"{ratio:.3g}x"
        lines.append(f"{text:<64} {shown:>8}   {verdict}")
    lines.append("")
    lines.append(f"medians of {config.repeats} repeats; {elapsed:.0f} s in all.")
    return "\n".join(lines)


def goals(config: Config, f: Figures) -> list[tuple[str, float | None, float]]:
    def ratio(a: str, b: str) -> float | None:
        x, y = f.median(a), f.median(b)
        return x / y if x is not None and y else None

    top = max(config.sizes)
    out: list[tuple[str, float | None, float]] = []
    for key, what in (("append", "append"), ("flip", "flipped field")):
        out.append(
            (
                f"{what}: change to view at {top:,} <= 0.05x anywidget",
                ratio(f"{key}@{top}|{SYNC}", f"{key}@{top}|{ANYW}"),
                0.05,
            )
        )
        out.append(
            (
                f"{what}: change to view at {top:,} <= 1.5x the small-Int floor",
                ratio(f"{key}@{top}|{SYNC}", f"int@{top}|{SYNC}"),
                1.5,
            )
        )
    out.append(
        (
            f"first render at {top:,} <= 1.0x anywidget",
            ratio(f"render@{top}|{SYNC}", f"render@{top}|{ANYW}"),
            1.0,
        )
    )
    return out


def main(argv: list[str] | None = None) -> int:
    run_main("browser", "issue 10 workloads in JupyterLab + Chromium", argv, run, render)
    return 0


if __name__ == "__main__":
    sys.exit(main())
