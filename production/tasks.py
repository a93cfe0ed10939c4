"""Celery tasks of production: thin, idempotent, retried when the lease is taken.

production.replanning enqueues the fast plan and the optimiser by their registered names (PLAN_FAST_TASK,
RESCHEDULE_TASK): the planner these tasks run imports replanning, so replanning cannot import this module.
"""

from __future__ import annotations

import logging
import math

from celery import shared_task
from django.conf import settings

from config.kernel.errors import Conflict, ValidationFailed
from production.replanning import PLAN_FAST_TASK, RESCHEDULE_TASK, quiet_for
from production.scheduling import schedule_run_fast_pending, schedule_run_pending
from production.supply_planning import holds_expire, shortages_refresh

log = logging.getLogger(__name__)


@shared_task(name=PLAN_FAST_TASK, acks_late=True)
def plan_fast() -> int | None:
    """Make the fast plan for the pending request at once (enqueued without delay by schedule_request).

    Idempotent: a redelivered or duplicate message finds the request taken and does nothing.
    """
    try:
        schedule = schedule_run_fast_pending()
    except ValidationFailed as exc:
        log.warning("fast plan refused: %s %s", exc.code, exc.message)
        return None
    return schedule.version if schedule else None


@shared_task(bind=True, name=RESCHEDULE_TASK, max_retries=20, acks_late=True)
def reschedule(self) -> int | None:
    """Run the pending optimiser once (debounced by schedule_request); its plan replaces the current one
    only when better.

    Retried while another optimiser run holds the lease. Debounced for real: while requests keep coming
    (each one would make the result stale), it waits for PRODUCTION_RESCHEDULE_DEBOUNCE_SECONDS of quiet,
    re-enqueueing itself (not a retry: a long busy spell must not use up the retries).
    """
    wait = quiet_for()
    if wait > 0:
        reschedule.apply_async(countdown=math.ceil(wait))
        return None
    try:
        schedule = schedule_run_pending()
    except Conflict as exc:
        raise self.retry(countdown=settings.PRODUCTION_RESCHEDULE_DEBOUNCE_SECONDS, exc=exc) from exc
    except ValidationFailed as exc:
        # Bad master data: nothing to retry until someone fixes it (the planner sees it on "reschedule now").
        log.warning("reschedule refused: %s %s", exc.code, exc.message)
        return None
    return schedule.version if schedule else None


@shared_task(name="production.supply_holds_expire", acks_late=True)
def supply_holds_expire() -> int:
    """Quote holds past their expiry give their material back (beat; idempotent)."""
    return holds_expire()


@shared_task(name="production.supply_shortages", acks_late=True)
def supply_shortages() -> int:
    """Bring the shortage list up to date; a new shortage raises its production exception once (beat;
    idempotent)."""
    return len(shortages_refresh())
