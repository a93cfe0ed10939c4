"""BOMs, stock counts and purchase orders from spreadsheets: row-level errors and nothing half-saved."""

import io
from decimal import Decimal

import pytest
from django.urls import reverse
from openpyxl import Workbook

from config.kernel.errors import Forbidden
from production import materials
from production.materials import Bom, ItemKind, PurchaseOrder, StockMovement
from tests.factories import UserFactory
from tests.production.materials.factories import ItemFactory, LocationFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def buyer(db):
    return UserFactory(username="bea", role="purchasing")


def csv_file(*rows):
    return "\n".join(",".join(str(cell) for cell in row) for row in rows).encode()


def xlsx_file(*rows):
    workbook = Workbook()
    for row in rows:
        workbook.active.append(list(row))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def test_a_bom_sheet_makes_the_bom_and_new_components(planner):
    ItemFactory(code="CAB", kind=ItemKind.FINISHED_PRODUCT)
    content = csv_file(
        ("parent_code", "component_code", "quantity", "scrap_percent", "component_name", "component_kind"),
        ("CAB", "SHEET-2MM", "1.5", "3", "Steel sheet 2 mm", "raw_material"),
        ("CAB", "HINGE", "2", "", "Hinge", "purchased_part"),
    )

    result = materials.materials_import(actor=planner, kind="boms", filename="bom.csv", content=content)

    assert result.saved and result.created["items"] == 2
    bom = Bom.objects.get(item__code="CAB")
    assert [(line.component.code, line.quantity) for line in bom.lines.all()] == [
        ("SHEET-2MM", Decimal("1.5")),
        ("HINGE", Decimal(2)),
    ]


def test_a_bom_sheet_with_one_bad_row_saves_nothing_and_names_the_row(planner):
    ItemFactory(code="CAB", kind=ItemKind.FINISHED_PRODUCT)
    ItemFactory(code="SHEET")
    content = xlsx_file(
        ("parent_code", "component_code", "quantity"),
        ("CAB", "SHEET", 1),
        ("CAB", "NOPE", 1),
        ("CAB", "SHEET", "lots"),
    )

    result = materials.materials_import(actor=planner, kind="boms", filename="bom.xlsx", content=content)

    assert not result.saved
    assert [(e["row"], e["column"]) for e in result.errors] == [(3, "component_code"), (4, "quantity")]
    assert not Bom.objects.exists()


def test_a_stock_sheet_sets_counted_stock(manager):
    bolt = ItemFactory(code="BOLT")
    LocationFactory(code="MAIN")
    content = csv_file(
        ("item_code", "location_code", "quantity", "reason"), ("BOLT", "MAIN", "250", "Year-end count")
    )

    result = materials.materials_import(actor=manager, kind="stock", filename="stock.csv", content=content)

    assert result.saved and materials.on_hand([bolt.pk]) == {bolt.pk: Decimal(250)}
    assert StockMovement.objects.get().reason == "Year-end count"


def test_a_stock_sheet_with_an_unknown_location_saves_nothing(manager):
    ItemFactory(code="BOLT")
    LocationFactory(code="MAIN")
    content = csv_file(
        ("item_code", "location_code", "quantity"), ("BOLT", "MAIN", "5"), ("BOLT", "ATTIC", "5")
    )

    result = materials.materials_import(actor=manager, kind="stock", filename="stock.csv", content=content)

    assert result.errors == [{"row": 3, "column": "location_code", "message": "No location with this code."}]
    assert not StockMovement.objects.exists()


def test_purchase_order_rows_with_one_reference_are_one_order(buyer):
    ItemFactory(code="TUBE")
    ItemFactory(code="BOLT")
    content = csv_file(
        ("po_ref", "supplier", "item_code", "quantity", "expected_date"),
        ("A1", "Acme", "TUBE", "100", "2026-12-20"),
        ("A1", "Acme", "BOLT", "500", "2026-12-22"),
        ("B7", "Bolt & Co", "BOLT", "1000", "2027-01-05"),
    )

    result = materials.materials_import(
        actor=buyer, kind="purchase_orders", filename="po.csv", content=content
    )

    assert result.saved and PurchaseOrder.objects.count() == 2
    assert sorted(PurchaseOrder.objects.values_list("lines__item__code", flat=True)) == [
        "BOLT",
        "BOLT",
        "TUBE",
    ]


def test_a_purchase_order_row_with_a_bad_date_is_named(buyer):
    ItemFactory(code="TUBE")
    content = csv_file(
        ("po_ref", "supplier", "item_code", "quantity", "expected_date"),
        ("A1", "Acme", "TUBE", "100", "soon"),
    )
    result = materials.materials_import(
        actor=buyer, kind="purchase_orders", filename="po.csv", content=content
    )
    assert [(e["row"], e["column"]) for e in result.errors] == [(2, "expected_date")]
    assert not PurchaseOrder.objects.exists()


def test_the_import_page_shows_row_errors_with_a_400(client, buyer):
    client.force_login(buyer)
    upload = io.BytesIO(
        csv_file(
            ("po_ref", "supplier", "item_code", "quantity", "expected_date"),
            ("A1", "Acme", "X", "1", "2026-12-20"),
        )
    )
    upload.name = "po.csv"

    response = client.post(reverse("production:material_import"), {"kind": "purchase_orders", "file": upload})

    assert response.status_code == 400 and 'data-testid="import-errors"' in response.content.decode()


def test_a_file_with_wrong_columns_is_refused_whole(client, buyer):
    client.force_login(buyer)
    upload = io.BytesIO(csv_file(("colour", "size"), ("red", "L")))
    upload.name = "po.csv"
    response = client.post(reverse("production:material_import"), {"kind": "purchase_orders", "file": upload})
    assert response.status_code == 400 and "missing columns" in response.content.decode()


def test_the_buyer_cannot_import_boms(buyer):
    with pytest.raises(Forbidden):
        materials.materials_import(
            actor=buyer, kind="boms", filename="bom.csv", content=csv_file(("parent_code", "quantity"))
        )
