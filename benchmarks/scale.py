"""Issue 10's kernel-side workloads at 10k, 100k and 1M rows: syncstate beside ipywidgets and
anywidget, one kernel each, in one run. See benchmarks/README.md ("Scale").

    .venv/bin/python benchmarks/scale.py                     # 10k, 100k, 1M rows, 3 repeats
    .venv/bin/python benchmarks/scale.py --quick             # 10k and 100k rows, 1 repeat
    .venv/bin/python benchmarks/scale.py --sizes 10000 --repeats 1
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

from harness import Kernel, comm_msgs, stream_text, wire_bytes

CLONE = Path(__file__).resolve().parent.parent
IPYW, ANYW, SYNC = "ipywidgets", "anywidget", "syncstate"
SYSTEMS = (IPYW, ANYW, SYNC)

PRELUDE = """
import gc, time, tracemalloc
import traitlets as T
from IPython import get_ipython

def make_rows(n):
    return [{"id": i, "label": f"item {i}", "done": False} for i in range(n)]

def show(m):
    # What display(m) computes in the kernel: every mime representation.
    return get_ipython().display_formatter.format(m)

def bench_create(n):
    rows = make_rows(n)
    gc.collect()
    t0 = time.perf_counter()
    m = M(rows=rows)
    show(m)
    elapsed = time.perf_counter() - t0
    m.close()
    return elapsed

def bench_reorder_edits(m, edits=1000):
    # `edits` in-place edits of random rows, each finding its row's path; ms per 1,000. They
    # leave as one message: a flood of 1,000 would time iopub, not the edits.
    import random
    rng = random.Random(0)
    rows = m.rows
    gc.collect()
    t0 = time.perf_counter()
    with m.hold_sync():
        for _ in range(edits):
            row = rows[rng.randrange(len(rows))]
            row["done"] = not row["done"]
    return (time.perf_counter() - t0) * 1e3 * 1000 / edits

def bench_memory(n):
    gc.collect()
    tracemalloc.start()
    rows = make_rows(n)
    plain = tracemalloc.get_traced_memory()[0]
    tracemalloc.reset_peak()
    m = M(rows=rows)
    show(m)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    m.close()
    return peak / plain
"""

#: Per system: what to import, the model's base class, its comm id.
SETUP = {
    IPYW: ("import ipywidgets as W", "W.DOMWidget", "m.comm.comm_id"),
    ANYW: ("import anywidget", "anywidget.AnyWidget", "m.comm.comm_id"),
    SYNC: ("import syncstate", "syncstate.Model", "m.model_id"),
}

MODEL = """
{imports}

class M({base}):
    _esm = "export default {{ render() {{}} }}"
    n = T.Int(0).tag(sync=True)
    rows = T.List(T.Dict()).tag(sync=True)

def comm_id(m):
    return {comm_id}
"""


@dataclass(frozen=True)
class Config:
    sizes: tuple[int, ...] = (10_000, 100_000, 1_000_000)
    repeats: int = 3
    edits: int = 200  # inbound messages per sample


@dataclass
class Figures:
    samples: dict[str, list[float]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    def add(self, key: str, value: float) -> None:
        self.samples.setdefault(key, []).append(value)

    def median(self, key: str) -> float | None:
        values = self.samples.get(key)
        return statistics.median(values) if values else None


def inbound_us(
    kernel: Kernel, comm_id: str, messages: Sequence[object], check: str
) -> tuple[float, str]:
    """µs per message from the first send until `check` ran after them all (shell order)."""
    t0 = time.perf_counter()
    for data in messages:
        kernel.send_comm(comm_id, data)
    seen = kernel.execute(check)
    return 1e6 * (seen[-1].at - t0) / len(messages), stream_text(seen).strip()


def run(config: Config, log: Callable[[str], None]) -> Figures:
    figures = Figures()
    with ExitStack() as stack:
        kernels: dict[str, Kernel] = {}
        for system in SYSTEMS:
            log(f"starting a kernel for {system}")
            kernel = stack.enter_context(Kernel(path=[str(CLONE)]))
            imports, base, comm_id = SETUP[system]
            kernel.execute(PRELUDE + MODEL.format(imports=imports, base=base, comm_id=comm_id))
            kernels[system] = kernel
        small = {
            s: kernels[s].output("small = M()\nprint(comm_id(small))").strip() for s in SYSTEMS
        }
        for size in config.sizes:
            for rep in range(config.repeats):
                log(f"{size:,} rows, repeat {rep + 1} of {config.repeats}")
                for system in SYSTEMS:
                    kernel = kernels[system]
                    seconds = float(kernel.output(f"print(bench_create({size}))"))
                    figures.add(f"create@{size}|{system}", seconds * 1e3)
                    figures.add(
                        f"memory@{size}|{system}",
                        float(kernel.output(f"print(bench_memory({size}))")),
                    )
                _inbound(config, kernels, small, size, rep, figures)
                _after_reorders(kernels[SYNC], size, figures)
                _assignments(kernels[SYNC], size, figures)
    return figures


def _after_reorders(kernel: Kernel, size: int, figures: Figures) -> None:
    """1,000 random-row edits before any reorder, after an `insert(0)` and after a `sort()`."""
    times = kernel.output(
        f"big = M(rows=make_rows({size}))\n"
        "all_rows = list(big.rows)  # every row reached (tracked), as after any edit of it\n"
        "bench_reorder_edits(big)  # a first run, untimed: the interpreter specialises the loop\n"
        "before = bench_reorder_edits(big)\n"
        "big.rows.insert(0, {'id': -1, 'label': 'first', 'done': False})\n"
        "inserted = bench_reorder_edits(big)\n"
        "big.rows.sort(key=lambda row: -row['id'])\n"
        "print(before, inserted, bench_reorder_edits(big))\n"
        "big.close()\ndel big, all_rows"
    ).split()
    for key, value in zip(("edits_before", "edits_inserted", "edits_sorted"), times, strict=True):
        figures.add(f"{key}@{size}|{SYNC}", float(value))


#: Assignments of a whole list, each to a fresh model: (name, the new value's expression).
ASSIGNMENTS = (
    ("clear", "[]"),
    ("new rows", "[dict(row, label='new') for row in make_rows(len(big.rows))]"),
    ("sorted", "sorted(big.rows, key=lambda row: -row['id'])"),
)


def _assignments(kernel: Kernel, size: int, figures: Figures) -> None:
    """Bytes sent for `m.rows = <new value>`, and the new value's own JSON bytes."""
    for name, expression in ASSIGNMENTS:
        model_id = kernel.output(
            f"import json\nbig = M(rows=make_rows({size}))\nnew = {expression}\n"
            "new_bytes = len(json.dumps(new, separators=(',', ':')))\nprint(comm_id(big))"
        ).strip()
        seen = kernel.execute("big.rows = new")
        sent = sum(wire_bytes(r.msg) for r in comm_msgs(seen, model_id))
        figures.add(f"assign_bytes:{name}@{size}|{SYNC}", sent)
        figures.add(f"value_bytes:{name}@{size}|{SYNC}", float(kernel.output("print(new_bytes)")))
        kernel.execute("big.close()\ndel big, new")


def _inbound(
    config: Config,
    kernels: dict[str, Kernel],
    small: dict[str, str],
    size: int,
    rep: int,
    figures: Figures,
) -> None:
    """ipywidgets' inbound Int (the anchor) beside a syncstate edit of one field of one row,
    in `INBOUND_ROUNDS` rounds, each a pair measured back to back (in turn, which goes first):
    a neighbour's load on the shared cores lands on both systems of a pair rather than on
    whichever ran then, and the goal is the median of the pairs' ratios."""
    n = config.edits
    updates = [{"method": "update", "state": {"n": i}, "buffer_paths": []} for i in range(n)]
    sync = kernels[SYNC]
    # Collected first: the garbage of building a million rows is not the edits' to pay.
    big = sync.output(
        f"big = M(rows=make_rows({size}))\ngc.collect()\nprint(comm_id(big), big.version)"
    ).split()
    version = int(big[1])
    for round_ in range(INBOUND_ROUNDS):
        edits = [
            {
                "method": "patch",
                "id": f"r{rep}.{round_}:{i}",
                "base": version + i,
                "ops": [{"op": "replace", "path": f"/rows/{i * 7919 % size}/done", "value": flip}],
            }
            for i, flip in zip(range(n), itertools.cycle((True, False)), strict=False)
        ]
        pair = {}
        for system in (IPYW, SYNC) if round_ % 2 == 0 else (SYNC, IPYW):
            if system == IPYW:
                pair[system], got = inbound_us(kernels[IPYW], small[IPYW], updates, ANCHOR_CHECK)
                if got != str(n - 1):
                    figures.problems.append(f"ipywidgets inbound: {got}")
            else:
                pair[system], got = inbound_us(sync, big[0], edits, "print(big.version)")
                version += n
                if got != str(version):
                    figures.problems.append(f"syncstate inbound row edits at {size:,}: {got}")
        figures.add(f"inbound_int@{size}|{IPYW}", pair[IPYW])
        figures.add(f"inbound_row@{size}|{SYNC}", pair[SYNC])
        figures.add(f"inbound_pair_ratio@{size}|{SYNC}", pair[SYNC] / pair[IPYW])
    sync.execute("big.close()\ndel big")


#: Pairs of inbound rounds per size and repeat.
INBOUND_ROUNDS = 5
#: What ends a round of the anchor: the value its last update set.
ANCHOR_CHECK = "print(small.n)"


def render(config: Config, f: Figures, elapsed: float) -> str:
    lines = [f"{'workload':<32} {'rows':>10} {IPYW:>11} {ANYW:>10} {SYNC:>10}"]
    lines.append("-" * len(lines[0]))

    def cell(value: float | None) -> str:
        return "-" if value is None else f"{value:,.1f}" if value < 100 else f"{value:,.0f}"

    for key, label in (
        ("create", "create + display, ms"),
        ("memory", "peak memory / plain list"),
        ("inbound_int", "inbound Int, µs/edit"),
        ("inbound_row", "inbound row field, µs/edit"),
        ("edits_before", "1,000 row edits, ms"),
        ("edits_inserted", "the same after insert(0), ms"),
        ("edits_sorted", "the same after sort(), ms"),
        *((f"assign_bytes:{name}", f"rows = {name}: bytes sent") for name, _ in ASSIGNMENTS),
        *((f"value_bytes:{name}", f"rows = {name}: its JSON bytes") for name, _ in ASSIGNMENTS),
    ):
        for size in config.sizes:
            cells = [cell(f.median(f"{key}@{size}|{s}")) for s in SYSTEMS]
            lines.append(f"{label:<32} {size:>10,} {cells[0]:>11} {cells[1]:>10} {cells[2]:>10}")
    lines.append("")
    lines.append("goal                                                    ratio   verdict")
    for text, ratio, goal in goals(config, f):
        verdict = "n/a" if ratio is None else "PASS" if ratio <= goal else "MISS"
        shown = "-" if ratio is None else f"{ratio:.3g}x"
        lines.append(f"{text:<52} {shown:>9}   {verdict}")
    lines.append("")
    lines.append(
        f"medians of {config.repeats} repeats (inbound: {INBOUND_ROUNDS} pairs of rounds of"
        f" {config.edits} edits per repeat, the goal the median of the pairs' ratios);"
        f" {elapsed:.0f} s in all."
    )
    lines.extend(f"PROBLEM: {p}" for p in f.problems)
    return "\n".join(lines)


def goals(config: Config, f: Figures) -> list[tuple[str, float | None, float]]:
    def ratio(a: str, b: str) -> float | None:
        x, y = f.median(a), f.median(b)
        return x / y if x is not None and y else None

    out = []
    for size in config.sizes:
        if size >= 100_000:
            out.append(
                (
                    f"create + display at {size:,} <= 1.0x anywidget",
                    ratio(f"create@{size}|{SYNC}", f"create@{size}|{ANYW}"),
                    1.0,
                )
            )
            out.append(
                (
                    f"peak memory at {size:,} <= 1.5x the plain list",
                    f.median(f"memory@{size}|{SYNC}"),
                    1.5,
                )
            )
    top = max(config.sizes)
    for after in ("inserted", "sorted"):
        out.append(
            (
                f"1,000 edits after {after[:-2]} at {top:,} <= 2x before",
                ratio(f"edits_{after}@{top}|{SYNC}", f"edits_before@{top}|{SYNC}"),
                2.0,
            )
        )
    out.append(
        (
            f"rows = [] at {top:,}: bytes / 200",
            (f.median(f"assign_bytes:clear@{top}|{SYNC}") or 0) / 200 or None,
            1.0,
        )
    )
    for name, _ in ASSIGNMENTS[1:]:
        out.append(
            (
                f"rows = {name} at {top:,} <= 1.1x the value's JSON",
                ratio(f"assign_bytes:{name}@{top}|{SYNC}", f"value_bytes:{name}@{top}|{SYNC}"),
                1.1,
            )
        )
    out.append(
        (
            f"row field edit at {top:,} <= 1.2x ipywidgets' inbound Int",
            f.median(f"inbound_pair_ratio@{top}|{SYNC}"),
            1.2,
        )
    )
    return out


def parse_config(description: str, argv: list[str] | None) -> Config:
    """The sizes and repeats asked for on the command line (also used by browser.py)."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--quick", action="store_true", help="10k and 100k rows, 1 repeat")
    parser.add_argument("--sizes", type=int, nargs="+", help="row counts")
    parser.add_argument("--repeats", type=int, help="repeats of each workload")
    args = parser.parse_args(argv)
    config = Config(sizes=(10_000, 100_000), repeats=1) if args.quick else Config()
    if args.sizes:
        config = Config(sizes=tuple(args.sizes), repeats=config.repeats)
    if args.repeats:
        config = Config(sizes=config.sizes, repeats=args.repeats)
    return config


def run_main(
    name: str,
    description: str,
    argv: list[str] | None,
    run: Callable[[Config, Callable[[str], None]], Figures],
    render: Callable[[Config, Figures, float], str],
) -> Figures:
    """A benchmark's command line (also browser.py's): parse the sizes, run the workloads with
    progress on stderr, print the report; return the figures."""
    config = parse_config(description, argv)

    def log(text: str) -> None:
        print(f"[{name}] {text}", file=sys.stderr, flush=True)

    start = time.perf_counter()
    figures = run(config, log)
    print(render(config, figures, time.perf_counter() - start))
    return figures


def main(argv: list[str] | None = None) -> int:
    figures = run_main("scale", "issue 10 workloads at scale", argv, run, render)
    return 1 if figures.problems else 0


if __name__ == "__main__":
    sys.exit(main())
