"""One protocol vocabulary: docs/protocol.md's "Vocabulary" tables, syncstate/protocol.py and
js/src/core/protocol.ts name the same constants with the same values, nothing more or less,
and each name is also used in the rest of docs/protocol.md (documented, not only listed).
The fields of messages are spelled in the message modules (and the saved-view ones) alone."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from syncstate import protocol

ROOT = Path(__file__).resolve().parents[2]
DOC = (ROOT / "docs" / "protocol.md").read_text()
TS = (ROOT / "js" / "src" / "core" / "protocol.ts").read_text()
BODY, VOCABULARY = DOC.split("\n## Vocabulary\n")
ROW = re.compile(r"^\| `([^`]+)` \| `([A-Z_]+)` \|", re.M)
FIELDS_TABLE = VOCABULARY.split("### Fields")[1].split("\n### ")[0]
FIELDS = re.findall(r"^\| `([a-z_]+)` \|", FIELDS_TABLE, re.M)
PY_SPELLERS = [ROOT / "syncstate" / name for name in ("messages.py", "saved.py")]
TS_SPELLERS = [ROOT / "js" / "src" / "core" / name for name in ("messages.ts", "saved.ts")]


def documented() -> dict[str, str]:
    """Constant name -> value, from the Vocabulary tables."""
    rows = ROW.findall(VOCABULARY)
    names = [name for _, name in rows]
    assert len(names) == len(set(names)), "a constant is listed twice"
    return {name: value for value, name in rows}


def python_constants() -> dict[str, str]:
    return {
        name: value
        for name, value in vars(protocol).items()
        if name.isupper() and isinstance(value, str)
    }


def typescript_constants() -> dict[str, str]:
    found = re.findall(r"^export const ([A-Z_]+) = '([^']*)';$", TS, re.M)
    assert found, "no constants parsed from protocol.ts"
    return dict(found)


def test_the_tables_list_every_constant_of_both_languages() -> None:
    expected = documented()
    assert len(expected) > 30
    assert python_constants() == expected
    assert typescript_constants() == expected


def test_the_typescript_file_declares_nothing_else() -> None:
    """Every `export` of protocol.ts is one of the parsed constants (none slips past the regex)."""
    assert TS.count("export ") == len(typescript_constants())


@pytest.mark.parametrize("value", sorted(set(documented().values())))
def test_every_name_is_documented_in_the_body(value: str) -> None:
    # As code (`patch`), or as JSON text ("patch", or the start of "syncstate:<model_id>").
    assert f"`{value}`" in BODY or f'"{value}' in BODY, value


def test_the_frontend_codes_table_matches_the_vocabulary() -> None:
    """The codes a frontend reports itself are the ones listed as such, in both places."""
    section = BODY.split("## Codes a frontend reports itself")[1].split("\n## ")[0]
    own = set(re.findall(r"^\| `([a-z_]+)` \|", section, re.M))
    listed = {value for value, _, by in _code_rows() if by == "frontend mirrors only"}
    assert own == listed == {protocol.DROPPED, protocol.CLOSED, protocol.OUT_OF_SYNC}


def test_the_reject_codes_table_matches_the_vocabulary() -> None:
    section = BODY.split("### `reject`")[1].split("\n### ")[0]
    codes = set(re.findall(r"^\| `([a-z_]+)` \|", section, re.M))
    kernel = {value for value, _, by in _code_rows() if by == "kernel"}
    assert kernel <= codes <= {value for value, _, _ in _code_rows()}


def _code_rows() -> list[tuple[str, str, str]]:
    section = VOCABULARY.split("### Error codes")[1]
    return re.findall(r"^\| `([^`]+)` \| `([A-Z_]+)` \| ([^|]+?) \|$", section, re.M)


def test_every_field_is_spelled_in_the_python_message_modules() -> None:
    """Python writes or reads every message kind (the JS frontend has no control comm)."""
    assert len(FIELDS) > 20
    python = "".join(path.read_text() for path in PY_SPELLERS)
    assert [name for name in FIELDS if f'"{name}"' not in python] == []


def test_no_other_module_spells_the_fields_of_messages() -> None:
    """`method`, `ops`, `ack`, `base` and `request` name nothing but message fields: found
    anywhere else, a message is being written or read outside the message modules."""
    spellers = {*PY_SPELLERS, *TS_SPELLERS}
    python = re.compile(r'"(method|ops|ack|base|request)"')
    typescript = re.compile(r"\bmethod\??:|\.method\b|'method'")
    sources = [*(ROOT / "syncstate").glob("*.py"), *(ROOT / "js" / "src").rglob("*.ts")]
    found = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for path in sources
        if path not in spellers
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if (python if path.suffix == ".py" else typescript).search(line)
        and not line.lstrip().startswith(("#", "*", "//"))
    ]
    assert found == []
