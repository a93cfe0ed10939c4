"""Orders and work orders out as CSV (streamed) and XLSX."""

from __future__ import annotations

import csv
import io

import openpyxl
import pytest

from orders.sales import transitions
from tests.factories import ProductFactory, make_order
from tests.production.conftest import make_routing, make_work_center

pytestmark = pytest.mark.django_db


def csv_rows(response) -> list[list[str]]:
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text)))


def test_sales_export_only_their_own_orders(client, sales, other_sales):
    mine = make_order(owner=sales)
    make_order(owner=other_sales)
    client.force_login(sales)

    rows = csv_rows(client.get("/orders/export.csv"))

    assert rows[0][:2] == ["Order number", "External reference"]
    assert [r[0] for r in rows[1:]] == [mine.number]


def test_the_export_follows_the_list_filters(client, planner, sales):
    wanted = make_order(owner=sales, customer_po="PO-WANTED")
    make_order(owner=sales, customer_po="PO-OTHER")
    client.force_login(planner)

    rows = csv_rows(client.get("/orders/export.csv", {"q": "WANTED"}))

    assert [r[0] for r in rows[1:]] == [wanted.number]


def test_orders_export_as_xlsx_with_readable_statuses(client, sales):
    order = make_order(owner=sales, confirmed=True)
    client.force_login(sales)

    response = client.get("/orders/export.xlsx")

    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    assert sheet["A2"].value == order.number
    assert sheet["I2"].value == "Confirmed"


def test_a_value_that_looks_like_a_formula_is_exported_as_text(client, sales):
    make_order(owner=sales, customer_po='=HYPERLINK("http://evil")')
    client.force_login(sales)

    rows = csv_rows(client.get("/orders/export.csv"))

    assert rows[1][6].startswith("'=")


def test_an_unknown_export_format_is_a_404(client, sales):
    client.force_login(sales)

    assert client.get("/orders/export.pdf").status_code == 404


def test_planners_export_work_orders(client, sales, planner):
    center = make_work_center(planner, "PRESS")
    product = ProductFactory()
    make_routing(planner, product, [(center, 0, "1")])
    order = transitions.order_release(
        actor=planner, order=make_order(owner=sales, product=product, confirmed=True)
    )
    client.force_login(planner)

    rows = csv_rows(client.get("/production/work-orders/export.csv"))

    assert rows[0][0] == "Work order number"
    assert rows[1][:2] == [f"{order.number}-01", order.number]
    assert rows[1][6] == "Planned"


def test_outsiders_cannot_export_work_orders(client, outsider):
    client.force_login(outsider)

    assert client.get("/production/work-orders/export.xlsx").status_code == 403
