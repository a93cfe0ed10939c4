"""When to plan again: the debounced request for a reschedule, and the lease of the run.

Debounce: `schedule_request` (after the caller's commit) flips `SchedulerState.pending` from false to true
with one compare-and-set statement; only the request that flips it enqueues the Celery task (by its name,
RESCHEDULE_TASK), delayed by PRODUCTION_RESCHEDULE_DEBOUNCE_SECONDS, so a burst of events makes one run.

Lock: a lease on the same row, taken by a compare-and-set UPDATE (free or expired → mine, until
now + TTL). It works across processes and machines that share the database (PostgreSQL in production,
SQLite for a single machine) and holds no transaction open while the solver runs; a crashed worker's
lease expires. A run that finds the lease taken refuses (Conflict); the task retries later.

Master data, work orders and changes ask for a new plan here; the planner itself (production.scheduling)
sits above them all, because it reads them.
"""

from __future__ import annotations

import datetime as dt

from celery import signature
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from production.replanning.models import SchedulerState

# The Celery task that runs the pending reschedule (production.tasks). It runs the planner, which sits above
# every package that asks for a plan here, so it is enqueued by its registered name, not imported.
RESCHEDULE_TASK = "production.reschedule"


def scheduler_state() -> SchedulerState:
    """The one state row, made on first use."""
    state, _ = SchedulerState.objects.get_or_create(pk=1)
    return state


def schedule_request(*, trigger: str) -> None:
    """Ask for a reschedule once the caller's transaction commits (nothing if it rolls back)."""
    transaction.on_commit(lambda: request_now(trigger=trigger))


def request_now(*, trigger: str) -> bool:
    """Mark a reschedule pending; the request that flips the flag enqueues the delayed task (True).

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
    table = connection.ops.quote_name(SchedulerState._meta.db_table)
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
