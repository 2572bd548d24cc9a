"""`make demo` installs only what the demo needs; `make test` installs the browser too."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="needs make")


def _recipe(target: str) -> str:
    """The commands `make <target>` would run from scratch (-B: as if nothing were built)."""
    return subprocess.run(
        ["make", "-n", "-B", target], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout


def test_demo_installs_no_browser_and_no_test_tools() -> None:
    recipe = _recipe("demo")
    assert "requirements.py demo" in recipe
    assert "chromium" not in recipe
    assert "requirements.py test" not in recipe
    assert "jupyter lab notebooks/" in recipe


def test_test_installs_the_browser_and_the_test_tools() -> None:
    recipe = _recipe("test")
    assert "apt-get install -y chromium" in recipe
    assert "requirements.py test dev" in recipe
    assert "pytest tests/" in recipe


def test_ci_runs_make_test() -> None:
    assert "make test" in (ROOT / ".ci" / "run").read_text()
