"""Cached BOM explosions are reused while no item, BOM, line or variant has changed, and never after: the
BOM revision's token changes with every write, by any path (database triggers, not signals)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection

from production.materials import Bom, BomLine, BomLineVariant, Item, ItemKind, bom_revision
from production.supply_planning.sources import needs_per_unit
from tests.factories import ProductFactory
from tests.production.materials.factories import ItemFactory, make_bom

pytestmark = pytest.mark.django_db


@pytest.fixture
def frame():
    product = ProductFactory(sku="FRAME")
    top = ItemFactory(code="FRAME", kind=ItemKind.FINISHED_PRODUCT, product=product)
    powder = ItemFactory(code="PWD-RAL9016")
    make_bom(top, [{"component": ItemFactory(code="TUBE"), "quantity": 2, "variants": {"9016": powder}}])
    return product


def per_unit(product) -> dict[str, Decimal]:
    return {need.code: need.per_unit for need in needs_per_unit([product.pk])[product.pk]}


def test_a_line_changed_by_a_bulk_update_is_exploded_anew(frame):
    assert per_unit(frame) == {"TUBE": Decimal(2)}  # now cached

    BomLine.objects.filter(bom__item__code="FRAME").update(quantity=Decimal(5))  # no signal is sent

    assert per_unit(frame) == {"TUBE": Decimal(5)}


def test_a_line_added_by_raw_sql_is_exploded_anew(frame):
    per_unit(frame)
    bom = Bom.objects.get(item__code="FRAME")
    screw = ItemFactory(code="SCREW", kind=ItemKind.PURCHASED_PART)
    line = BomLine(bom=bom, position=20, component=screw, quantity=Decimal(4))
    columns = [f for f in BomLine._meta.concrete_fields if not f.primary_key]
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {BomLine._meta.db_table} ({', '.join(f.column for f in columns)}) "  # noqa: S608
            f"VALUES ({', '.join(['%s'] * len(columns))})",
            [f.get_db_prep_save(getattr(line, f.attname), connection) for f in columns],
        )

    assert per_unit(frame) == {"TUBE": Decimal(2), "SCREW": Decimal(4)}


@pytest.mark.parametrize(
    "write",
    [
        lambda: Item.objects.filter(code="TUBE").update(lead_time_days=9),
        lambda: Item.objects.bulk_create(
            [Item(code="NEW", name="New", kind=ItemKind.RAW_MATERIAL, unit="pcs")]
        ),
        lambda: Bom.objects.filter(item__code="FRAME").update(is_active=True),
        lambda: BomLine.objects.filter(bom__item__code="FRAME").delete(),
        lambda: BomLineVariant.objects.filter(spec_value="9016").update(spec_value="9010"),
    ],
    ids=["item update", "item bulk insert", "bom update", "line delete", "variant update"],
)
def test_every_write_to_items_boms_lines_and_variants_changes_the_revision(frame, write):
    before = bom_revision()

    write()

    assert bom_revision() not in (None, before)
