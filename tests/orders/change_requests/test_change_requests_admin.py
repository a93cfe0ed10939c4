"""Change requests in the admin: records with history and decisions, transitions as guarded actions."""

import pytest
from django.urls import reverse

from orders.models import ChangeRequest
from tests.orders.change_requests.cr_helpers import fresh, make_line, released_order, submitted

pytestmark = pytest.mark.django_db

MORE = [{"op": "set_quantity", "line_no": 1, "quantity": "12"}]


def _run_action(client, action, crs):
    return client.post(
        reverse("admin:orders_changerequest_changelist"),
        {"action": action, "_selected_action": [cr.pk for cr in crs]},
        follow=True,
    )


def test_admin_approves_and_applies_through_the_services(client, admin_user, sales, planner):
    order = released_order(sales, planner, make_line(planner))
    cr = submitted(sales, order, MORE)
    client.force_login(admin_user)
    _run_action(client, "change_request_approve", [cr])
    _run_action(client, "change_request_apply", [cr])
    assert fresh(cr).status == "applied" and fresh(order).revision == 2
    assert list(fresh(cr).decisions.values_list("actor__username", flat=True))[-2:] == ["ada", "ada"]


def test_an_admin_action_on_ones_own_request_is_refused_with_a_message(client, admin_user, planner, sales):
    order = released_order(sales, planner, make_line(planner))
    cr = submitted(admin_user, order, MORE)
    client.force_login(admin_user)
    response = _run_action(client, "change_request_approve", [cr])
    assert "Nobody decides their own change request." in response.content.decode()
    assert fresh(cr).status == "submitted"


def test_the_admin_page_shows_history_but_cannot_save(client, admin_user, sales, planner):
    order = released_order(sales, planner, make_line(planner))
    cr = submitted(sales, order, MORE)
    client.force_login(admin_user)
    url = reverse("admin:orders_changerequest_change", args=[cr.pk])
    assert client.get(url).status_code == 200
    assert client.get(reverse("admin:orders_changerequest_history", args=[cr.pk])).status_code == 200
    assert client.post(url, {"reason": "hacked"}).status_code == 403
    assert ChangeRequest.objects.get(pk=cr.pk).reason == "Customer called"


def test_the_admin_refuses_direct_edits_of_a_locked_order(client, admin_user, sales, planner):
    order = released_order(sales, planner, make_line(planner))
    client.force_login(admin_user)
    page = client.get(reverse("admin:orders_salesorder_change", args=[order.pk])).content.decode()
    assert 'name="remarks"' not in page
    assert f"/change-requests/new/{order.number}/" in page
