"""Convergence, property-based: a kernel model and 2-3 `Mirror`s, messages delivered at random.

The kernel broadcasts every comm message to every mirror; each mirror's messages reach the
kernel in order, interleaved with other mirrors' messages and kernel changes as hypothesis
chooses (one FIFO queue per channel and direction). After everything is delivered, every
mirror shows exactly the kernel's state, and every edit was acknowledged or reported.

`SYNCSTATE_LONG=1` runs 20 times as many cases (nightly).
"""

from __future__ import annotations

import os
import random
from typing import Any

import pytest
from helpers import Chooser, World, fake_comms
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

LONG = os.environ.get("SYNCSTATE_LONG") == "1"
CASES = 1000 * (20 if LONG else 1)


def run_program(c: Chooser, steps: int) -> World:
    world = World(mirrors=c.integer(2, 3))
    try:
        for _ in range(steps):
            action = c.pick(
                ["kernel", "edit", "edit", "deliver", "deliver", "deliver", "sync", "join", "lose"]
            )
            i = c.integer(0, len(world.mirrors) - 1)
            if action == "kernel":
                world.kernel_step(c)
            elif action == "edit":
                world.edit(i, c)
            elif action == "deliver" and world.busy():
                world.deliver(c.pick(world.busy()))
            elif action == "sync":
                world.mirrors[i].request_sync()
            elif action == "join" and len(world.mirrors) < 3:
                world.join_late()
            elif action == "lose" and world.inbox[i]:
                world.lose(i)
            world.check()
        world.drain(c)
        world.check_converged()
        return world
    finally:
        world.model.close()


@pytest.mark.timeout(3600 if LONG else 300)
@settings(
    max_examples=CASES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(st.data())
def test_mirrors_converge_on_the_kernel_state(data: Any) -> None:
    c = Chooser.from_data(data)
    with fake_comms():
        run_program(c, steps=c.integer(1, 40))


def test_a_dragged_value_survives_an_observers_side_effect() -> None:
    """Edits made while one is in flight are combined, and rebased past an ack whose side
    effect (`total`, set by an observer) does not touch what they edit."""
    with fake_comms():
        world = World(mirrors=1)
        mirror = world.mirrors[0]
        for value in range(2, 7):
            mirror.patch([{"op": "replace", "path": "/count", "value": value}])
        assert [m["ops"] for m in world.outbox[0]] == [
            [{"op": "replace", "path": "/count", "value": 2}]
        ]
        assert mirror.pending[1].ops == [{"op": "replace", "path": "/count", "value": 6}]
        world.to_kernel(0)
        world.to_mirror(0)
        assert world.outbox[0][0]["base"] == 1
        world.drain(Chooser.from_random(random.Random(0)))
        assert mirror.state["count"] == 6 == world.model.count
        assert mirror.state["total"] == world.model.total and mirror.errors == []
        world.model.close()


def test_rebase_when_nothing_moved() -> None:
    with fake_comms():
        world = World(mirrors=1)
        mirror = world.mirrors[0]
        for text in ["b", "c", "d"]:
            mirror.patch([{"op": "replace", "path": "/name", "value": text}])
        world.to_kernel(0)
        world.to_mirror(0)  # acked as proposed, nothing else changed
        assert world.outbox[0][0] == {
            "method": "patch",
            "id": "m0:2",
            "base": 1,
            "ops": [{"op": "replace", "path": "/name", "value": "d"}],
        }
        world.to_kernel(0)
        world.to_mirror(0)
        assert mirror.settled and mirror.state["name"] == "d" == world.model.name
        assert mirror.acknowledged == ["m0:1", "m0:2"] and mirror.errors == []
        world.model.close()


def test_a_rejection_takes_its_followers_with_it() -> None:
    with fake_comms():
        world = World(mirrors=1)
        mirror = world.mirrors[0]
        mirror.patch([{"op": "replace", "path": "/count", "value": -1}])  # invalid
        mirror.patch([{"op": "replace", "path": "/name", "value": "z"}])
        world.to_kernel(0)
        world.to_mirror(0)
        assert [(e.id, e.code) for e in mirror.errors] == [("m0:1", "invalid"), ("m0:2", "dropped")]
        assert not world.outbox[0] and mirror.settled
        assert mirror.state["name"] == "a" and mirror.state["count"] == 1
        world.model.close()
