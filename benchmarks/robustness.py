"""Robustness figures: convergence programs run, hostile messages fuzzed (answers, worst time
for one message), memory held after large changes, the costliest edits, lifecycle memory.

    .venv/bin/python benchmarks/robustness.py [--programs N] [--messages N] [--models N]

The same code as tests/python/test_convergence.py, test_fuzz.py and
tests/integration/test_lifecycle.py, with seeded randomness, printing what it did.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "python"), str(ROOT / "tests" / "integration")]

from test_convergence import Chooser, fake_comms, run_program  # noqa: E402
from test_fuzz import fuzz  # noqa: E402


def convergence(programs: int) -> None:
    start = time.perf_counter()
    edits = errors = 0
    with fake_comms():
        for seed in range(programs):
            rng = random.Random(seed)
            world = run_program(Chooser.from_random(rng), steps=rng.randint(1, 40))
            edits += len(world.edits)
            errors += sum(len(m.errors) for m in world.mirrors)
    elapsed = time.perf_counter() - start
    print(
        f"convergence: {programs} programs, {edits} edits, {errors} reported errors, "
        f"all converged ({elapsed:.1f} s)"
    )


def hostile(messages: int) -> None:
    start = time.perf_counter()
    stats = fuzz(messages, seed=1)
    elapsed = time.perf_counter() - start
    print(
        f"fuzz: {stats.messages} model-comm messages + {stats.control} control-comm "
        f"messages, none raised, state valid after each ({elapsed:.1f} s)"
    )
    print("  answers: " + ", ".join(f"{k} {v}" for k, v in stats.answers.most_common()))
    print(f"  worst time for one message: {stats.worst_seconds * 1000:.1f} ms")


def large_changes() -> None:
    """Memory held after big changes, and the time of the costliest edits (default limits)."""
    import gc
    import tracemalloc

    from traitlets import Dict, Unicode

    import syncstate

    class Big(syncstate.Model):
        title = Unicode("").tag(sync=True)
        meta = Dict().tag(sync=True)

    mib = 1024 * 1024
    with fake_comms():
        model = Big()
        tracemalloc.start()
        base = tracemalloc.get_traced_memory()[0]
        for version in range(8):
            ops = [{"op": "replace", "path": "/title", "value": str(version) * 16 * mib}]
            model._comm.deliver({"method": "patch", "id": "t", "base": version, "ops": ops})
            model._comm.sent.clear()  # what the fake comm keeps is not the kernel's
        for version in range(8):
            model.title = str(version) * 16 * mib
            model._comm.sent.clear()
        del ops
        gc.collect()
        held = tracemalloc.get_traced_memory()[0] - base
        tracemalloc.stop()
        print(
            f"large changes: 8 edits + 8 assignments of 16 MiB strings leave {held / mib:.1f} "
            f"MiB held (one 16 MiB title); history holds {model._channel.history.held_bytes} "
            "bytes of paths"
        )
        keys = [{"op": "add", "path": f"/meta/k{i}", "value": i} for i in range(10_000)]
        model._comm.deliver({"method": "patch", "id": "k", "base": model.version, "ops": keys})
        tests = [{"op": "test", "path": f"/title/{i}", "value": 0} for i in range(10_000)]
        start = time.perf_counter()
        model._comm.deliver({"method": "patch", "id": "c", "base": 0, "ops": tests})
        conflict_ms = (time.perf_counter() - start) * 1000
        model.meta = {"a": "x" * 4000}
        copies = [{"op": "copy", "from": "/meta", "path": f"/meta/k{i}"} for i in range(15)]
        start = time.perf_counter()
        model._comm.deliver({"method": "patch", "id": "a", "base": model.version, "ops": copies})
        copy_ms = (time.perf_counter() - start) * 1000
        code = model._comm.sent[-1][0].get("code")
        print(
            f"  10,000-op edit on base 0 after a 10,000-key change: {conflict_ms:.0f} ms; "
            f"15 doubling copies: {code} in {copy_ms:.0f} ms"
        )
        model.meta, added, slowest = {}, 0, 0.0
        while True:
            ops = [{"op": "add", "path": f"/meta/g{added}", "value": "y" * 16 * mib}]
            start = time.perf_counter()
            model._comm.deliver({"method": "patch", "id": "g", "base": model.version, "ops": ops})
            slowest = max(slowest, time.perf_counter() - start)
            code = model._comm.sent[-1][0].get("code")
            model._comm.sent.clear()
            if code is not None:
                break
            added += 1
        print(
            f"  16 MiB values added one edit at a time: {code} after {added * 16} MiB "
            f"(max_document_bytes {syncstate.limits.max_document_bytes // mib} MiB); "
            f"slowest edit {slowest * 1000:.0f} ms"
        )
        model.close()


def lifecycle(models: int) -> None:
    from jupyter_client.manager import start_new_kernel
    from kernel_client import KernelFrontend
    from test_lifecycle import run_lifecycle

    km, kc = start_new_kernel(kernel_name="python3")
    try:
        start = time.perf_counter()
        figures = run_lifecycle(KernelFrontend(kc), models)
        elapsed = time.perf_counter() - start
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
    before, after = figures["before"], figures["after"]
    mib = 1024 * 1024
    print(f"lifecycle: {models} models created, displayed, changed, closed ({elapsed:.1f} s)")
    print(
        f"  RSS {before['rss'] / mib:.1f} -> {after['rss'] / mib:.1f} MiB "
        f"({100 * (after['rss'] / before['rss'] - 1):+.2f} %)"
    )
    print(
        f"  tracemalloc {before['traced'] / mib:.2f} -> {after['traced'] / mib:.2f} MiB "
        f"({(after['traced'] - before['traced']) / models:+.1f} bytes per model)"
    )
    print(f"  live models {after['live']}, open comms {before['comms']} -> {after['comms']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--programs", type=int, default=1000)
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--models", type=int, default=10_000)
    args = parser.parse_args()
    convergence(args.programs)
    hostile(args.messages)
    large_changes()
    if args.models:
        lifecycle(args.models)


if __name__ == "__main__":
    main()
