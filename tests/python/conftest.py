from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

# Import syncstate from this checkout even when it is not installed.
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from helpers import FakeComm, FakeManager

# Speed is measured in benchmarks/, never by a test: on two busy cores a per-example deadline
# only makes property tests fail now and then.
settings.register_profile("suite", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("suite")


@pytest.fixture
def comms(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeManager]:
    """Route syncstate's comms through in-memory fakes; yields the comm manager."""
    import comm

    manager = FakeManager()
    monkeypatch.setattr(comm, "create_comm", FakeComm)
    monkeypatch.setattr(comm, "get_comm_manager", lambda: manager)
    yield manager
