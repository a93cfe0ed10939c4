"""Tracking links through the API: what a CRM integration user can ask for, with the API's error format."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from orders.models import TrackingLink
from orders.sales import transitions
from orders.tracking import services as tracking
from tests.factories import make_order

pytestmark = pytest.mark.django_db


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def order(sales, planner):
    return transitions.order_release(actor=planner, order=make_order(owner=sales, confirmed=True))


def links_url(order) -> str:
    return f"/api/v1/orders/{order.number}/tracking-links/"


def test_sales_creates_a_link_and_gets_the_customers_url(client, sales, order):
    response = api(sales).post(links_url(order), {"expires_in_days": 7}, format="json")
    assert response.status_code == 201
    body = response.json()
    assert body["state"] == "active" and body["created_by"] == sales.username
    assert client.get(body["url"].removeprefix("http://testserver")).status_code == 200


def test_the_api_gives_the_public_url_when_one_is_set(sales, order, settings):
    settings.PUBLIC_URL = "https://track.plant.example/orderbridge"
    body = api(sales).post(links_url(order), {"expires_in_days": 7}, format="json").json()
    link = TrackingLink.objects.get(pk=body["id"])
    assert body["url"] == f"https://track.plant.example/orderbridge{tracking.tracking_path(link)}"


def test_a_bad_expiry_is_a_400_naming_the_field(sales, order):
    response = api(sales).post(links_url(order), {"expires_in_days": 0}, format="json")
    assert response.status_code == 400
    assert "expires_in_days" in response.json()["error"]["fields"]


def test_the_list_hides_the_url_of_a_revoked_link(sales, order):
    link = tracking.tracking_link_create(actor=sales, order=order)
    tracking.tracking_link_revoke(actor=sales, link=link)
    [item] = api(sales).get(links_url(order)).json()
    assert (item["state"], item["url"]) == ("revoked", None)


def test_revoking_twice_is_a_409(sales, order):
    link = tracking.tracking_link_create(actor=sales, order=order)
    url = f"{links_url(order)}{link.pk}/revoke/"
    assert api(sales).post(url, {"reason": "wrong recipient"}, format="json").status_code == 200
    second = api(sales).post(url, {}, format="json")
    assert (second.status_code, second.json()["error"]["code"]) == (409, "revoked")


def test_a_planner_may_not_create_links(planner, order):
    assert api(planner).post(links_url(order), {}, format="json").status_code == 403
    assert not TrackingLink.objects.exists()


def test_an_order_the_user_cannot_see_is_a_404(other_sales, order):
    assert api(other_sales).post(links_url(order), {}, format="json").status_code == 404
    assert api(other_sales).get(links_url(order)).status_code == 404
