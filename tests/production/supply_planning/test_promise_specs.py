"""The quote checks the material the order's spec calls for: powder in the line's RAL colour, metres of
profile for the line's length (order form, API and change-request impact alike)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from orders import sales as sales_services
from orders.models import Customer
from orders.sales import transitions
from production.changes import analyse_change
from production.materials import ItemKind
from production.scheduling import promise_quote, schedule_run
from tests.factories import CustomerFactory, ProductFactory, ProductFamilyFactory, make_order
from tests.production.conftest import make_routing
from tests.production.materials.factories import ItemFactory, make_bom
from tests.production.supply_planning.conftest import in_days_date, purchase, stock

pytestmark = pytest.mark.django_db

CABINET_SCHEMA = {
    "type": "object",
    "properties": {
        "finish": {"type": "string", "title": "Finish", "enum": ["raw", "powder_coat"]},
        "ral_colour": {"type": "string", "title": "RAL colour"},
        "length_mm": {"type": "number", "title": "Length", "minimum": 100},
    },
    "required": ["length_mm"],
}


@pytest.fixture
def cabinet(planner, assy):
    """A cabinet: 0.5 kg powder in the line's RAL colour when powder coated, 2 bars of the line's length."""
    family = ProductFamilyFactory(code="CAB", spec_schema=CABINET_SCHEMA)
    product = ProductFactory(sku="CAB-1", family=family)
    make_routing(planner, product, [(assy, 0, "60")])
    top = ItemFactory(code="CAB-1", kind=ItemKind.FINISHED_PRODUCT, product=product)
    ItemFactory(code="PWD-RAL7035", unit="kg", lead_time_days=20, supplier="Powder Co")
    ItemFactory(code="PWD-RAL9016", unit="kg", lead_time_days=20, supplier="Powder Co")
    ItemFactory(code="AL-BAR", unit="m", lead_time_days=20, supplier="Alu AG")
    make_bom(
        top,
        [
            {
                "variant_attribute": "ral_colour",
                "component_template": "PWD-RAL{value}",
                "condition_attribute": "finish",
                "condition_value": "powder_coat",
                "quantity": "0.5",
            },
            {
                "component": ItemFactory(code="AL-BAR"),
                "quantity": 2,
                "quantity_attribute": "length_mm",
                "quantity_factor": "0.001",
            },
        ],
    )
    return product


@pytest.fixture
def customer() -> Customer:
    return CustomerFactory(code="ACME")


def quote(actor, customer, product, quantity, spec):
    return promise_quote(
        actor=actor,
        customer=customer,
        lines=[{"product": product.pk, "quantity": quantity, "spec_values": spec}],
    )


def item(code):
    return ItemFactory(code=code)


def test_the_powder_in_the_lines_ral_colour_is_the_one_checked(sales, planner, buyer, customer, cabinet):
    stock(item("PWD-RAL7035"), "100")
    stock(item("AL-BAR"), "100")
    order = purchase(buyer, item("PWD-RAL9016"), "50", days=6)
    schedule_run(actor=planner, trigger="test")

    grey = quote(
        sales, customer, cabinet, "2", {"finish": "powder_coat", "ral_colour": "7035", "length_mm": 1000}
    )
    white = quote(
        sales, customer, cabinet, "2", {"finish": "powder_coat", "ral_colour": "9016", "length_mm": 1000}
    )

    assert grey["binding"]["kind"] == "capacity"
    assert white["binding"]["text"] == (
        f"material PWD-RAL9016 until {in_days_date(6).isoformat()} from {order.number}"
    )


def test_an_uncoated_line_needs_no_powder(sales, planner, customer, cabinet):
    stock(item("AL-BAR"), "100")
    schedule_run(actor=planner, trigger="test")

    answer = quote(sales, customer, cabinet, "2", {"finish": "raw", "length_mm": 1000})

    assert answer["binding"]["kind"] == "capacity"


def test_the_lines_length_sets_the_metres_of_profile_checked(sales, planner, buyer, customer, cabinet):
    stock(item("AL-BAR"), "5")  # 2 cabinets x 2 bars x 1.0 m = 4 m fit; x 2.0 m = 8 m do not
    order = purchase(buyer, item("AL-BAR"), "50", days=8)
    schedule_run(actor=planner, trigger="test")

    short = quote(sales, customer, cabinet, "2", {"finish": "raw", "length_mm": 1000})
    long = quote(sales, customer, cabinet, "2", {"finish": "raw", "length_mm": 2000})

    assert short["binding"]["kind"] == "capacity"
    assert (
        long["binding"]["text"] == f"material AL-BAR until {in_days_date(8).isoformat()} from {order.number}"
    )


def test_the_api_asks_for_the_length_a_bom_needs_with_the_field_named(
    client, sales, planner, customer, cabinet
):
    schedule_run(actor=planner, trigger="test")
    client.force_login(sales)

    response = client.post(
        "/api/v1/promise/",
        {
            "customer": "ACME",
            "lines": [{"product": "CAB-1", "quantity": "2", "spec_values": {"finish": "raw"}}],
        },
        content_type="application/json",
    )

    assert response.status_code == 400
    assert "lines[0].spec_values.length_mm" in response.json()["error"]["fields"]


def test_a_spec_value_the_family_refuses_is_a_400_on_that_value(client, sales, planner, customer, cabinet):
    schedule_run(actor=planner, trigger="test")
    client.force_login(sales)
    spec = {"finish": "raw", "length_mm": 50}  # below the family's minimum of 100

    response = client.post(
        "/api/v1/promise/",
        {"customer": "ACME", "lines": [{"product": "CAB-1", "quantity": "2", "spec_values": spec}]},
        content_type="application/json",
    )

    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["lines[0].spec_values.length_mm"]


def test_the_api_quote_explodes_with_the_lines_spec(client, sales, planner, buyer, customer, cabinet):
    stock(item("AL-BAR"), "100")
    order = purchase(buyer, item("PWD-RAL9016"), "50", days=6)
    schedule_run(actor=planner, trigger="test")
    client.force_login(sales)
    spec = {"finish": "powder_coat", "ral_colour": "9016", "length_mm": 1000}

    response = client.post(
        "/api/v1/promise/",
        {"customer": "ACME", "lines": [{"product": "CAB-1", "quantity": "2", "spec_values": spec}]},
        content_type="application/json",
    )

    assert response.status_code == 200, response.content
    assert response.json()["binding"]["purchase_order"] == order.number


def test_the_order_form_quote_reads_the_lines_spec_inputs(client, sales, planner, buyer, customer, cabinet):
    stock(item("AL-BAR"), "100")
    order = purchase(buyer, item("PWD-RAL9016"), "50", days=6)
    schedule_run(actor=planner, trigger="test")
    client.force_login(sales)

    response = client.post(
        reverse("production:order_form_quote"),
        {
            "customer": customer.pk,
            "lines-TOTAL_FORMS": "1",
            "lines-0-product": cabinet.pk,
            "lines-0-quantity": "2",
            "lines-0-spec__finish": "powder_coat",
            "lines-0-spec__ral_colour": "9016",
            "lines-0-spec__length_mm": "1000",
        },
    )

    page = response.content.decode()
    assert response.status_code == 200
    assert f"material PWD-RAL9016 until {in_days_date(6).isoformat()} from {order.number}" in page


def test_the_order_form_quote_without_the_length_says_which_line_needs_it(
    client, sales, planner, customer, cabinet
):
    schedule_run(actor=planner, trigger="test")
    client.force_login(sales)

    response = client.post(
        reverse("production:order_form_quote"),
        {
            "customer": customer.pk,
            "lines-TOTAL_FORMS": "1",
            "lines-0-product": cabinet.pk,
            "lines-0-quantity": "2",
            "lines-0-spec__finish": "raw",
        },
    )

    page = response.content.decode()
    assert response.status_code == 200
    assert "Line 1 (Length): Must be a number." in page
    assert 'data-testid="quote-result"' not in page


def test_a_change_adding_a_line_counts_the_material_of_its_spec(sales, planner, buyer, customer, cabinet):
    stock(item("AL-BAR"), "100")
    order_po = purchase(buyer, item("PWD-RAL9016"), "50", days=6)
    order = make_order(owner=sales, confirmed=True, customer=customer)
    schedule_run(actor=planner, trigger="test")
    spec = {"finish": "powder_coat", "ral_colour": "9016", "length_mm": 1000}

    impact = analyse_change(
        order=order,
        changes=[
            {"op": "add_line", "product": "CAB-1", "quantity": "2", "spec_values": spec, "due_date": None}
        ],
    )

    assert any("PWD-RAL9016" in note and order_po.number in note for note in impact["notes"])


def test_a_new_ral_colour_on_unstarted_work_names_the_powder_it_waits_for(
    sales, planner, buyer, customer, cabinet
):
    stock(item("AL-BAR"), "100")
    stock(item("PWD-RAL7035"), "100")
    order_po = purchase(buyer, item("PWD-RAL9016"), "50", days=6)
    grey = {"finish": "powder_coat", "ral_colour": "7035", "length_mm": 1000}
    order = sales_services.order_create(
        actor=sales,
        customer=customer,
        lines=[{"product": cabinet.pk, "quantity": Decimal(2), "spec_values": grey}],
        requested_date=in_days_date(30),
        promised_date=in_days_date(35),
    )
    order = transitions.order_release(
        actor=planner, order=transitions.order_confirm(actor=sales, order=order)
    )
    schedule_run(actor=planner, trigger="test")

    impact = analyse_change(
        order=order,
        changes=[{"op": "set_spec", "line_no": 1, "spec_values": {**grey, "ral_colour": "9016"}}],
    )

    arrival = in_days_date(6).isoformat()
    note = f"The new spec needs material PWD-RAL9016, there by {arrival} ({order_po.number})."
    assert note in impact["notes"]
    assert impact["projected_after"] >= in_days_date(6).isoformat()


def test_a_longer_length_counts_the_new_metres_not_the_old_reservation_as_well(
    sales, planner, buyer, customer, cabinet
):
    stock(item("AL-BAR"), "6")  # 2 cabinets x 2 bars x 1.5 m = 6 m: there, once the old 4 m are let go
    purchase(buyer, item("AL-BAR"), "50", days=8)
    short = {"finish": "raw", "length_mm": 1000}
    order = sales_services.order_create(
        actor=sales,
        customer=customer,
        lines=[{"product": cabinet.pk, "quantity": Decimal(2), "spec_values": short}],
        requested_date=in_days_date(30),
        promised_date=in_days_date(35),
    )
    order = transitions.order_release(
        actor=planner, order=transitions.order_confirm(actor=sales, order=order)
    )
    assert order.work_orders.get().reservations.get().quantity == Decimal(4)
    schedule_run(actor=planner, trigger="test")

    impact = analyse_change(
        order=order, changes=[{"op": "set_spec", "line_no": 1, "spec_values": {**short, "length_mm": 1500}}]
    )

    assert not [note for note in impact["notes"] if "AL-BAR" in note]
