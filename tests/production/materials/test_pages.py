"""The materials pages: items and the BOM tree editor, stock, supply, in English and Chinese; who may see
and change what (the buyer's role, deny by default)."""

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse

from production import materials
from production.materials import Bom, ItemKind, PurchaseLineInput, PurchaseOrderStatus
from tests.factories import ProductFactory, UserFactory
from tests.production.materials.factories import ItemFactory, LocationFactory, make_bom

pytestmark = pytest.mark.django_db


@pytest.fixture
def buyer(db):
    return UserFactory(username="bea", role="purchasing")


@pytest.fixture
def frame(db):
    product = ProductFactory(sku="FRAME-1")
    top = ItemFactory(code="FRAME-1", name="Frame", kind=ItemKind.FINISHED_PRODUCT, product=product)
    sub = ItemFactory(code="WELDED", name="Welded frame", name_zh="焊接框架", kind=ItemKind.SUB_ASSEMBLY)
    tube = ItemFactory(code="TUBE", name="Steel tube", name_zh="钢管", unit="m")
    bom = make_bom(top, [{"component": sub, "quantity": 1}])
    make_bom(sub, [{"component": tube, "quantity": 3}])
    return top, bom, sub, tube


def test_the_bom_tree_shows_every_level(client, planner, frame):
    top, _bom, _sub, _tube = frame
    client.force_login(planner)

    html = client.get(reverse("production:material_item", args=[top.pk])).content.decode()

    assert 'data-testid="bom-tree"' in html
    assert "WELDED" in html and "TUBE" in html and "ob-indent-2" in html


def test_the_item_pages_speak_chinese(client, planner, frame):
    top, _bom, _sub, _tube = frame
    client.force_login(planner)
    client.cookies["django_language"] = "zh-hans"

    listing = client.get(reverse("production:material_items")).content.decode()
    detail = client.get(reverse("production:material_item", args=[top.pk])).content.decode()

    assert "物料" in listing and "钢管" in listing
    assert "物料清单" in detail and "焊接框架" in detail


def test_a_planner_adds_a_line_through_htmx_and_gets_the_editor_back(client, planner, frame):
    _top, bom, _sub, _tube = frame
    bolt = ItemFactory(code="BOLT", kind=ItemKind.PURCHASED_PART)
    client.force_login(planner)

    response = client.post(
        reverse("production:material_bom_line_add", args=[bom.pk]),
        {"component": bolt.pk, "quantity": "4", "scrap_percent": "2", "quantity_factor": "1"},
        HTTP_HX_REQUEST="true",
    )

    assert response.status_code == 200 and "BOLT" in response.content.decode()
    assert bom.lines.filter(component=bolt, quantity=4).exists()


def test_a_line_without_component_or_spec_rule_is_a_form_error(client, planner, frame):
    _top, bom, _sub, _tube = frame
    client.force_login(planner)

    response = client.post(
        reverse("production:material_bom_line_add", args=[bom.pk]),
        {"quantity": "1", "scrap_percent": "0", "quantity_factor": "1"},
        HTTP_HX_REQUEST="true",
    )

    assert response.status_code == 400 and bom.lines.count() == 1


def test_a_new_version_copies_the_lines_and_can_be_dated(client, planner, frame):
    top, bom, _sub, _tube = frame
    client.force_login(planner)

    client.post(reverse("production:material_bom_new", args=[top.pk]), {"copy_from": bom.pk})
    new = Bom.objects.get(item=top, version=2)
    response = client.post(
        reverse("production:material_bom_version", args=[new.pk]),
        {"effective_from": "2027-01-01", "is_active": "on"},
        HTTP_HX_REQUEST="true",
    )

    assert response.status_code == 200 and new.lines.count() == 1
    assert Bom.objects.get(pk=new.pk).effective_from == dt.date(2027, 1, 1)


def test_removing_a_line(client, planner, frame):
    _top, bom, _sub, _tube = frame
    client.force_login(planner)
    line = bom.lines.get()

    client.post(
        reverse("production:material_bom_line_remove", args=[bom.pk, line.pk]), HTTP_HX_REQUEST="true"
    )

    assert not bom.lines.exists()


def test_the_buyer_lands_on_supply_creates_and_receives_a_purchase_order(client, buyer, frame):
    _top, _bom, _sub, tube = frame
    LocationFactory()
    client.force_login(buyer)
    assert client.get("/").url == reverse("production:material_supply")

    client.post(
        reverse("production:material_supply"),
        {"supplier": "Acme Steel", "item": tube.pk, "quantity": "100", "expected_date": "2026-12-20"},
    )
    order = materials.PurchaseOrder.objects.get()
    client.post(reverse("production:material_receive", args=[order.lines.get().pk]), {"quantity": "40"})

    page = client.get(reverse("production:material_supply")).content.decode()
    assert order.number in page
    assert materials.PurchaseOrder.objects.get().status == PurchaseOrderStatus.PARTIALLY_RECEIVED


def test_the_supply_page_speaks_chinese(client, buyer):
    client.force_login(buyer)
    client.cookies["django_language"] = "zh-hans"
    html = client.get(reverse("production:material_supply")).content.decode()
    assert "采购订单" in html


def test_the_stock_page_adjusts_with_a_reason(client, manager, frame):
    _top, _bom, _sub, tube = frame
    location = LocationFactory()
    client.force_login(manager)

    response = client.post(
        reverse("production:material_stock"),
        {"item": tube.pk, "location": location.pk, "quantity": "12", "reason": "Found in the yard"},
    )

    assert response.status_code == 302
    assert materials.on_hand([tube.pk]) == {tube.pk: Decimal(12)}
    assert "库存" in _chinese(client, reverse("production:material_stock"))


def _chinese(client, url):
    client.cookies["django_language"] = "zh-hans"
    return client.get(url).content.decode()


def test_an_adjustment_without_reason_is_a_400_and_saves_nothing(client, manager, frame):
    _top, _bom, _sub, tube = frame
    location = LocationFactory()
    client.force_login(manager)
    response = client.post(
        reverse("production:material_stock"), {"item": tube.pk, "location": location.pk, "quantity": "12"}
    )
    assert response.status_code == 400 and materials.on_hand([tube.pk]) == {}


@pytest.mark.parametrize("role", ["sales", "customer_service"])
def test_other_roles_see_no_materials(client, role, frame):
    client.force_login(UserFactory(role=role))
    for url in (
        reverse("production:material_items"),
        reverse("production:material_stock"),
        reverse("production:material_supply"),
        reverse("production:material_import"),
    ):
        assert client.get(url).status_code == 403


def test_the_buyer_may_not_edit_boms(client, buyer, frame):
    _top, bom, _sub, tube = frame
    client.force_login(buyer)
    response = client.post(
        reverse("production:material_bom_line_add", args=[bom.pk]),
        {"component": tube.pk, "quantity": "1", "scrap_percent": "0", "quantity_factor": "1"},
    )
    assert response.status_code in (403, 404) and bom.lines.count() == 1


def test_a_planner_may_not_buy(client, planner, frame):
    _top, _bom, _sub, tube = frame
    client.force_login(planner)
    response = client.post(
        reverse("production:material_supply"),
        {"supplier": "Acme", "item": tube.pk, "quantity": "1", "expected_date": "2026-12-20"},
    )
    assert response.status_code in (403, 404) and not materials.PurchaseOrder.objects.exists()


def test_receiving_needs_the_stock_permission(client, planner, buyer):
    steel = ItemFactory(code="STEEL")
    order = materials.purchase_order_create(
        supplier="Acme",
        lines=[PurchaseLineInput(item=steel, quantity=Decimal(5), expected_date=dt.date(2026, 12, 20))],
        actor=buyer,
    )
    client.force_login(planner)
    assert (
        client.post(
            reverse("production:material_receive", args=[order.lines.get().pk]), {"quantity": "1"}
        ).status_code
        == 403
    )


def test_the_admin_lists_every_materials_model(client, admin_user, frame):
    client.force_login(admin_user)
    for model in ("item", "location", "bom", "stockmovement", "stocklevel", "purchaseorder", "reservation"):
        assert client.get(reverse(f"admin:production_{model}_changelist")).status_code == 200
    top, bom, _sub, _tube = frame
    assert client.get(reverse("admin:production_bom_change", args=[bom.pk])).status_code == 200
    assert client.get(reverse("admin:production_item_change", args=[top.pk])).status_code == 200
