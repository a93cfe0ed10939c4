"""Exploding a product's BOM over all levels: scrap, spec-dependent components, effective dates."""

import datetime as dt
import itertools
from decimal import Decimal

import pytest

from config.kernel import ValidationFailed
from production.materials import ItemKind, explode_bom, leaf_requirements
from tests.factories import ProductFactory
from tests.production.materials.factories import ItemFactory, make_bom

pytestmark = pytest.mark.django_db
DAY = dt.date(2026, 12, 1)


def finished(code="FRAME"):
    product = ProductFactory(sku=code)
    return product, ItemFactory(code=code, kind=ItemKind.FINISHED_PRODUCT, product=product)


def rows_by_code(rows):
    return {(row.item.code, row.level): row for row in rows}


def test_it_explodes_five_levels_multiplying_quantities_and_scrap():
    product, top = finished()
    chain = [ItemFactory(code=f"SUB{level}", kind=ItemKind.SUB_ASSEMBLY) for level in range(1, 5)]
    screw = ItemFactory(code="SCREW", kind=ItemKind.PURCHASED_PART)
    make_bom(top, [{"component": chain[0], "quantity": 2}])
    for parent, child in itertools.pairwise(chain):
        make_bom(parent, [{"component": child, "quantity": 1}])
    make_bom(chain[-1], [{"component": screw, "quantity": 4, "scrap_percent": Decimal("10")}])

    rows = explode_bom(product, quantity=Decimal(5), on=DAY)

    assert [(row.item.code, row.level) for row in rows] == [
        ("SUB1", 1),
        ("SUB2", 2),
        ("SUB3", 3),
        ("SUB4", 4),
        ("SCREW", 5),
    ]
    assert rows[-1].quantity == Decimal(5) * 2 * 4 * Decimal("1.1")
    assert rows[-1].is_leaf and not rows[0].is_leaf
    assert rows[-1].parent == chain[-1]


def test_scrap_at_an_upper_level_carries_down():
    product, top = finished()
    sub = ItemFactory(code="WELDED", kind=ItemKind.SUB_ASSEMBLY)
    tube = ItemFactory(code="TUBE")
    make_bom(top, [{"component": sub, "quantity": 1, "scrap_percent": 5}])
    make_bom(sub, [{"component": tube, "quantity": 3, "scrap_percent": 2}])

    rows = rows_by_code(explode_bom(product, quantity=Decimal(100), on=DAY))

    assert rows[("WELDED", 1)].quantity == Decimal(105)
    assert rows[("TUBE", 2)].quantity == Decimal(105) * 3 * Decimal("1.02")


def test_a_line_with_a_spec_condition_applies_only_when_the_spec_matches():
    product, top = finished()
    primer = ItemFactory(code="PRIMER")
    make_bom(
        top,
        [
            {
                "component": primer,
                "quantity": 1,
                "condition_attribute": "finish",
                "condition_value": "powder_coat",
            }
        ],
    )

    assert explode_bom(product, spec_values={"finish": "raw"}, quantity=Decimal(1), on=DAY) == []
    rows = explode_bom(product, spec_values={"finish": "powder_coat"}, quantity=Decimal(1), on=DAY)
    assert [row.item.code for row in rows] == ["PRIMER"]


def test_the_powder_follows_the_orders_ral_colour_by_variant_or_by_code_template():
    product, top = finished()
    white, black = ItemFactory(code="PWD-RAL9016"), ItemFactory(code="PWD-RAL9005")
    make_bom(
        top,
        [
            {
                "variant_attribute": "colour",
                "variants": {"RAL 9016": white},
                "component_template": "PWD-RAL{value}",
                "quantity": "0.2",
            }
        ],
    )

    by_variant = explode_bom(product, spec_values={"colour": "RAL 9016"}, quantity=Decimal(1), on=DAY)
    by_template = explode_bom(product, spec_values={"colour": "9005"}, quantity=Decimal(1), on=DAY)

    assert [row.item for row in by_variant] == [white]
    assert [row.item for row in by_template] == [black]


def test_the_length_in_the_spec_drives_metres_of_profile():
    product, top = finished()
    profile = ItemFactory(code="AL-6063", unit="m")
    make_bom(
        top,
        [
            {
                "component": profile,
                "quantity": 2,
                "quantity_attribute": "length_mm",
                "quantity_factor": "0.001",
            }
        ],
    )

    rows = explode_bom(product, spec_values={"length_mm": 1500}, quantity=Decimal(10), on=DAY)

    assert rows[0].quantity == Decimal(30)  # 10 frames x 2 bars x 1.5 m


def test_a_quantity_driver_that_is_not_a_number_is_a_validation_error():
    product, top = finished()
    profile = ItemFactory(code="AL-6063", unit="m")
    make_bom(top, [{"component": profile, "quantity": 1, "quantity_attribute": "length_mm"}])

    with pytest.raises(ValidationFailed):
        explode_bom(product, spec_values={"length_mm": "long"}, quantity=Decimal(1), on=DAY)


@pytest.mark.parametrize("length", ["NaN", "Infinity", -1500])
def test_a_quantity_driver_that_is_no_length_is_a_validation_error(length):
    product, top = finished()
    profile = ItemFactory(code="AL-6063", unit="m")
    make_bom(top, [{"component": profile, "quantity": 1, "quantity_attribute": "length_mm"}])

    with pytest.raises(ValidationFailed) as refused:
        explode_bom(product, spec_values={"length_mm": length}, quantity=Decimal(1), on=DAY)

    assert list(refused.value.fields) == ["length_mm"]


def test_the_version_in_force_on_the_date_is_exploded():
    product, top = finished()
    old, new = ItemFactory(code="OLD"), ItemFactory(code="NEW")
    make_bom(top, [{"component": old, "quantity": 1}], version=1, effective_to=dt.date(2026, 12, 31))
    make_bom(top, [{"component": new, "quantity": 1}], version=2, effective_from=dt.date(2027, 1, 1))
    make_bom(top, [{"component": new, "quantity": 9}], version=3, is_active=False)

    before = explode_bom(product, quantity=Decimal(1), on=dt.date(2026, 12, 31))
    after = explode_bom(product, quantity=Decimal(1), on=dt.date(2027, 1, 1))

    assert [row.item.code for row in before] == ["OLD"]
    assert [(row.item.code, row.quantity) for row in after] == [("NEW", Decimal(1))]


def test_a_bom_that_contains_itself_is_refused():
    product, top = finished()
    sub = ItemFactory(code="LOOP", kind=ItemKind.SUB_ASSEMBLY)
    make_bom(top, [{"component": sub, "quantity": 1}])
    make_bom(sub, [{"component": top, "quantity": 1}])

    with pytest.raises(ValidationFailed):
        explode_bom(product, quantity=Decimal(1), on=DAY)


def test_leaves_are_summed_per_item_and_consuming_operation():
    product, top = finished()
    sub = ItemFactory(code="SUBA", kind=ItemKind.SUB_ASSEMBLY)
    bolt = ItemFactory(code="BOLT", kind=ItemKind.PURCHASED_PART)
    make_bom(top, [{"component": sub, "quantity": 2}, {"component": bolt, "quantity": 1}])
    make_bom(sub, [{"component": bolt, "quantity": 3}])

    totals = leaf_requirements(explode_bom(product, quantity=Decimal(1), on=DAY))

    assert totals == {(bolt.pk, None): Decimal(7)}
