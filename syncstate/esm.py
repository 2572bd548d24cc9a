"""Where a model's view comes from: `_esm` / `_css` given as source text or as a file path."""

from __future__ import annotations

import os
import sys
import threading
import time
import weakref
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


class _Watcher:
    """Polls the files behind `_esm` / `_css` and reloads the views of live models on a change.

    Opt-in (`hot_reload()` or SYNCSTATE_HOT_RELOAD=1): a daemon thread wakes a few times a
    second, so it costs nothing when unused and needs no file-watching dependency.
    """

    interval = 0.3

    def __init__(self) -> None:
        self.enabled = os.environ.get("SYNCSTATE_HOT_RELOAD") == "1"
        self._models: weakref.WeakSet[Any] = weakref.WeakSet()
        self._mtimes: dict[Path, float] = {}
        self._thread: threading.Thread | None = None

    def add(self, model: Any) -> None:
        paths = [p for p in (source_path(type(model), a) for a in _SUFFIXES) if p is not None]
        if not (self.enabled and paths):
            return
        for path in paths:
            self._mtimes.setdefault(path, _mtime(path))
        self._models.add(model)
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._run, name="syncstate-hot-reload", daemon=True
            )
            self._thread.start()

    def _run(self) -> None:
        while self.enabled:
            time.sleep(self.interval)
            changed = {p for p, seen in list(self._mtimes.items()) if _mtime(p) != seen}
            for path in changed:
                self._mtimes[path] = _mtime(path)
            if changed:
                for model in list(self._models):
                    model._reload_sources()
        self._thread = None


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


watcher = _Watcher()


def hot_reload(enabled: bool = True) -> None:
    """Re-render live views when the `.js` / `.css` file of their model changes on disk.

    Applies to models created after the call."""
    watcher.enabled = enabled
