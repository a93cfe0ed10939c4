"""When to plan again: the debounced request for a reschedule, and the lease of the run.

Debounce: `schedule_request` (after the caller's commit) flips `SchedulerState.pending` from false to true
with one compare-and-set statement; only the request that flips it enqueues the Celery task (by its name,
RESCHEDULE_TASK), delayed by PRODUCTION_RESCHEDULE_DEBOUNCE_SECONDS, so a burst of events makes one run.

Lock: a lease on the same row, taken by a compare-and-set UPDATE (free or expired → mine, until
now + TTL). It works across processes and machines that share the database (PostgreSQL in production,
SQLite for a single machine) and holds no transaction open while the solver runs; a crashed worker's
lease expires. A run that finds the lease taken refuses (Conflict); the task retries later.

A plan at once: the same request also asks for the fast plan right away (`fast_request_now`: the task
PLAN_FAST_TASK, no delay, single-flight through `SchedulerState.fast_pending`) and bumps the input
`generation`, which tells a background optimiser result whether new work arrived while it ran. Plans are
written one at a time under `plan_writer()` (a PostgreSQL advisory lock), never inside the solver's time.

Master data, work orders and changes ask for a new plan here; the planner itself (production.scheduling)
sits above them all, because it reads them.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator
from typing import TYPE_CHECKING

from celery import signature
from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from config.kernel import ValidationFailed, require
from production import fast_sql
from production.policies import RUN_SCHEDULE
from production.replanning.models import PlanObjective, PlanObjectiveChange, SchedulerState

if TYPE_CHECKING:
    from django.contrib.auth.models import User

# The Celery task that runs the pending reschedule (production.tasks). It runs the planner, which sits above
# every package that asks for a plan here, so it is enqueued by its registered name, not imported.
RESCHEDULE_TASK = "production.reschedule"
# The Celery task that makes the fast plan at once (production.tasks), enqueued by name for the same reason.
PLAN_FAST_TASK = "production.plan_fast"
# A fast request still waiting after this long lost its message: the next request sends it again.
FAST_LOST_SECONDS = 60
# Key of the PostgreSQL advisory lock held while a plan is built (fast) or compared (optimiser) and written.
PLAN_WRITER_LOCK = 0x0B_5C4E_D01E


def scheduler_state() -> SchedulerState:
    """The one state row, made on first use."""
    state, _ = SchedulerState.objects.get_or_create(pk=1)
    return state


def plan_objective() -> str:
    """What "better" means for the next plan: the planner's choice, else settings.PRODUCTION_OBJECTIVE."""
    chosen = SchedulerState.objects.filter(pk=1).values_list("objective", flat=True).first()
    return chosen or settings.PRODUCTION_OBJECTIVE


def plan_objective_history(*, limit: int = 10) -> list[PlanObjectiveChange]:
    return list(PlanObjectiveChange.objects.select_related("changed_by")[:limit])


def plan_objective_set(*, actor: User, objective: str, reason: str = "") -> PlanObjectiveChange | None:
    """The planner chooses what "better" means (PlanObjective); the choice is kept with who and why, and a
    new plan is asked for. None when it is already the objective (nothing recorded, no replan)."""
    require(actor, RUN_SCHEDULE, action="set the plan objective", target="scheduler")
    if objective not in PlanObjective.values:
        raise ValidationFailed(
            _("Choose total weighted tardiness or on-time rate."),
            code="invalid_objective",
            fields={"objective": [_("Choose total weighted tardiness or on-time rate.")]},
        )
    scheduler_state()
    with transaction.atomic():
        state = SchedulerState.objects.select_for_update().get(pk=1)
        previous = state.objective or settings.PRODUCTION_OBJECTIVE
        if state.objective == objective:
            return None
        state.objective = objective
        state.save(update_fields=["objective"])
        change = PlanObjectiveChange.objects.create(
            objective=objective, previous=previous, reason=reason.strip()[:300], changed_by=actor
        )
        schedule_request(trigger=f"objective {objective} chosen by {actor}")
    return change


def schedule_request(*, trigger: str) -> None:
    """Ask for a new plan once the caller's transaction commits (nothing if it rolls back): the fast plan
    at once, and the optimiser's after the debounce."""

    def ask() -> None:
        if settings.PRODUCTION_PLAN_AT_ONCE:
            fast_request_now(trigger=trigger)
        else:
            input_changed()
        request_now(trigger=trigger)

    transaction.on_commit(ask)


def fast_request_now(*, trigger: str) -> bool:
    """Bump the input generation and ask for the fast plan at once; True when this call enqueued the task.

    Single-flight: only the request that flips `fast_pending` from false to true enqueues PLAN_FAST_TASK;
    the run clears the flag before it reads anything, so requests arriving during a run make exactly one
    more. A flag set long ago whose run never came lost its message (broker down at enqueue, Redis restarted
    empty): the request sends it again, once per FAST_LOST_SECONDS (a duplicate finds the flag taken).

    One statement, in autocommit after the caller's commit (so whichever run takes the flag sees the
    change): an upsert of the state row (made on first use) that bumps the generation, stamps the request
    and takes the flag when it is free or lost. It stamps `fast_requested_at` with this request's moment
    exactly when it took the flag, which RETURNING reports. Concurrent requests serialise on the row and
    each re-reads the flag once it is free, so one of them enqueues.

    Why SQL: it runs after every release and every other write that asks for a plan; through the ORM it
    was a read (get_or_create) and two or three compare-and-set UPDATEs. SQLite runs the same statement
    (ON CONFLICT … DO UPDATE since 3.24, RETURNING since 3.35).
    """
    now = timezone.now()
    moment = SchedulerState._meta.get_field("fast_requested_at")
    at_now = moment.get_db_prep_value(now, connection)
    lost_before = moment.get_db_prep_value(now - dt.timedelta(seconds=FAST_LOST_SECONDS), connection)
    last_request = SchedulerState._meta.get_field("last_request_at").get_db_prep_value(now, connection)
    no_triggers = SchedulerState._meta.get_field("pending_triggers").get_db_prep_save([], connection)
    table = fast_sql.table(SchedulerState)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (id, pending, pending_triggers, lease_holder, generation, "  # noqa: S608 - our table name
            "last_request_at, fast_pending, fast_trigger, fast_requested_at) "
            "VALUES (1, %(false)s, %(no_triggers)s, '', 1, %(last_request)s, %(true)s, %(trigger)s, %(now)s) "
            f"ON CONFLICT (id) DO UPDATE SET generation = {table}.generation + 1, "
            "last_request_at = excluded.last_request_at, "
            f"fast_trigger = CASE WHEN {table}.fast_pending THEN {table}.fast_trigger "
            "ELSE excluded.fast_trigger END, "
            f"fast_requested_at = CASE WHEN NOT {table}.fast_pending OR {table}.fast_requested_at < %(lost)s "
            f"THEN excluded.fast_requested_at ELSE {table}.fast_requested_at END, "
            "fast_pending = %(true)s "
            "RETURNING fast_requested_at = %(now)s",
            {
                "false": False,
                "true": True,
                "no_triggers": no_triggers,
                "last_request": last_request,
                "trigger": trigger[:200],
                "now": at_now,
                "lost": lost_before,
            },
        )
        row = cursor.fetchone()
    if row and row[0]:
        signature(PLAN_FAST_TASK).apply_async()
        return True
    return False


def input_changed() -> None:
    """Bump the input generation and stamp the moment (the optimiser waits for a quiet time after it)."""
    # One statement when the state row exists (always but on a fresh database): it runs after every release.
    bump = {"generation": F("generation") + 1, "last_request_at": timezone.now()}
    if not SchedulerState.objects.filter(pk=1).update(**bump):
        scheduler_state()
        SchedulerState.objects.filter(pk=1).update(**bump)


def quiet_for() -> float:
    """Seconds still to wait until PRODUCTION_RESCHEDULE_DEBOUNCE_SECONDS have passed since the last request
    (0: the plant is quiet, the background run may start)."""
    last = scheduler_state().last_request_at
    if last is None:
        return 0.0
    left = settings.PRODUCTION_RESCHEDULE_DEBOUNCE_SECONDS - (timezone.now() - last).total_seconds()
    return max(0.0, left)


def fast_claim() -> str | None:
    """Take the pending fast request (its trigger), or None when another run already took it."""
    trigger = SchedulerState.objects.filter(pk=1).values_list("fast_trigger", flat=True).first()
    taken = SchedulerState.objects.filter(pk=1, fast_pending=True).update(fast_pending=False)
    return (trigger or "event") if taken else None


def fast_clear() -> None:
    """A plan made now from everything committed answers any pending fast request (a manual run)."""
    SchedulerState.objects.filter(pk=1, fast_pending=True).update(fast_pending=False)


def input_generation() -> int:
    """The latest request's generation (a read: pages call it too)."""
    return SchedulerState.objects.filter(pk=1).values_list("generation", flat=True).first() or 0


@contextlib.contextmanager
def plan_writer() -> Iterator[None]:
    """Hold the plan writer's lock for the block: one process at a time builds-and-writes a fast plan or
    compares-and-writes an optimiser's, so two replans never interleave and a newer plan is never
    overwritten by one built from older input.

    PostgreSQL: a session advisory lock (blocking; a fast run holds it a second or two; a dead process's
    connection releases it). Session- rather than transaction-level so that the flag and generation reads
    inside the block run in autocommit and lock no row the web processes' requests must update. SQLite
    (one machine, development): no lock; SQLite lets one writer at a time commit anyway.
    """
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(%s)", [PLAN_WRITER_LOCK])
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [PLAN_WRITER_LOCK])


def request_now(*, trigger: str, force: bool = False) -> bool:
    """Mark a background run pending; the request that flips the flag enqueues the delayed task (True).

    The debounced task runs PRODUCTION_RESCHEDULE_METHOD: the optimiser, or the fast engine when the plan
    is not made at once (PRODUCTION_PLAN_AT_ONCE off). With method `fast` and the plan made at once there
    is nothing to run later, and nothing is done unless `force` (the API's "run optimised").

    The statement: one upsert of the state row (pk=1). A missing row is created pending, with this trigger;
    an idle row (`pending` off) is flipped on, its `pending_triggers` replaced by this trigger and
    `requested_at` set; a row already pending is left as it is. RETURNING yields a row only when this
    statement inserted or flipped it. Concurrent requests serialise on the row (or its uncommitted insert)
    and re-check `NOT pending` once it is free, so exactly one of them enqueues. The lease and `last_run_at`
    are never touched.

    Why SQL: it runs after every release and every other write that asks for a plan, and the ORM has no
    compare-and-set upsert that says whether it changed the row (`update_or_create` reads then writes,
    `bulk_create(update_conflicts=True)` has no condition on the update): one statement instead of two or
    three, without a race between them.

    On SQLite (a single machine, development) the same statement runs: SQLite has had
    INSERT ... ON CONFLICT DO UPDATE ... WHERE since 3.24 and RETURNING since 3.35. Pinned on PostgreSQL by
    tests/production/replanning/test_request_now_sql.py.
    """
    later = settings.PRODUCTION_RESCHEDULE_METHOD == "optimised" or not settings.PRODUCTION_PLAN_AT_ONCE
    if not (later or force):
        return False
    table = fast_sql.table(SchedulerState)
    triggers = SchedulerState._meta.get_field("pending_triggers").get_db_prep_save(
        [trigger[:200]], connection
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (id, pending, pending_triggers, requested_at, lease_holder) "  # noqa: S608 - our table name
            "VALUES (1, %s, %s, %s, '') "
            "ON CONFLICT (id) DO UPDATE SET pending = excluded.pending, "
            "pending_triggers = excluded.pending_triggers, requested_at = excluded.requested_at "
            f"WHERE NOT {table}.pending RETURNING id",
            [True, triggers, timezone.now()],
        )
        claimed = cursor.fetchone() is not None
    if claimed:
        signature(RESCHEDULE_TASK).apply_async(countdown=settings.PRODUCTION_RESCHEDULE_DEBOUNCE_SECONDS)
    return bool(claimed)


def lease_acquire(*, holder: str, seconds: float) -> bool:
    scheduler_state()
    now = timezone.now()
    free = Q(lease_expires_at__isnull=True) | Q(lease_expires_at__lte=now)
    taken = SchedulerState.objects.filter(free, pk=1).update(
        lease_holder=holder, lease_expires_at=now + dt.timedelta(seconds=seconds)
    )
    return taken == 1


def lease_release(*, holder: str) -> None:
    SchedulerState.objects.filter(pk=1, lease_holder=holder).update(lease_holder="", lease_expires_at=None)


def optimiser_outcome_record(outcome: dict) -> None:
    SchedulerState.objects.filter(pk=1).update(optimiser_outcome=outcome)
