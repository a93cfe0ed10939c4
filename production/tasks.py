"""Celery tasks of production: thin, idempotent, retried when the lease is taken."""

from __future__ import annotations

import logging

from celery import shared_task
from django.conf import settings

from config.kernel.errors import Conflict, ValidationFailed

log = logging.getLogger(__name__)


@shared_task(bind=True, name="production.reschedule", max_retries=20, acks_late=True)
def reschedule(self) -> int | None:
    """Run the pending reschedule once (debounced by schedule_request).

    Retried while another run holds the lease.
    """
    # The planner imports the request that enqueues this task: this module loads it when the task runs.
    from production.scheduling import schedule_run_pending

    try:
        schedule = schedule_run_pending()
    except Conflict as exc:
        raise self.retry(countdown=settings.PRODUCTION_RESCHEDULE_DEBOUNCE_SECONDS, exc=exc) from exc
    except ValidationFailed as exc:
        # Bad master data: nothing to retry until someone fixes it (the planner sees it on "reschedule now").
        log.warning("reschedule refused: %s %s", exc.code, exc.message)
        return None
    return schedule.version if schedule else None
