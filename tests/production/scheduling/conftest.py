"""The engines' tests judge plans, not the machine: ATC's whole grid runs whatever the load (its wall-clock
cap, a last resort on a slow machine, has a test of its own that sets it)."""

import pytest

from production.scheduling import dispatch


@pytest.fixture(autouse=True)
def atc_grid_in_full(monkeypatch):
    monkeypatch.setattr(dispatch, "ATC_EXTRA_SECONDS", 60.0)
