import json, pathlib, pytest
NB = sorted(pathlib.Path("notebooks").glob("*.ipynb"))

@pytest.mark.parametrize("path", NB, ids=[p.stem for p in NB])
def test_demo(lab, path):
    nb = json.loads(path.read_text())
    for f in path.parent.iterdir():
        if f.suffix in (".js", ".css", ".py"):
            (lab.server.root / f.name).write_text(f.read_text())
    cells = ["".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code"]
    lab.new_notebook(cells)
    lab.run_all()
    lab.page.wait_for_timeout(1500)
    lab.screenshot(f"demo-{path.stem}")
    print(path.stem, "ERRORS:", lab.console_errors)
