import datetime as dt
from decimal import Decimal

import pytest

from production import master_data
from production.master_data import WorkCenter

ALL_WEEK = [(day, dt.time(0), dt.time(0)) for day in range(7)]  # end ≤ start: runs to the next midnight
DAY_SHIFT = [(day, dt.time(8), dt.time(16)) for day in range(5)]


@pytest.fixture(autouse=True)
def enqueued(monkeypatch):
    """Record reschedule tasks instead of sending them to a broker."""
    calls = []
    from production import tasks

    monkeypatch.setattr(tasks.reschedule, "apply_async", lambda *args, **kwargs: calls.append(kwargs))
    return calls


@pytest.fixture(autouse=True)
def fast_enqueued(monkeypatch):
    """Record fast-plan tasks instead of sending them to a broker (a test runs them as a worker would:
    `tasks.plan_fast.apply()`)."""
    calls = []
    from production import tasks

    monkeypatch.setattr(tasks.plan_fast, "apply_async", lambda *args, **kwargs: calls.append(kwargs))
    return calls


def make_work_center(actor, code="CUT", *, units=1, shifts=None, efficiency="1.00") -> WorkCenter:
    return master_data.work_center_create(
        actor=actor,
        code=code,
        name=code.title(),
        units=units,
        efficiency=efficiency,
        shifts=shifts or ALL_WEEK,
    )


def make_routing(actor, product, steps, *, lot_size=None):
    """steps: [(work_center, setup_minutes, run_minutes_per_unit)]."""
    return master_data.routing_create(
        actor=actor,
        product=product,
        lot_size=lot_size,
        operations=[
            {
                "sequence": (index + 1) * 10,
                "name": f"Step {index + 1}",
                "work_center": center,
                "setup_minutes": Decimal(setup),
                "run_minutes_per_unit": Decimal(run),
            }
            for index, (center, setup, run) in enumerate(steps)
        ],
    )
