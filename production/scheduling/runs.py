"""A plan at once, a better one in the background: which run may make its plan current, and when.

- The fast plan at once (`schedule_run_fast_pending`, the task production.plan_fast): every request for a
  new plan (a release, a change, an exception… production.replanning) enqueues it without delay; it takes
  the pending request, builds and solves with the fast engine (ATC dispatching, about a second at 1,000
  work orders) and writes the plan, all under the plan writer's lock. A burst of requests makes one run at
  a time plus at most one more (single-flight), each from everything committed before it started.
- The optimiser in the background (`schedule_run_pending`, the debounced task production.reschedule):
  takes the optimiser's lease (one at a time), solves outside any lock and transaction (CP-SAT seeded with
  the fast plan, PRODUCTION_OPTIMISE_SECONDS), then, under the plan writer's lock, replaces the current
  plan only when it is strictly better on the stated objective — total weighted tardiness, then makespan
  (problem.Plan.key) — than the CURRENT plan at that moment. A result whose input is older than the
  latest request (new work arrived while it ran) is stale and discarded, not re-based: the new work's own
  request already queued the next optimiser run, on the new input. Every outcome is recorded
  (SchedulerState.optimiser_outcome) for the planner page and the API.
- The explicit run (`schedule_run`: "Reschedule now", the API's run, the demo): plan now and make it
  current, under the same lock.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from config.kernel import Conflict, ValidationFailed, require
from production.policies import RUN_SCHEDULE
from production.replanning import (
    SchedulerState,
    fast_claim,
    fast_clear,
    input_generation,
    lease_acquire,
    lease_release,
    optimiser_outcome_record,
    plan_writer,
    scheduler_state,
)
from production.scheduling.models import Schedule, optimiser_stop_text
from production.scheduling.problem import Plan
from production.scheduling.service import Built, solve_current, store_plan

if TYPE_CHECKING:
    from django.contrib.auth.models import User

log = logging.getLogger(__name__)

REPLACED, NOT_BETTER, STALE = "replaced", "not_better", "stale"
OUTCOME_LABELS = {
    REPLACED: gettext_lazy("made the current plan"),
    NOT_BETTER: gettext_lazy("not better than the current plan: kept it"),
    STALE: gettext_lazy("discarded: new work arrived while it ran (the next run plans it)"),
}


@dataclass(frozen=True)
class OptimiserOutcome:
    """What the last background optimiser run did with its plan (stored as JSON on SchedulerState)."""

    outcome: str  # REPLACED, NOT_BETTER or STALE
    finished_at: str  # ISO 8601
    seconds: float
    weighted_tardiness: int  # of the optimiser's plan
    fast_weighted_tardiness: int | None  # of its seed: the fast engine's plan on the same input
    current_version: int | None  # the plan it was compared with
    current_weighted_tardiness: int | None
    version: int | None  # the plan it made current (REPLACED)
    stop_reason: str = ""  # why the optimiser stopped (problem.STOP_*); "" in outcomes recorded before it

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> OptimiserOutcome | None:
        try:  # a field missing from the JSON takes its default, if it has one
            return cls(**{name: data[name] for name in cls.__dataclass_fields__ if name in data})
        except TypeError:
            return None

    @property
    def label(self) -> str:
        return str(OUTCOME_LABELS.get(self.outcome, self.outcome))

    @property
    def stop_label(self) -> str:
        """Why the optimiser stopped, in the reader's language ("" when not recorded)."""
        return optimiser_stop_text(self.stop_reason)

    @property
    def finished(self) -> dt.datetime:
        return dt.datetime.fromisoformat(self.finished_at)

    @property
    def gain(self) -> int | None:
        """Weighted minutes the optimiser saved against the fast plan on its input."""
        if self.fast_weighted_tardiness is None:
            return None
        return self.fast_weighted_tardiness - self.weighted_tardiness


def optimiser_outcome() -> OptimiserOutcome | None:
    """The last background optimiser run's outcome (None before the first)."""
    return OptimiserOutcome.from_json(scheduler_state().optimiser_outcome or {})


# --- the explicit run ----------------------------------------------------------------------------------
def schedule_run(
    *,
    actor: User | None = None,
    trigger: str,
    method: str = "fast",
    time_limit: float | None = None,
    now: dt.datetime | None = None,
) -> Schedule:
    """Plan all released work from now and make it the current Schedule.

    fast: under the plan writer's lock (waits for a run writing now, a second or two), and it answers any
    pending fast request. optimised: takes the optimiser's lease (Conflict if another optimiser holds it),
    solves outside the lock, and is refused (Conflict) if new work arrived meanwhile. No plan is written
    when the input is bad (ValidationFailed names what to fix).
    """
    if actor is not None:
        require(actor, RUN_SCHEDULE, action="schedule_run", target="schedule")
    if method not in ("fast", "optimised"):
        raise ValidationFailed(_("Unknown scheduling method."), fields={"method": [method]})
    if method == "fast":
        with plan_writer():
            fast_clear()
            generation = input_generation()
            built, plan = solve_current(method="fast", time_limit=0, now=now)
            return _write(built, plan, actor=actor, trigger=trigger, generation=generation)
    limit = _time_limit(time_limit)
    with _optimiser_lease(limit):
        generation = input_generation()
        built, plan = solve_current(method="optimised", time_limit=limit, now=now)
        with plan_writer():
            if input_generation() != generation:
                raise Conflict(
                    _("New work arrived while the optimiser ran; the current plan includes it."),
                    code="schedule_stale",
                )
            return _write(built, plan, actor=actor, trigger=trigger, generation=generation)


# --- the fast plan at once -----------------------------------------------------------------------------
def schedule_run_fast_pending() -> Schedule | None:
    """For the task production.plan_fast: make the fast plan for the pending request, at once.

    None when there is nothing to do: another run took the request, or the current plan was already built
    from this input (a manual run, or the optimiser's plan of it, which a fast plan must not undo).
    """
    with plan_writer():
        trigger = fast_claim()
        if trigger is None:
            return None
        generation = input_generation()
        current = Schedule.objects.filter(is_current=True).only("generation").first()
        if current is not None and current.generation >= generation:
            return None
        built, plan = solve_current(method="fast", time_limit=0, now=None)
        return _write(built, plan, actor=None, trigger=trigger, generation=generation)


# --- the optimiser in the background -------------------------------------------------------------------
def schedule_run_pending() -> Schedule | None:
    """For the task production.reschedule: run the optimiser once if a run is pending (the fast engine
    instead with PRODUCTION_RESCHEDULE_METHOD `fast`, when the plan is not made at once).

    Returns the plan it made current, or None (nothing pending, or its plan was not better or stale).
    Conflict while another optimiser holds the lease (the task retries later).
    """
    state = scheduler_state()
    if not state.pending:
        return None
    trigger = ", ".join(state.pending_triggers or []) or "event"
    if settings.PRODUCTION_RESCHEDULE_METHOD == "fast":  # the plan is not made at once: make it now
        SchedulerState.objects.filter(pk=1).update(pending=False)
        return schedule_run(trigger=trigger, method="fast")
    return schedule_optimise(trigger=trigger)


def schedule_optimise(
    *, trigger: str, time_limit: float | None = None, now: dt.datetime | None = None
) -> Schedule | None:
    """Run the optimiser and make its plan current only if it beats the current plan (see the module's
    docstring); record the outcome either way. Returns the new plan or None."""
    limit = _time_limit(time_limit)
    with _optimiser_lease(limit):
        generation = input_generation()
        built, plan = solve_current(method="optimised", time_limit=limit, now=now)
        with plan_writer():
            current = Schedule.objects.filter(is_current=True).first()
            verdict = _verdict(built, plan, current=current, generation=generation)
            schedule = None
            if verdict == REPLACED:
                schedule = _write(built, plan, actor=None, trigger=trigger, generation=generation)
            outcome = OptimiserOutcome(
                outcome=verdict,
                finished_at=timezone.now().isoformat(),
                seconds=round(plan.seconds, 2),
                weighted_tardiness=plan.weighted_tardiness,
                fast_weighted_tardiness=plan.details.get("seed_weighted_tardiness"),
                current_version=current.version if current is not None else None,
                current_weighted_tardiness=current.weighted_tardiness if current is not None else None,
                version=schedule.version if schedule is not None else None,
                stop_reason=str(plan.details.get("stop_reason", "")),
            )
            optimiser_outcome_record(asdict(outcome))
    log.info(
        "optimiser %s: twt %s (fast plan %s, current v%s %s) in %.1fs, stopped: %s",
        verdict,
        plan.weighted_tardiness,
        outcome.fast_weighted_tardiness,
        outcome.current_version,
        outcome.current_weighted_tardiness,
        plan.seconds,
        outcome.stop_reason or "?",
    )
    return schedule


def _verdict(built: Built, plan: Plan, *, current: Schedule | None, generation: int) -> str:
    """REPLACED, NOT_BETTER or STALE for an optimiser plan built from input `generation`."""
    if input_generation() != generation or (current is not None and current.generation > generation):
        return STALE
    if current is None or current.generation < generation:
        # The current plan is of older input (the fast run for this one has not written yet): a plan of
        # the newest input wins, as the fast run's would; the optimiser's is never worse than its seed.
        return REPLACED
    makespan_end = built.at(plan.makespan) if built.problem.jobs else None
    if plan.weighted_tardiness < current.weighted_tardiness:
        return REPLACED
    if (
        plan.weighted_tardiness == current.weighted_tardiness
        and makespan_end is not None
        and current.makespan_end is not None
        and makespan_end < current.makespan_end
    ):
        return REPLACED
    return NOT_BETTER


# --- shared ----------------------------------------------------------------------------------------------
def _time_limit(time_limit: float | None) -> float:
    return float(time_limit if time_limit is not None else settings.PRODUCTION_OPTIMISE_SECONDS)


@contextmanager
def _optimiser_lease(limit: float) -> Iterator[None]:
    """One optimiser at a time, across processes (the lease on SchedulerState); clears the pending flag
    first, so requests arriving during the run ask for one more."""
    holder = uuid.uuid4().hex
    if not lease_acquire(holder=holder, seconds=limit * 2 + 300):
        raise Conflict(_("A reschedule is already running; try again in a moment."), code="schedule_running")
    try:
        SchedulerState.objects.filter(pk=1).update(pending=False)
        yield
    finally:
        lease_release(holder=holder)


def _write(built: Built, plan: Plan, *, actor: User | None, trigger: str, generation: int) -> Schedule:
    started = time.perf_counter()
    schedule = store_plan(
        built, plan, actor=actor, trigger=trigger, method=plan.method, generation=generation
    )
    log.info(
        "schedule v%s %s (%s): %s work orders, twt=%s, solve %.2fs, write %.2fs",
        schedule.version,
        plan.method,
        plan.engine,
        schedule.work_orders,
        plan.weighted_tardiness,
        plan.seconds,
        time.perf_counter() - started,
    )
    return schedule
