"""The real wheel: it carries the prebuilt extension, and the installed copy is what runs."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
WHEELS = sorted((ROOT / "dist").glob("syncstate-*.whl"))


def test_the_wheel_carries_the_prebuilt_extension() -> None:
    assert WHEELS, "no wheel in dist/: `make setup` builds one"
    names = zipfile.ZipFile(WHEELS[-1]).namelist()
    shared = "syncstate-0.1.0.data/data/share/jupyter/labextensions/syncstate/"
    assert shared + "package.json" in names
    assert shared + "install.json" in names
    assert any(n.startswith(shared + "static/") and n.endswith(".js") for n in names)
    assert not any("node_modules" in n or n.endswith(".ts") for n in names)


def test_jupyter_sees_the_extension_enabled() -> None:
    listing = subprocess.run(
        [sys.executable, "-m", "jupyter", "labextension", "list"],
        capture_output=True,
        text=True,
        check=True,
    )
    line = next(
        (row for row in (listing.stdout + listing.stderr).splitlines() if "syncstate" in row), ""
    )
    assert "enabled" in line and "OK" in line, listing.stdout + listing.stderr
