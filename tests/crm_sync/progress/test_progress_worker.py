"""A real Celery worker on Redis: the countdown task a report enqueues writes the progress event, and the
delivery task it causes puts it in the CRM simulator."""

from __future__ import annotations

import httpx
import pytest

from production import tasks as production_tasks
from production import work_orders
from production.work_orders import WorkOrderOperation
from tests.crm_sync.outbox.test_workers import celery_worker, redis_broker, wait_for  # noqa: F401 - fixtures


@pytest.fixture
def _no_reschedule(monkeypatch):
    # The release asks for a reschedule: not for this worker, whose solo pool it would hold up.
    monkeypatch.setattr(production_tasks.reschedule, "apply_async", lambda *args, **kwargs: None)


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.usefixtures("_no_reschedule", "celery_worker")
def test_a_report_reaches_the_crm_as_progress_through_a_real_worker(crm, planner, order):
    cut = WorkOrderOperation.objects.filter(work_order__order=order).order_by("sequence").first()

    work_orders.progress_report_create(actor=planner, operation=cut, message_id="m-1", good_quantity=4)

    def held_progress():
        return httpx.get(f"{crm.url}/orders/{order.number}", timeout=5).json().get("progress")

    progress = wait_for(held_progress, timeout=30)
    assert progress is not None
    assert progress["work_orders"][0]["operations"][0]["good_quantity"] == "4.000"
    assert crm.snapshot()["out_of_order"] == []
