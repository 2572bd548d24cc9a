"""Write mirror_scenarios.json: what a frontend mirror must do, step by step.

Each scenario runs a real kernel model (in-memory comms) with two mirrors and random kernel
changes, edits and deliveries; it records what mirror "m0" experiences (its local edits and the
kernel messages it receives) and, after each, what the rules model (rules_model.py, a naive
reading of docs/protocol.md) says its state must be. The Python `Mirror` must agree at every
step, or nothing is written. Some kernel patches are lost on the way to m0, so that it must
notice the gap and `sync`. The hand-written mirror_rules.json covers what random runs cannot.
See README.md for the format.

Run from the repository root: .venv/bin/python tests/vectors/generate.py
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parents[1]), str(HERE.parent / "python"), str(HERE)]

from helpers import Chooser, World, fake_comms, frontend_edit  # noqa: E402
from rules_model import Refused, RulesMirror  # noqa: E402

from syncstate.client import Mirror  # noqa: E402
from syncstate.patch import PatchError, json_copy, json_equal  # noqa: E402

SCENARIOS = 300
SEED = 20240601
FORMAT = "syncstate-mirror-scenarios/1"


def snapshot(mirror: Mirror, sent: list[Any], errors_before: int) -> dict[str, Any]:
    return {
        "visible": json_copy(mirror.state),
        "version": mirror.version,
        "pending": [
            {"id": e.id, "base": e.base, "sent": e.sent, "ops": json_copy(e.ops)}
            for e in mirror.pending
        ],
        "in_flight": mirror.in_flight,
        "syncing": mirror.syncing,
        "sent": list(sent),
        "errors": [{"id": e.id, "code": e.code} for e in mirror.errors[errors_before:]],
    }


def follow_rules(model: RulesMirror, step: dict[str, Any]) -> dict[str, Any]:
    """What the rules model does for the step's event: the expectation recorded."""
    sent, errors = len(model.sent), len(model.errors)
    raised = None
    try:
        if "edit" in step:
            model.patch(json_copy(step["edit"]))
        elif "receive" in step:
            model.receive(json_copy(step["receive"]))
        else:
            model.request_sync()
    except Refused as refusal:
        raised = refusal.code
    expect = model.snapshot() | {"sent": model.sent[sent:], "errors": model.errors[errors:]}
    return expect | ({"raises": raised} if raised else {})


def scenario(index: int, rng: random.Random) -> dict[str, Any]:
    c = Chooser.from_random(rng)
    world = World(mirrors=2)
    try:
        me = world.mirrors[0]
        sent: list[Any] = []
        outbox = world.outbox[0]
        steps: list[dict[str, Any]] = []
        opened = json.loads(json.dumps(world.comm.open_data))

        model = RulesMirror("m0", json_copy(opened["state"]), opened["version"])

        def record(step: dict[str, Any], action: Any) -> None:
            errors = len(me.errors)
            mark = len(outbox)
            raised = None
            try:
                action()
            except PatchError as error:
                raised = error.code
            sent[:] = json_copy(list(outbox)[mark:])  # the kernel may later edit what it got
            world.check()  # the rules' invariants: confirmed = the kernel's, visible = replayed
            expect = follow_rules(model, step)
            # The Python mirror must agree with the rules model: both implement docs/protocol.md.
            mirror_did = snapshot(me, sent, errors) | ({"raises": raised} if raised else {})
            if mirror_did != expect or not json_equal(mirror_did["visible"], expect["visible"]):
                raise AssertionError(
                    f"the mirror departs from the rules at {step}:\n"
                    f"mirror {mirror_did}\nrules  {expect}"
                )
            steps.append({**step, "expect": expect})

        for _ in range(rng.randint(4, 30)):
            action = c.pick(
                ["kernel", "edit", "edit", "me", "me", "other", "to_kernel", "lose", "sync"]
            )
            if action == "kernel":
                world.kernel_step(c)
            elif action == "edit":
                ops = frontend_edit(me.state, c)
                record({"edit": json_copy(ops)}, lambda ops=ops: me.patch(ops))
            elif action == "me" and world.inbox[0]:
                message = world.inbox[0].popleft()
                record({"receive": json_copy(message)}, lambda m=message: me.handle_message(m))
            elif action == "lose" and len(world.inbox[0]) > 1:  # a later message shows the gap
                message = world.inbox[0][0]
                if message["method"] == "patch" and not message.get("ack"):
                    world.inbox[0].popleft()  # a lost kernel patch: m0 must notice the gap
            elif action == "other":
                other = world.mirrors[1]
                with contextlib.suppress(PatchError):  # refused locally: nothing happened
                    other.patch(frontend_edit(other.state, c))
                while world.inbox[1]:
                    other.handle_message(world.inbox[1].popleft())
                while world.outbox[1]:
                    world.to_kernel(1)
            elif action == "to_kernel" and world.outbox[0]:
                world.to_kernel(0)
            elif action == "sync":
                record({"request_sync": True}, me.request_sync)
        # Settle: deliver everything for m0, so most scenarios end converged.
        while world.outbox[0] or world.inbox[0]:
            if world.outbox[0]:
                world.to_kernel(0)
            while world.inbox[0]:
                message = world.inbox[0].popleft()
                record({"receive": json_copy(message)}, lambda m=message: me.handle_message(m))
        return {"name": f"random-{index}", "client_id": "m0", "open": opened, "steps": steps}
    finally:
        world.model.close()


def main() -> None:
    if os.environ.get("PYTHONHASHSEED") != "0":
        # The kernel validates a multi-field edit in set order, which picks which error
        # message a rejection carries: fix string hashing so the file is reproducible.
        env = {**os.environ, "PYTHONHASHSEED": "0"}
        os.execve(sys.executable, [sys.executable, *sys.argv], env)
    rng = random.Random(SEED)
    with fake_comms():
        scenarios = [scenario(i, rng) for i in range(SCENARIOS)]
    doc = {
        "format": FORMAT,
        "about": "Frontend mirror conformance vectors for docs/protocol.md; see "
        "tests/vectors/README.md. Generated by tests/vectors/generate.py; do not edit.",
        "scenarios": scenarios,
    }
    out = HERE / "mirror_scenarios.json"
    out.write_text(json.dumps(doc, indent=None, separators=(",", ":"), sort_keys=True) + "\n")
    steps = sum(len(s["steps"]) for s in scenarios)
    print(f"wrote {out} ({len(scenarios)} scenarios, {steps} steps)")


if __name__ == "__main__":
    main()
