"""Bad input: a clear error naming the thing to fix, and nothing half-written (no routing, no plan)."""

import datetime as dt

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from config.kernel.errors import ValidationFailed
from orders.sales import transitions
from production import master_data
from production.master_data import Routing, WorkCenter
from production.scheduling import Schedule, schedule_run
from tests.factories import ProductFactory, make_order
from tests.production.conftest import make_routing, make_work_center

pytestmark = pytest.mark.django_db


def step(center, sequence=10, **extra):
    return {
        "sequence": sequence,
        "name": f"Step {sequence}",
        "work_center": center,
        "setup_minutes": 0,
        "run_minutes_per_unit": 1,
        **extra,
    }


def test_a_routing_with_no_operations_is_refused_naming_the_product(planner):
    product = ProductFactory(sku="BRKT-1")
    with pytest.raises(ValidationFailed) as error:
        master_data.routing_create(actor=planner, product=product, operations=[])
    assert "BRKT-1" in " ".join(error.value.fields["operations"])
    assert not Routing.objects.exists()


def test_a_routing_repeating_a_step_number_is_refused_naming_the_step(planner):
    center = make_work_center(planner, "PRESS")
    with pytest.raises(ValidationFailed) as error:
        master_data.routing_create(
            actor=planner, product=ProductFactory(), operations=[step(center, 10), step(center, 10)]
        )
    assert "operations[1].sequence" in error.value.fields
    assert not Routing.objects.exists()


def test_a_routing_step_on_a_missing_work_center_names_the_step(planner):
    with pytest.raises(ValidationFailed) as error:
        master_data.routing_create(actor=planner, product=ProductFactory(), operations=[step(999_999)])
    assert "operations[0].work_center" in error.value.fields


def test_a_routing_step_without_any_time_names_the_step(planner):
    center = make_work_center(planner, "PRESS")
    with pytest.raises(ValidationFailed) as error:
        master_data.routing_create(
            actor=planner, product=ProductFactory(), operations=[step(center, run_minutes_per_unit=0)]
        )
    assert "operations[0].run_minutes_per_unit" in error.value.fields


def test_a_work_center_of_zero_units_is_refused(planner):
    with pytest.raises(ValidationFailed) as error:
        master_data.work_center_create(actor=planner, code="WELD", name="Weld", units=0)
    assert "units" in error.value.fields
    assert not WorkCenter.objects.filter(code="WELD").exists()


def test_units_that_are_not_a_number_are_a_clear_error_not_a_crash(planner):
    with pytest.raises(ValidationFailed) as error:
        master_data.work_center_create(actor=planner, code="WELD", name="Weld", units="two")
    assert "units" in error.value.fields


def test_the_api_refuses_a_routing_without_operations_with_a_400(planner):
    ProductFactory(sku="BRKT-2")
    client = APIClient()
    client.force_authenticate(planner)
    response = client.post("/api/v1/routings/", {"product": "BRKT-2", "operations": []}, format="json")
    assert response.status_code == 400
    assert not Routing.objects.exists()


@pytest.fixture
def order_on_a_line_without_shifts(sales, planner):
    center = master_data.work_center_create(actor=planner, code="PAINT", name="Paint", shifts=[])
    product = ProductFactory()
    make_routing(planner, product, [(center, 0, "1")])
    return transitions.order_release(
        actor=planner, order=make_order(owner=sales, product=product, confirmed=True)
    )


def test_a_work_center_without_working_time_stops_the_plan_naming_it(planner, order_on_a_line_without_shifts):
    with pytest.raises(ValidationFailed) as error:
        schedule_run(actor=planner, trigger="test")
    assert error.value.code == "no_capacity" and "PAINT" in error.value.message
    assert not Schedule.objects.exists()


def test_a_bad_plan_input_keeps_the_current_plan(sales, planner):
    center = make_work_center(planner, "PRESS")
    product = ProductFactory()
    make_routing(planner, product, [(center, 0, "1")])
    transitions.order_release(actor=planner, order=make_order(owner=sales, product=product, confirmed=True))
    current = schedule_run(actor=planner, trigger="test")
    paint = master_data.work_center_create(actor=planner, code="PAINT", name="Paint", shifts=[])
    painted = ProductFactory()
    make_routing(planner, painted, [(paint, 0, "1")])
    transitions.order_release(actor=planner, order=make_order(owner=sales, product=painted, confirmed=True))
    with pytest.raises(ValidationFailed):
        schedule_run(actor=planner, trigger="test")
    assert list(Schedule.objects.all()) == [current]
    assert Schedule.objects.get(is_current=True) == current


def test_reschedule_now_shows_what_to_fix_instead_of_failing(client, planner, order_on_a_line_without_shifts):
    client.force_login(planner)
    response = client.post(reverse("production:reschedule"), follow=True)
    assert response.status_code == 200
    assert "PAINT" in response.content.decode() and "no working time" in response.content.decode()


def test_a_plan_that_does_not_fit_the_horizon_names_the_calendars(sales, planner):
    # One hour a week against far more than a few years of work.
    center = make_work_center(planner, "TINY", shifts=[(0, dt.time(8), dt.time(9))])
    product = ProductFactory()
    make_routing(planner, product, [(center, 0, "6000")])
    transitions.order_release(actor=planner, order=make_order(owner=sales, product=product, confirmed=True))
    with pytest.raises(ValidationFailed) as error:
        schedule_run(actor=planner, trigger="test")
    assert error.value.code == "no_capacity"
    assert not Schedule.objects.exists()


@pytest.mark.parametrize("method", ["get", "post"])
def test_a_disposition_id_that_is_not_a_number_is_a_404_in_the_error_format(manager, method):
    client = APIClient()
    client.force_authenticate(manager)
    url = "/api/v1/dispositions/abc/" + ("decide/" if method == "post" else "")
    response = getattr(client, method)(url, {"decision": "scrap", "reason": "x"}, format="json")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
