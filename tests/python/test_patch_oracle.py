"""`jsonpatch` as the oracle: our engine (syncstate/patch.py) agrees with it, op by op.

Hypothesis draws documents and patches whose pointers mostly lead somewhere in the document
(and sometimes just past it, or nowhere). For every op, both libraries must agree on whether it
applies, and when it does, on the resulting document; a whole patch too (all or nothing).

No exceptions are needed with jsonpatch 1.33+: where these documents reach, it follows
RFC 6902. The corners where a library might not are pinned on the oracle itself
(`test_the_oracle_follows_the_rfc_where_libraries_differ`), so that an oracle that drifts
from the RFC fails there, not here in a confusing way.
"""

from __future__ import annotations

from typing import Any

import jsonpatch
import jsonpointer
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from syncstate.patch import PatchError, apply_patch, format_pointer, json_copy, json_equal

KEYS = st.sampled_from(["a", "b", "", "~", "/", "a/b", "0", "-"])
scalars = (
    st.none()
    | st.booleans()
    | st.integers(-2, 2)
    | st.sampled_from([0.0, 1.0, 2.5])
    | st.text("ab", max_size=2)
)
values = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(KEYS, children, max_size=3),
    max_leaves=8,
)
documents = st.dictionaries(KEYS, values, max_size=4)


def locations(doc: Any, prefix: str = "") -> list[str]:
    """Every pointer into `doc`, plus the places just past it (a new key, the end, `-`)."""
    found = [prefix]
    if isinstance(doc, dict):
        found.append(prefix + "/new")
        for key, child in doc.items():
            found += locations(child, prefix + format_pointer([key]))
    elif isinstance(doc, list):
        found += [f"{prefix}/{len(doc)}", f"{prefix}/-", f"{prefix}/{len(doc) + 1}"]
        for index, child in enumerate(doc):
            found += locations(child, f"{prefix}/{index}")
    return found


@st.composite
def operations(draw: Any, doc: Any) -> dict[str, Any]:
    places = [*locations(doc), "/missing/x", "/a/01"]
    kind = draw(st.sampled_from(["add", "remove", "replace", "move", "copy", "test"]))
    op: dict[str, Any] = {"op": kind, "path": draw(st.sampled_from(places))}
    if kind in ("move", "copy"):
        op["from"] = draw(st.sampled_from(places))
    if kind in ("add", "replace", "test"):
        if kind == "test" and draw(st.booleans()):
            op["value"] = draw(st.sampled_from(values_at(doc)))  # one that may match
        else:
            op["value"] = draw(values)
    return op


def values_at(doc: Any) -> list[Any]:
    found = [doc]
    children = doc.values() if isinstance(doc, dict) else doc if isinstance(doc, list) else []
    for child in children:
        found += values_at(child)
    return found


def reference(doc: Any, ops: list[dict[str, Any]]) -> tuple[bool, Any]:
    """(applies, result) by jsonpatch."""
    try:
        return True, jsonpatch.apply_patch(doc, ops)
    except (jsonpatch.JsonPatchException, jsonpointer.JsonPointerException):
        return False, None


def ours(doc: Any, ops: list[dict[str, Any]]) -> tuple[bool, Any]:
    target = json_copy(doc)
    try:
        return True, apply_patch(target, json_copy(ops))
    except PatchError:
        assert json_equal(target, doc), "a refused patch changed the document"
        return False, None


@st.composite
def patches(draw: Any) -> tuple[Any, list[dict[str, Any]]]:
    doc = draw(documents)
    ops = []
    scratch = doc
    for _ in range(draw(st.integers(1, 4))):
        op = draw(operations(scratch))
        ops.append(op)
        applies, after = reference(scratch, [op])
        if applies:
            scratch = after
    return doc, ops


def agree(doc: Any, ops: list[dict[str, Any]]) -> tuple[bool, Any]:
    """Check that both engines agree on `ops`; return jsonpatch's outcome."""
    applies, result = reference(doc, ops)
    our_applies, our_result = ours(doc, ops)
    assert our_applies == applies, (doc, ops, "applies" if applies else "refused")
    if applies:
        assert json_equal(our_result, result), (doc, ops, our_result, result)
    return applies, result


@settings(max_examples=1500, deadline=None)
@given(patches())
def test_each_op_agrees_with_jsonpatch(case: tuple[Any, list[dict[str, Any]]]) -> None:
    doc, ops = case
    for op in ops:
        applies, doc = agree(doc, [op])
        if not applies:
            break


@settings(max_examples=1500, deadline=None)
@given(patches())
def test_a_whole_patch_agrees_with_jsonpatch(case: tuple[Any, list[dict[str, Any]]]) -> None:
    agree(*case)


@pytest.mark.parametrize(
    ("doc", "op"),
    [
        ({"a": 1}, {"op": "test", "path": "/a", "value": True}),  # JSON types differ (4.6)
        ({"a": 0}, {"op": "test", "path": "/a", "value": False}),
        ({"a": [1, 2]}, {"op": "remove", "path": "/a/01"}),  # leading zero (RFC 6901, 4)
        ({"a": [1, 2]}, {"op": "remove", "path": "/a/-"}),  # `-` names no element
        ({"a": [1, 2]}, {"op": "add", "path": "/a/3", "value": 0}),  # past the end (4.1)
        ({"a": {"b": 1}}, {"op": "move", "from": "/a", "path": "/a/b/c"}),  # into itself (4.4)
        ({"a": 1}, {"op": "replace", "path": "/b", "value": 0}),  # must exist (4.3)
    ],
)
def test_the_oracle_follows_the_rfc_where_libraries_differ(doc: Any, op: Any) -> None:
    assert reference(doc, [op]) == (False, None)
    assert ours(doc, [op]) == (False, None)
