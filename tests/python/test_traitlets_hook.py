"""What syncstate relies on in traitlets (model.py, `_watch_silent_sets`), pinned on plain
`HasTraits` classes: if traitlets changes any of it, these fail before a model misbehaves."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from typing import Any

import pytest
from traitlets import Any as AnyTrait
from traitlets import HasTraits, Int, List, TraitError, validate

import syncstate


class Plain(HasTraits):
    value = AnyTrait(0)
    items = List()

    @validate("value")
    def _check(self, proposal: Any) -> Any:
        if proposal.value == "refused":
            raise TraitError("refused")
        return proposal.value


@pytest.fixture
def calls() -> Iterator[list[tuple[Any, bool]]]:
    """Wrap `Plain.value`'s `set` as syncstate wraps synced traits' `set`; record each call
    as (value, whether the cross-validation lock was held)."""
    trait = Plain.class_traits()["value"]
    plain_set = trait.set
    seen: list[tuple[Any, bool]] = []

    def recording_set(obj: Any, value: Any) -> None:
        seen.append((value, obj._cross_validation_lock))
        plain_set(obj, value)

    trait.set = recording_set  # type: ignore[method-assign]
    try:
        yield seen
    finally:
        del trait.set


def test_every_way_of_assigning_calls_the_traits_set(calls: list[tuple[Any, bool]]) -> None:
    obj = Plain(value=1)  # constructor keywords
    obj.value = 2  # attribute assignment
    obj.set_trait("value", 3)  # set_trait
    assert calls == [(1, True), (1, True), (2, False), (3, False)]  # (set again at the end)


def test_hold_trait_notifications_sets_again_under_the_lock(
    calls: list[tuple[Any, bool]],
) -> None:
    """The final cross-validation (and a roll-back) go through `set` while the lock is held,
    which is why `Model._after_silent_set` leaves those to the `Transaction`."""
    obj = Plain()
    with obj.hold_trait_notifications():
        obj.value = 5
    assert calls == [(5, True), (5, True)]
    calls.clear()
    with pytest.raises(TraitError), obj.hold_trait_notifications():
        obj.value = "refused"
    assert calls == [("refused", True), (5, True)]  # set, then rolled back
    assert obj.value == 5


def test_traitlets_keeps_equal_assignments_silent() -> None:
    """Stored, but not notified, when new == old: what `Model._after_silent_set` exists for."""
    obj = Plain(value=1, items=[1])
    changes: list[Any] = []
    obj.observe(changes.append)
    obj.value = True
    old_items = obj.items
    obj.items = [1]
    assert obj.value is True and obj.items is not old_items
    assert changes == []


def test_a_model_syncs_what_traitlets_keeps_silent(comms: Any) -> None:
    class Flags(syncstate.Model):
        value = AnyTrait(1).tag(sync=True)
        items = List().tag(sync=True)

    model = Flags(items=[1])
    channel = model._comm
    model.value = True
    assert channel.sent[-1][0]["ops"] == [{"op": "replace", "path": "/value", "value": True}]
    model.items = [1]
    model.items.append(2)  # seen in place: the trait holds the tracked document
    assert channel.sent[-1][0]["ops"] == [{"op": "add", "path": "/items/1", "value": 2}]


def test_frontend_read_only_tag_needs_no_warning_filter(comms: Any) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")

        class Counter(syncstate.Model):
            count = Int(0).tag(sync=True, frontend_read_only=True)

        Counter()


def test_the_former_read_only_tag_still_works_and_is_deprecated(comms: Any) -> None:
    with pytest.warns(UserWarning, match="constructor keywords"):  # traitlets' own warning

        class Counter(syncstate.Model):
            count = Int(0).tag(sync=True, read_only=True)

    with pytest.warns(DeprecationWarning, match="frontend_read_only"):
        model = Counter()
    edit = [{"op": "replace", "path": "/count", "value": 1}]
    model._comm.deliver({"method": "patch", "id": "e", "base": 0, "ops": edit})
    assert model._comm.sent[-1][0]["code"] == "forbidden" and model.count == 0
