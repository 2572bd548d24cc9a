"""docs/architecture.md names every module of syncstate/ and js/src/, and only modules that
exist: a module added, renamed or removed without the page fails here."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PAGE = (ROOT / "docs" / "architecture.md").read_text()
JS = ROOT / "js" / "src"


def modules() -> set[str]:
    python = {path.name for path in (ROOT / "syncstate").glob("*.py")} - {"__init__.py"}
    typescript = {
        str(path.relative_to(JS)) for path in JS.rglob("*.ts") if not path.name.endswith(".d.ts")
    }
    return python | typescript


def named() -> set[str]:
    """Module names in the page's tables: `x.py`, `core/x.ts`, `lab/x.ts`, …"""
    return set(re.findall(r"`([a-z_]+\.py|[a-z]+/[a-z_]+\.ts)`", PAGE))


def test_the_page_names_every_module() -> None:
    assert sorted(modules() - named()) == []


def test_every_module_the_page_names_exists() -> None:
    assert len(named()) > 30
    assert sorted(named() - modules()) == []
