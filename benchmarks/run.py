"""syncstate beside ipywidgets (the anchor) and a bare comm (the floor), in one run.

Each system gets its own real ipykernel, started with jupyter_client; this process plays the
frontend. The repeats of every workload are interleaved across the kernels, so that the
ratios compare figures taken under the same load. See benchmarks/README.md.

    .venv/bin/python benchmarks/run.py            # the full run (about 1.5 minutes)
    .venv/bin/python benchmarks/run.py --quick    # a smaller run, for tests
    .venv/bin/python benchmarks/run.py --json     # raw figures as JSON instead of the table
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from harness import Kernel, Received, comm_msgs, stream_text, wire_bytes

#: The clone this script belongs to: its syncstate is the one measured, not an installed copy.
CLONE = Path(__file__).resolve().parent.parent

IPYW, FLOOR, SYNC = "ipywidgets", "bare comm", "syncstate"


@dataclass(frozen=True)
class Config:
    n_small: int = 2000  # kernel -> frontend updates of an Int
    n_inbound: int = 2000  # frontend -> kernel updates of an Int
    n_big: int = 50  # one-field changes of one row
    rows: int = 10_000  # the list both systems sync
    scale_rows: tuple[int, ...] = (100_000, 1_000_000)  # syncstate in place only
    repeats: int = 5


FULL = Config()
QUICK = Config(n_small=300, n_inbound=300, n_big=10, scale_rows=(100_000,), repeats=1)

# -- code run in the kernels ---------------------------------------------------------------

PRELUDE = """
import gc, time
import traitlets as T

def make_rows(n):
    return [{"id": i, "label": f"item {i}", "done": False} for i in range(n)]

def bench_small(m, n):
    start = m.n
    t0 = time.perf_counter()
    for i in range(start + 1, start + n + 1):
        m.n = i
    return time.perf_counter() - t0

def bench_copy(m, n):
    t0 = time.perf_counter()
    for k in range(n):
        rows = list(m.rows)
        r = dict(rows[k])
        r["done"] = not r["done"]
        rows[k] = r
        m.rows = rows
    return time.perf_counter() - t0

def bench_in_place(m, n):
    t0 = time.perf_counter()
    for k in range(n):
        m.rows[k]["done"] = not m.rows[k]["done"]
    return time.perf_counter() - t0
"""

MODELS = """
small = M()
big = M(rows=make_rows({rows}))
print(comm_id(small), comm_id(big))
"""

KERNEL_CODE = {
    IPYW: """
import ipywidgets as W

class M(W.DOMWidget):
    n = T.Int(0).tag(sync=True)
    rows = T.List().tag(sync=True)

def comm_id(m):
    return m.comm.comm_id
""",
    SYNC: """
import syncstate

class M(syncstate.Model):
    n = T.Int(0).tag(sync=True)
    rows = T.List().tag(sync=True)

def comm_id(m):
    return m.model_id

print(syncstate.__file__)
""",
    FLOOR: """
from comm import create_comm

floor = create_comm(target_name="bench_floor", data={})
floor_got = [0, None]

def _on_floor_msg(msg):
    floor_got[0] += 1
    floor_got[1] = msg["content"]["data"]["n"]

floor.on_msg(_on_floor_msg)

def bench_floor(n):
    t0 = time.perf_counter()
    for i in range(1, n + 1):
        floor.send({"n": i})
    return time.perf_counter() - t0

print(floor.comm_id)
""",
}

# -- figures ---------------------------------------------------------------------------------


@dataclass
class Figures:
    """Samples per (workload, system, metric); the table shows their medians."""

    samples: dict[str, list[float]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    syncstate_file: str = ""

    def add(self, workload: str, system: str, metric: str, value: float) -> None:
        self.samples.setdefault(f"{workload}|{system}|{metric}", []).append(value)

    def median(self, workload: str, system: str, metric: str) -> float | None:
        values = self.samples.get(f"{workload}|{system}|{metric}")
        return statistics.median(values) if values else None

    def check(self, ok: bool, what: str) -> None:
        if not ok:
            self.problems.append(what)


@dataclass
class Outbound:
    msgs: int
    bytes_per_update: float
    kernel_us: float
    e2e_us: float


def outbound(kernel: Kernel, call: str, comm_id: str, n: int) -> Outbound:
    """Run `call` (which makes n changes and returns its own duration) and read the wire.

    A collection runs first, apart, so that the call pays for its own garbage only (copies of
    tracked trees leave cycles behind, which would otherwise land on the next workload).
    """
    kernel.execute("gc.collect()")
    t0 = time.perf_counter()
    seen = kernel.execute(f"print({call})")
    kernel_s = float(stream_text(seen).split()[-1])
    sent = comm_msgs(seen, comm_id)
    if not sent:
        raise RuntimeError(f"{call} sent nothing on comm {comm_id}")
    size = sum(wire_bytes(r.msg) for r in sent)
    return Outbound(len(sent), size / len(sent), 1e6 * kernel_s / n, 1e6 * (sent[-1].at - t0) / n)


def inbound(kernel: Kernel, comm_id: str, messages: list[Any], check: str) -> tuple[float, str]:
    """Send the messages as a frontend would; time until `check` has run after them all.

    The kernel handles shell messages in order, so `check` runs once every message before it
    has been applied. Returns µs per message and what `check` printed.
    """
    t0 = time.perf_counter()
    for data in messages:
        kernel.send_comm(comm_id, data)
    seen: list[Received] = kernel.execute(check)
    return 1e6 * (seen[-1].at - t0) / len(messages), stream_text(seen).strip()


def record(figures: Figures, workload: str, system: str, result: Outbound, n: int) -> None:
    figures.check(result.msgs == n, f"{workload}/{system}: {result.msgs} messages for {n} changes")
    figures.add(workload, system, "bytes", result.bytes_per_update)
    figures.add(workload, system, "kernel_us", result.kernel_us)
    figures.add(workload, system, "e2e_us", result.e2e_us)


# -- the run ---------------------------------------------------------------------------------


def run(config: Config, log: Callable[[str], None]) -> Figures:
    figures = Figures()
    with ExitStack() as stack:
        kernels: dict[str, Kernel] = {}
        ids: dict[str, list[str]] = {}
        for system in (IPYW, FLOOR, SYNC):
            log(f"starting a kernel for {system}")
            clone = [str(CLONE)] if (CLONE / "syncstate" / "__init__.py").exists() else []
            kernel = stack.enter_context(Kernel(path=clone))
            kernel.execute(PRELUDE)
            code = KERNEL_CODE[system]
            if system != FLOOR:
                code += MODELS.format(rows=config.rows)
            printed = kernel.output(code).split()
            if system == SYNC:
                figures.syncstate_file = printed.pop(0)
            ids[system] = printed
            kernels[system] = kernel
        for rep in range(config.repeats):
            log(f"repeat {rep + 1} of {config.repeats}")
            _small(config, kernels, ids, figures)
            _inbound(config, kernels, ids, figures, rep)
            _biglist(config, kernels, ids, figures)
        for size in config.scale_rows:
            log(f"syncstate in place at {size:,} rows")
            _scale(config, kernels[SYNC], ids[SYNC][1], size, figures)
    return figures


def _small(
    config: Config, kernels: dict[str, Kernel], ids: dict[str, list[str]], figures: Figures
) -> None:
    n = config.n_small
    for system in (IPYW, FLOOR, SYNC):
        call = f"bench_floor({n})" if system == FLOOR else f"bench_small(small, {n})"
        record(figures, "small", system, outbound(kernels[system], call, ids[system][0], n), n)


def _inbound(
    config: Config,
    kernels: dict[str, Kernel],
    ids: dict[str, list[str]],
    figures: Figures,
    rep: int,
) -> None:
    n = config.n_inbound
    last = -(n - 1)
    cases: dict[str, tuple[list[Any], str, str]] = {
        IPYW: (
            [{"method": "update", "state": {"n": -i}, "buffer_paths": []} for i in range(n)],
            "print(small.n)",
            f"{last}",
        ),
        FLOOR: ([{"n": -i} for i in range(n)], "print(*floor_got)", f"{n} {last}"),
    }
    # Each applied edit makes one new version, so edit i is made on version v0 + i.
    v0 = int(kernels[SYNC].output("print(small.version)"))
    edits = [
        {
            "method": "patch",
            "id": f"b{rep}:{i}",
            "base": v0 + i,
            "ops": [{"op": "replace", "path": "/n", "value": -i}],
        }
        for i in range(n)
    ]
    cases[SYNC] = (edits, "print(small.n, small.version)", f"{last} {v0 + n}")
    kernels[FLOOR].execute("floor_got[:] = [0, None]")
    for system, (messages, check, expected) in cases.items():
        comm_id = ids[system][0]
        us, got = inbound(kernels[system], comm_id, messages, check)
        figures.check(got == expected, f"inbound/{system}: got {got!r}, expected {expected!r}")
        figures.add("inbound", system, "e2e_us", us)


def _biglist(
    config: Config, kernels: dict[str, Kernel], ids: dict[str, list[str]], figures: Figures
) -> None:
    n = config.n_big
    for system in (IPYW, SYNC):
        result = outbound(kernels[system], f"bench_copy(big, {n})", ids[system][1], n)
        record(figures, f"copy@{config.rows}", system, result, n)
    result = outbound(kernels[SYNC], f"bench_in_place(big, {n})", ids[SYNC][1], n)
    record(figures, f"in_place@{config.rows}", SYNC, result, n)


def _scale(config: Config, kernel: Kernel, big_id: str, size: int, figures: Figures) -> None:
    """In place at `size` rows, interleaved with the same at `config.rows` as the reference."""
    n = config.n_big
    scaled_id = kernel.output(f"scaled = M(rows=make_rows({size}))\nprint(comm_id(scaled))")
    scaled_id = scaled_id.strip()
    for _ in range(max(config.repeats, 3)):
        result = outbound(kernel, f"bench_in_place(scaled, {n})", scaled_id, n)
        record(figures, f"in_place@{size}", SYNC, result, n)
        result = outbound(kernel, f"bench_in_place(big, {n})", big_id, n)
        record(figures, f"in_place@{config.rows}/beside@{size}", SYNC, result, n)
    kernel.execute("scaled.close()\ndel scaled\ngc.collect()")


# -- the table -------------------------------------------------------------------------------


@dataclass
class Row:
    workload: str
    metric: str
    cells: dict[str, float | None]
    ratio: float | None  # syncstate over the reference
    against: str  # what the ratio is over
    goal: float | None = None  # the ratio must be at most this
    goal_text: str = ""

    @property
    def verdict(self) -> str:
        if self.goal is None:
            return ""
        if self.ratio is None:
            return "n/a"
        return "PASS" if self.ratio <= self.goal else "MISS"


def rows(config: Config, f: Figures) -> list[Row]:
    def ratio(a: float | None, b: float | None) -> float | None:
        return a / b if a is not None and b else None

    def trio(workload: str, metric: str, floor: bool = True) -> dict[str, float | None]:
        return {
            IPYW: f.median(workload, IPYW, metric),
            FLOOR: f.median(workload, FLOOR, metric) if floor else None,
            SYNC: f.median(workload, SYNC, metric),
        }

    def versus_ipyw(
        label: str, workload: str, metric: str, goal: float | None = None, text: str = ""
    ) -> Row:
        cells = trio(workload, metric, floor=workload in ("small", "inbound"))
        return Row(label, metric, cells, ratio(cells[SYNC], cells[IPYW]), "ipyw", goal, text)

    copy, in_place = f"copy@{config.rows}", f"in_place@{config.rows}"
    big = f"biglist {config.rows:,} copy"
    out = [
        versus_ipyw("small", "small", "bytes"),
        versus_ipyw("small", "small", "kernel_us", 1.0, "<= 1x ipyw"),
        versus_ipyw("small", "small", "e2e_us"),
        versus_ipyw("inbound", "inbound", "e2e_us"),
        versus_ipyw(big, copy, "bytes", 1e-3, "<= 1/1000 ipyw"),
        versus_ipyw(big, copy, "kernel_us", 0.1, "<= 1/10 ipyw"),
        versus_ipyw(big, copy, "e2e_us"),
    ]
    for metric, goal, text in (
        ("bytes", None, ""),
        ("kernel_us", 0.01, "<= 1/100 ipyw"),
        ("e2e_us", None, ""),
    ):
        cells = {IPYW: f.median(copy, IPYW, metric), FLOOR: None}
        cells[SYNC] = f.median(in_place, SYNC, metric)
        label = f"biglist {config.rows:,} in place"
        out.append(Row(label, metric, cells, ratio(cells[SYNC], cells[IPYW]), "ipyw", goal, text))
    for size in config.scale_rows:
        mine = f.median(f"in_place@{size}", SYNC, "kernel_us")
        ref = f.median(f"{in_place}/beside@{size}", SYNC, "kernel_us")
        goal = 2.0 if size == max(config.scale_rows) else None
        text = f"<= 2x {config.rows // 1000}k" if goal else ""
        cells = {IPYW: None, FLOOR: None, SYNC: mine}
        label = f"biglist {size:,} in place"
        out.append(Row(label, "kernel_us", cells, ratio(mine, ref), "10k", goal, text))
        bytes_cells = {IPYW: None, FLOOR: None, SYNC: f.median(f"in_place@{size}", SYNC, "bytes")}
        out.append(Row(label, "bytes", bytes_cells, None, ""))
    return out


METRIC_NAMES = {"bytes": "bytes/update", "kernel_us": "kernel µs/update", "e2e_us": "e2e µs/update"}


def render(config: Config, table: list[Row], figures: Figures, elapsed: float) -> str:
    def num(value: float | None) -> str:
        if value is None:
            return "-"
        return f"{value:,.0f}" if value >= 100 else f"{value:.1f}"

    def times(value: float | None, against: str) -> str:
        if value is None:
            return "-"
        return f"{value:.3g}x {against}"

    head = ["workload", "metric", IPYW, FLOOR, SYNC, "syncstate ratio", "goal", ""]
    body = [
        [
            r.workload,
            METRIC_NAMES[r.metric],
            num(r.cells[IPYW]),
            num(r.cells[FLOOR]),
            num(r.cells[SYNC]),
            times(r.ratio, r.against),
            r.goal_text,
            r.verdict,
        ]
        for r in table
    ]
    widths = [max(len(line[i]) for line in [head, *body]) for i in range(len(head))]
    numeric = {2, 3, 4, 5}

    def fmt(line: list[str]) -> str:
        cells = [
            c.rjust(w) if i in numeric else c.ljust(w)
            for i, (c, w) in enumerate(zip(line, widths, strict=True))
        ]
        return "  ".join(cells).rstrip()

    lines = [fmt(head), fmt(["-" * w for w in widths]), *map(fmt, body)]
    lines.append("")
    lines.append(
        f"medians of {config.repeats} repeats (scale rows: {max(config.repeats, 3)}); "
        f"small/inbound n={config.n_small}/{config.n_inbound}, biglist n={config.n_big}; "
        f"{elapsed:.0f} s in all; syncstate from {figures.syncstate_file}."
    )
    lines.append(
        "In-place rows: the ipywidgets column is its reassigned copy (it cannot sync in place). "
        f"Scale rows: ratio over {config.rows:,} rows in place, measured beside them."
    )
    for problem in figures.problems:
        lines.append(f"PROBLEM: {problem}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="a smaller, faster run")
    parser.add_argument("--json", action="store_true", help="print raw figures as JSON")
    parser.add_argument("--repeats", type=int, help="repeats of each workload")
    args = parser.parse_args(argv)
    config = QUICK if args.quick else FULL
    if args.repeats:
        config = Config(**{**asdict(config), "repeats": args.repeats})

    def log(text: str) -> None:
        print(f"[bench] {text}", file=sys.stderr, flush=True)

    start = time.perf_counter()
    figures = run(config, log)
    elapsed = time.perf_counter() - start
    table = rows(config, figures)
    if args.json:
        print(json.dumps(_as_json(config, table, figures, elapsed), indent=1))
    else:
        print(render(config, table, figures, elapsed))
    return 1 if figures.problems else 0


def _as_json(config: Config, table: list[Row], figures: Figures, elapsed: float) -> Any:
    def goals() -> Iterator[dict[str, Any]]:
        for r in table:
            if r.goal is not None:
                yield {
                    "workload": r.workload,
                    "metric": r.metric,
                    "ratio": r.ratio,
                    "goal": r.goal,
                    "verdict": r.verdict,
                }

    return {
        "config": asdict(config),
        "elapsed_s": elapsed,
        "rows": [asdict(r) for r in table],
        "goals": list(goals()),
        "samples": figures.samples,
        "problems": figures.problems,
        "syncstate_file": figures.syncstate_file,
    }


if __name__ == "__main__":
    sys.exit(main())
