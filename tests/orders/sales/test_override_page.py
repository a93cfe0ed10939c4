"""The order page offers "Start production" and "Complete" ahead of the work orders only to a production
manager, through a confirmation page that lists what is unfinished and asks for a reason."""

import pytest
from django.urls import reverse

from orders.models import OrderStatus, SalesOrder
from tests.orders.change_requests.cr_helpers import finish, make_line, released_order

pytestmark = pytest.mark.django_db


def fresh(order):
    return SalesOrder.objects.get(pk=order.pk)


@pytest.fixture
def released(sales, planner):
    return released_order(sales, planner, make_line(planner), lines=2)


@pytest.fixture
def in_production(planner, released):
    finish(planner, released.work_orders.order_by("number").first())
    return fresh(released)


def page(client, user, order):
    client.force_login(user)
    return client.get(reverse("orders:order_detail", args=[order.number])).content.decode()


def action_url(order, name):
    return reverse("orders:order_transition", args=[order.number, name])


def override_url(order, name):
    return reverse("orders:order_override", args=[order.number, name])


def test_a_planner_is_offered_neither_start_nor_complete_ahead_of_the_work_orders(client, planner, released):
    html = page(client, planner, released)

    assert action_url(released, "start_production") not in html
    assert override_url(released, "start_production") not in html
    assert action_url(released, "complete") not in html
    assert override_url(released, "complete") not in html


def test_a_manager_is_offered_complete_only_as_an_override_through_its_confirmation_page(
    client, manager, in_production
):
    html = page(client, manager, in_production)

    assert override_url(in_production, "complete") in html
    assert action_url(in_production, "complete") not in html


def test_ship_is_offered_only_for_a_completed_order(client, manager, in_production):
    assert action_url(in_production, "ship") not in page(client, manager, in_production)

    client.post(
        override_url(in_production, "complete"),
        {"reason": "Customer takes them as they are", "confirm": "on", "version": in_production.version},
    )

    assert fresh(in_production).status == OrderStatus.COMPLETED
    assert action_url(in_production, "ship") in page(client, manager, in_production)


def test_the_confirmation_page_lists_each_unfinished_work_order_with_product_quantities_and_status(
    client, manager, in_production
):
    client.force_login(manager)
    unfinished = in_production.work_orders.order_by("number").last()

    html = client.get(override_url(in_production, "complete")).content.decode()

    assert "1 of 2 work orders are unfinished" in html
    table = html[html.index('data-testid="override-unfinished"') :]
    row = table[table.index(unfinished.number) :][:300]
    assert unfinished.product.sku in row and "0 / 20" in row and "Planned" in row
    assert "1 work order closed." in html


def test_the_confirmation_page_speaks_chinese(client, manager, in_production):
    client.force_login(manager)
    client.cookies["django_language"] = "zh-hans"

    html = client.get(override_url(in_production, "complete")).content.decode()

    assert "未完成的工单" in html


def test_without_a_reason_and_the_confirmation_nothing_changes(client, manager, in_production):
    client.force_login(manager)

    response = client.post(override_url(in_production, "complete"), {"version": in_production.version})

    assert response.status_code == 400
    assert response.context["form"].errors.keys() == {"reason", "confirm"}
    assert fresh(in_production).status == OrderStatus.IN_PRODUCTION


def test_confirming_with_a_reason_completes_the_order_as_the_manager(client, manager, in_production):
    client.force_login(manager)
    body = {"reason": "Customer takes them as they are", "confirm": "on", "version": in_production.version}

    response = client.post(override_url(in_production, "complete"), body)

    assert response.status_code == 302
    order = fresh(in_production)
    assert order.status == OrderStatus.COMPLETED
    assert order.history.first().history_user == manager
    assert "Customer takes them as they are" in order.history.first().history_change_reason


def test_a_manager_starts_production_by_hand_through_the_same_page(client, manager, released):
    client.force_login(manager)

    html = client.get(override_url(released, "start_production")).content.decode()
    response = client.post(
        override_url(released, "start_production"),
        {"reason": "Started on the old line", "confirm": "on", "version": released.version},
    )

    assert "No work order has started" in html
    assert response.status_code == 302
    assert fresh(released).status == OrderStatus.IN_PRODUCTION


def test_a_stale_page_is_refused_and_changes_nothing(client, manager, planner, in_production):
    client.force_login(manager)
    stale = in_production.version
    finish(planner, in_production.work_orders.order_by("number").last())  # the order completes meanwhile

    response = client.post(
        override_url(in_production, "complete"), {"reason": "As is", "confirm": "on", "version": stale}
    )

    assert response.status_code == 302
    order = fresh(in_production)
    assert order.status == OrderStatus.COMPLETED
    assert order.history.first().history_user.username == "orderbridge-production"


def test_a_planner_may_not_open_the_confirmation_page(client, planner, in_production):
    client.force_login(planner)

    assert client.get(override_url(in_production, "complete")).status_code == 403


def test_another_sales_person_does_not_find_the_order(client, other_sales, in_production):
    client.force_login(other_sales)

    assert client.get(override_url(in_production, "complete")).status_code == 404


def test_the_plain_complete_button_posted_by_a_planner_is_refused(client, planner, in_production):
    client.force_login(planner)

    response = client.post(action_url(in_production, "complete"), {"version": in_production.version})

    assert response.status_code == 403
    assert fresh(in_production).status == OrderStatus.IN_PRODUCTION


def test_only_start_production_and_complete_have_an_override_page(client, manager, in_production):
    client.force_login(manager)

    assert client.get(override_url(in_production, "ship")).status_code == 404
