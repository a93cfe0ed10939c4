"""Formula injection: a cell a spreadsheet would run as a formula (=, +, -, @ first) is refused with an
error naming its row and column, unless it is a plain number; the template and the exports defuse such
text from our own data."""

from __future__ import annotations

import csv
import io

import openpyxl
import pytest

from orders import imports
from orders.models import ImportJobStatus, SalesOrder
from tests.factories import CustomerFactory, ProductFactory, make_order
from tests.orders.imports.test_import import csv_bytes, errors_of, imported, row, validated, xlsx

pytestmark = pytest.mark.django_db

DDE = "-2+3+cmd|' /C calc'!A0"


@pytest.fixture
def catalog(db):
    return {"customer": CustomerFactory(code="HARBOUR"), "product": ProductFactory(sku="PNL-1")}


def as_file(fmt: str, rows) -> tuple[bytes, str]:
    return (xlsx(rows), "orders.xlsx") if fmt == "xlsx" else (csv_bytes(rows), "orders.csv")


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
@pytest.mark.parametrize("po", ["+SUM(1,2)", DDE, "@SUM(1)", "- urgent", "\t=1+1"])
def test_text_that_a_spreadsheet_would_run_is_refused_naming_row_and_column(sales, catalog, fmt, po):
    content, filename = as_file(fmt, [row("R1"), row("R2", po=po)])

    job = validated(sales, content, filename=filename)

    assert job.status == ImportJobStatus.INVALID
    assert errors_of(job) == {(3, "customer_po")}
    assert "may not start with" in job.errors[0]["message"]
    assert not SalesOrder.objects.exists()


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_a_negative_number_is_no_formula_and_is_judged_as_a_number(sales, catalog, fmt):
    content, filename = as_file(fmt, [row("R1", po="-5", quantity="-5")])

    job = validated(sales, content, filename=filename)

    # "-5" is a fine purchase order reference; a quantity of -5 fails the quantity rule, not the formula rule.
    assert [(e["column"], "may not start with" in e["message"]) for e in job.errors] == [("quantity", False)]


def test_a_signed_plain_number_imports_as_it_was_written(sales, catalog):
    job = imported(sales, csv_bytes([row("R1", po="+1,000.50")]), filename="orders.csv")

    assert job.status == ImportJobStatus.DONE
    assert SalesOrder.objects.get().customer_po == "+1,000.50"


def test_the_csv_template_defuses_catalogue_names_that_look_like_formulas(db):
    CustomerFactory(code="@HARBOUR")
    ProductFactory(sku="+PNL-1")

    content, _type = imports.template_file("csv")

    header, example = csv.reader(io.StringIO(content.decode("utf-8-sig")))
    values = dict(zip(header, example, strict=True))
    assert (values["customer_code"], values["sku"]) == ("'@HARBOUR", "'+PNL-1")


def test_the_xlsx_template_stores_catalogue_names_as_text_not_formulas(db):
    ProductFactory(sku="PNL-1", name='=HYPERLINK("http://evil")')

    content, _type = imports.template_file("xlsx")

    products = openpyxl.load_workbook(io.BytesIO(content))["Products"]
    [name_cell] = [cell for cell in products[2] if "HYPERLINK" in str(cell.value)]
    assert (name_cell.data_type, name_cell.value) == ("s", '\'=HYPERLINK("http://evil")')


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
@pytest.mark.parametrize("po", ["=1+1", "+1+1", "-1+1", "@SUM(1)", "\tx"])
def test_the_order_export_defuses_every_formula_start(client, sales, fmt, po):
    make_order(owner=sales, customer_po=po)
    client.force_login(sales)

    response = client.get(f"/orders/export.{fmt}")

    if fmt == "csv":
        text = b"".join(response.streaming_content).decode("utf-8-sig")
        value = list(csv.reader(io.StringIO(text)))[1][6]
    else:
        value = openpyxl.load_workbook(io.BytesIO(response.content)).active["G2"].value
    assert value == "'" + po
