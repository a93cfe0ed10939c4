"""`manage.py setup_demo` with materials: BOMs some five levels deep, stock, open purchase orders and one
real shortage; loading it again changes nothing."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone

from production import materials
from production.materials import Item, PurchaseOrder, PurchaseOrderStatus, StockMovement

pytestmark = pytest.mark.django_db


def load(orders: int, seed: int = 7) -> str:
    out = StringIO()
    call_command("setup_demo", "--seed", str(seed), "--orders", str(orders), stdout=out)
    return out.getvalue()


@pytest.fixture(scope="module", autouse=True)
def demo(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock(), transaction.atomic():
        output = load(40)
        yield output
        transaction.set_rollback(True)


def test_the_cabinet_bom_is_five_levels_deep():
    cabinet = Item.objects.get(code="ENCL-FS-1800")
    rows = materials.explode_bom(
        cabinet,
        spec_values={"finish": "powder_coat", "ral_colour": "RAL 7035"},
        quantity=1,
        on=timezone.localdate(),
    )
    assert max(row.level for row in rows) == 5
    assert "PWD-RAL7035" in {row.item.code for row in rows}


def test_there_is_stock_and_open_supply():
    assert materials.on_hand()
    assert PurchaseOrder.objects.filter(status__in=materials.OPEN_PURCHASE_STATUSES).count() >= 4
    assert PurchaseOrder.objects.filter(status=PurchaseOrderStatus.PARTIALLY_RECEIVED).exists()


def test_the_gaskets_are_really_short():
    gasket = Item.objects.get(code="GASKET-EPDM")
    assert materials.available([gasket.pk])[gasket.pk] < 0
    assert materials.open_supply([gasket.pk])[gasket.pk]


def test_loading_again_adds_no_items_orders_or_movements():
    before = (Item.objects.count(), PurchaseOrder.objects.count())
    movements = StockMovement.objects.exclude(kind="consumption").exclude(kind="scrap").count()
    load(0)
    assert (Item.objects.count(), PurchaseOrder.objects.count()) == before
    assert StockMovement.objects.exclude(kind="consumption").exclude(kind="scrap").count() == movements
