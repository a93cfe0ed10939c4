"""Celery tasks of orders: thin and idempotent (ids in, one service call)."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="orders.import_validate", acks_late=True)
def import_validate(job_id: int) -> str | None:
    from .imports import import_job_validate

    job = import_job_validate(job_id=job_id)
    return job.status if job else None


@shared_task(name="orders.import_run", acks_late=True)
def import_run(job_id: int) -> str | None:
    from .imports import import_job_run

    job = import_job_run(job_id=job_id)
    return job.status if job else None
