"""The json-patch/json-patch-tests suite (tests/conformance) through apply_patch."""

import json
from pathlib import Path
from typing import Any

import pytest

from syncstate.patch import PatchError, apply_patch, json_copy, json_equal

SUITE = Path(__file__).resolve().parents[1] / "conformance"


def _records() -> list[Any]:
    params = []
    for name in ("tests.json", "spec_tests.json"):
        for index, record in enumerate(json.loads((SUITE / name).read_text())):
            if "doc" not in record or record.get("disabled"):
                continue
            label = f"{name}:{index}:{record.get('comment', record.get('error', ''))}"
            params.append(pytest.param(record, id=label))
    return params


RECORDS = _records()


def test_suite_is_loaded() -> None:
    assert len(RECORDS) > 80


@pytest.mark.parametrize("record", RECORDS)
def test_record(record: dict[str, Any]) -> None:
    doc = json_copy(record["doc"])
    if "error" in record:
        with pytest.raises(PatchError) as error:
            apply_patch(doc, record["patch"])
        assert error.value.code in {"bad_op", "bad_path", "test_failed"}
        assert json_equal(doc, record["doc"])
    else:
        result = apply_patch(doc, record["patch"])
        assert json_equal(result, record.get("expected", record["doc"]))
