"""Real parallel transactions on PostgreSQL: Celery delivers the import task at least once, so the same
job may run twice at the same moment; the file is imported once."""

from __future__ import annotations

import time

import pytest

from orders.imports import import_job_commit, import_job_create, import_job_run, import_job_validate
from orders.imports import jobs as imports
from orders.models import ImportJob, ImportJobStatus, SalesOrder
from tests.factories import CustomerFactory, ProductFactory
from tests.orders.imports.test_import import row, validated, xlsx
from tests.orders.sales.test_concurrency import _in_threads
from tests.services import require_postgresql

pytestmark = [pytest.mark.django_db(transaction=True, serialized_rollback=True), pytest.mark.services]


@pytest.fixture
def catalog():
    # The customer and product the rows of tests.orders.imports.test_import name.
    return CustomerFactory(code="HARBOUR"), ProductFactory(sku="PNL-1")


def test_an_import_task_delivered_twice_at_once_imports_the_file_once(sales, catalog, monkeypatch):
    require_postgresql()
    job = validated(sales, xlsx([row("R1"), row("R2"), row("R3")]))
    import_job_commit(actor=sales, job=job)
    report = imports._set_progress

    def slow_start(job_id, done, total):
        report(job_id, done, total)
        if done == 0:
            time.sleep(0.5)  # the first run is busy importing when the second delivery arrives

    monkeypatch.setattr(imports, "_set_progress", slow_start)

    results, errors = _in_threads(2, lambda _index: import_job_run(job_id=job.pk))

    assert (len(results), errors) == (2, [])
    job = ImportJob.objects.get(pk=job.pk)
    assert job.status == ImportJobStatus.DONE
    assert sorted(job.created_order_numbers) == sorted(SalesOrder.objects.values_list("number", flat=True))
    assert SalesOrder.objects.count() == 3


def test_a_check_task_delivered_twice_at_once_records_one_result_and_fails_neither(
    sales, catalog, monkeypatch
):
    require_postgresql()
    job = import_job_create(actor=sales, filename="orders.xlsx", content=xlsx([row("R1"), row("R2")]))
    read = imports.read_sheet

    def slow_read(job):
        time.sleep(0.5)  # both deliveries are reading the file before either records its result
        return read(job)

    monkeypatch.setattr(imports, "read_sheet", slow_read)

    results, errors = _in_threads(2, lambda _index: import_job_validate(job_id=job.pk))

    assert (len(results), errors) == (2, [])
    job = ImportJob.objects.get(pk=job.pk)
    assert (
        job.status,
        job.orders_new,
        job.history.filter(history_change_reason="File validated").count(),
    ) == (
        ImportJobStatus.VALID,
        2,
        1,
    )
