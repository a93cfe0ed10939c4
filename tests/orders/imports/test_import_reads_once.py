"""An import reads its file once: the run takes the rows its check read (kept in the shared cache under the
file's digest) and still checks them against the master data of its own time; a lost cache only means
reading the file again."""

from __future__ import annotations

import pytest
from django.core.cache import cache

from orders.imports import import_job_commit, import_job_run
from orders.imports import jobs as imports
from orders.models import ImportJobStatus, SalesOrder
from tests.orders.imports.test_import import catalog, row, validated, xlsx  # noqa: F401 - fixture

pytestmark = pytest.mark.django_db


def test_the_check_keeps_the_rows_it_read_for_the_run_which_forgets_them(sales, catalog):  # noqa: F811
    job = validated(sales, xlsx([row("R1"), row("R2")]))

    kept = cache.get(imports._sheet_key(job))
    assert [number for number, _values in kept.rows] == [2, 3]

    import_job_commit(actor=sales, job=job)
    job = import_job_run(job_id=job.pk)

    assert job.status == ImportJobStatus.DONE
    assert SalesOrder.objects.filter(external_ref__in=["R1", "R2"]).count() == 2
    assert cache.get(imports._sheet_key(job)) is None


def test_a_run_whose_kept_rows_were_lost_reads_the_file_again(sales, catalog):  # noqa: F811
    job = validated(sales, xlsx([row("R1"), row("R2", quantity="3")]))
    cache.delete(imports._sheet_key(job))

    import_job_commit(actor=sales, job=job)
    job = import_job_run(job_id=job.pk)

    assert job.status == ImportJobStatus.DONE
    assert str(SalesOrder.objects.get(external_ref="R2").lines.get().quantity) == "3.000"


def test_the_run_checks_the_kept_rows_against_todays_master_data(sales, catalog):  # noqa: F811
    job = validated(sales, xlsx([row("R1")]))
    catalog["product"].is_active = False
    catalog["product"].save()

    import_job_commit(actor=sales, job=job)
    job = import_job_run(job_id=job.pk)

    assert job.status == ImportJobStatus.INVALID
    assert not SalesOrder.objects.exists()
