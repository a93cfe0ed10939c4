"""The order list: tick orders and confirm, release or export them together; saved views; grouping."""

from __future__ import annotations

import pytest

from orders.models import OrderStatus, SalesOrder, SavedOrderFilter
from orders.sales import orders_bulk_transition
from tests.factories import UserFactory, make_order

pytestmark = pytest.mark.django_db


def status_of(order) -> str:
    return SalesOrder.objects.get(pk=order.pk).status


def test_bulk_confirm_confirms_each_ticked_draft(sales):
    drafts = [make_order(owner=sales) for _ in range(3)]

    result = orders_bulk_transition(actor=sales, numbers=[o.number for o in drafts], name="confirm")

    assert sorted(result.done) == sorted(o.number for o in drafts)
    assert {status_of(o) for o in drafts} == {OrderStatus.CONFIRMED}


def test_one_refused_order_leaves_the_others_done_and_is_named_with_why(sales):
    draft = make_order(owner=sales)
    already = make_order(owner=sales, confirmed=True)

    result = orders_bulk_transition(actor=sales, numbers=[draft.number, already.number], name="confirm")

    assert result.done == [draft.number]
    assert [number for number, _message in result.refused] == [already.number]
    assert result.refused[0][1]


def test_an_order_the_user_may_not_see_is_reported_missing_and_left_alone(sales):
    others = make_order(owner=UserFactory(role="sales"))

    result = orders_bulk_transition(actor=sales, numbers=[others.number], name="confirm")

    assert result.refused and not result.done
    assert status_of(others) == OrderStatus.DRAFT


def test_the_list_page_confirms_the_ticked_orders_and_says_what_happened(client, sales):
    drafts = [make_order(owner=sales) for _ in range(2)]
    client.force_login(sales)

    response = client.post(
        "/orders/bulk/",
        {"action": "confirm", "number": [o.number for o in drafts], "next": "/orders/?status=draft"},
    )

    assert response.status_code == 302 and response["Location"] == "/orders/?status=draft"
    assert {status_of(o) for o in drafts} == {OrderStatus.CONFIRMED}


def test_an_unknown_bulk_action_changes_nothing(client, sales):
    draft = make_order(owner=sales)
    client.force_login(sales)

    client.post("/orders/bulk/", {"action": "cancel", "number": [draft.number]})

    assert status_of(draft) == OrderStatus.DRAFT


def test_export_selected_has_only_the_ticked_orders(client, sales):
    ticked, other = make_order(owner=sales), make_order(owner=sales)
    client.force_login(sales)

    body = b"".join(client.get("/orders/export.csv", {"number": [ticked.number]}).streaming_content).decode()

    assert ticked.number in body and other.number not in body


def test_a_saved_view_brings_its_filters_back_and_belongs_to_its_owner(client, sales):
    client.force_login(sales)

    response = client.post("/orders/saved-views/", {"name": "Drafts", "query": "status=draft&page=3"})

    saved = SavedOrderFilter.objects.get(owner=sales)
    assert saved.query == "status=draft"
    assert response["Location"] == "/orders/?status=draft"
    assert "Drafts" in client.get("/orders/").content.decode()
    client.force_login(UserFactory(role="sales"))
    assert "Drafts" not in client.get("/orders/").content.decode()


def test_a_view_without_filters_is_refused(client, sales):
    client.force_login(sales)

    client.post("/orders/saved-views/", {"name": "All", "query": "page=2"})

    assert not SavedOrderFilter.objects.exists()


def test_grouping_by_status_heads_each_group(client, sales):
    make_order(owner=sales)
    make_order(owner=sales, confirmed=True)
    client.force_login(sales)

    page = client.get("/orders/", {"group": "status"}).content.decode()

    assert page.count('data-testid="group-header"') == 2
