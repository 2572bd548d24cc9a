"""Between trait values and the wire: JSON copies, child-model references, binary buffers."""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from .protocol import BAD_MESSAGE, REF_PREFIX, TOO_LARGE, SyncError, check_text, limits

BINARY = (bytes, bytearray, memoryview)
Path = list[str | int]


class Referable:
    """What a value must be to travel as a reference, `"syncstate:<model_id>"`: the base class
    of `Model`. It lives here so that serialisation and in-place tracking, which `model.py`
    builds on, recognise a model by this one test without importing it."""

    __slots__ = ()

    @property
    def model_id(self) -> str:
        raise NotImplementedError


def models_in(value: Any) -> Iterator[Referable]:
    """Every model held in a state document value, in document order (not the models they
    hold). A loop, not recursion: it walks every row of a big state at display."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            stack.extend(reversed(dict.values(item)))
        elif isinstance(item, list):
            stack.extend(list.__reversed__(item))  # raw: nothing reached (tracked.py)
        elif isinstance(item, tuple):
            stack.extend(reversed(item))
        elif isinstance(item, Referable):
            yield item


def ref_text(model: Referable) -> str:
    """A model as a state document holds it on the wire: `"syncstate:<id>"`."""
    return REF_PREFIX + model.model_id


def to_wire(value: Any) -> Any:
    """A plain-JSON copy of `value` for a message: models become references, binary stays bytes.

    Copying here also snapshots the value, so later in-place edits (within `hold_sync`) cannot
    change an op that is already queued.
    """
    if isinstance(value, str):
        check_text(value)  # a lone surrogate cannot be sent
        return value
    if value is None or isinstance(value, (bool, int)):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"{value!r} has no JSON form")
        return value
    # Raw contents (dict.items, list.__iter__): a tracked value's plain children are read
    # as they are, never reached (tracked.py).
    if isinstance(value, dict):
        return {_key(k): to_wire(v) for k, v in dict.items(value)}
    if isinstance(value, list):
        return [to_wire(v) for v in list.__iter__(value)]
    if isinstance(value, tuple):
        return [to_wire(v) for v in value]
    if isinstance(value, BINARY):
        return bytes(value)
    if isinstance(value, Referable):
        return ref_text(value)
    raise TypeError(
        f"a {type(value).__name__} cannot be synced as JSON; give the trait a to_json/from_json"
    )


def _key(key: Any) -> str:
    if not isinstance(key, str):
        raise TypeError(f"JSON object keys must be strings, not {type(key).__name__}")
    check_text(key)
    return key


def take_buffers(data: dict[str, Any], roots: Iterable[Path]) -> tuple[list[Path], list[bytes]]:
    """Move every bytes value under the given paths of `data` into buffers (protocol.md)."""
    paths: list[Path] = []
    buffers: list[bytes] = []

    def walk(container: Any, key: str | int, path: Path) -> None:
        value = container[key]
        if isinstance(value, bytes):
            container[key] = None
            paths.append(path)
            buffers.append(value)
        elif isinstance(value, dict):
            for k in value:
                walk(value, k, [*path, k])
        elif isinstance(value, list):
            for i in range(len(value)):
                walk(value, i, [*path, i])

    for root in roots:
        parent: Any = data
        for segment in root[:-1]:
            parent = parent[segment]
        walk(parent, root[-1], list(root))
    return paths, buffers


def put_buffers(data: dict[str, Any], paths: Any, buffers: Sequence[Any]) -> None:
    """Place inbound buffers (as bytes) at their `buffer_paths`, refusing anything malformed."""
    if paths is None:
        paths = []
    if not isinstance(paths, list) or len(paths) != len(buffers):
        raise SyncError(BAD_MESSAGE, "buffer_paths must list one path per buffer")
    if sum(len(memoryview(b)) for b in buffers) > limits.max_buffer_bytes:
        raise SyncError(TOO_LARGE, f"buffers exceed {limits.max_buffer_bytes} bytes")
    for path, buffer in zip(paths, buffers, strict=False):
        if not isinstance(path, list) or not path or not all(map(_is_step, path)):
            raise SyncError(BAD_MESSAGE, f"bad buffer path {path!r}")
        parent: Any = data
        try:
            for segment in path[:-1]:
                parent = parent[segment]
            if parent[path[-1]] is not None or isinstance(parent, str):
                raise SyncError(BAD_MESSAGE, f"buffer path {path!r} does not lead to null")
            parent[path[-1]] = bytes(buffer)
        except (KeyError, IndexError, TypeError) as error:
            raise SyncError(BAD_MESSAGE, f"bad buffer path {path!r}") from error


def _is_step(segment: Any) -> bool:
    """An object key or an array index; a negative index would count from the end."""
    return isinstance(segment, str) or (type(segment) is int and segment >= 0)


def array_to_json(array: Any, model: Any = None) -> dict[str, Any] | None:
    """A numpy array as `{dtype, shape, buffer}`, the buffer travelling as binary (no copy of
    a contiguous array beyond the one the comm makes)."""
    if array is None:
        return None
    import numpy as np

    contiguous = np.ascontiguousarray(array)
    return {
        "dtype": str(contiguous.dtype),
        "shape": list(contiguous.shape),
        "buffer": contiguous.tobytes(),
    }


def array_from_json(value: Any, model: Any = None) -> Any:
    """The inverse of `array_to_json` (for arrays edited in a view)."""
    if value is None:
        return None
    import numpy as np

    try:
        return np.frombuffer(value["buffer"], dtype=value["dtype"]).reshape(value["shape"])
    except (KeyError, TypeError, ValueError) as error:
        from traitlets import TraitError

        raise TraitError(f"not an array: {error}") from error


#: Tag metadata for numpy array traits:
#: `Instance(np.ndarray).tag(sync=True, **array_serialization)`.
array_serialization = {"to_json": array_to_json, "from_json": array_from_json}
