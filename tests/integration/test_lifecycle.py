"""Lifecycle in a real kernel: 10,000 models created, displayed, changed and closed leave
nothing behind (memory flat after gc, no live models, no open comms)."""

from __future__ import annotations

import json
from typing import Any

from kernel_client import KernelFrontend

MODELS = 10_000
BATCH = 1_000

SETUP = """
import gc, json, tracemalloc
import comm, syncstate
from IPython.display import display
from traitlets import Dict, Int, List, Unicode

class Item(syncstate.Model):
    rows = List(Dict()).tag(sync=True)
    n = Int(0).tag(sync=True)
    label = Unicode("").tag(sync=True)

def batch(count):
    for i in range(count):
        m = Item(rows=[{"i": i}], n=i, label="x" * 50)
        display(m)
        m.rows.append({"j": i})
        m.n += 1
        m.close()

def measure():
    gc.collect()
    rss = int(open("/proc/self/statm").read().split()[1]) * 4096
    print(json.dumps({"rss": rss, "traced": tracemalloc.get_traced_memory()[0],
                      "live": len(syncstate.control.live_models()),
                      "comms": len(comm.get_comm_manager().comms)}))

tracemalloc.start()
"""


def measure(kernel: KernelFrontend) -> dict[str, int]:
    result: dict[str, int] = json.loads(kernel.output("measure()"))
    return result


def run_lifecycle(kernel: KernelFrontend, total: int = MODELS) -> dict[str, Any]:
    """Warm up with one batch, then run `total` more models; memory before and after."""
    kernel.execute(SETUP)
    kernel.execute(f"batch({BATCH})")  # warm-up: caches, interned strings, first allocations
    kernel.inbox.clear()
    before = measure(kernel)
    for _ in range(total // BATCH):
        kernel.execute(f"batch({BATCH})")
        kernel.inbox.clear()  # this process keeps nothing either
    after = measure(kernel)
    return {"models": total, "before": before, "after": after}


def test_ten_thousand_models_leave_nothing_behind(kernel: KernelFrontend) -> None:
    figures = run_lifecycle(kernel)
    before, after = figures["before"], figures["after"]
    assert after["live"] == 0 and after["comms"] == before["comms"]
    # A leaked model (comm, state, tracked containers) costs kilobytes: 10,000 of them would be
    # tens of MB. Allow a few percent of noise (the kernel's input history grows a little).
    assert after["traced"] - before["traced"] < 0.03 * before["traced"] + 200_000, figures
    # Each display also makes an ipywidgets widget (syncstate/widget.py); their churn raises the
    # process's resident size once, by about 4 MB, the same after 10,000 models as after 30,000.
    assert after["rss"] < 1.05 * before["rss"] + 6_000_000, figures
