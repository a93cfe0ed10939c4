"""What one order costs the API to take in: the queries of create and confirm, and answers built from what
the services wrote instead of reading it again (they must equal a fresh read)."""

import pytest
from django.db import connection
from django.http import Http404
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from crm_sync.models import OutboxEvent
from orders import sales as services
from orders.api_tokens import api_token_create
from orders.models import OrderStatus, SalesOrder
from orders.sales import transitions
from tests.factories import ProductFactory, in_days, make_order, valid_spec

pytestmark = pytest.mark.django_db

ORDERS = "/api/v1/orders/"


@pytest.fixture
def token_client(sales):
    # Token authentication, as the intake bench and integrations call the API (its lookup is one query).
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {api_token_create(user=sales, name='test')[1]}")
    return client


def three_line_order(customer):
    products = [ProductFactory() for _ in range(3)]
    return {
        "customer": customer.code,
        "customer_po": "PO-1",
        "requested_date": in_days(30).isoformat(),
        "promised_date": in_days(40).isoformat(),
        "lines": [
            {"product": product.sku, "quantity": str(5 + n), "spec_values": valid_spec()}
            for n, product in enumerate(products)
        ],
    }


def post(client, path, data):
    with CaptureQueriesContext(connection) as queries:
        response = client.post(path, data, format="json")
    return response, [query["sql"] for query in queries.captured_queries]


def test_creating_an_order_of_three_lines_through_the_api_runs_11_queries(token_client, customer):
    body = three_line_order(customer)
    token_client.post(ORDERS, body, format="json")  # warms the permission cache, as a running server has

    response, queries = post(token_client, ORDERS, body)

    assert response.status_code == 201, response.json()
    # token + user, customer, products (one for all lines), savepoint, number allocation, order, its
    # history, lines (one statement), their history (one statement), outbox event, savepoint release.
    # Inside a test the service's transaction is a savepoint; the external systems were read before.
    assert len(queries) == 11, "\n".join(queries)


def test_confirming_an_order_through_the_api_runs_9_queries(token_client, sales, customer):
    token_client.post(ORDERS, three_line_order(customer), format="json")  # warms the permission cache
    number = token_client.post(ORDERS, three_line_order(customer), format="json").json()["number"]

    response, queries = post(token_client, f"{ORDERS}{number}/confirm/", {"reason": ""})

    assert response.status_code == 200, response.json()
    # token + user, savepoint, the order locked where its owner may see it, its lines, the update, its
    # history, the order's last outbox sequence, outbox event, savepoint release.
    assert len(queries) == 9, "\n".join(queries)


def test_the_create_answer_equals_a_fresh_read_of_the_order(token_client, customer):
    created = token_client.post(ORDERS, three_line_order(customer), format="json").json()

    fresh = token_client.get(f"{ORDERS}{created['number']}/").json()

    assert created == fresh
    assert [line["line_no"] for line in created["lines"]] == [1, 2, 3]


def test_the_confirm_answer_equals_a_fresh_read_of_the_order(token_client, customer):
    number = token_client.post(ORDERS, three_line_order(customer), format="json").json()["number"]

    confirmed = token_client.post(f"{ORDERS}{number}/confirm/", {"reason": "ok"}, format="json").json()

    assert confirmed["status"] == OrderStatus.CONFIRMED
    assert confirmed == token_client.get(f"{ORDERS}{number}/").json()


def test_a_new_orders_first_outbox_event_is_sequence_1_and_its_confirmation_2(token_client, customer):
    number = token_client.post(ORDERS, three_line_order(customer), format="json").json()["number"]
    token_client.post(f"{ORDERS}{number}/confirm/", {}, format="json")

    events = OutboxEvent.objects.filter(subject=number).order_by("sequence")

    assert [(event.type, event.sequence) for event in events] == [
        ("order.created", 1),
        ("order.confirmed", 2),
    ]


def test_an_order_a_transition_returned_reads_its_lines_afresh(sales):
    order = transitions.order_confirm(actor=sales, order=make_order(owner=sales, lines=2))
    kept = order.lines.order_by("line_no").first()
    keep_one = [
        {"id": kept.pk, "product": kept.product_id, "quantity": kept.quantity, "spec_values": valid_spec()}
    ]
    services.order_update(
        actor=sales, order=order.pk, expected_version=order.version, data={}, lines=keep_one
    )

    # The lines handed on for the API's answer are a snapshot; the relation itself reads the database.
    assert len(services.loaded_lines(order)) == 2
    assert order.lines.count() == 1


def test_a_transition_by_number_of_an_order_the_actor_may_not_see_is_missing(sales, other_sales):
    order = make_order(owner=sales)

    with pytest.raises(Http404):
        transitions.order_transition(
            actor=other_sales,
            order=services.OrderNumber(number=order.number, user=other_sales),
            name="confirm",
        )

    assert SalesOrder.objects.get(pk=order.pk).status == OrderStatus.DRAFT


def test_a_transition_by_number_of_an_unknown_order_is_missing(sales):
    with pytest.raises(Http404):
        transitions.order_transition(
            actor=sales, order=services.OrderNumber(number="SO-0000-000000", user=sales), name="confirm"
        )


def test_a_transition_by_number_runs_for_an_order_the_actor_sees(sales):
    order = make_order(owner=sales)

    confirmed = transitions.order_transition(
        actor=sales, order=services.OrderNumber(number=order.number, user=sales), name="confirm"
    )

    assert (confirmed.pk, confirmed.status) == (order.pk, OrderStatus.CONFIRMED)
