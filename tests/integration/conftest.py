from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from jupyter_client.manager import start_new_kernel

sys.path.insert(0, str(Path(__file__).resolve().parent))

from kernel_client import KernelFrontend


@pytest.fixture
def kernel() -> Iterator[KernelFrontend]:
    """A fresh ipykernel (the installed syncstate inside), shut down after the test."""
    km, kc = start_new_kernel(kernel_name="python3")
    try:
        frontend = KernelFrontend(kc)
        frontend.execute("import syncstate")
        yield frontend
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
