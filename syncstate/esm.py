"""Where a model's view comes from: `_esm` / `_css` given as source text or as a file path."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

_SUFFIXES = {"_esm": (".js", ".mjs"), "_css": (".css",)}


def source_path(cls: type, attribute: str) -> Path | None:
    """The file named by `cls.<attribute>`, when it names one rather than holding source."""
    value: Any = getattr(cls, attribute, "")
    if isinstance(value, Path):
        return _resolve(cls, value)
    if isinstance(value, str) and "\n" not in value and value.endswith(_SUFFIXES[attribute]):
        return _resolve(cls, Path(value))
    return None


def _resolve(cls: type, path: Path) -> Path:
    """Relative paths are looked up beside the module that defines the class, then in the
    working directory (a notebook's classes have no module file)."""
    if path.is_absolute():
        return path
    module_file = getattr(sys.modules.get(cls.__module__), "__file__", None)
    if module_file:
        beside = Path(module_file).parent / path
        if beside.exists():
            return beside
    return Path.cwd() / path


def load_source(cls: type, attribute: str) -> str:
    """The text of `cls._esm` or `cls._css` (reading the file when it names one)."""
    path = source_path(cls, attribute)
    if path is None:
        return str(getattr(cls, attribute, ""))
    return path.read_text(encoding="utf-8")
