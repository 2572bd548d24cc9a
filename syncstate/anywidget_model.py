"""The anywidget way of editing, over a `Mirror`: the Python twin of js/src/core/anywidget.ts.

The mirror (mirror.py) is the protocol's algorithm, the same as the JS `Mirror`; this adapter
adds only `set(key, value)`, remembered (and read back by `get`) until `save_changes()` turns
the values into one edit, in the order they were set.
"""

from __future__ import annotations

from typing import Any
from weakref import WeakKeyDictionary

from .mirror import Mirror, Op, field_diff, refuse_private

__all__ = ["AnywidgetModel", "anywidget_model"]


class AnywidgetModel:
    """The values `set` on one model and not yet saved."""

    def __init__(self, mirror: Mirror) -> None:
        self.mirror = mirror
        self._unsaved: dict[str, Any] = {}

    def get(self, key: str) -> Any:
        """A field of the visible state, or its value `set` but not yet saved."""
        if key in self._unsaved:
            return self._unsaved[key]
        return self.mirror.get(key)

    def set(self, key: str, value: Any) -> None:
        """Remembered until `save_changes()`."""
        refuse_private(key)
        self._unsaved[key] = value

    def save_changes(self) -> str | None:
        """Turn the values given to `set` into one edit; returns its id (None for no change)."""
        unsaved, self._unsaved = self._unsaved, {}
        ops: list[Op] = []
        for key, value in unsaved.items():
            ops += field_diff(self.mirror.state, {key: value}, [key])
        return self.mirror.patch(ops)


_models: WeakKeyDictionary[Mirror, AnywidgetModel] = WeakKeyDictionary()


def anywidget_model(mirror: Mirror) -> AnywidgetModel:
    """The one AnywidgetModel of a mirror (values set wait per model, as in anywidget)."""
    model = _models.get(mirror)
    if model is None:
        model = _models[mirror] = AnywidgetModel(mirror)
    return model
