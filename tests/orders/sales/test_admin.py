"""The Django admin goes through the same services and permissions as every other door."""

import pytest
from django.urls import reverse

from orders.models import OrderStatus, SalesOrder
from orders.sales import order_release
from orders.sales import order_update as update_order
from tests.factories import make_order

pytestmark = pytest.mark.django_db


def _run_action(client, action, orders):
    return client.post(
        reverse("admin:orders_salesorder_changelist"),
        {"action": action, "_selected_action": [o.pk for o in orders]},
        follow=True,
    )


def test_admin_can_confirm_orders_with_an_admin_action(client, admin_user, sales):
    order = make_order(owner=sales)
    client.force_login(admin_user)
    response = _run_action(client, "transition_confirm", [order])
    assert response.status_code == 200
    order = SalesOrder.objects.get(pk=order.pk)
    assert order.status == OrderStatus.CONFIRMED
    assert order.history.first().history_user == admin_user


def test_an_admin_action_that_breaks_a_rule_reports_it_and_changes_nothing(client, admin_user, sales):
    order = make_order(owner=sales, promised=False, confirmed=True)
    client.force_login(admin_user)
    response = _run_action(client, "transition_release", [order])
    assert "promised date" in response.content.decode()
    assert SalesOrder.objects.get(pk=order.pk).status == OrderStatus.CONFIRMED


def test_admin_edit_of_a_draft_goes_through_the_service(client, admin_user, sales):
    order = make_order(owner=sales)
    client.force_login(admin_user)
    url = reverse("admin:orders_salesorder_change", args=[order.pk])
    form = {
        "customer": order.customer_id,
        "customer_po": "PO-ADMIN-1",
        "crm_id": "",
        "requested_date": order.requested_date.isoformat(),
        "promised_date": order.promised_date.isoformat(),
        "priority": order.priority,
        "priority_reason": "",
        "remarks": "edited by admin",
        "lines-TOTAL_FORMS": "1",
        "lines-INITIAL_FORMS": "1",
        "lines-MIN_NUM_FORMS": "0",
        "lines-MAX_NUM_FORMS": "1000",
        "lines-0-id": order.lines.get().pk,
        "lines-0-order": order.pk,
    }
    response = client.post(url, form, follow=True)
    assert response.status_code == 200
    order = SalesOrder.objects.get(pk=order.pk)
    assert (order.customer_po, order.version) == ("PO-ADMIN-1", 2)
    assert order.history.first().history_change_reason == "Edited in admin"


def test_a_released_order_is_read_only_in_admin(client, admin_user, sales, planner):
    order = order_release(actor=planner, order=make_order(owner=sales, confirmed=True))
    client.force_login(admin_user)
    response = client.get(reverse("admin:orders_salesorder_change", args=[order.pk]))
    assert response.status_code == 200
    assert 'name="remarks"' not in response.content.decode()


def test_planners_have_no_admin_access(client, planner):
    client.force_login(planner)
    response = client.get(reverse("admin:orders_salesorder_changelist"))
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_admin_shows_the_history_of_an_order(client, admin_user, sales):
    order = make_order(owner=sales, confirmed=True)
    client.force_login(admin_user)
    response = client.get(reverse("admin:orders_salesorder_history", args=[order.pk]))
    assert response.status_code == 200
    assert "Confirm" in response.content.decode()


def _revert_url(order, record):
    return reverse("admin:orders_salesorder_simple_history", args=[order.pk, record.history_id])


def _revert_form(record):
    return {
        "customer": record.customer_id,
        "customer_po": record.customer_po,
        "crm_id": record.crm_id,
        "requested_date": record.requested_date.isoformat(),
        "promised_date": record.promised_date.isoformat() if record.promised_date else "",
        "priority": record.priority,
        "priority_reason": record.priority_reason,
        "remarks": record.remarks,
    }


def test_admin_reverts_an_editable_order_to_an_earlier_version_through_the_service(client, admin_user, sales):
    order = make_order(owner=sales, remarks="first words")
    first = order.history.earliest()
    order = update_order(
        actor=sales, order=order.pk, expected_version=order.version, data={"remarks": "second"}
    )
    client.force_login(admin_user)

    response = client.post(_revert_url(order, first), _revert_form(first), follow=True)

    assert response.status_code == 200
    reverted = SalesOrder.objects.get(pk=order.pk)
    assert (reverted.remarks, reverted.version) == ("first words", order.version + 1)
    latest = reverted.history.first()
    assert (latest.history_user, latest.history_change_reason) == (admin_user, "Reverted in admin")


def test_a_locked_order_offers_no_revert_and_a_forced_one_is_refused_on_the_page(
    client, admin_user, sales, planner
):
    order = make_order(owner=sales, confirmed=True, remarks="first words")
    first = order.history.earliest()
    order = order_release(actor=planner, order=order)
    client.force_login(admin_user)

    page = client.get(_revert_url(order, first)).content.decode()
    assert 'name="remarks"' not in page
    assert "Revert" not in page.split("<title>")[1].split("</title>")[0]

    response = client.post(_revert_url(order, first), {**_revert_form(first), "remarks": "x"}, follow=True)

    assert response.status_code == 200
    assert "it is locked for direct edits" in response.content.decode()
    assert SalesOrder.objects.get(pk=order.pk).version == order.version


@pytest.mark.parametrize("model", ["salesorder", "customer", "product", "productfamily", "changerequest"])
def test_an_admin_history_version_that_is_not_a_number_is_not_found(client, admin_user, model):
    client.force_login(admin_user)

    response = client.get(f"/admin/orders/{model}/1/history/abc/")

    assert response.status_code == 404
