"""The sales UI: who sees which page, what each page shows, and that every write goes through the services."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from orders import sales as services
from orders.models import OrderStatus, Priority, SalesOrder
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

LIST_URL = reverse("orders:order_list")
NEW_URL = reverse("orders:order_create")


def detail_url(order: SalesOrder) -> str:
    return reverse("orders:order_detail", args=[order.number])


def edit_url(order: SalesOrder) -> str:
    return reverse("orders:order_edit", args=[order.number])


def action_url(order: SalesOrder, action: str) -> str:
    return reverse("orders:order_transition", args=[order.number, action])


def order_post(*, customer=None, lines=(), initial_forms: int = 0, **header) -> dict:
    """The POST body of the order form: header fields and a lines formset (spec values as `spec__<name>`)."""
    data = {
        "customer": customer.pk if customer else "",
        "customer_po": "",
        "crm_id": "",
        "requested_date": "",
        "promised_date": "",
        "priority": "",
        "priority_reason": "",
        "remarks": "",
        "lines-TOTAL_FORMS": str(len(lines)),
        "lines-INITIAL_FORMS": str(initial_forms),
        "lines-MIN_NUM_FORMS": "0",
        "lines-MAX_NUM_FORMS": "1000",
        "save": "1",
    }
    data.update({key: "" if value is None else str(value) for key, value in header.items()})
    for index, line in enumerate(lines):
        for key, value in line.items():
            if key == "spec":
                for name, spec_value in value.items():
                    data[f"lines-{index}-spec__{name}"] = spec_value
            else:
                data[f"lines-{index}-{key}"] = "" if value is None else str(value)
    return data


def reload(order: SalesOrder) -> SalesOrder:
    # The status field is protected (django-fsm): refresh_from_db() may not set it, so fetch anew.
    return SalesOrder.objects.get(pk=order.pk)


def spec_form_values() -> dict:
    return {key: str(value) for key, value in valid_spec().items()}


def html_text(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


# --- access ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("url_name", ["orders:order_list", "orders:order_create"])
def test_anonymous_users_are_sent_to_log_in(client, url_name):
    response = client.get(reverse(url_name))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_anonymous_users_are_sent_to_log_in_from_an_order(client, sales):
    order = make_order(owner=sales)
    response = client.get(detail_url(order))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_an_outsider_is_refused_the_order_list(client, outsider):
    client.force_login(outsider)
    response = client.get(LIST_URL)
    assert response.status_code == 403
    assert "You are not allowed to do this." in response.content.decode()


def test_an_outsider_cannot_see_an_order(client, outsider, sales):
    order = make_order(owner=sales)
    client.force_login(outsider)
    assert client.get(detail_url(order)).status_code == 404


def test_an_outsider_cannot_open_the_new_order_page(client, outsider):
    client.force_login(outsider)
    assert client.get(NEW_URL).status_code == 403


def test_customer_service_cannot_open_the_new_order_page(client, service_agent):
    client.force_login(service_agent)
    assert client.get(NEW_URL).status_code == 403


def test_sales_cannot_see_another_sales_persons_order(client, sales, other_sales):
    order = make_order(owner=other_sales)
    client.force_login(sales)
    assert client.get(detail_url(order)).status_code == 404
    assert client.get(edit_url(order)).status_code == 404


def test_an_unknown_order_shows_the_not_found_page(client, sales):
    client.force_login(sales)
    response = client.get(reverse("orders:order_detail", args=["SO-0000-000000"]))
    assert response.status_code == 404
    assert "This page does not exist, or you may not see it." in response.content.decode()


# --- base layout -------------------------------------------------------------------------------------------
def test_the_navigation_offers_new_order_to_sales_and_shows_the_role(client, sales):
    client.force_login(sales)
    page = html_text(client.get(LIST_URL))
    assert f'href="{NEW_URL}"' in page
    assert 'href="/api/docs/"' in page
    assert "Sales" in page  # role in the user menu
    assert 'href="/admin/"' not in page


def test_the_navigation_hides_new_order_from_customer_service_and_admin_link_from_non_staff(
    client, service_agent
):
    client.force_login(service_agent)
    page = html_text(client.get(LIST_URL))
    assert f'href="{NEW_URL}"' not in page
    assert "Customer service" in page


def test_staff_get_the_admin_link(client, admin_user):
    client.force_login(admin_user)
    assert 'href="/admin/"' in client.get(LIST_URL).content.decode()


def test_switching_to_chinese_sets_the_language_cookie(client, sales):
    client.force_login(sales)
    response = client.post(reverse("set_language"), {"language": "zh-hans", "next": LIST_URL})
    assert response.status_code == 302
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "zh-hans"
    assert '<html lang="zh-hans">' in client.get(LIST_URL).content.decode()


def test_the_language_can_be_switched_on_the_login_page(client):
    response = client.post(reverse("set_language"), {"language": "zh-hans", "next": reverse("login")})
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "zh-hans"
    assert '<html lang="zh-hans">' in client.get(reverse("login")).content.decode()


# --- order list --------------------------------------------------------------------------------------------
def test_sales_see_their_own_orders_only(client, sales, other_sales):
    mine = make_order(owner=sales)
    theirs = make_order(owner=other_sales)
    client.force_login(sales)
    page = client.get(LIST_URL).content.decode()
    assert mine.number in page
    assert theirs.number not in page


def test_a_planner_sees_every_order(client, planner, sales, other_sales):
    orders = [make_order(owner=sales), make_order(owner=other_sales)]
    client.force_login(planner)
    page = client.get(LIST_URL).content.decode()
    assert all(order.number in page for order in orders)


def test_the_list_shows_status_priority_dates_and_line_count(client, sales):
    vip = CustomerFactory(name="Harbour Cranes", tier="vip")
    order = make_order(owner=sales, customer=vip, lines=3, requested_date=in_days(10))
    client.force_login(sales)
    row = re.search(
        rf"<tr>\s*<td><input[^>]*></td>\s*<td[^>]*><a[^>]*>{order.number}</a>.*?</tr>",
        client.get(LIST_URL).content.decode(),
        re.S,
    )
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", row.group(0)))
    assert "Harbour Cranes" in text
    assert "VIP" in text
    assert "Draft" in text
    assert "Urgent" in text
    assert in_days(10).isoformat() in text
    assert " 3 " in text


def test_the_search_box_finds_an_order_by_customer_po(client, sales):
    wanted = make_order(owner=sales, customer_po="PO-778899")
    other = make_order(owner=sales, customer_po="PO-111111")
    client.force_login(sales)
    page = client.get(LIST_URL, {"q": "778899"}).content.decode()
    assert wanted.number in page
    assert other.number not in page


def test_the_list_filters_by_several_statuses(client, sales):
    draft = make_order(owner=sales)
    confirmed = make_order(owner=sales, confirmed=True)
    cancelled = transitions.order_cancel(actor=sales, order=make_order(owner=sales), reason="Duplicate")
    client.force_login(sales)
    page = client.get(LIST_URL, {"status": ["draft", "cancelled"]}).content.decode()
    assert draft.number in page
    assert cancelled.number in page
    assert confirmed.number not in page


def test_the_list_filters_by_requested_date_range(client, sales):
    early = make_order(owner=sales, requested_date=in_days(5))
    late = make_order(owner=sales, requested_date=in_days(60))
    client.force_login(sales)
    page = client.get(
        LIST_URL, {"date_field": "requested_date", "date_from": in_days(1), "date_to": in_days(10)}
    ).content.decode()
    assert early.number in page
    assert late.number not in page


def test_the_list_filters_by_customer(client, sales):
    acme, other = CustomerFactory(), CustomerFactory()
    wanted = make_order(owner=sales, customer=acme)
    unwanted = make_order(owner=sales, customer=other)
    client.force_login(sales)
    page = client.get(LIST_URL, {"customer": acme.pk}).content.decode()
    assert wanted.number in page
    assert unwanted.number not in page


def test_an_htmx_filter_request_gets_only_the_table(client, sales):
    order = make_order(owner=sales)
    client.force_login(sales)
    response = client.get(LIST_URL, {"q": order.number}, headers={"HX-Request": "true"})
    body = response.content.decode()
    assert order.number in body
    assert "<html" not in body
    assert 'data-testid="order-table"' in body
    assert "HX-Request" in response["Vary"]


def test_the_list_works_without_javascript_as_a_plain_get_form(client, sales):
    client.force_login(sales)
    page = client.get(LIST_URL).content.decode()
    form = re.search(r"<form method=\"get\" action=\"([^\"]+)\"[^>]*hx-get=", page)
    assert form and form.group(1) == LIST_URL


def test_the_list_pages_by_25(client, sales):
    customer, product = CustomerFactory(), ProductFactory()
    for _ in range(27):
        make_order(owner=sales, customer=customer, product=product)
    client.force_login(sales)
    first = client.get(LIST_URL)
    second = client.get(LIST_URL, {"page": 2})
    assert len(first.context["orders"]) == 25
    assert len(second.context["orders"]) == 2
    assert "1\u201325 of 27 orders" in first.content.decode()


def test_the_list_runs_the_same_queries_for_3_and_30_orders(client, sales):
    customer, product = CustomerFactory(), ProductFactory()
    for _ in range(3):
        make_order(owner=sales, customer=CustomerFactory(), product=product, lines=2)
    client.force_login(sales)
    with CaptureQueriesContext(connection) as few:
        assert client.get(LIST_URL).status_code == 200
    for _ in range(27):
        make_order(owner=sales, customer=customer, product=ProductFactory(), lines=2)
    with CaptureQueriesContext(connection) as many:
        assert len(client.get(LIST_URL).context["orders"]) == 25
    assert len(many) == len(few)
    assert len(many) <= 10


# --- order detail ------------------------------------------------------------------------------------------
def test_the_detail_shows_the_header_and_the_spec_values_with_their_labels(client, sales):
    order = make_order(owner=sales, customer_po="PO-4711", remarks="Deliver to gate 3")
    client.force_login(sales)
    page = html_text(client.get(detail_url(order)))
    assert order.number in page
    assert "PO-4711" in page
    assert "Deliver to gate 3" in page
    assert "<dt>Material</dt><dd>steel</dd>" in page
    assert "<dt>Thickness</dt><dd>2.5 mm</dd>" in page
    assert "Revision 1" in page


def test_the_detail_shows_spec_labels_in_chinese_when_the_ui_is_chinese(client, sales):
    order = make_order(owner=sales)
    client.force_login(sales)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    assert "<dt>材质</dt>" in html_text(client.get(detail_url(order)))


def test_the_detail_page_runs_a_fixed_number_of_queries(client, sales):
    small = make_order(owner=sales, lines=1)
    big = make_order(owner=sales, lines=6)
    big = services.order_update(
        actor=sales, order=big, expected_version=big.version, data={"remarks": "x"}, reason="Edit 1"
    )
    big = transitions.order_confirm(actor=sales, order=big)
    client.force_login(sales)
    client.get(detail_url(small))  # warm the session
    with CaptureQueriesContext(connection) as few:
        client.get(detail_url(small))
    with CaptureQueriesContext(connection) as many:
        client.get(detail_url(big))
    assert len(many) == len(few)
    # The order page's own reads, plus a fixed few per registered panel (at-a-glance, tracking links).
    assert len(many) <= 18


def test_the_history_timeline_shows_who_did_what_and_why(client, sales, planner):
    order = make_order(owner=sales, confirmed=True)
    transitions.order_hold(actor=planner, order=order, reason="Waiting for the customer's drawing")
    client.force_login(sales)
    page = html_text(client.get(detail_url(order)))
    history = page[page.index('data-testid="order-history"') :]
    assert "pat" in history
    assert "Waiting for the customer&#x27;s drawing" in history
    assert "<del>Confirmed</del> → <ins>On hold</ins>" in history


def test_sales_get_confirm_edit_and_cancel_on_their_draft(client, sales):
    order = make_order(owner=sales)
    client.force_login(sales)
    page = client.get(detail_url(order)).content.decode()
    assert f'action="{action_url(order, "confirm")}"' in page
    assert f'action="{action_url(order, "cancel")}"' in page
    assert f'href="{edit_url(order)}"' in page
    assert f'action="{action_url(order, "release")}"' not in page


def test_customer_service_gets_no_action_buttons(client, service_agent, sales):
    order = make_order(owner=sales)
    client.force_login(service_agent)
    page = client.get(detail_url(order)).content.decode()
    assert order.number in page
    assert "/actions/" not in page
    assert f'href="{edit_url(order)}"' not in page


def test_a_planner_gets_release_on_a_confirmed_order(client, planner, sales):
    order = make_order(owner=sales, confirmed=True)
    client.force_login(planner)
    page = client.get(detail_url(order)).content.decode()
    assert f'action="{action_url(order, "release")}"' in page
    assert f'action="{action_url(order, "confirm")}"' not in page


def test_release_without_a_promised_date_is_offered_disabled_with_the_reason(client, planner, sales):
    order = make_order(owner=sales, confirmed=True, promised=False)
    client.force_login(planner)
    page = html_text(client.get(detail_url(order)))
    assert "Release to production: Set a promised date first." in page


def test_a_released_order_is_locked_and_points_to_change_requests(client, sales, planner):
    order = make_order(owner=sales, confirmed=True)
    transitions.order_release(actor=planner, order=order)
    client.force_login(sales)
    page = html_text(client.get(detail_url(order)))
    assert "Changes to a released order go through a change request." in page
    assert f'href="{edit_url(order)}"' not in page


# --- transitions -------------------------------------------------------------------------------------------
def test_the_confirm_button_confirms_the_order(client, sales):
    order = make_order(owner=sales)
    client.force_login(sales)
    response = client.post(action_url(order, "confirm"), {"version": order.version}, follow=True)
    order = reload(order)
    assert order.status == OrderStatus.CONFIRMED
    assert f"Confirm: done for order {order.number}." in response.content.decode()


def test_a_transition_on_a_stale_page_is_refused_with_a_message(client, sales):
    order = make_order(owner=sales)
    read_version = order.version
    services.order_update(actor=sales, order=order, expected_version=read_version, data={"remarks": "new"})
    client.force_login(sales)
    response = client.post(action_url(order, "confirm"), {"version": read_version}, follow=True)
    order = reload(order)
    assert order.status == OrderStatus.DRAFT
    assert "was changed by someone else" in response.content.decode()


def test_cancelling_without_a_reason_is_refused_with_a_message(client, sales):
    order = make_order(owner=sales)
    client.force_login(sales)
    response = client.post(action_url(order, "cancel"), {"version": order.version, "reason": ""}, follow=True)
    order = reload(order)
    assert order.status == OrderStatus.DRAFT
    assert "Give a reason." in response.content.decode()


def test_cancelling_with_a_reason_records_it(client, sales):
    order = make_order(owner=sales)
    client.force_login(sales)
    client.post(action_url(order, "cancel"), {"version": order.version, "reason": "Customer withdrew"})
    order = reload(order)
    assert order.status == OrderStatus.CANCELLED
    assert order.history.first().history_change_reason == "Customer withdrew"


def test_a_role_without_the_permission_gets_403_for_a_transition(client, service_agent, sales):
    order = make_order(owner=sales)
    client.force_login(service_agent)
    response = client.post(action_url(order, "confirm"), {"version": order.version})
    assert response.status_code == 403
    order = reload(order)
    assert order.status == OrderStatus.DRAFT


def test_a_transition_on_a_hidden_order_is_a_404(client, sales, other_sales):
    order = make_order(owner=other_sales)
    client.force_login(sales)
    assert client.post(action_url(order, "confirm"), {"version": order.version}).status_code == 404


def test_transitions_only_accept_post(client, sales):
    order = make_order(owner=sales)
    client.force_login(sales)
    assert client.get(action_url(order, "confirm")).status_code == 405


# --- create ------------------------------------------------------------------------------------------------
def test_the_new_order_page_offers_active_customers_and_products(client, sales, customer, product):
    inactive = CustomerFactory(is_active=False, name="Gone Ltd")
    client.force_login(sales)
    page = client.get(NEW_URL).content.decode()
    assert customer.name in page
    assert inactive.name not in page
    assert product.sku in page
    assert "Save and confirm" in page


def test_creating_an_order_with_spec_values_saves_it(client, sales, customer, product):
    client.force_login(sales)
    data = order_post(
        customer=customer,
        customer_po="PO-1",
        requested_date=in_days(20),
        lines=[{"product": product.pk, "quantity": "12.5", "spec": spec_form_values()}],
    )
    response = client.post(NEW_URL, data)
    order = SalesOrder.objects.get(customer_po="PO-1")
    assert response.status_code == 302
    assert response["Location"] == detail_url(order)
    assert order.owner == sales
    assert order.status == OrderStatus.DRAFT
    line = order.lines.get()
    assert line.quantity == Decimal("12.5")
    assert line.spec_values == {
        "material": "steel",
        "thickness_mm": 2.5,
        "finish": "powder",
        "colour": "RAL 9010",
    }


def test_an_invalid_spec_value_shows_an_error_on_that_input_and_saves_nothing(
    client, sales, customer, product
):
    client.force_login(sales)
    spec = {**spec_form_values(), "thickness_mm": "99"}
    response = client.post(
        NEW_URL,
        order_post(
            customer=customer,
            customer_po="PO-BAD",
            lines=[{"product": product.pk, "quantity": 3, "spec": spec}],
        ),
    )
    assert response.status_code == 400
    assert not SalesOrder.objects.exists()
    line_form = response.context["formset"].forms[0]
    assert line_form.errors["spec__thickness_mm"] == ["Must be at most 20."]
    page = response.content.decode()
    assert 'id="id_lines-0-spec__thickness_mm_error"' in page
    assert 'value="PO-BAD"' in page  # the user's input is kept
    assert 'value="99"' in page


def test_each_missing_required_spec_value_is_named_once_on_its_input(client, sales, customer, product):
    client.force_login(sales)
    spec = {
        key: value for key, value in spec_form_values().items() if key not in ("material", "thickness_mm")
    }
    response = client.post(
        NEW_URL, order_post(customer=customer, lines=[{"product": product.pk, "quantity": 3, "spec": spec}])
    )
    errors = response.context["formset"].forms[0].errors
    assert errors["spec__material"] == ["This field is required."]
    assert errors["spec__thickness_mm"] == ["This field is required."]


def test_errors_of_the_second_line_land_on_the_second_line(client, sales, customer, product):
    client.force_login(sales)
    lines = [
        {"product": product.pk, "quantity": 1, "spec": spec_form_values()},
        {"product": product.pk, "quantity": "-2", "spec": spec_form_values()},
    ]
    response = client.post(NEW_URL, order_post(customer=customer, lines=lines))
    forms = response.context["formset"].forms
    assert not forms[0].errors
    assert forms[1].errors["quantity"] == ["The quantity must be greater than zero."]


def test_an_overridden_priority_without_a_reason_is_an_error_on_the_reason_field(
    client, sales, customer, product
):
    client.force_login(sales)
    data = order_post(
        customer=customer,
        priority=Priority.URGENT,
        lines=[{"product": product.pk, "quantity": 1, "spec": spec_form_values()}],
    )
    response = client.post(NEW_URL, data)
    assert "priority_reason" in response.context["header"].errors
    assert not SalesOrder.objects.exists()


def test_save_and_confirm_creates_a_confirmed_order(client, sales, customer, product):
    client.force_login(sales)
    data = order_post(
        customer=customer, lines=[{"product": product.pk, "quantity": 4, "spec": spec_form_values()}]
    )
    data["confirm"] = "1"
    client.post(NEW_URL, data)
    assert SalesOrder.objects.get().status == OrderStatus.CONFIRMED


def test_save_and_confirm_saves_nothing_when_the_confirm_fails(client, sales, customer):
    client.force_login(sales)
    data = order_post(customer=customer, customer_po="PO-EMPTY", lines=[])
    data["confirm"] = "1"
    response = client.post(NEW_URL, data)
    assert response.status_code == 400
    assert "An order needs at least one line before it can be confirmed." in response.content.decode()
    assert not SalesOrder.objects.exists()


def test_the_spare_empty_line_is_ignored(client, sales, customer, product):
    client.force_login(sales)
    lines = [
        {"product": product.pk, "quantity": 2, "spec": spec_form_values()},
        {"product": "", "quantity": ""},
    ]
    client.post(NEW_URL, order_post(customer=customer, lines=lines))
    assert SalesOrder.objects.get().lines.count() == 1


def test_adding_a_line_without_javascript_re_renders_with_one_more_row_and_saves_nothing(
    client, sales, customer, product
):
    client.force_login(sales)
    data = order_post(
        customer=customer, lines=[{"product": product.pk, "quantity": 2, "spec": spec_form_values()}]
    )
    data["add_line"] = "1"
    response = client.post(NEW_URL, data)
    assert response.status_code == 200
    assert len(response.context["formset"].forms) == 2
    assert not SalesOrder.objects.exists()


def test_choosing_a_product_renders_its_familys_spec_inputs(client, sales, product):
    client.force_login(sales)
    response = client.get(
        reverse("orders:line_spec_fields"), {"prefix": "lines-2", "lines-2-product": product.pk}
    )
    page = html_text(response)
    assert '<select name="lines-2-spec__material"' in page
    assert '<option value="aluminium">aluminium</option>' in page
    assert re.search(
        r'<input type="number" name="lines-2-spec__thickness_mm"[^>]*min="0.5"[^>]*max="20"', page
    )
    assert '<span class="input-group-text">mm</span>' in page
    assert 'name="lines-2-spec__colour"' in page


def test_a_line_without_a_product_yet_says_nothing_about_spec_attributes(client, sales):
    client.force_login(sales)
    response = client.get(NEW_URL)
    assert "no spec attributes" not in html_text(response)


def test_a_product_whose_family_has_no_spec_attributes_says_so(client, sales):
    plain = ProductFactory(family=ProductFamilyFactory(spec_schema={}))
    client.force_login(sales)
    response = client.get(
        reverse("orders:line_spec_fields"), {"prefix": "lines-0", "lines-0-product": plain.pk}
    )
    assert "This product family has no spec attributes." in html_text(response)


def test_the_spec_inputs_endpoint_refuses_a_made_up_prefix(client, sales, product):
    client.force_login(sales)
    response = client.get(reverse("orders:line_spec_fields"), {"prefix": '"><script>', "product": product.pk})
    assert response.status_code == 404


def test_add_line_returns_the_next_row_and_bumps_the_form_count(client, sales, product):
    client.force_login(sales)
    page = client.get(reverse("orders:line_row"), {"lines-TOTAL_FORMS": "2"}).content.decode()
    assert 'name="lines-2-product"' in page
    assert re.search(r'name="lines-TOTAL_FORMS" value="3"[^>]*hx-swap-oob="true"', page)


# --- edit --------------------------------------------------------------------------------------------------
def edit_post(order: SalesOrder, *, version=None, **header) -> dict:
    lines = [
        {
            "id": line.pk,
            "product": line.product_id,
            "quantity": line.quantity,
            "due_date": line.due_date or "",
            "spec": {key: str(value) for key, value in line.spec_values.items()},
        }
        for line in order.lines.all()
    ]
    fields = {
        "customer_po": order.customer_po,
        "crm_id": order.crm_id,
        "requested_date": order.requested_date or "",
        "promised_date": order.promised_date or "",
        "remarks": order.remarks,
        "version": order.version if version is None else version,
    }
    fields.update(header)
    return order_post(lines=lines, initial_forms=len(lines), **fields)


def test_the_edit_page_carries_the_version_read(client, sales):
    order = make_order(owner=sales)
    client.force_login(sales)
    page = client.get(edit_url(order)).content.decode()
    assert f'name="version" value="{order.version}"' in page


def test_editing_an_order_saves_the_change_with_its_reason(client, sales):
    order = make_order(owner=sales)
    client.force_login(sales)
    response = client.post(edit_url(order), edit_post(order, remarks="Crate by 10", reason="Customer call"))
    assert response.status_code == 302
    order = reload(order)
    assert order.remarks == "Crate by 10"
    assert order.history.first().history_change_reason == "Customer call"


def test_a_stale_edit_shows_the_conflict_and_keeps_the_input(client, sales):
    order = make_order(owner=sales)
    read_version = order.version
    services.order_update(actor=sales, order=order, expected_version=read_version, data={"remarks": "theirs"})
    client.force_login(sales)
    response = client.post(edit_url(order), edit_post(order, version=read_version, remarks="mine"))
    assert response.status_code == 409
    page = html_text(response)
    assert "Someone else changed this order while you were editing it." in page
    assert "Reload the order" in page
    assert re.search(r'name="remarks"[^>]*>\s*mine</textarea>', page)
    order = reload(order)
    assert order.remarks == "theirs"


def test_removing_a_line_in_the_edit_form_deletes_it(client, sales):
    order = make_order(owner=sales, lines=2)
    client.force_login(sales)
    data = edit_post(order)
    data["lines-1-remove"] = "on"
    client.post(edit_url(order), data)
    assert order.lines.count() == 1


def test_editing_a_released_order_sends_the_user_back_with_the_change_request_hint(client, sales, planner):
    order = make_order(owner=sales, confirmed=True)
    transitions.order_release(actor=planner, order=order)
    client.force_login(sales)
    response = client.get(edit_url(order), follow=True)
    assert response.redirect_chain[-1][0] == detail_url(order)
    assert "go through a change request" in response.content.decode()


def test_customer_service_cannot_edit(client, service_agent, sales):
    order = make_order(owner=sales)
    client.force_login(service_agent)
    assert client.get(edit_url(order)).status_code == 403
    assert client.post(edit_url(order), edit_post(order, remarks="x")).status_code == 403


def test_order_page_renders_panels_registered_by_other_apps(
    client, sales, customer, product, tmp_path, settings
):
    from orders import panels

    template_dir = tmp_path / "templates"
    (template_dir / "panels").mkdir(parents=True)
    (template_dir / "panels" / "probe.html").write_text(
        "<p>probe says {{ panel.word }} for {{ order.number }}</p>"
    )
    settings.TEMPLATES = [{**settings.TEMPLATES[0], "DIRS": [*settings.TEMPLATES[0]["DIRS"], template_dir]}]
    order = make_order(owner=sales, customer=customer, product=product)
    probe = panels.OrderPanel(
        key="probe", template="panels/probe.html", context=lambda o, u: {"word": "hello"}
    )
    hidden = panels.OrderPanel(
        key="hidden", template="panels/probe.html", context=lambda o, u: None, column="side"
    )
    panels.register(probe)
    panels.register(hidden)
    try:
        client.force_login(sales)
        html = client.get(detail_url(order)).content.decode()
    finally:
        panels._panels.pop("probe")
        panels._panels.pop("hidden")
    assert f"probe says hello for {order.number}" in html
    assert 'data-testid="panel-hidden"' not in html
