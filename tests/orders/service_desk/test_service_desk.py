"""The customer service desk: one box for whatever the caller quotes, results the user may see, read-only."""

from __future__ import annotations

import pytest
from django.urls import reverse

from orders.sales import transitions
from orders.service_desk import selectors as service_desk
from tests.factories import CustomerFactory, make_order

pytestmark = pytest.mark.django_db


@pytest.fixture
def orders(sales, other_sales):
    harbour = CustomerFactory(code="HBR", name="Harbour Cranes Ltd", crm_id="CRM-CUST-9")
    return {
        "po": make_order(owner=sales, customer=harbour, customer_po="PO-4711"),
        "crm": make_order(owner=sales, crm_id="CRM-ORD-31"),
        "others": make_order(owner=other_sales, customer=harbour, customer_po="PO-SAMS"),
    }


def numbers(results) -> set[str]:
    return {result.order.number for result in results}


@pytest.mark.parametrize(
    ("term", "expected"),
    [
        ("PO-4711", {"po"}),
        ("po-47", {"po"}),  # part of it, any case
        ("CRM-ORD-31", {"crm"}),
        ("HBR", {"po", "others"}),  # customer code
        ("harbour", {"po", "others"}),  # customer name
        ("CRM-CUST-9", {"po", "others"}),  # the customer's CRM id
    ],
)
def test_customer_service_finds_orders_by_what_the_caller_quotes(service_agent, orders, term, expected):
    results = service_desk.desk_search(user=service_agent, term=term)
    assert numbers(results) == {orders[key].number for key in expected}


def test_each_result_says_what_matched(service_agent, orders):
    [result] = service_desk.desk_search(user=service_agent, term="PO-4711")
    assert result.matched == ["customer PO: PO-4711"]


def test_sales_only_find_their_own_orders(sales, orders):
    assert numbers(service_desk.desk_search(user=sales, term="harbour")) == {orders["po"].number}


def test_an_outsider_finds_nothing_and_may_not_open_the_desk(client, outsider, orders):
    assert service_desk.desk_search(user=outsider, term="harbour") == []
    client.force_login(outsider)
    assert client.get(reverse("service:desk"), {"q": "harbour"}).status_code == 403


def test_a_one_letter_term_asks_for_more(client, service_agent, orders):
    client.force_login(service_agent)
    response = client.get(reverse("service:desk"), {"q": "h"})
    assert "at least two characters" in response.content.decode()


def test_an_exact_order_number_opens_the_orders_story(client, service_agent, orders):
    client.force_login(service_agent)
    number = orders["po"].number
    response = client.get(reverse("service:desk"), {"q": number.lower()})
    assert response.url == reverse("orders:order_detail", args=[number])


def test_typing_in_the_box_updates_the_results_in_place(client, service_agent, orders):
    client.force_login(service_agent)
    response = client.get(reverse("service:desk"), {"q": "harbour"}, headers={"HX-Request": "true"})
    page = response.content.decode()
    assert "<html" not in page
    assert orders["po"].number in page and orders["others"].number in page


def test_no_match_says_so(client, service_agent, orders):
    client.force_login(service_agent)
    page = client.get(reverse("service:desk"), {"q": "nothing-like-it"}).content.decode()
    assert "No order matches" in page


def test_customer_service_reads_the_story_without_any_action(client, service_agent, sales, planner):
    order = transitions.order_release(actor=planner, order=make_order(owner=sales, confirmed=True))
    client.force_login(service_agent)
    page = client.get(reverse("orders:order_detail", args=[order.number])).content.decode()
    assert order.number in page
    assert "/actions/" not in page  # no transition the agent could run
    assert 'data-testid="panel-tracking-link"' in page  # but the customer's link to share


def test_the_nav_links_to_the_desk_for_order_readers(client, service_agent):
    client.force_login(service_agent)
    page = client.get(reverse("orders:order_list")).content.decode()
    assert reverse("service:desk") in page


def test_only_the_tracking_pages_are_open_without_a_login(client):
    assert client.get(reverse("service:desk")).status_code == 302
    assert client.get(reverse("notifications:badge")).status_code == 302
    assert client.get(reverse("tracking:track", kwargs={"token": "nothing.here"})).status_code == 404
