"""Planners change a work center's shifts and a routing's operations after they were made: as a whole set,
checked together, with history (who, why), in the API and the admin; the plan follows new hours."""

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from config.kernel.errors import Forbidden, ValidationFailed
from orders import sales as order_services
from orders.sales import transitions
from production import master_data
from production.master_data import Operation, Shift
from production.work_orders import WorkOrder
from tests.factories import ProductFactory, make_order
from tests.production.conftest import make_routing, make_work_center

pytestmark = pytest.mark.django_db

EARLY = (dt.time(6), dt.time(14))
LATE = (dt.time(14), dt.time(22))


def hours(center):
    return sorted((shift.weekday, shift.start, shift.end) for shift in center.shifts.all())


def step(center, sequence, run="1", name=None, setup="0"):
    return {
        "sequence": sequence,
        "name": name or f"Step {sequence}",
        "work_center": center,
        "setup_minutes": Decimal(setup),
        "run_minutes_per_unit": Decimal(run),
    }


def api(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


# --- shifts --------------------------------------------------------------------------------------------
def test_a_planner_replaces_the_shifts_of_a_work_center(planner):
    center = make_work_center(planner, "PRESS", shifts=[(0, *EARLY)])
    master_data.work_center_set_shifts(
        actor=planner,
        work_center=center,
        shifts=[(0, *EARLY), (0, *LATE), (1, *EARLY)],
        reason="Second shift",
    )
    assert hours(center) == [(0, *EARLY), (0, *LATE), (1, *EARLY)]


def test_a_kept_shift_is_left_untouched_and_changes_are_recorded_with_who_and_why(planner):
    center = make_work_center(planner, "PRESS", shifts=[(0, *EARLY), (1, *EARLY)])
    kept = Shift.objects.get(work_center=center, weekday=0)
    master_data.work_center_set_shifts(
        actor=planner, work_center=center, shifts=[(0, *EARLY)], reason="No Tuesdays"
    )
    assert kept.history.count() == 1
    removed = Shift.history.filter(weekday=1, history_type="-").get()
    assert (removed.history_user, removed.history_change_reason) == (planner, "No Tuesdays")


def test_new_shifts_ask_for_a_reschedule_and_unchanged_ones_do_not(
    planner, enqueued, django_capture_on_commit_callbacks
):
    center = make_work_center(planner, "PRESS", shifts=[(0, *EARLY)])
    with django_capture_on_commit_callbacks(execute=True):
        master_data.work_center_set_shifts(actor=planner, work_center=center, shifts=[(0, *EARLY)])
    assert enqueued == []
    with django_capture_on_commit_callbacks(execute=True):
        master_data.work_center_set_shifts(actor=planner, work_center=center, shifts=[(0, *LATE)])
    assert len(enqueued) == 1


def test_overlapping_shifts_are_refused_naming_the_shift(planner):
    center = make_work_center(planner, "PRESS", shifts=[(0, *EARLY)])
    with pytest.raises(ValidationFailed) as error:
        master_data.work_center_set_shifts(
            actor=planner, work_center=center, shifts=[(0, *EARLY), (0, dt.time(12), dt.time(20))]
        )
    assert "shifts[1].start" in error.value.fields
    assert hours(center) == [(0, *EARLY)]


def test_a_night_shift_running_into_the_next_mornings_shift_is_refused(planner):
    center = make_work_center(planner, "PRESS", shifts=[(0, *EARLY)])
    with pytest.raises(ValidationFailed) as error:
        master_data.work_center_set_shifts(
            actor=planner, work_center=center, shifts=[(6, dt.time(22), dt.time(7)), (0, *EARLY)]
        )
    assert "shifts[1].start" in error.value.fields


def test_back_to_back_shifts_are_fine(planner):
    center = make_work_center(planner, "PRESS", shifts=[(0, *EARLY)])
    master_data.work_center_set_shifts(
        actor=planner, work_center=center, shifts=[(0, *EARLY), (0, *LATE), (0, dt.time(22), dt.time(6))]
    )
    assert len(hours(center)) == 3


def test_a_weekday_out_of_range_is_refused(planner):
    center = make_work_center(planner, "PRESS")
    with pytest.raises(ValidationFailed) as error:
        master_data.work_center_set_shifts(actor=planner, work_center=center, shifts=[(7, *EARLY)])
    assert "shifts[0].weekday" in error.value.fields


def test_sales_cannot_change_shifts(planner, sales):
    center = make_work_center(planner, "PRESS", shifts=[(0, *EARLY)])
    with pytest.raises(Forbidden):
        master_data.work_center_set_shifts(actor=sales, work_center=center, shifts=[])
    assert hours(center) == [(0, *EARLY)]


def test_the_api_replaces_shifts_and_answers_the_work_center(planner):
    make_work_center(planner, "PRESS", shifts=[(0, *EARLY)])
    response = api(planner).put(
        "/api/v1/work-centers/PRESS/shifts/",
        {"shifts": [{"weekday": 2, "start": "06:00", "end": "14:00"}], "reason": "Wednesday only"},
        format="json",
    )
    assert response.status_code == 200
    assert response.json()["shifts"] == [{"weekday": 2, "start": "06:00:00", "end": "14:00:00"}]


def test_the_api_refuses_overlapping_shifts_with_a_400_naming_the_shift(planner):
    make_work_center(planner, "PRESS", shifts=[(0, *EARLY)])
    response = api(planner).put(
        "/api/v1/work-centers/PRESS/shifts/",
        {
            "shifts": [
                {"weekday": 0, "start": "06:00", "end": "14:00"},
                {"weekday": 0, "start": "13:00", "end": "15:00"},
            ]
        },
        format="json",
    )
    assert response.status_code == 400
    assert "shifts[1].start" in str(response.json())


def test_sales_get_a_403_from_the_shifts_api(planner, sales):
    make_work_center(planner, "PRESS")
    response = api(sales).put("/api/v1/work-centers/PRESS/shifts/", {"shifts": []}, format="json")
    assert response.status_code == 403


# --- operations ----------------------------------------------------------------------------------------
def test_a_planner_changes_adds_and_removes_operations_by_step_number(planner):
    press, weld = make_work_center(planner, "PRESS"), make_work_center(planner, "WELD")
    routing = make_routing(planner, ProductFactory(), [(press, 0, "1"), (weld, 0, "2")])
    master_data.routing_set_operations(
        actor=planner,
        routing=routing,
        operations=[step(press, 10, run="1.5", name="Press"), step(weld, 30, run="3", name="Weld")],
        reason="New die",
    )
    assert [
        (op.sequence, op.name, op.work_center.code, op.run_minutes_per_unit)
        for op in routing.operations.all()
    ] == [
        (10, "Press", "PRESS", Decimal("1.5")),
        (30, "Weld", "WELD", Decimal("3")),
    ]
    deleted = Operation.history.filter(sequence=20, history_type="-").get()
    assert (deleted.history_user, deleted.history_change_reason) == (planner, "New die")


def test_an_unchanged_operation_gets_no_history_row(planner):
    press = make_work_center(planner, "PRESS")
    routing = make_routing(planner, ProductFactory(), [(press, 0, "1")])
    operation = routing.operations.get()
    master_data.routing_set_operations(
        actor=planner, routing=routing, operations=[step(press, 10, name="Step 1")]
    )
    assert operation.history.count() == 1


def test_work_orders_already_made_keep_their_operations(sales, planner):
    press, weld = make_work_center(planner, "PRESS"), make_work_center(planner, "WELD")
    product = ProductFactory()
    routing = make_routing(planner, product, [(press, 0, "1")])
    order_services.order_release(
        actor=planner, order=make_order(owner=sales, product=product, confirmed=True)
    )
    master_data.routing_set_operations(actor=planner, routing=routing, operations=[step(weld, 10)])
    work_order = WorkOrder.objects.get(product=product)
    assert [op.work_center.code for op in work_order.operations.all()] == ["PRESS"]
    second = transitions.order_release(
        actor=planner, order=make_order(owner=sales, product=product, confirmed=True)
    )
    assert [op.work_center.code for op in WorkOrder.objects.get(order=second).operations.all()] == ["WELD"]


def test_a_routing_cannot_lose_all_its_operations(planner):
    press = make_work_center(planner, "PRESS")
    product = ProductFactory(sku="BRKT-7")
    routing = make_routing(planner, product, [(press, 0, "1")])
    with pytest.raises(ValidationFailed) as error:
        master_data.routing_set_operations(actor=planner, routing=routing, operations=[])
    assert "BRKT-7" in " ".join(error.value.fields["operations"])
    assert routing.operations.count() == 1


def test_a_repeated_step_number_names_the_step_and_nothing_changes(planner):
    press = make_work_center(planner, "PRESS")
    routing = make_routing(planner, ProductFactory(), [(press, 0, "1")])
    with pytest.raises(ValidationFailed) as error:
        master_data.routing_set_operations(
            actor=planner, routing=routing, operations=[step(press, 10, run="9"), step(press, 10)]
        )
    assert "operations[1].sequence" in error.value.fields
    assert routing.operations.get().run_minutes_per_unit == Decimal("1")


def test_the_api_replaces_operations(planner):
    press = make_work_center(planner, "PRESS")
    make_work_center(planner, "WELD")
    routing = make_routing(planner, ProductFactory(), [(press, 0, "1")])
    response = api(planner).put(
        f"/api/v1/routings/{routing.pk}/operations/",
        {
            "operations": [
                {"sequence": 10, "name": "Cut", "work_center": "PRESS", "run_minutes_per_unit": "1"},
                {"sequence": 20, "name": "Weld", "work_center": "WELD", "run_minutes_per_unit": "2"},
            ],
            "reason": "Welding added",
        },
        format="json",
    )
    assert response.status_code == 200
    assert [op["work_center"] for op in response.json()["operations"]] == ["PRESS", "WELD"]


def test_the_api_names_an_unknown_work_center_with_a_400(planner):
    press = make_work_center(planner, "PRESS")
    routing = make_routing(planner, ProductFactory(), [(press, 0, "1")])
    response = api(planner).put(
        f"/api/v1/routings/{routing.pk}/operations/",
        {"operations": [{"sequence": 10, "name": "Cut", "work_center": "NOPE", "run_minutes_per_unit": "1"}]},
        format="json",
    )
    assert response.status_code == 400
    assert "work_center" in str(response.json())
    assert routing.operations.get().work_center == press


# --- admin ---------------------------------------------------------------------------------------------
def shift_rows(rows, initial=()):
    """The admin's inline formset fields for a work center's shifts."""
    data = {"shifts-TOTAL_FORMS": str(len(rows)), "shifts-INITIAL_FORMS": str(len(initial))}
    for index, (weekday, start, end, *delete) in enumerate(rows):
        data[f"shifts-{index}-weekday"] = str(weekday)
        data[f"shifts-{index}-start"] = start
        data[f"shifts-{index}-end"] = end
        if index < len(initial):
            data[f"shifts-{index}-id"] = str(initial[index])
        if delete:
            data[f"shifts-{index}-DELETE"] = "on"
    return data


def center_form(center):
    return {
        "name": center.name,
        "units": str(center.units),
        "efficiency": str(center.efficiency),
        "is_active": "on",
    }


def test_the_admin_adds_and_deletes_shifts_through_the_service(client, admin_user, planner):
    center = make_work_center(planner, "PRESS", shifts=[(0, *EARLY)])
    monday = Shift.objects.get(work_center=center)
    client.force_login(admin_user)
    response = client.post(
        reverse("admin:production_workcenter_change", args=[center.pk]),
        {
            **center_form(center),
            **shift_rows([(0, "06:00", "14:00", "delete"), (3, "14:00", "22:00")], initial=[monday.pk]),
        },
    )
    assert response.status_code == 302
    assert hours(center) == [(3, *LATE)]
    added = Shift.history.filter(history_type="+", weekday=3).get()
    assert (added.history_user, added.history_change_reason) == (admin_user, "Changed in the admin")


def test_the_admin_shows_the_services_refusal_and_saves_nothing(client, admin_user, planner):
    center = make_work_center(planner, "PRESS", shifts=[(0, *EARLY)])
    monday = Shift.objects.get(work_center=center)
    client.force_login(admin_user)
    response = client.post(
        reverse("admin:production_workcenter_change", args=[center.pk]),
        {
            **center_form(center),
            "name": "Renamed",
            **shift_rows([(0, "06:00", "14:00"), (0, "10:00", "18:00")], initial=[monday.pk]),
        },
        follow=True,
    )
    assert "overlaps" in response.content.decode()
    center.refresh_from_db()
    assert center.name == "Press" and hours(center) == [(0, *EARLY)]


def test_the_admin_changes_a_routings_operations_through_the_service(client, admin_user, planner):
    press = make_work_center(planner, "PRESS")
    routing = make_routing(planner, ProductFactory(), [(press, 0, "1")])
    operation = routing.operations.get()
    client.force_login(admin_user)
    response = client.post(
        reverse("admin:production_routing_change", args=[routing.pk]),
        {
            "name": routing.name,
            "lot_size": "",
            "is_active": "on",
            "operations-TOTAL_FORMS": "2",
            "operations-INITIAL_FORMS": "1",
            "operations-0-id": str(operation.pk),
            "operations-0-sequence": "10",
            "operations-0-name": "Step 1",
            "operations-0-work_center": str(press.pk),
            "operations-0-setup_minutes": "5",
            "operations-0-run_minutes_per_unit": "1",
            "operations-1-sequence": "20",
            "operations-1-name": "Deburr",
            "operations-1-work_center": str(press.pk),
            "operations-1-setup_minutes": "0",
            "operations-1-run_minutes_per_unit": "0.5",
        },
    )
    assert response.status_code == 302
    assert [(op.sequence, op.setup_minutes) for op in routing.operations.all()] == [
        (10, Decimal("5")),
        (20, Decimal("0")),
    ]
    assert operation.history.first().history_change_reason == "Changed in the admin"


def test_the_admin_change_page_offers_the_shifts_as_editable_rows(client, admin_user, planner):
    center = make_work_center(planner, "PRESS", shifts=[(0, *EARLY)])
    client.force_login(admin_user)
    page = client.get(reverse("admin:production_workcenter_change", args=[center.pk])).content.decode()
    assert 'name="shifts-0-start"' in page and 'name="shifts-1-start"' in page
