"""syncstate/size.py: what frontend edits may add to a model, at a bounded cost to measure."""

from __future__ import annotations

import itertools
import json

import pytest

from syncstate import size as size_module
from syncstate.protocol import SyncError, limits
from syncstate.size import DocumentSize, document_size


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    clock = Clock()
    monkeypatch.setattr(size_module.time, "monotonic", clock)
    monkeypatch.setattr(limits, "max_document_bytes", 1_000)
    return clock


def test_edits_are_admitted_without_a_measure_while_the_estimate_fits(clock: Clock) -> None:
    bound = DocumentSize()
    for version in range(9):
        bound.admit(100, version, measure=pytest.fail)
    assert bound.estimate == 900


def test_a_measure_decides_once_the_estimate_would_pass_the_limit(clock: Clock) -> None:
    bound = DocumentSize()
    bound.admit(900, 0, measure=pytest.fail)
    bound.admit(200, 1, measure=lambda: 400)  # the kernel removed most of it meanwhile
    assert bound.estimate == 400
    bound.admit(700, 2, measure=lambda: 900)
    assert bound.estimate == 900
    with pytest.raises(SyncError) as refused:
        bound.admit(200, 3, measure=lambda: 1_100)
    assert refused.value.code == "too_large"
    assert bound.estimate == 900  # without the refused edit: at least 1,100 - 200


def test_nothing_changed_since_a_refusing_measure_means_no_new_measure(clock: Clock) -> None:
    bound = DocumentSize()
    bound.admit(950, 4, measure=pytest.fail)
    with pytest.raises(SyncError):
        bound.admit(100, 5, measure=lambda: 1_050)
    clock.now = 100.0
    with pytest.raises(SyncError):
        bound.admit(60, 5, measure=pytest.fail)
    bound.admit(0, 5, measure=pytest.fail)  # removing never needs one


def test_measures_take_at_most_a_tenth_of_the_time(clock: Clock) -> None:
    """A frontend sending edit after edit to a nearly full model cannot make the kernel walk
    it for each one."""
    bound = DocumentSize()
    bound.admit(950, 0, measure=pytest.fail)
    measures = []

    def measure() -> int:
        measures.append(clock.now)
        clock.now += 1.0  # a walk of a big document
        return 1_050

    for version in range(100):
        with pytest.raises(SyncError):
            bound.admit(100, version, measure)
        clock.now += 0.1  # the next message
    assert 2 <= len(measures) <= clock.now / 10 + 1  # each 1 s walk, then 9 s without
    assert all(b - a >= 10.0 for a, b in itertools.pairwise(measures))


@pytest.mark.parametrize(
    "value",
    [
        {"title": "héllo", "rows": [{"a": 1, "b": 2.5, "c": None, "d": True}] * 3, "e": []},
        [[[]], "", {"": {"x": "y"}}],
        "plain",
    ],
)
def test_document_size_is_about_its_json_text(value: object) -> None:
    text = len(json.dumps(value, ensure_ascii=False))
    assert text / 2 <= document_size(value) <= 4 * text + 40


def test_binary_counts_by_length() -> None:
    assert document_size({"image": b"\0" * 10_000}) >= 10_000
