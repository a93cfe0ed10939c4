"""When to plan again: the debounced reschedule request and the run's lease (one row of state)."""

from production.replanning.models import SchedulerState
from production.replanning.services import (
    RESCHEDULE_TASK,
    lease_acquire,
    lease_release,
    request_now,
    schedule_request,
    scheduler_state,
)

__all__ = [
    "RESCHEDULE_TASK",
    "SchedulerState",
    "lease_acquire",
    "lease_release",
    "request_now",
    "schedule_request",
    "scheduler_state",
]
