"""When to plan again: the fast plan at once, the debounced optimiser request, the optimiser's lease and the
plan writer's lock (one row of state)."""

from production.replanning.models import PlanObjective, PlanObjectiveChange, SchedulerState
from production.replanning.services import (
    PLAN_FAST_TASK,
    RESCHEDULE_TASK,
    fast_claim,
    fast_clear,
    fast_request_now,
    input_changed,
    input_generation,
    lease_acquire,
    lease_release,
    optimiser_outcome_record,
    plan_objective,
    plan_objective_history,
    plan_objective_set,
    plan_writer,
    quiet_for,
    request_now,
    schedule_request,
    scheduler_state,
)

__all__ = [
    "PLAN_FAST_TASK",
    "RESCHEDULE_TASK",
    "PlanObjective",
    "PlanObjectiveChange",
    "SchedulerState",
    "fast_claim",
    "fast_clear",
    "fast_request_now",
    "input_changed",
    "input_generation",
    "lease_acquire",
    "lease_release",
    "optimiser_outcome_record",
    "plan_objective",
    "plan_objective_history",
    "plan_objective_set",
    "plan_writer",
    "quiet_for",
    "request_now",
    "schedule_request",
    "scheduler_state",
]
