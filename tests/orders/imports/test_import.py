"""Orders from spreadsheets: the template, row-by-row validation, all-or-nothing import, idempotence, and
malformed files refused with a clear error and nothing saved."""

from __future__ import annotations

import csv
import datetime as dt
import io

import openpyxl
import pytest

from config.celery import app as celery_app
from config.kernel import message_text
from config.kernel.errors import Conflict, Forbidden
from orders import imports
from orders.imports import (
    FileRejected,
    import_job_commit,
    import_job_create,
    import_job_run,
    import_job_validate,
)
from orders.models import ImportJob, ImportJobStatus, SalesOrder
from tests.factories import CustomerFactory, ProductFactory, in_days

pytestmark = pytest.mark.django_db

HEADERS = [
    "external_ref",
    "customer_code",
    "customer_po",
    "requested_date",
    "sku",
    "quantity",
    "spec.material",
    "spec.thickness_mm",
]


@pytest.fixture
def catalog(db):
    return {"customer": CustomerFactory(code="HARBOUR"), "product": ProductFactory(sku="PNL-1")}


def row(
    ref="R1", customer="HARBOUR", po="PO-1", sku="PNL-1", quantity="10", material="steel", thickness="2.5"
):
    return [ref, customer, po, in_days(30).isoformat(), sku, quantity, material, thickness]


def xlsx(rows, headers=HEADERS) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(headers)
    for values in rows:
        sheet.append(values)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def csv_bytes(rows, headers=HEADERS, encoding="utf-8") -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(headers)
    writer.writerows(rows)
    return buffer.getvalue().encode(encoding)


def validated(actor, content: bytes, filename="orders.xlsx", **kwargs) -> ImportJob:
    job = import_job_create(actor=actor, filename=filename, content=content, **kwargs)
    return import_job_validate(job_id=job.pk)


def imported(actor, content: bytes, filename="orders.xlsx") -> ImportJob:
    job = validated(actor, content, filename)
    assert job.status == ImportJobStatus.VALID, job.errors
    import_job_commit(actor=actor, job=job)
    return import_job_run(job_id=job.pk)


def errors_of(job) -> set[tuple[int, str]]:
    return {(e["row"], e["column"]) for e in job.errors}


# --- template ------------------------------------------------------------------------------------------
def test_the_xlsx_template_has_the_columns_and_every_familys_spec_values(catalog):
    content, _type = imports.template_file("xlsx")
    workbook = openpyxl.load_workbook(io.BytesIO(content))

    headers = [cell.value for cell in workbook["Orders"][1]]
    assert headers[:4] == ["external_ref", "customer_code", "customer_po", "crm_id"]
    assert {"spec.material", "spec.thickness_mm", "spec.finish", "spec.colour"} <= set(headers)
    spec_rows = list(workbook["Spec values"].iter_rows(values_only=True))
    material = next(r for r in spec_rows if r[0] == "spec.material")
    assert material[4] == "steel, aluminium, stainless"


def test_the_templates_example_row_imports_cleanly(sales, catalog):
    content, _type = imports.template_file("xlsx")

    job = validated(sales, content)

    assert job.status == ImportJobStatus.VALID and job.orders_new == 1


# --- validation ----------------------------------------------------------------------------------------
def test_a_valid_file_previews_its_orders_without_saving_any(sales, catalog):
    job = validated(sales, xlsx([row("R1"), row("R2")]))

    assert job.status == ImportJobStatus.VALID
    assert (job.rows, job.orders_new) == (2, 2)
    assert [order["external_ref"] for order in job.preview] == ["R1", "R2"]
    assert not SalesOrder.objects.exists()


def test_each_error_names_its_row_and_column(sales, catalog):
    job = validated(
        sales,
        xlsx(
            [
                row("R1", material="gold"),
                row("R2", quantity="ten"),
                row("R3", sku="NOPE"),
                row("R4", customer="X"),
            ]
        ),
    )

    assert job.status == ImportJobStatus.INVALID
    assert errors_of(job) == {(2, "spec.material"), (3, "quantity"), (4, "sku"), (5, "customer_code")}


def test_rows_with_the_same_reference_are_the_lines_of_one_order(sales, catalog):
    job = imported(sales, xlsx([row("R1", quantity="5"), row("R1", quantity="7")]))

    order = SalesOrder.objects.get(external_ref="R1")
    assert job.status == ImportJobStatus.DONE
    assert [str(q) for q in order.lines.order_by("line_no").values_list("quantity", flat=True)] == [
        "5.000",
        "7.000",
    ]


def test_lines_of_one_order_must_agree_on_the_order_columns(sales, catalog):
    job = validated(sales, xlsx([row("R1", po="PO-1"), row("R1", po="PO-2")]))

    assert errors_of(job) == {(3, "customer_po")}


def test_a_date_in_the_past_is_refused_by_the_order_rules(sales, catalog):
    values = row("R1")
    values[3] = "2020-01-01"

    job = validated(sales, xlsx([values]))

    assert errors_of(job) == {(2, "requested_date")}


# --- the import ----------------------------------------------------------------------------------------
def test_importing_creates_draft_orders_through_the_order_rules(sales, catalog):
    job = imported(sales, xlsx([row("R1"), row("R2")]))

    orders = SalesOrder.objects.order_by("external_ref")
    assert job.created_order_numbers == [o.number for o in orders]
    assert [(o.external_ref, o.status, o.owner) for o in orders] == [
        ("R1", "draft", sales),
        ("R2", "draft", sales),
    ]
    assert orders[0].lines.get().spec_values == {"material": "steel", "thickness_mm": 2.5}
    assert message_text(orders[0].history.first().history_change_reason) == "Imported from orders.xlsx, row 2"


def test_reimporting_the_same_file_creates_no_duplicates(sales, catalog):
    content = xlsx([row("R1"), row("R2")])
    imported(sales, content)

    again = validated(sales, content)

    assert (again.orders_new, again.orders_existing) == (0, 2)
    assert SalesOrder.objects.count() == 2


def test_a_file_with_new_and_known_rows_imports_only_the_new_ones(sales, catalog):
    imported(sales, xlsx([row("R1")]))

    job = imported(sales, xlsx([row("R1"), row("R2")]))

    assert len(job.created_order_numbers) == 1
    assert SalesOrder.objects.count() == 2


def test_nothing_is_saved_when_one_order_fails_during_the_import(sales, catalog):
    job = validated(sales, xlsx([row("R1"), row("R2")]))
    import_job_commit(actor=sales, job=job)
    # Between preview and import the customer is deactivated: no order of the file may be created.
    catalog["customer"].is_active = False
    catalog["customer"].save()

    job = import_job_run(job_id=job.pk)

    assert job.status == ImportJobStatus.INVALID
    assert not SalesOrder.objects.exists()


def test_only_the_uploader_may_start_the_import(sales, other_sales, catalog):
    job = validated(sales, xlsx([row("R1")]))

    with pytest.raises(Forbidden):
        import_job_commit(actor=other_sales, job=job)


def test_an_invalid_file_cannot_be_imported(sales, catalog):
    job = validated(sales, xlsx([row("R1", quantity="-1")]))

    with pytest.raises(Conflict):
        import_job_commit(actor=sales, job=job)


def test_a_planner_may_not_import(planner, catalog):
    with pytest.raises(Forbidden):
        import_job_create(actor=planner, filename="o.xlsx", content=xlsx([row()]))


def test_running_a_finished_import_again_changes_nothing(sales, catalog):
    job = imported(sales, xlsx([row("R1")]))

    import_job_run(job_id=job.pk)

    assert SalesOrder.objects.count() == 1


# --- malformed files -----------------------------------------------------------------------------------
def test_a_file_that_is_not_a_spreadsheet_is_refused(sales):
    with pytest.raises(FileRejected, match="not an Excel"):
        import_job_create(actor=sales, filename="orders.xlsx", content=b"%PDF-1.7 not a spreadsheet")
    assert not ImportJob.objects.exists()


def test_a_file_of_another_kind_is_refused(sales):
    with pytest.raises(FileRejected, match=r"xlsx or a \.csv"):
        import_job_create(actor=sales, filename="orders.pdf", content=b"%PDF")


def test_a_damaged_xlsx_is_a_clear_error(sales, catalog):
    job = validated(sales, b"PK\x03\x04" + b"\x00" * 200)

    assert job.status == ImportJobStatus.INVALID
    assert "not an Excel" in job.errors[0]["message"]


def test_wrong_columns_are_named(sales, catalog):
    job = validated(sales, xlsx([["R1", "HARBOUR"]], headers=["reference", "customer_code"]))

    [error] = job.errors
    assert "missing columns: external_ref, sku, quantity" in error["message"]
    assert "unknown columns: reference" in error["message"]


def test_formulas_are_refused_with_their_cell(sales, catalog):
    values = row("R1")
    values[5] = "=2*5"

    job = validated(sales, xlsx([values]))

    assert job.status == ImportJobStatus.INVALID
    assert (2, "quantity") in errors_of(job)


def test_a_huge_file_is_refused_before_it_is_stored(sales, settings):
    settings.IMPORT_MAX_BYTES = 1000

    with pytest.raises(FileRejected, match="larger than"):
        import_job_create(actor=sales, filename="orders.csv", content=b"x" * 1001)


def test_too_many_rows_are_refused(sales, catalog, settings):
    settings.IMPORT_MAX_ROWS = 2

    job = validated(sales, xlsx([row("R1"), row("R2"), row("R3")]))

    assert "more than 2 rows" in job.errors[0]["message"]


def test_a_csv_in_the_wrong_encoding_is_a_clear_error(sales, catalog):
    content = csv_bytes([row("R1", po="订单-1")], encoding="gb18030")

    job = validated(sales, content, filename="orders.csv")

    assert job.status == ImportJobStatus.INVALID
    assert "not valid UTF-8" in job.errors[0]["message"]


def test_a_gb18030_csv_imports_when_its_encoding_is_chosen(sales, catalog):
    content = csv_bytes([row("R1", po="订单-1")], encoding="gb18030")

    job = validated(sales, content, filename="orders.csv", encoding="gb18030")

    assert job.status == ImportJobStatus.VALID
    assert job.preview[0]["customer_po"] == "订单-1"


def test_a_binary_file_named_csv_is_refused(sales, catalog):
    job = validated(sales, b"\x00\x01\x02binary", filename="orders.csv")

    assert "not a CSV text file" in job.errors[0]["message"]


def test_a_csv_formula_is_refused(sales, catalog):
    job = validated(sales, csv_bytes([row("R1", po='=HYPERLINK("x")')]), filename="orders.csv")

    assert (2, "customer_po") in errors_of(job)


# --- pages and tasks -----------------------------------------------------------------------------------
@pytest.fixture
def eager_celery(monkeypatch):
    monkeypatch.setattr(celery_app.conf, "task_always_eager", True)


def test_upload_checks_the_file_in_a_task_after_commit(
    client, sales, catalog, eager_celery, django_capture_on_commit_callbacks
):
    client.force_login(sales)
    upload = io.BytesIO(xlsx([row("R1")]))
    upload.name = "orders.xlsx"

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/orders/import/", {"file": upload, "encoding": "utf-8"})

    job = ImportJob.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/orders/import/{job.pk}/"
    assert job.status == ImportJobStatus.VALID
    assert "Import 1 order" in client.get(f"/orders/import/{job.pk}/").content.decode()


def test_confirming_the_preview_imports_in_a_task(
    client, sales, catalog, eager_celery, django_capture_on_commit_callbacks
):
    job = validated(sales, xlsx([row("R1")]))
    client.force_login(sales)

    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/orders/import/{job.pk}/commit/")

    assert ImportJob.objects.get(pk=job.pk).status == ImportJobStatus.DONE
    assert SalesOrder.objects.filter(external_ref="R1").exists()


def test_the_job_page_lists_each_error_by_row_and_column(client, sales, catalog):
    job = validated(sales, xlsx([row("R1", quantity="ten")]))
    client.force_login(sales)

    content = client.get(f"/orders/import/{job.pk}/").content.decode()

    assert "<code>quantity</code>" in content and "Enter a number." in content


def test_the_progress_partial_asks_for_a_reload_once_the_step_is_over(client, sales, catalog):
    job = validated(sales, xlsx([row("R1")]))
    client.force_login(sales)

    response = client.get(f"/orders/import/{job.pk}/?partial=progress", HTTP_HX_REQUEST="true")

    assert response["HX-Refresh"] == "true"


def test_a_started_import_says_it_checks_the_file_again_before_writing(client, sales, catalog):
    job = validated(sales, xlsx([row("R1")]))
    client.force_login(sales)
    client.post(f"/orders/import/{job.pk}/commit/")  # the task is not run here: the job waits for it

    page = client.get(f"/orders/import/{job.pk}/?partial=progress", HTTP_HX_REQUEST="true").content.decode()

    assert "Checking the file again" in page


def test_another_users_import_is_a_404(client, sales, other_sales, catalog):
    job = validated(sales, xlsx([row("R1")]))
    client.force_login(other_sales)

    assert client.get(f"/orders/import/{job.pk}/").status_code == 404


def test_an_upload_without_a_file_says_so(client, sales):
    client.force_login(sales)

    response = client.post("/orders/import/", {})

    assert response.status_code == 400 and "Choose a file" in response.content.decode()


def test_a_planner_cannot_open_the_import_page(client, planner):
    client.force_login(planner)

    assert client.get("/orders/import/").status_code == 403


def test_the_template_downloads(client, sales, catalog):
    client.force_login(sales)

    response = client.get("/orders/import/template.csv")

    assert response.content.decode("utf-8-sig").startswith("external_ref,customer_code")


def test_an_order_taken_by_another_import_meanwhile_rolls_back_the_whole_file(sales, catalog):
    job = validated(sales, xlsx([row("R1"), row("R2")]))
    import_job_commit(actor=sales, job=job)
    # A concurrent import of R2 committed first (simulated by importing it on its own).
    imported(sales, xlsx([row("R2")]))

    job = import_job_run(job_id=job.pk)

    # R2 is now known, so the file's re-check skips it and imports R1 alone: still no duplicate.
    assert job.status == ImportJobStatus.DONE
    assert sorted(SalesOrder.objects.values_list("external_ref", flat=True)) == ["R1", "R2"]


def test_a_file_whose_check_was_never_queued_can_be_queued_again(
    client, sales, catalog, eager_celery, django_capture_on_commit_callbacks
):
    job = import_job_create(actor=sales, filename="orders.xlsx", content=xlsx([row("R1")]))
    ImportJob.objects.filter(pk=job.pk).update(created_at=job.created_at - dt.timedelta(minutes=5))
    client.force_login(sales)
    assert "Check the file now" in client.get(f"/orders/import/{job.pk}/").content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/orders/import/{job.pk}/retry/")

    assert ImportJob.objects.get(pk=job.pk).status == ImportJobStatus.VALID


def test_a_file_being_checked_is_not_queued_twice(sales, catalog):
    job = validated(sales, xlsx([row("R1")]))

    with pytest.raises(Conflict):
        imports.import_job_retry(actor=sales, job=job)
