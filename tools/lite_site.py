"""Prepare a JupyterLite folder that runs syncstate with nothing fetched from a CDN.

Usage (with the Python of a venv that has the `lite` extra and the syncstate wheel installed):
    python tools/lite_site.py LITE_DIR PYODIDE_DIR SYNCSTATE_WHEEL

`jupyter lite build --lite-dir LITE_DIR` then makes a site (tests/browser/test_elsewhere.py).

JupyterLite's Pyodide kernel loads Pyodide, and the pure-Python packages of its kernel, from a
CDN by default. Here the Pyodide runtime comes from the `pyodide` npm package (PYODIDE_DIR, a
dev dependency of js/), and every Python package the kernel and syncstate need is a
`py3-none-any` wheel from PyPI: those that Pyodide's lock file lists are put beside it, with
the lock entry rewritten to name that wheel and its sha256 (what `pyodide-lock` would do, but it
needs Python 3.12); the others go into the site's piplite index. PyPI fallback is turned off, so
a missing wheel fails the kernel instead of reaching out.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

from jupyterlite_pyodide_kernel.constants import PYODIDE_VERSION

#: What the Pyodide kernel installs at start (its worker), and syncstate's own dependencies
#: except ipykernel, for which the kernel has its own stand-in wheel.
KERNEL_PACKAGES = ["micropip", "comm", "jedi", "ipython"]
SYNCSTATE_PACKAGES = ["traitlets", "anywidget", "ipywidgets"]
KERNEL_SETTINGS = "@jupyterlite/pyodide-kernel-extension:kernel"


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def wheel_name(wheel: Path) -> str:
    return canonical(wheel.name.split("-")[0])


def download(packages: list[str], dest: Path, python: str, *, deps: bool) -> None:
    """Pure-Python wheels for Pyodide's Python (`python`, as in "3.14"), from PyPI."""
    subprocess.run(
        [sys.executable, "-m", "pip", "--disable-pip-version-check", "download", "-q",
         "--only-binary=:all:", "--python-version", python, "--implementation", "py",
         "--abi", "none", "--platform", "any", "-d", str(dest),
         *([] if deps else ["--no-deps"]), *packages],
        check=True,
    )  # fmt: skip


def main(lite_dir: Path, pyodide_dir: Path, syncstate_wheel: Path) -> None:
    version = json.loads((pyodide_dir / "package.json").read_text())["version"]
    if version != PYODIDE_VERSION:
        sys.exit(f"js/ has pyodide {version}; jupyterlite-pyodide-kernel wants {PYODIDE_VERSION}")
    shutil.rmtree(lite_dir, ignore_errors=True)
    runtime = lite_dir / "static" / "pyodide"  # where the kernel addon looks for a local Pyodide
    shutil.copytree(pyodide_dir, runtime, ignore=shutil.ignore_patterns("*.map", "*.d.ts"))
    lock_path = runtime / "pyodide-lock.json"
    lock = json.loads(lock_path.read_text())
    python = ".".join(lock["info"]["python"].split(".")[:2])

    index = lite_dir / "pypi"  # piplite's index of the site
    download(KERNEL_PACKAGES + SYNCSTATE_PACKAGES, index, python, deps=True)
    shutil.copy(syncstate_wheel, index)
    in_lock = {canonical(key): key for key in lock["packages"]}
    while True:
        have = {wheel_name(wheel): wheel for wheel in index.glob("*.whl")}
        used = {name: lock["packages"][in_lock[name]] for name in have if name in in_lock}
        for name, entry in used.items():
            # Pyodide's own build of a package differs from PyPI's: its entry names ours.
            wheel = have[name]
            entry["file_name"] = wheel.name
            entry["version"] = wheel.name.split("-")[1]
            entry["sha256"] = hashlib.sha256(wheel.read_bytes()).hexdigest()
            shutil.copy(wheel, runtime / wheel.name)
        needed = {canonical(dep) for entry in used.values() for dep in entry["depends"]}
        missing = sorted(needed - set(have))  # a lock entry's dependencies load with it
        if not missing:
            break
        download(missing, index, python, deps=False)
    lock_path.write_text(json.dumps(lock))

    config = {"jupyter-config-data": {"litePluginSettings": {
        KERNEL_SETTINGS: {"disablePyPIFallback": True}}}}  # fmt: skip
    (lite_dir / "jupyter-lite.json").write_text(json.dumps(config, indent=2))


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3]))
