"""An import with some bad rows can take only its good orders, when the uploader says so; the drafts an
import created are confirmed together."""

from __future__ import annotations

import pytest

from config.kernel.errors import Conflict
from orders.imports import import_job_commit, import_job_run
from orders.models import ImportJobStatus, OrderStatus, SalesOrder
from tests.orders.imports.test_import import catalog, row, validated, xlsx  # noqa: F401 (fixture)

pytestmark = pytest.mark.django_db


def test_a_file_with_bad_rows_counts_the_orders_without_errors(sales, catalog):  # noqa: F811
    job = validated(sales, xlsx([row("R1"), row("R2", quantity="ten"), row("R3")]))

    assert job.status == ImportJobStatus.INVALID
    assert job.orders_good == 2


def test_importing_only_the_good_rows_creates_those_orders_and_keeps_the_bad_rows_listed(sales, catalog):  # noqa: F811
    job = validated(sales, xlsx([row("R1"), row("R2", quantity="ten"), row("R3")]))

    import_job_commit(actor=sales, job=job, skip_error_rows=True)
    job = import_job_run(job_id=job.pk)

    assert job.status == ImportJobStatus.DONE
    assert sorted(SalesOrder.objects.values_list("external_ref", flat=True)) == ["R1", "R3"]
    assert {(error["row"], error["column"]) for error in job.errors} == {(3, "quantity")}


def test_an_order_with_one_bad_line_is_left_out_whole(sales, catalog):  # noqa: F811
    job = validated(sales, xlsx([row("R1"), row("R1", quantity="ten"), row("R2")]))

    import_job_commit(actor=sales, job=job, skip_error_rows=True)
    import_job_run(job_id=job.pk)

    assert list(SalesOrder.objects.values_list("external_ref", flat=True)) == ["R2"]


def test_a_file_with_errors_is_not_imported_unless_the_uploader_asks_to_leave_them_out(sales, catalog):  # noqa: F811
    job = validated(sales, xlsx([row("R1"), row("R2", quantity="ten")]))

    with pytest.raises(Conflict):
        import_job_commit(actor=sales, job=job)

    assert not SalesOrder.objects.exists()


def test_a_file_where_every_order_has_an_error_offers_nothing_to_import(sales, catalog):  # noqa: F811
    job = validated(sales, xlsx([row("R1", quantity="ten")]))

    with pytest.raises(Conflict):
        import_job_commit(actor=sales, job=job, skip_error_rows=True)


def test_the_job_page_offers_the_good_rows_and_then_confirming_the_drafts_together(client, sales, catalog):  # noqa: F811
    job = validated(sales, xlsx([row("R1"), row("R2", quantity="ten"), row("R3")]))
    client.force_login(sales)
    assert 'data-testid="import-good-rows"' in client.get(f"/orders/import/{job.pk}/").content.decode()

    client.post(f"/orders/import/{job.pk}/commit/", {"skip_error_rows": "1"})
    import_job_run(job_id=job.pk)
    page = client.get(f"/orders/import/{job.pk}/").content.decode()
    response = client.post(f"/orders/import/{job.pk}/confirm-orders/")

    assert 'data-testid="import-confirm-orders"' in page
    assert response.status_code == 302
    assert set(SalesOrder.objects.values_list("status", flat=True)) == {OrderStatus.CONFIRMED}
