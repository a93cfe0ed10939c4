"""The delivery-date quote counts materials: each line starts when its material is there, the answer names
what binds it, and a quote may hold the material so that no other quote promises it again."""

from __future__ import annotations

import datetime as dt
import threading
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from config.kernel.errors import Forbidden
from orders.models import Customer
from orders.sales import transitions
from production.materials import Reservation, ReservationState
from production.scheduling import promise_quote, schedule_run
from production.supply_planning import holds_expire
from tests.factories import CustomerFactory, ProductFactory, make_order
from tests.production.conftest import make_routing
from tests.production.supply_planning.conftest import in_days_date, purchase, stock
from tests.services import require_postgresql

pytestmark = pytest.mark.django_db


def acme() -> Customer:
    return Customer.objects.filter(code="ACME").first() or CustomerFactory(code="ACME")


def quote(actor, product, quantity, **kwargs):
    return promise_quote(
        actor=actor,
        customer=kwargs.pop("customer", None) or acme(),
        lines=[{"product": product.pk, "quantity": quantity}],
        **kwargs,
    )


def test_a_quote_with_its_material_in_stock_is_bound_by_capacity_at_the_work_center(
    sales, planner, frame, profile
):
    stock(profile, "100")
    schedule_run(actor=planner, trigger="test")
    answer = quote(sales, frame, "5")
    assert answer["binding"]["kind"] == "capacity"
    assert answer["binding"]["text"] == "capacity at ASSY"
    assert abs((answer["completion"] - timezone.now() - dt.timedelta(hours=5)).total_seconds()) < 120


def test_material_later_than_capacity_wins_and_names_the_item_the_date_and_the_purchase_order(
    sales, planner, buyer, frame, profile
):
    stock(profile, "4")  # 2 frames' worth; 5 frames need 10 m
    order = purchase(buyer, profile, "50", days=6)
    schedule_run(actor=planner, trigger="test")
    answer = quote(sales, frame, "5")
    arrival = in_days_date(6)
    assert answer["binding"]["kind"] == "material"
    assert answer["binding"]["text"] == f"material AL-6063 until {arrival.isoformat()} from {order.number}"
    assert timezone.localtime(answer["completion"]).date() >= arrival
    assert answer["materials"][0]["source"] == order.number


def test_material_no_supply_covers_is_promised_after_its_lead_time(sales, planner, frame, profile):
    schedule_run(actor=planner, trigger="test")
    answer = quote(sales, frame, "1")
    assert answer["binding"]["kind"] == "material"
    assert answer["materials"][0]["uncovered"] is True
    assert timezone.localtime(answer["completion"]).date() >= in_days_date(10)


def test_a_held_quote_takes_the_material_the_next_quote_then_waits_for_supply(
    sales, other_sales, planner, buyer, frame, profile
):
    stock(profile, "10")  # 5 frames
    order = purchase(buyer, profile, "50", days=8)
    schedule_run(actor=planner, trigger="test")
    first = quote(sales, frame, "5", hold=True)
    second = quote(other_sales, frame, "5")
    assert first["binding"]["kind"] == "capacity"
    assert first["hold"]["reference"].startswith("quote:ACME:")
    assert Reservation.objects.get(reference=first["hold"]["reference"]).quantity == Decimal("10")
    assert second["binding"]["kind"] == "material"
    assert second["binding"]["source"] == order.number


def test_a_hold_expires_and_gives_the_material_back(sales, other_sales, planner, frame, profile):
    stock(profile, "10")
    schedule_run(actor=planner, trigger="test")
    held = quote(sales, frame, "5", hold=True)
    assert holds_expire(now=timezone.now()) == 0  # not yet
    assert holds_expire(now=held["hold"]["expires_at"] + dt.timedelta(seconds=1)) == 1
    assert Reservation.objects.get(reference=held["hold"]["reference"]).state == ReservationState.EXPIRED
    assert quote(other_sales, frame, "5")["binding"]["kind"] == "capacity"


def test_confirming_the_order_keeps_the_sales_persons_hold_without_expiry(sales, planner, frame, profile):
    stock(profile, "10")
    schedule_run(actor=planner, trigger="test")
    customer = acme()
    held = quote(sales, frame, "5", hold=True, customer=customer)
    order = make_order(owner=sales, customer=customer, product=frame)
    transitions.order_confirm(actor=sales, order=order)
    holds_expire(now=held["hold"]["expires_at"] + dt.timedelta(minutes=1))  # the beat, even late
    hold = Reservation.objects.get(reference__startswith="order:")
    assert (hold.reference, hold.expires_at) == (f"order:{order.number}", None)
    assert not Reservation.objects.filter(reference=held["hold"]["reference"]).exists()


def test_only_a_role_with_the_hold_permission_may_hold_material(planner, frame, profile):
    schedule_run(actor=planner, trigger="test")
    with pytest.raises(Forbidden):
        quote(planner, frame, "1", hold=True)


def test_the_promise_api_names_the_binding_constraint(client, sales, planner, frame, profile):
    stock(profile, "100")
    schedule_run(actor=planner, trigger="test")
    acme()
    client.force_login(sales)
    response = client.post(
        "/api/v1/promise/",
        {"customer": "ACME", "lines": [{"product": "AL-FRAME", "quantity": "2"}], "hold": True},
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["binding"]["text"] == "capacity at ASSY"
    assert body["hold"]["reference"].startswith("quote:ACME:")


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_concurrent_held_quotes_never_promise_the_same_units(sales, planner, frame, profile):
    require_postgresql()
    stock(profile, "10")  # exactly 5 frames: of 8 quotes for 1 frame... 10 m / 2 m = 5 may be promised now
    schedule_run(actor=planner, trigger="test")
    customer = acme()
    barrier = threading.Barrier(8)
    answers: list[dict] = []
    errors: list[BaseException] = []

    def one() -> None:
        try:
            barrier.wait()
            answers.append(quote(sales, frame, "1", hold=True, customer=customer))
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=one) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    from_stock = [answer for answer in answers if answer["binding"]["kind"] == "capacity"]
    assert len(from_stock) == 5
    held = sum(
        r.quantity
        for r in Reservation.objects.filter(state=ReservationState.ACTIVE, needed_on=timezone.localdate())
    )
    assert held == Decimal("10")


def test_a_quote_reads_the_same_number_of_times_whatever_its_number_of_lines(
    sales, planner, assy, frame, profile
):
    stock(profile, "100")
    others = [ProductFactory(sku=f"OTHER-{n}") for n in range(2)]
    for product in others:
        make_routing(planner, product, [(assy, 0, "30")])
    schedule_run(actor=planner, trigger="test")
    quote(sales, frame, "1")  # the plan index and the BOM explosions are read once, then kept

    with CaptureQueriesContext(connection) as one:
        quote(sales, frame, "1")
    with CaptureQueriesContext(connection) as three:
        promise_quote(
            actor=sales,
            customer=acme(),
            lines=[{"product": p.pk, "quantity": "1"} for p in (frame, *others)],
        )

    assert len(three.captured_queries) == len(one.captured_queries)
