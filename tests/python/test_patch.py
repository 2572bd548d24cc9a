"""apply_patch: error codes, atomicity, identity semantics and cost."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from syncstate.patch import (
    PatchError,
    apply_patch,
    format_pointer,
    json_copy,
    json_equal,
    parse_pointer,
)

# --- helpers -----------------------------------------------------------------------------

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-3, 3)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text("ab~/", max_size=3),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text("ab~/", max_size=2), children)
    ),
    max_leaves=12,
)


def identities(value: Any) -> Any:
    """Every object's identity, by location. Dict keys are sorted: an undone remove puts the
    key back at the end of its dict, which apply_patch documents."""
    if isinstance(value, dict):
        return (id(value), type(value), sorted((k, identities(v)) for k, v in value.items()))
    if isinstance(value, list):
        return (id(value), type(value), [identities(v) for v in value])
    return id(value)


def pointers(value: Any, prefix: str = "") -> list[str]:
    """Every location in value."""
    found = [prefix]
    if isinstance(value, dict):
        for k, v in value.items():
            found += pointers(v, prefix + format_pointer([k]))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            found += pointers(v, f"{prefix}/{i}")
    return found


def error_of(doc: Any, ops: Any) -> PatchError:
    """The PatchError apply_patch raises, after checking the doc was left as it was."""
    before = json_copy(doc)
    ids = identities(doc)
    with pytest.raises(PatchError) as caught:
        apply_patch(doc, ops)
    assert json_equal(doc, before)
    assert identities(doc) == ids
    return caught.value


# --- pointers and values -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("pointer", "segments"),
    [
        ("", []),
        ("/", [""]),
        ("/a~1b/~0c", ["a/b", "~c"]),
        ("/~01", ["~1"]),
        ("/~10", ["/0"]),
        ("//x/", ["", "x", ""]),
        ("/0/-", ["0", "-"]),
    ],
)
def test_pointer_escapes(pointer: str, segments: list[str]) -> None:
    assert parse_pointer(pointer) == segments
    assert format_pointer(segments) == pointer


@pytest.mark.parametrize("pointer", ["a", "a/b", "/~", "/a~", "/~2", "/a/~x"])
def test_bad_pointer(pointer: str) -> None:
    with pytest.raises(PatchError) as caught:
        parse_pointer(pointer)
    assert caught.value.code == "bad_path"


def test_format_pointer_takes_indexes() -> None:
    assert format_pointer(["items", 3, "a/b~"]) == "/items/3/a~1b~0"


@given(st.lists(st.text("ab~/01", max_size=4), max_size=4))
def test_pointer_round_trip(segments: list[str]) -> None:
    assert parse_pointer(format_pointer(segments)) == segments


class Dict(dict[str, Any]):
    pass


class List(list[Any]):
    pass


@pytest.mark.parametrize(
    ("a", "b", "equal"),
    [
        (True, 1, False),
        (False, 0, False),
        (0, False, False),
        (True, True, True),
        (1, 1.0, True),
        (1, "1", False),
        (None, 0, False),
        ([], {}, False),
        ({"a": [1, {"b": 2}]}, {"a": [1.0, {"b": 2}]}, True),
        ({"a": 1}, {"a": 1, "b": 2}, False),
        ({"a": 1}, {"b": 1}, False),
        ([1, 2], [2, 1], False),
        (Dict(a=List([1])), {"a": [1]}, True),
        (b"x", b"x", True),
        (b"x", "x", False),
        ([True], [1], False),
    ],
)
def test_json_equal(a: Any, b: Any, equal: bool) -> None:
    assert json_equal(a, b) is equal
    assert json_equal(b, a) is equal


def test_json_copy_makes_plain_containers_and_shares_leaves() -> None:
    leaf = object()
    data = b"bytes"
    value = Dict(x=List([leaf, Dict(y=data)]), s="text")
    copy = json_copy(value)
    assert type(copy) is dict
    assert type(copy["x"]) is list
    assert type(copy["x"][1]) is dict
    assert copy["x"] is not value["x"]
    assert copy["x"][0] is leaf
    assert copy["x"][1]["y"] is data
    assert json_equal(copy, value)


# --- error codes -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "op",
    [
        "add",
        None,
        ["op", "add"],
        {},
        {"path": "/a"},
        {"op": "spam", "path": "/a"},
        {"op": 1, "path": "/a"},
        {"op": ["add"], "path": "/a", "value": 1},
        {"op": "add", "value": 1},
        {"op": "add", "path": 5, "value": 1},
        {"op": "remove", "path": None},
        {"op": "add", "path": "/a"},
        {"op": "replace", "path": "/a"},
        {"op": "test", "path": "/a"},
        {"op": "move", "path": "/b"},
        {"op": "copy", "path": "/b"},
        {"op": "copy", "path": "/b", "from": ["a"]},
        {"op": "move", "path": "/b", "from": 0},
        # a shape error wins over a bad pointer in the same op
        {"op": "add", "path": "no-slash"},
    ],
)
def test_bad_op(op: Any) -> None:
    assert error_of({"a": 1}, [op]).code == "bad_op"


def test_patch_must_be_a_sequence() -> None:
    assert error_of({"a": 1}, 5).code == "bad_op"
    assert error_of({"a": 1}, {"op": "remove", "path": "/a"}).code == "bad_op"


@pytest.mark.parametrize(
    "op",
    [
        {"op": "add", "path": "a", "value": 1},
        {"op": "add", "path": "/~2", "value": 1},
        {"op": "remove", "path": "/missing"},
        {"op": "replace", "path": "/missing", "value": 1},
        {"op": "test", "path": "/missing", "value": 1},
        {"op": "add", "path": "/missing/x", "value": 1},
        {"op": "add", "path": "/list/3", "value": 1},
        {"op": "add", "path": "/list/-1", "value": 1},
        {"op": "add", "path": "/list/01", "value": 1},
        {"op": "add", "path": "/list/1e0", "value": 1},
        {"op": "add", "path": "/list/+1", "value": 1},
        {"op": "add", "path": "/list/ 1", "value": 1},
        {"op": "add", "path": "/list/\u00b2", "value": 1},
        {"op": "add", "path": "/list/" + "9" * 5000, "value": 1},
        {"op": "add", "path": "/list/key", "value": 1},
        {"op": "replace", "path": "/list/2", "value": 1},
        {"op": "replace", "path": "/list/-", "value": 1},
        {"op": "remove", "path": "/list/-"},
        {"op": "test", "path": "/list/-", "value": 1},
        {"op": "remove", "path": "/list/2"},
        {"op": "add", "path": "/n/x", "value": 1},
        {"op": "add", "path": "/s/0", "value": 1},
        {"op": "remove", "path": "/n/x"},
        {"op": "test", "path": "/s/0", "value": "t"},
        {"op": "remove", "path": ""},
        {"op": "move", "from": "/missing", "path": "/b"},
        {"op": "move", "from": "/list/-", "path": "/b"},
        {"op": "copy", "from": "/missing", "path": "/b"},
        {"op": "copy", "from": "/d", "path": "/missing/b"},
        {"op": "move", "from": "/d", "path": "/d/x"},
        {"op": "move", "from": "/d", "path": "/d/x/y"},
        {"op": "move", "from": "", "path": "/x"},
        {"op": "move", "from": "/missing", "path": "/missing"},
    ],
)
def test_bad_path(op: dict[str, Any]) -> None:
    doc = {"list": [1, 2], "n": 7, "s": "text", "d": {"x": {}}}
    assert error_of(doc, [op]).code == "bad_path"


@pytest.mark.parametrize(
    ("doc", "op"),
    [
        ({"a": 1}, {"op": "test", "path": "/a", "value": 2}),
        ({"a": 1}, {"op": "test", "path": "/a", "value": True}),
        ({"a": True}, {"op": "test", "path": "/a", "value": 1}),
        ({"a": "1"}, {"op": "test", "path": "/a", "value": 1}),
        ({"a": [1, 2]}, {"op": "test", "path": "/a", "value": [2, 1]}),
        ({"a": {}}, {"op": "test", "path": "/a", "value": []}),
        ({"a": 1}, {"op": "test", "path": "", "value": {"a": 2}}),
    ],
)
def test_test_failed(doc: Any, op: dict[str, Any]) -> None:
    assert error_of(doc, [op]).code == "test_failed"


def test_error_message_names_op_index_and_path() -> None:
    ops: list[dict[str, Any]] = [
        {"op": "add", "path": "/a", "value": 1},
        {"op": "replace", "path": "/list/7", "value": 1},
    ]
    error = error_of({"list": []}, ops)
    assert "op 1" in error.message
    assert "/list/7" in error.message
    assert str(error) == error.message
    move = error_of({"a": 1}, [{"op": "move", "from": "/zz", "path": "/b"}])
    assert "op 0" in move.message and "/zz" in move.message and "/b" in move.message


def test_passing_test_ops() -> None:
    doc = {"a": [1, {"b": None}], "t": True}
    ops: list[dict[str, Any]] = [
        {"op": "test", "path": "/a", "value": [1.0, {"b": None}]},
        {"op": "test", "path": "/t", "value": True},
        {"op": "test", "path": "", "value": {"t": True, "a": [1, {"b": None}]}},
    ]
    assert apply_patch(doc, ops) is doc


# --- atomicity ---------------------------------------------------------------------------


def test_failure_late_in_a_patch_restores_everything() -> None:
    row0, row1, row2 = {"id": 0}, {"id": 1}, {"id": 2}
    meta = {"tags": ["x"]}
    rows = [row0, row1, row2]
    doc = {"rows": rows, "meta": meta, "title": "t", "gone": {"k": 1}}
    gone = doc["gone"]
    ops: list[dict[str, Any]] = [
        {"op": "add", "path": "/rows/1", "value": {"id": 9}},
        {"op": "remove", "path": "/rows/0"},
        {"op": "replace", "path": "/rows/0/id", "value": 5},
        {"op": "move", "from": "/rows/2", "path": "/meta/moved"},
        {"op": "copy", "from": "/meta", "path": "/copied"},
        {"op": "remove", "path": "/gone"},
        {"op": "replace", "path": "/title", "value": "new"},
        {"op": "add", "path": "/rows/-", "value": 3},
        {"op": "move", "from": "/meta/tags/0", "path": "/rows/0"},
        {"op": "replace", "path": "", "value": {"whole": "new"}},
        {"op": "test", "path": "/whole", "value": "different"},
    ]
    error = error_of(doc, ops)
    assert error.code == "test_failed"
    assert "op 10" in error.message
    assert doc["rows"] is rows
    assert rows[0] is row0 and rows[1] is row1 and rows[2] is row2
    assert doc["meta"] is meta
    assert doc["gone"] is gone
    assert list(doc) == ["rows", "meta", "title", "gone"]
    expected = {"rows": rows, "meta": {"tags": ["x"]}, "title": "t", "gone": {"k": 1}}
    assert doc == expected


def test_removed_dict_key_returns_at_the_end() -> None:
    """The one documented difference after an undo: key order."""
    doc = {"a": 1, "b": 2, "c": 3}
    error_of(doc, [{"op": "remove", "path": "/a"}, {"op": "test", "path": "/b", "value": 0}])
    assert doc == {"a": 1, "b": 2, "c": 3}
    assert list(doc) == ["b", "c", "a"]


def test_replace_and_add_on_existing_key_keep_key_order() -> None:
    doc = {"a": 1, "b": 2, "c": 3}
    ops: list[dict[str, Any]] = [
        {"op": "replace", "path": "/a", "value": 10},
        {"op": "add", "path": "/b", "value": 20},
        {"op": "remove", "path": "/zz"},
    ]
    error_of(doc, ops)
    assert list(doc.items()) == [("a", 1), ("b", 2), ("c", 3)]


class Exploding(list[Any]):
    """A tracked-like list whose insert refuses a value, as a validating override might."""

    def insert(self, index: Any, value: Any) -> None:
        if value == "boom":
            raise ValueError("refused")
        super().insert(index, value)


def test_an_exception_from_a_container_rolls_back_and_propagates() -> None:
    items = Exploding([1, 2])
    doc = {"items": items, "n": 0}
    ops: list[dict[str, Any]] = [
        {"op": "replace", "path": "/n", "value": 1},
        {"op": "add", "path": "/items/0", "value": 0},
        {"op": "add", "path": "/items/0", "value": "boom"},
    ]
    with pytest.raises(ValueError, match="refused"):
        apply_patch(doc, ops)
    assert doc == {"items": [1, 2], "n": 0}
    assert doc["items"] is items


# --- root, identity, RFC examples --------------------------------------------------------


def test_root_ops() -> None:
    doc = {"a": 1}
    new = {"b": 2}
    assert apply_patch(doc, [{"op": "replace", "path": "", "value": new}]) is new
    assert doc == {"a": 1}
    assert apply_patch(doc, [{"op": "add", "path": "", "value": 5}]) == 5
    assert apply_patch([1], [{"op": "move", "from": "/0", "path": ""}]) == 1
    assert apply_patch(doc, [{"op": "move", "from": "", "path": ""}]) is doc
    copied = apply_patch(doc, [{"op": "copy", "from": "", "path": "/self"}])
    assert copied is doc
    assert doc["self"] == {"a": 1}
    assert doc["self"] is not doc


def test_values_from_ops_are_inserted_as_given() -> None:
    value = {"x": [1]}
    other = [2]
    doc: dict[str, Any] = {"list": [0], "v": None}
    apply_patch(
        doc,
        [
            {"op": "add", "path": "/new", "value": value},
            {"op": "replace", "path": "/v", "value": other},
            {"op": "add", "path": "/list/0", "value": value},
        ],
    )
    assert doc["new"] is value
    assert doc["v"] is other
    assert doc["list"][0] is value


def test_move_keeps_identity_and_copy_makes_a_plain_copy() -> None:
    leaf = object()
    row = Dict(items=List([leaf]))
    doc: dict[str, Any] = {"rows": [row], "other": {}}
    apply_patch(doc, [{"op": "move", "from": "/rows/0", "path": "/other/row"}])
    assert doc == {"rows": [], "other": {"row": {"items": [leaf]}}}
    assert doc["other"]["row"] is row
    apply_patch(doc, [{"op": "copy", "from": "/other/row", "path": "/rows/-"}])
    copy = doc["rows"][0]
    assert copy is not row
    assert type(copy) is dict
    assert type(copy["items"]) is list
    assert copy["items"] is not row["items"]
    assert copy["items"][0] is leaf


def test_undo_reinserts_the_very_objects_removed() -> None:
    a, b = {"a": 1}, {"b": 2}
    doc: dict[str, Any] = {"list": [a, b], "d": {"k": a}}
    ops: list[dict[str, Any]] = [
        {"op": "remove", "path": "/list/0"},
        {"op": "replace", "path": "/list/0", "value": 1},
        {"op": "move", "from": "/d/k", "path": "/moved"},
        {"op": "remove", "path": "/nope"},
    ]
    error_of(doc, ops)
    assert doc["list"][0] is a and doc["list"][1] is b
    assert doc["d"]["k"] is a
    assert "moved" not in doc


@pytest.mark.parametrize(
    ("doc", "op", "expected"),
    [
        ([1, 2, 3, 4], {"op": "move", "from": "/1", "path": "/3"}, [1, 3, 4, 2]),
        ([1, 2, 3, 4], {"op": "move", "from": "/3", "path": "/0"}, [4, 1, 2, 3]),
        ([1, 2, 3], {"op": "move", "from": "/0", "path": "/-"}, [2, 3, 1]),
        ([1, 2], {"op": "move", "from": "/1", "path": "/1"}, [1, 2]),
        ({"a": {"b": 1}}, {"op": "move", "from": "/a/b", "path": "/a/c"}, {"a": {"c": 1}}),
        ({"a": 1, "ab": 2}, {"op": "move", "from": "/a", "path": "/ab"}, {"ab": 1}),
        ([1], {"op": "add", "path": "/1", "value": 2}, [1, 2]),
        ([1], {"op": "add", "path": "/0", "value": 0}, [0, 1]),
        ({"": 1}, {"op": "replace", "path": "/", "value": 2}, {"": 2}),
        ({"a/b": {"~": 1}}, {"op": "remove", "path": "/a~1b/~0"}, {"a/b": {}}),
    ],
)
def test_semantics(doc: Any, op: dict[str, Any], expected: Any) -> None:
    result = apply_patch(doc, [op])
    assert json_equal(result, expected)
    assert list(result) == list(expected)


def test_move_onto_itself_keeps_key_order() -> None:
    doc = {"a": 1, "b": 2}
    apply_patch(doc, [{"op": "move", "from": "/a", "path": "/a"}])
    assert list(doc) == ["a", "b"]


# --- cost --------------------------------------------------------------------------------

ALLOWED = {"insert", "append", "pop", "__setitem__", "__getitem__", "__len__", "__contains__"}


class CountingList(list[Any]):
    """Counts the allowed calls; any other list method is a failure (walking, rebuilding)."""

    calls: dict[str, int]

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.calls = {}

    def __getattribute__(self, name: str) -> Any:
        if name in ALLOWED:
            calls = object.__getattribute__(self, "calls")
            calls[name] = calls.get(name, 0) + 1
        return super().__getattribute__(name)

    # Python calls these slots on the type, bypassing __getattribute__: wrap them too.
    def __len__(self) -> int:
        self.calls["__len__"] = self.calls.get("__len__", 0) + 1
        return super().__len__()

    def __getitem__(self, index: Any) -> Any:
        self.calls["__getitem__"] = self.calls.get("__getitem__", 0) + 1
        return super().__getitem__(index)

    def __setitem__(self, index: Any, value: Any) -> None:
        self.calls["__setitem__"] = self.calls.get("__setitem__", 0) + 1
        super().__setitem__(index, value)

    def _forbidden(self, *args: Any, **kwargs: Any) -> Any:
        raise AssertionError("apply_patch must not walk or rebuild a list")

    __iter__ = __reversed__ = __eq__ = __contains__ = __delitem__ = __iadd__ = _forbidden
    extend = remove = clear = sort = reverse = index = count = copy = _forbidden
    __copy__ = __deepcopy__ = __reduce_ex__ = _forbidden


def total(calls: dict[str, int]) -> int:
    return sum(calls.values())


def big_doc() -> tuple[dict[str, Any], CountingList]:
    big = CountingList([0] * 1_000_000)
    big[5000] = {"name": "row"}
    big.calls.clear()
    return {"rows": big}, big


COST_OPS: list[dict[str, Any]] = [
    {"op": "replace", "path": "/rows/5000/name", "value": "x"},
    {"op": "test", "path": "/rows/5000/name", "value": "x"},
    {"op": "add", "path": "/rows/5000", "value": 1},
    {"op": "remove", "path": "/rows/5001"},
    {"op": "move", "from": "/rows/999999", "path": "/rows/3"},
    {"op": "copy", "from": "/rows/5001", "path": "/rows/-"},
]


def test_cost_does_not_depend_on_list_size() -> None:
    doc, big = big_doc()
    apply_patch(doc, COST_OPS)
    assert set(big.calls) <= ALLOWED
    assert total(big.calls) < 10 * len(COST_OPS)
    assert len(big) == 1_000_001
    assert big[5001] == 1 and big[-1] == 1 and big[3] == 0


def test_cost_of_a_rollback_does_not_depend_on_list_size() -> None:
    doc, big = big_doc()
    row = big[5000]
    failing: list[dict[str, Any]] = [*COST_OPS, {"op": "remove", "path": "/rows/2000000"}]
    with pytest.raises(PatchError):
        apply_patch(doc, failing)
    assert set(big.calls) <= ALLOWED
    assert total(big.calls) < 20 * len(failing)
    assert len(big) == 1_000_000
    assert big[5000] is row and row == {"name": "row"}


class CountingDict(dict[str, Any]):
    """Any dict method that walks or rebuilds is a failure."""

    def _forbidden(self, *args: Any, **kwargs: Any) -> Any:
        raise AssertionError("apply_patch must not walk or rebuild a dict")

    __iter__ = __eq__ = __delitem__ = __ior__ = __or__ = __reversed__ = _forbidden
    keys = values = items = update = setdefault = popitem = clear = copy = _forbidden
    __copy__ = __deepcopy__ = __reduce_ex__ = _forbidden


def test_cost_does_not_depend_on_dict_size() -> None:
    wide = CountingDict({f"k{i}": i for i in range(100_000)})
    doc = {"wide": wide}
    ops: list[dict[str, Any]] = [
        {"op": "replace", "path": "/wide/k5", "value": "x"},
        {"op": "add", "path": "/wide/new", "value": 1},
        {"op": "remove", "path": "/wide/k7"},
        {"op": "move", "from": "/wide/k8", "path": "/wide/k9"},
        {"op": "test", "path": "/wide/k9", "value": 8},
        {"op": "remove", "path": "/wide/missing"},
    ]
    with pytest.raises(PatchError):
        apply_patch(doc, ops)
    assert dict.__len__(wide) == 100_000
    assert dict.__getitem__(wide, "k5") == 5 and dict.__getitem__(wide, "k7") == 7
    assert not dict.__contains__(wide, "new")


# --- random op shapes --------------------------------------------------------------------

op_names = st.sampled_from(["add", "remove", "replace", "move", "copy", "test"])
junk = st.none() | st.integers() | st.lists(st.integers(), max_size=2) | st.just({"a": 1})


@st.composite
def patches(draw: st.DrawFn) -> tuple[Any, list[Any]]:
    doc = draw(st.dictionaries(st.text("ab~/", max_size=2), json_values, max_size=4))
    real = st.sampled_from(pointers(doc))
    path = st.one_of(
        real,
        real,
        real.map(lambda p: p + "/-"),
        real.map(lambda p: p + "/0"),
        real.map(lambda p: p + "/a"),
        st.text("/~01a-", max_size=6),
    )
    well_formed = st.fixed_dictionaries(
        {"op": op_names, "path": path, "from": path, "value": json_values}
    )
    malformed = st.builds(
        lambda name, members: {"op": name, **members},
        op_names | st.text(max_size=3) | junk,
        st.fixed_dictionaries({}, optional={"path": path | junk, "from": path | junk}),
    )
    # Mostly valid shapes, so that patches get far enough to need a rollback.
    shapes = st.sampled_from([well_formed] * 8 + [malformed, junk])
    return doc, [draw(draw(shapes)) for _ in range(draw(st.integers(1, 6)))]


@settings(max_examples=500)
@given(patches())
def test_only_patch_errors_escape_and_failures_change_nothing(case: tuple[Any, list[Any]]) -> None:
    doc, ops = case
    before = json_copy(doc)
    ids = identities(doc)
    try:
        apply_patch(doc, ops)
    except PatchError as error:
        assert error.code in {"bad_op", "bad_path", "test_failed"}
        assert error.message.startswith("op ")
        assert json_equal(doc, before)
        assert identities(doc) == ids
