"""Celery tasks of production: thin, idempotent, retried when the lease is taken.

production.replanning enqueues the reschedule by its registered name (RESCHEDULE_TASK): the planner this
task runs imports replanning, so replanning cannot import this module.
"""

from __future__ import annotations

import logging

from celery import shared_task
from django.conf import settings

from config.kernel.errors import Conflict, ValidationFailed
from production.replanning import RESCHEDULE_TASK
from production.scheduling import schedule_run_pending

log = logging.getLogger(__name__)


@shared_task(bind=True, name=RESCHEDULE_TASK, max_retries=20, acks_late=True)
def reschedule(self) -> int | None:
    """Run the pending reschedule once (debounced by schedule_request).

    Retried while another run holds the lease.
    """
    try:
        schedule = schedule_run_pending()
    except Conflict as exc:
        raise self.retry(countdown=settings.PRODUCTION_RESCHEDULE_DEBOUNCE_SECONDS, exc=exc) from exc
    except ValidationFailed as exc:
        # Bad master data: nothing to retry until someone fixes it (the planner sees it on "reschedule now").
        log.warning("reschedule refused: %s %s", exc.code, exc.message)
        return None
    return schedule.version if schedule else None
