"""The planner chooses what "better" means on the plan page (weighted tardiness or on-time rate): the choice
is kept with who chose it and why, the next plan is made with it, and VIP on-time shows beside either."""

import pytest
from django.test import override_settings
from rest_framework.test import APIClient

from orders.sales import transitions
from production.replanning import PlanObjectiveChange, plan_objective
from production.scheduling import schedule_run
from production.scheduling.selectors import current_schedule
from tests.factories import ProductFactory, make_order
from tests.production.conftest import make_routing, make_work_center

pytestmark = pytest.mark.django_db


@pytest.fixture
def planned(sales, planner):
    center = make_work_center(planner, "PRESS")
    product = ProductFactory()
    make_routing(planner, product, [(center, 0, "60")])
    order = transitions.order_release(
        actor=planner, order=make_order(owner=sales, product=product, confirmed=True)
    )
    schedule_run(actor=planner, trigger="test")
    return order


@override_settings(PRODUCTION_OBJECTIVE="weighted_tardiness")
def test_weighted_tardiness_is_the_objective_until_a_planner_chooses(client, planner, planned):
    client.force_login(planner)
    page = client.get("/production/").content.decode()

    assert plan_objective() == "weighted_tardiness"
    assert 'value="weighted_tardiness" selected' in page
    assert current_schedule().details["objective"] == "weighted_tardiness"


def test_the_planner_chooses_the_on_time_rate_and_the_next_plan_uses_it(
    client, planner, planned, fast_enqueued
):
    client.force_login(planner)

    response = client.post("/production/objective/", {"objective": "on_time", "reason": "month end"})
    schedule_run(actor=planner, trigger="after the choice")

    assert response.status_code == 302
    assert plan_objective() == "on_time"
    assert current_schedule().details["objective"] == "on_time"
    assert "vip_on_time_rate" in current_schedule().details


def test_the_choice_is_kept_with_who_chose_it_and_why(client, planner, planned):
    client.force_login(planner)

    client.post("/production/objective/", {"objective": "on_time", "reason": "month end"})
    page = client.get("/production/").content.decode()

    change = PlanObjectiveChange.objects.get()
    assert (change.objective, change.previous, change.reason) == (
        "on_time",
        "weighted_tardiness",
        "month end",
    )
    assert change.changed_by == planner
    assert str(planner) in page and "month end" in page


def test_choosing_the_objective_asks_for_a_new_plan(
    client, planner, planned, fast_enqueued, enqueued, django_capture_on_commit_callbacks
):
    client.force_login(planner)
    before = len(fast_enqueued) + len(enqueued)

    with django_capture_on_commit_callbacks(execute=True):
        client.post("/production/objective/", {"objective": "on_time"})

    assert len(fast_enqueued) + len(enqueued) > before


def test_an_unknown_objective_is_a_400_with_the_field_message_and_nothing_saved(client, planner, planned):
    client.force_login(planner)

    response = client.post("/production/objective/", {"objective": "fastest"})

    assert response.status_code == 400
    assert 'data-testid="objective-error"' in response.content.decode()
    assert not PlanObjectiveChange.objects.exists()
    assert plan_objective() == "weighted_tardiness"


def test_choosing_the_objective_needs_the_permission_to_plan(client, sales, planned):
    client.force_login(sales)

    response = client.post("/production/objective/", {"objective": "on_time"})

    assert response.status_code == 403
    assert not PlanObjectiveChange.objects.exists()


def test_the_choice_shows_in_chinese(client, planner, planned):
    client.force_login(planner)

    page = client.get("/production/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()

    assert "更好的计划" in page


def test_an_api_client_reads_and_chooses_the_objective(planner, planned):
    api = APIClient()
    api.force_authenticate(planner)

    before = api.get("/api/v1/schedule/objective/")
    chosen = api.post(
        "/api/v1/schedule/objective/", {"objective": "on_time", "reason": "audit"}, format="json"
    )

    assert before.status_code == 200 and before.json()["objective"] == "weighted_tardiness"
    assert chosen.status_code == 200, chosen.json()
    assert chosen.json()["objective"] == "on_time"
    assert chosen.json()["history"][0]["changed_by"] == planner.username
    assert chosen.json()["history"][0]["reason"] == "audit"


def test_the_api_refuses_an_unknown_objective_and_one_without_the_permission(sales, planner, planned):
    api = APIClient()
    api.force_authenticate(planner)
    unknown = api.post("/api/v1/schedule/objective/", {"objective": "fastest"}, format="json")
    api.force_authenticate(sales)
    forbidden = api.post("/api/v1/schedule/objective/", {"objective": "on_time"}, format="json")

    assert unknown.status_code == 400 and "objective" in str(unknown.json())
    assert forbidden.status_code == 403
    assert not PlanObjectiveChange.objects.exists()
