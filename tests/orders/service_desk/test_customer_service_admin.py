"""The admin shows tracking links, ratings and notification deliveries; it revokes links via the service."""

import pytest
from django.urls import reverse

from orders.sales import transitions
from orders.tracking import services as tracking
from tests.factories import make_order

pytestmark = pytest.mark.django_db


@pytest.fixture
def link(sales, planner):
    order = transitions.order_release(actor=planner, order=make_order(owner=sales, confirmed=True))
    return tracking.tracking_link_create(actor=sales, order=order)


@pytest.mark.parametrize("model", ["trackinglink", "orderrating", "notificationdelivery"])
def test_the_admin_lists_the_customer_service_records(client, admin_user, link, model):
    client.force_login(admin_user)
    assert client.get(reverse(f"admin:orders_{model}_changelist")).status_code == 200


def test_the_admin_revokes_links_through_the_service_with_who(client, admin_user, link):
    client.force_login(admin_user)
    client.post(
        reverse("admin:orders_trackinglink_changelist"),
        {"action": "revoke", "_selected_action": [link.pk]},
        follow=True,
    )
    link.refresh_from_db()
    assert link.revoked_by == admin_user
    assert link.history.first().history_change_reason == "Revoked in the admin"
