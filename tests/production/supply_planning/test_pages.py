"""The shortage list and the buyer's suggestions as pages, in English and Chinese, deny by default."""

from __future__ import annotations

import pytest
from django.urls import reverse

from orders.sales import transitions
from production.materials import PurchaseOrder
from production.supply_planning import shortages_refresh
from tests.factories import make_order
from tests.production.supply_planning.conftest import stock

pytestmark = pytest.mark.django_db


@pytest.fixture
def short(sales, planner, frame, profile):
    stock(profile, "4")
    order = transitions.order_release(
        actor=planner, order=make_order(owner=sales, product=frame, confirmed=True)
    )
    shortages_refresh()
    return order


@pytest.mark.parametrize(("language", "title"), [("en", "Material shortages"), ("zh-hans", "缺料清单")])
def test_the_planner_sees_the_shortages_per_work_order_and_per_item(client, planner, short, language, title):
    client.force_login(planner)
    page = client.get(reverse("production:shortages"), HTTP_ACCEPT_LANGUAGE=language).content.decode()
    assert title in page and short.number in page
    by_item = client.get(reverse("production:shortages") + "?by=item", HTTP_ACCEPT_LANGUAGE=language)
    assert "AL-6063" in by_item.content.decode()


@pytest.mark.parametrize(("language", "title"), [("en", "Purchase suggestions"), ("zh-hans", "采购建议")])
def test_the_buyer_reviews_suggestions_and_exports_them(client, buyer, short, language, title):
    client.force_login(buyer)
    page = client.get(
        reverse("production:purchase_suggestions"), HTTP_ACCEPT_LANGUAGE=language
    ).content.decode()
    assert title in page and "AL-6063" in page
    export = client.get(reverse("production:purchase_suggestions_export"))
    assert export.status_code == 200
    assert export["Content-Type"].startswith("application/vnd.openxmlformats")


def test_the_buyer_turns_a_suggestion_into_a_purchase_order(client, buyer, short, profile):
    client.force_login(buyer)
    response = client.post(
        reverse("production:purchase_suggestion_order"),
        {"item": profile.pk, "quantity": "16", "expected_date": "2030-01-02", "supplier": ""},
    )
    assert response.status_code == 302
    assert PurchaseOrder.objects.get().lines.get().item == profile


def test_a_bad_suggestion_order_is_a_400_with_the_message(client, buyer, short, profile):
    client.force_login(buyer)
    response = client.post(
        reverse("production:purchase_suggestion_order"),
        {"item": profile.pk, "quantity": "x", "expected_date": ""},
    )
    assert response.status_code == 400
    assert not PurchaseOrder.objects.exists()


@pytest.mark.parametrize("name", ["shortages", "purchase_suggestions", "purchase_suggestions_export"])
def test_an_outsider_is_refused_every_page(client, outsider, name):
    client.force_login(outsider)
    assert client.get(reverse(f"production:{name}")).status_code == 403


def test_sales_may_not_order_from_a_suggestion(client, sales, profile):
    client.force_login(sales)
    response = client.post(reverse("production:purchase_suggestion_order"), {"item": profile.pk})
    assert response.status_code == 403
