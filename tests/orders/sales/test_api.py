"""REST API v1: orders, their transitions and history, customers and the catalog, auth and the docs."""

from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from orders import sales as services
from orders.api_tokens import api_token_create
from orders.models import Customer, OrderLine, OrderStatus, Product, ProductFamily, SalesOrder
from orders.sales import transitions
from tests.factories import (
    CustomerFactory,
    ProductFactory,
    ProductFamilyFactory,
    in_days,
    make_order,
    valid_spec,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # Every persona gets a password; the real hasher is deliberately slow and would dominate these tests.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


ORDERS = "/api/v1/orders/"


def order_url(order, suffix=""):
    return f"{ORDERS}{order.number}/{suffix}"


@pytest.fixture
def api():
    return APIClient()


@pytest.fixture
def as_user(api):
    def login(user):
        api.force_authenticate(user)
        return api

    return login


def order_payload(customer, product, /, **overrides):
    payload = {
        "customer": customer.code,
        "customer_po": "PO-778",
        "crm_id": "",
        "requested_date": in_days(30).isoformat(),
        "promised_date": None,
        "priority": None,
        "priority_reason": "",
        "remarks": "Deliver to gate 2",
        "lines": [
            {"product": product.sku, "quantity": "10", "spec_values": valid_spec(), "due_date": None},
        ],
    }
    payload.update(overrides)
    return payload


def advance(order, *names, actor, reason="test"):
    """Run the transitions as `actor`; starting production and completing are overrides here (these orders
    have no work made through the plant)."""
    for name in names:
        order = transitions.order_transition(
            actor=actor,
            order=order,
            name=name,
            reason=reason,
            override=name in ("start_production", "complete"),
        )
    return order


def reloaded(order):
    # django-fsm's protected status field refuses refresh_from_db(): read a fresh copy instead.
    return SalesOrder.objects.get(pk=order.pk)


def error_fields(response):
    return response.json()["error"]["fields"]


# --- create ----------------------------------------------------------------------------------------------
def test_it_creates_a_draft_order_with_nested_lines(as_user, sales, customer, product):
    response = as_user(sales).post(ORDERS, order_payload(customer, product), format="json")

    assert response.status_code == 201, response.json()
    body = response.json()
    order = SalesOrder.objects.get(number=body["number"])
    assert (order.customer, order.owner, order.status) == (customer, sales, OrderStatus.DRAFT)
    assert body["customer"] == customer.code
    assert body["customer_name"] == customer.name
    assert body["owner"] == "sally"
    assert body["status"] == "draft"
    assert body["lines"] == [
        {
            "id": order.lines.get().pk,
            "line_no": 1,
            "product": product.sku,
            "product_name": product.name,
            "quantity": "10.000",
            "unit": "pcs",
            "spec_values": valid_spec(),
            "due_date": in_days(30).isoformat(),
        }
    ]
    assert response["Location"].endswith(f"/api/v1/orders/{order.number}/")


def test_the_order_representation_holds_the_whole_contract(as_user, sales, customer, product):
    body = as_user(sales).post(ORDERS, order_payload(customer, product), format="json").json()

    assert set(body) >= {
        "number", "crm_id", "customer", "customer_name", "customer_po", "owner", "status",
        "status_display", "revision", "version", "priority", "priority_overridden", "priority_reason",
        "requested_date", "promised_date", "remarks", "created_at", "updated_at", "confirmed_at",
        "released_at", "completed_at", "shipped_at", "lines", "available_transitions", "links",
    }  # fmt: skip
    assert (body["version"], body["revision"], body["priority"]) == (1, 1, 2)


def test_a_new_draft_offers_its_owner_confirm_and_cancel(as_user, sales, customer, product):
    body = as_user(sales).post(ORDERS, order_payload(customer, product), format="json").json()

    assert body["available_transitions"] == ["confirm", "cancel"]
    assert body["links"]["confirm"].endswith(f"/api/v1/orders/{body['number']}/confirm/")
    assert body["links"]["history"].endswith(f"/api/v1/orders/{body['number']}/history/")


def test_a_missing_customer_is_named(as_user, sales, product):
    payload = order_payload(CustomerFactory(), product)
    del payload["customer"]

    response = as_user(sales).post(ORDERS, payload, format="json")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid"
    assert set(error_fields(response)) == {"customer"}


def test_an_unknown_customer_code_is_refused_on_that_field(as_user, sales, product):
    payload = order_payload(CustomerFactory(), product, customer="NOPE")

    response = as_user(sales).post(ORDERS, payload, format="json")

    assert response.status_code == 400
    assert set(error_fields(response)) == {"customer"}


def test_an_unknown_product_sku_is_refused_on_its_line(as_user, sales, customer, product):
    payload = order_payload(customer, product)
    payload["lines"].append({"product": "NO-SUCH-SKU", "quantity": "1"})

    response = as_user(sales).post(ORDERS, payload, format="json")

    assert response.status_code == 400
    assert set(error_fields(response)) == {"lines[1].product"}


def test_bad_line_types_are_named_per_line(as_user, sales, customer, product):
    payload = order_payload(customer, product)
    payload["lines"] = [
        {"product": product.sku, "quantity": "a dozen"},
        {"product": product.sku},
        {"product": product.sku, "quantity": "1", "spec_values": ["steel"]},
    ]

    response = as_user(sales).post(ORDERS, payload, format="json")

    assert response.status_code == 400
    assert set(error_fields(response)) == {
        "lines[0].quantity",
        "lines[1].quantity",
        "lines[2].spec_values",
    }


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("requested_date", "next week"),
        ("priority", 9),
        ("lines", "one panel"),
        ("customer_po", "x" * 65),
    ],
)
def test_a_header_field_of_the_wrong_type_is_named(as_user, sales, customer, product, field, value):
    response = as_user(sales).post(ORDERS, order_payload(customer, product, **{field: value}), format="json")

    assert response.status_code == 400
    # A nested serializer reports a wrong type as "<field>.non_field_errors".
    assert {name.split(".")[0] for name in error_fields(response)} == {field}


def test_invalid_spec_values_are_named_per_attribute(as_user, sales, customer, product):
    payload = order_payload(customer, product)
    payload["lines"][0]["spec_values"] = {"material": "wood", "colour": "red"}

    response = as_user(sales).post(ORDERS, payload, format="json")

    assert response.status_code == 400
    assert set(error_fields(response)) == {
        "lines[0].spec_values.material",
        "lines[0].spec_values.thickness_mm",
        "lines[0].spec_values.colour",
    }


def test_nothing_is_saved_when_a_line_is_invalid(as_user, sales, customer, product):
    payload = order_payload(customer, product)
    payload["lines"].append({"product": product.sku, "quantity": "0", "spec_values": valid_spec()})

    response = as_user(sales).post(ORDERS, payload, format="json")

    assert response.status_code == 400
    assert set(error_fields(response)) == {"lines[1].quantity"}
    assert not SalesOrder.objects.exists()
    assert not OrderLine.objects.exists()


def test_a_requested_date_in_the_past_is_refused(as_user, sales, customer, product):
    payload = order_payload(customer, product, requested_date=in_days(-1).isoformat())

    response = as_user(sales).post(ORDERS, payload, format="json")

    assert response.status_code == 400
    assert set(error_fields(response)) == {"requested_date"}


def test_a_priority_override_needs_a_reason(as_user, sales, customer, product):
    response = as_user(sales).post(ORDERS, order_payload(customer, product, priority=4), format="json")

    assert response.status_code == 400
    assert set(error_fields(response)) == {"priority_reason"}


def test_customer_service_cannot_enter_orders(as_user, service_agent, customer, product):
    response = as_user(service_agent).post(ORDERS, order_payload(customer, product), format="json")

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "forbidden"
    assert not SalesOrder.objects.exists()


# --- read ------------------------------------------------------------------------------------------------
def test_it_reads_an_order_by_number(as_user, sales):
    order = make_order(owner=sales, lines=2)

    response = as_user(sales).get(order_url(order))

    assert response.status_code == 200
    body = response.json()
    assert body["number"] == order.number
    assert [line["line_no"] for line in body["lines"]] == [1, 2]


def test_an_unknown_order_is_404_in_the_error_format(as_user, sales):
    response = as_user(sales).get(f"{ORDERS}SO-0000-999999/")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_another_sales_persons_order_is_404_not_403(as_user, sales, other_sales):
    order = make_order(owner=other_sales)

    assert as_user(sales).get(order_url(order)).status_code == 404


def test_an_order_cannot_be_deleted(as_user, admin_user, sales):
    order = make_order(owner=sales)

    response = as_user(admin_user).delete(order_url(order))

    assert response.status_code == 405
    assert SalesOrder.objects.filter(pk=order.pk).exists()


def test_the_browsable_api_renders_an_order(as_user, sales):
    order = make_order(owner=sales)

    response = as_user(sales).get(order_url(order), HTTP_ACCEPT="text/html")

    assert response.status_code == 200
    assert order.number in response.content.decode()


# --- list ------------------------------------------------------------------------------------------------
def numbers(response):
    assert response.status_code == 200, response.json()
    return [row["number"] for row in response.json()["results"]]


def test_sales_list_only_their_own_orders(as_user, sales, other_sales):
    mine = make_order(owner=sales)
    make_order(owner=other_sales)

    assert numbers(as_user(sales).get(ORDERS)) == [mine.number]


def test_the_plant_lists_every_order(as_user, sales, other_sales, planner):
    orders = [make_order(owner=sales), make_order(owner=other_sales)]

    assert set(numbers(as_user(planner).get(ORDERS))) == {o.number for o in orders}


def test_the_list_is_paginated(as_user, sales):
    make_order(owner=sales)

    body = as_user(sales).get(ORDERS).json()

    assert (body["count"], body["next"], body["previous"]) == (1, None, None)


def test_the_list_filters_by_several_statuses(as_user, sales):
    draft = make_order(owner=sales)
    confirmed = make_order(owner=sales, confirmed=True)
    cancelled = advance(make_order(owner=sales), "cancel", actor=sales)

    response = as_user(sales).get(ORDERS, {"status": ["draft", "cancelled"]})

    assert set(numbers(response)) == {draft.number, cancelled.number}
    assert confirmed.number not in numbers(response)


def test_an_unknown_status_filter_is_a_400(as_user, sales):
    response = as_user(sales).get(ORDERS, {"status": "lost"})

    assert response.status_code == 400
    assert set(error_fields(response)) == {"status"}


def test_the_list_filters_by_customer_code(as_user, sales):
    acme = CustomerFactory(code="ACME")
    wanted = make_order(owner=sales, customer=acme)
    make_order(owner=sales)

    assert numbers(as_user(sales).get(ORDERS, {"customer": "ACME"})) == [wanted.number]


def test_the_list_filters_by_requested_date_range(as_user, sales):
    soon = make_order(owner=sales, requested_date=in_days(5))
    make_order(owner=sales, requested_date=in_days(40))
    make_order(owner=sales, requested_date=in_days(1))

    response = as_user(sales).get(
        ORDERS,
        {"requested_date_after": in_days(3).isoformat(), "requested_date_before": in_days(10).isoformat()},
    )

    assert numbers(response) == [soon.number]


def test_the_list_filters_by_creation_date(as_user, sales):
    order = make_order(owner=sales)
    today = order.created_at.date().isoformat()

    assert numbers(as_user(sales).get(ORDERS, {"created_after": today})) == [order.number]
    assert numbers(as_user(sales).get(ORDERS, {"created_before": in_days(-1).isoformat()})) == []


@pytest.mark.parametrize("field", ["customer_po", "crm_id"])
def test_the_list_searches_order_references(as_user, sales, field):
    wanted = make_order(owner=sales, **{field: "REF-4711"})
    make_order(owner=sales)

    assert numbers(as_user(sales).get(ORDERS, {"search": "4711"})) == [wanted.number]


def test_the_list_searches_order_numbers_and_customer_names(as_user, sales):
    wanted = make_order(owner=sales, customer=CustomerFactory(name="Nordic Panels AB"))
    other = make_order(owner=sales)

    assert numbers(as_user(sales).get(ORDERS, {"search": "nordic"})) == [wanted.number]
    assert numbers(as_user(sales).get(ORDERS, {"search": other.number})) == [other.number]


def test_the_list_can_be_ordered_by_requested_date(as_user, sales):
    late = make_order(owner=sales, requested_date=in_days(40))
    early = make_order(owner=sales, requested_date=in_days(5))

    response = as_user(sales).get(ORDERS, {"ordering": "requested_date"})

    assert numbers(response) == [early.number, late.number]


def count_list_queries(client):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(ORDERS)
    assert response.status_code == 200
    return len(queries), len(response.json()["results"])


def test_the_list_runs_the_same_number_of_queries_for_3_or_30_orders(api, sales):
    _, secret = api_token_create(user=sales, name="test")
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    api.get(ORDERS)  # a token's first use records it (one write a minute at most): not part of the list
    product = ProductFactory()
    for _ in range(3):
        make_order(owner=sales, product=product, lines=2)
    few, shown = count_list_queries(api)
    assert shown == 3
    for _ in range(27):
        make_order(owner=sales, product=product, lines=2)

    many, shown = count_list_queries(api)

    assert shown == 30
    assert many == few


# --- update ----------------------------------------------------------------------------------------------
def test_it_updates_header_fields_with_the_version_read(as_user, sales):
    order = make_order(owner=sales)

    response = as_user(sales).patch(
        order_url(order), {"version": order.version, "remarks": "Call before delivery"}, format="json"
    )

    assert response.status_code == 200, response.json()
    assert (response.json()["remarks"], response.json()["version"]) == ("Call before delivery", 2)
    order = reloaded(order)
    assert order.remarks == "Call before delivery"


def test_put_updates_like_patch(as_user, sales):
    order = make_order(owner=sales)

    response = as_user(sales).put(order_url(order), {"version": 1, "customer_po": "PO-9"}, format="json")

    assert response.status_code == 200
    assert response.json()["customer_po"] == "PO-9"


def test_lines_given_are_the_new_list(as_user, sales, product):
    order = make_order(owner=sales, product=product, lines=2)
    first, second = order.lines.order_by("line_no")
    new_lines = [
        {"id": first.pk, "product": product.sku, "quantity": "99", "spec_values": valid_spec()},
        {"product": product.sku, "quantity": "5", "spec_values": valid_spec()},
    ]

    response = as_user(sales).patch(order_url(order), {"version": 1, "lines": new_lines}, format="json")

    assert response.status_code == 200, response.json()
    assert [(line["line_no"], line["quantity"]) for line in response.json()["lines"]] == [
        (1, "99.000"),
        (3, "5.000"),
    ]
    assert not OrderLine.objects.filter(pk=second.pk).exists()


def test_an_update_without_the_version_is_refused_naming_version(as_user, sales):
    order = make_order(owner=sales)

    response = as_user(sales).patch(order_url(order), {"remarks": "x"}, format="json")

    assert response.status_code == 400
    assert set(error_fields(response)) == {"version"}


def test_an_update_with_a_stale_version_is_a_409(as_user, sales):
    order = make_order(owner=sales)
    services.order_update(actor=sales, order=order, expected_version=1, data={"remarks": "first"})

    response = as_user(sales).patch(order_url(order), {"version": 1, "remarks": "second"}, format="json")

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "stale"
    order = reloaded(order)
    assert order.remarks == "first"


def test_a_released_order_is_locked_against_direct_edits(as_user, sales, admin_user):
    order = advance(make_order(owner=sales, confirmed=True), "release", actor=admin_user)

    response = as_user(sales).patch(
        order_url(order), {"version": order.version, "remarks": "x"}, format="json"
    )

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "order_locked"


def test_an_update_with_a_bad_line_changes_nothing(as_user, sales, product):
    order = make_order(owner=sales, product=product)
    line = order.lines.get()
    bad_lines = [
        {"id": line.pk, "product": product.sku, "quantity": "7", "spec_values": valid_spec()},
        {"product": product.sku, "quantity": "1", "spec_values": {"material": "wood"}},
    ]

    response = as_user(sales).patch(
        order_url(order), {"version": 1, "remarks": "changed", "lines": bad_lines}, format="json"
    )

    assert response.status_code == 400
    assert "lines[1].spec_values.material" in error_fields(response)
    order = reloaded(order)
    line.refresh_from_db()
    assert (order.version, order.remarks, line.quantity) == (1, "", Decimal("10"))
    assert order.lines.count() == 1


def test_a_line_of_another_order_cannot_be_edited_through_this_one(as_user, sales, product):
    order = make_order(owner=sales, product=product)
    foreign_line = make_order(owner=sales, product=product).lines.get()
    lines = [{"id": foreign_line.pk, "product": product.sku, "quantity": "1", "spec_values": valid_spec()}]

    response = as_user(sales).patch(order_url(order), {"version": 1, "lines": lines}, format="json")

    assert response.status_code == 400
    assert set(error_fields(response)) == {"lines[0].id"}


def test_a_planner_cannot_edit_an_order(as_user, sales, planner):
    order = make_order(owner=sales)

    response = as_user(planner).patch(order_url(order), {"version": 1, "remarks": "x"}, format="json")

    assert response.status_code == 403


def test_another_sales_person_cannot_even_find_the_order_to_edit(as_user, sales, other_sales):
    order = make_order(owner=sales)

    response = as_user(other_sales).patch(order_url(order), {"version": 1, "remarks": "x"}, format="json")

    assert response.status_code == 404


# --- transitions -----------------------------------------------------------------------------------------
# (url segment, steps that lead to the starting state, who runs it, status afterwards). No work is made
# through the plant for these orders: starting and completing them are a production manager's override.
TRANSITIONS = [
    ("confirm", [], "sales", "confirmed"),
    ("release", ["confirm"], "planner", "released"),
    ("start-production", ["confirm", "release"], "manager", "in_production"),
    ("complete", ["confirm", "release", "start_production"], "manager", "completed"),
    ("ship", ["confirm", "release", "start_production", "complete"], "manager", "shipped"),
    ("close", ["confirm", "release", "start_production", "complete", "ship"], "sales", "closed"),
    ("hold", ["confirm"], "sales", "on_hold"),
    ("resume", ["confirm", "hold"], "sales", "confirmed"),
    ("cancel", [], "sales", "cancelled"),
]


@pytest.mark.parametrize(("segment", "steps", "role", "after"), TRANSITIONS)
def test_each_transition_runs_through_its_endpoint(
    request, as_user, sales, admin_user, segment, steps, role, after
):
    order = advance(make_order(owner=sales), *steps, actor=admin_user)
    actor = request.getfixturevalue(role)

    body = {"reason": "As agreed", "override": segment in ("start-production", "complete")}
    response = as_user(actor).post(order_url(order, f"{segment}/"), body, format="json")

    assert response.status_code == 200, response.json()
    assert response.json()["status"] == after
    assert response.json()["version"] == order.version + 1
    order = reloaded(order)
    assert order.status == after


def test_an_illegal_transition_is_a_409(as_user, sales, manager):
    order = make_order(owner=sales)

    response = as_user(manager).post(order_url(order, "ship/"), {}, format="json")

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "transition_not_allowed"


def test_a_transition_without_the_permission_is_a_403(as_user, sales, planner):
    order = make_order(owner=sales)

    response = as_user(planner).post(order_url(order, "confirm/"), {}, format="json")

    assert response.status_code == 403
    order = reloaded(order)
    assert order.status == OrderStatus.DRAFT


@pytest.mark.parametrize("segment", ["hold", "cancel"])
def test_hold_and_cancel_need_a_reason(as_user, sales, segment):
    order = make_order(owner=sales, confirmed=True)

    response = as_user(sales).post(order_url(order, f"{segment}/"), {"reason": "  "}, format="json")

    assert response.status_code == 400
    assert set(error_fields(response)) == {"reason"}


def test_a_long_reason_is_kept_in_full_in_history(as_user, sales):
    order = make_order(owner=sales, confirmed=True)
    reason = "Customer call: " + "wait for the revised drawing; " * 20 + "then go."

    response = as_user(sales).post(order_url(order, "hold/"), {"reason": reason}, format="json")

    assert response.status_code == 200
    assert reloaded(order).history.first().history_change_reason == reason


def test_an_absurdly_long_reason_is_refused(as_user, sales):
    order = make_order(owner=sales, confirmed=True)

    response = as_user(sales).post(order_url(order, "hold/"), {"reason": "x" * 2001}, format="json")

    assert response.status_code == 400
    assert set(error_fields(response)) == {"reason"}
    assert reloaded(order).status == OrderStatus.CONFIRMED


def test_a_transition_with_a_stale_version_is_a_409(as_user, sales):
    order = make_order(owner=sales)

    response = as_user(sales).post(order_url(order, "confirm/"), {"version": 7}, format="json")

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "stale"


def test_release_without_a_promised_date_names_the_missing_date(as_user, sales, planner):
    order = make_order(owner=sales, confirmed=True, promised=False)

    response = as_user(planner).post(order_url(order, "release/"), {}, format="json")

    assert response.status_code == 400
    assert set(error_fields(response)) == {"promised_date"}


def test_a_transition_of_a_hidden_order_is_a_404(as_user, sales, other_sales):
    order = make_order(owner=sales)

    assert as_user(other_sales).post(order_url(order, "confirm/"), {}, format="json").status_code == 404


def test_available_transitions_follow_the_user(as_user, sales, planner):
    order = make_order(owner=sales, confirmed=True)

    assert as_user(planner).get(order_url(order)).json()["available_transitions"] == ["release", "hold"]
    assert as_user(sales).get(order_url(order)).json()["available_transitions"] == ["hold", "cancel"]


# --- history ---------------------------------------------------------------------------------------------
def test_the_history_says_who_changed_what_when_and_why(as_user, sales):
    order = make_order(owner=sales)
    as_user(sales).patch(
        order_url(order), {"version": 1, "remarks": "Gate 2", "reason": "Customer called"}, format="json"
    )

    response = as_user(sales).get(order_url(order, "history/"))

    assert response.status_code == 200
    latest = response.json()[0]
    assert (latest["user"], latest["reason"], latest["subject"], latest["kind"]) == (
        "sally",
        "Customer called",
        "order",
        "changed",
    )
    assert latest["changes"] == [{"field": "remarks", "old": "—", "new": "Gate 2"}]
    assert latest["time"]


def test_the_history_records_a_transition_reason(as_user, sales):
    order = make_order(owner=sales, confirmed=True)
    as_user(sales).post(order_url(order, "hold/"), {"reason": "Waiting for drawing"}, format="json")

    latest = as_user(sales).get(order_url(order, "history/")).json()[0]

    assert latest["reason"] == "Waiting for drawing"
    assert {"field": "status", "old": "Confirmed", "new": "On hold"} in latest["changes"]


def test_the_history_of_a_hidden_order_is_a_404(as_user, sales, other_sales):
    order = make_order(owner=sales)

    assert as_user(other_sales).get(order_url(order, "history/")).status_code == 404


# --- authentication --------------------------------------------------------------------------------------
def test_token_authentication_works(api, sales):
    order = make_order(owner=sales)
    _, secret = api_token_create(user=sales, name="test")

    api.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")

    assert numbers(api.get(ORDERS)) == [order.number]


def test_session_authentication_works(api, sales):
    api.force_login(sales)

    assert api.get(ORDERS).status_code == 200


def test_anonymous_requests_are_refused_in_the_error_format(api):
    response = api.get(ORDERS)

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


def test_a_wrong_token_is_refused(api, sales):
    api.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")

    response = api.get(ORDERS)

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "authentication_failed"


# --- customers and catalog -------------------------------------------------------------------------------
def test_customers_are_listed_for_customer_service(as_user, service_agent):
    CustomerFactory(code="ACME", name="Acme Panels")

    response = as_user(service_agent).get("/api/v1/customers/")

    assert response.status_code == 200
    assert [row["code"] for row in response.json()["results"]] == ["ACME"]


def test_customers_filter_by_tier_and_active(as_user, sales):
    CustomerFactory(code="VIP1", tier="vip")
    CustomerFactory(code="VIP2", tier="vip", is_active=False)
    CustomerFactory(code="STD1")

    response = as_user(sales).get("/api/v1/customers/", {"tier": "vip", "is_active": "true"})

    assert [row["code"] for row in response.json()["results"]] == ["VIP1"]


def test_customers_are_searched_by_crm_id(as_user, sales):
    CustomerFactory(code="A1", crm_id="crm-0042")
    CustomerFactory(code="B2")

    response = as_user(sales).get("/api/v1/customers/", {"search": "0042"})

    assert [row["code"] for row in response.json()["results"]] == ["A1"]


def test_a_customer_is_read_by_code(as_user, sales):
    CustomerFactory(code="ACME", name="Acme Panels")

    response = as_user(sales).get("/api/v1/customers/ACME/")

    assert response.json()["name"] == "Acme Panels"


def test_an_admin_creates_a_customer_through_the_service(as_user, admin_user):
    response = as_user(admin_user).post(
        "/api/v1/customers/", {"code": "NEW", "name": "New Works", "tier": "key"}, format="json"
    )

    assert response.status_code == 201, response.json()
    customer = Customer.objects.get(code="NEW")
    assert customer.tier == "key"
    assert customer.history.get().history_user == admin_user


def test_a_duplicate_customer_code_is_named(as_user, admin_user):
    CustomerFactory(code="ACME")

    response = as_user(admin_user).post("/api/v1/customers/", {"code": "ACME", "name": "X"}, format="json")

    assert response.status_code == 400
    assert set(error_fields(response)) == {"code"}


def test_a_crm_id_already_taken_is_a_400_naming_crm_id(as_user, admin_user):
    CustomerFactory(code="ACME", crm_id="crm-7")

    response = as_user(admin_user).post(
        "/api/v1/customers/", {"code": "NEW", "name": "X", "crm_id": "crm-7"}, format="json"
    )

    assert response.status_code == 400
    assert error_fields(response) == {"crm_id": ["Customer with this CRM id already exists."]}
    assert not Customer.objects.filter(code="NEW").exists()


def test_moving_a_customer_onto_a_crm_id_already_taken_is_a_400(as_user, admin_user):
    CustomerFactory(code="ACME", crm_id="crm-7")
    CustomerFactory(code="BETA", crm_id="crm-8")

    response = as_user(admin_user).patch("/api/v1/customers/BETA/", {"crm_id": "crm-7"}, format="json")

    assert response.status_code == 400
    assert set(error_fields(response)) == {"crm_id"}
    assert Customer.objects.get(code="BETA").crm_id == "crm-8"


def test_customers_without_a_crm_id_do_not_clash(as_user, admin_user):
    CustomerFactory(code="ACME", crm_id="")

    response = as_user(admin_user).post("/api/v1/customers/", {"code": "NEW", "name": "X"}, format="json")

    assert response.status_code == 201


def test_an_admin_updates_a_customer(as_user, admin_user):
    CustomerFactory(code="ACME")

    response = as_user(admin_user).patch("/api/v1/customers/ACME/", {"tier": "vip"}, format="json")

    assert response.status_code == 200
    assert Customer.objects.get(code="ACME").tier == "vip"


def test_sales_cannot_create_customers(as_user, sales):
    response = as_user(sales).post("/api/v1/customers/", {"code": "NEW", "name": "New"}, format="json")

    assert response.status_code == 403
    assert not Customer.objects.filter(code="NEW").exists()


def test_a_user_without_a_role_cannot_list_customers(as_user, outsider):
    assert as_user(outsider).get("/api/v1/customers/").status_code == 403


def test_a_customer_cannot_be_deleted(as_user, admin_user):
    CustomerFactory(code="ACME")

    assert as_user(admin_user).delete("/api/v1/customers/ACME/").status_code == 405


def test_products_filter_by_family_code(as_user, sales):
    doors = ProductFamilyFactory(code="DOORS")
    wanted = ProductFactory(family=doors)
    ProductFactory()

    response = as_user(sales).get("/api/v1/products/", {"family": "DOORS"})

    assert [row["sku"] for row in response.json()["results"]] == [wanted.sku]


def test_an_admin_creates_a_product_in_a_family_given_by_code(as_user, admin_user):
    ProductFamilyFactory(code="DOORS")

    response = as_user(admin_user).post(
        "/api/v1/products/", {"sku": "D-1.5", "name": "Door", "family": "DOORS"}, format="json"
    )

    assert response.status_code == 201, response.json()
    assert Product.objects.get(sku="D-1.5").family.code == "DOORS"
    assert as_user(admin_user).get("/api/v1/products/D-1.5/").status_code == 200


def test_an_unknown_family_code_is_named(as_user, admin_user):
    response = as_user(admin_user).post(
        "/api/v1/products/", {"sku": "D-1", "name": "Door", "family": "NOPE"}, format="json"
    )

    assert response.status_code == 400
    assert set(error_fields(response)) == {"family"}


def test_a_product_family_exposes_its_spec_schema(as_user, planner):
    family = ProductFamilyFactory(code="PANELS")

    response = as_user(planner).get("/api/v1/product-families/PANELS/")

    assert response.json()["spec_schema"] == family.spec_schema


def test_an_invalid_spec_schema_is_refused(as_user, admin_user):
    response = as_user(admin_user).post(
        "/api/v1/product-families/",
        {"code": "X", "name": "X", "spec_schema": {"type": "object", "properties": {"a": {"type": "date"}}}},
        format="json",
    )

    assert response.status_code == 400
    assert set(error_fields(response)) == {"spec_schema"}
    assert not ProductFamily.objects.filter(code="X").exists()


# --- documentation ---------------------------------------------------------------------------------------
def test_the_openapi_schema_validates_without_warnings(tmp_path):
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yml"))

    schema = (tmp_path / "schema.yml").read_text()
    assert "/api/v1/orders/{number}/start-production/:" in schema


def test_the_schema_is_served_to_a_logged_in_user(client, sales):
    client.force_login(sales)

    response = client.get("/api/schema/", HTTP_ACCEPT="application/json")

    assert response.status_code == 200
    assert "/api/v1/orders/" in response.json()["paths"]


def test_swagger_ui_is_served_by_the_app_itself(client, sales):
    client.force_login(sales)

    page = client.get("/api/docs/").content.decode()

    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in page
    assert "cdn.jsdelivr.net" not in page
    assert "unpkg.com" not in page


def test_the_docs_need_a_login(client):
    assert client.get("/api/docs/").status_code in (401, 403)
