"""The change-request pages: order panel and lock link, the form, the inbox, the CR page and its buttons."""

import pytest

from orders.models import ChangeRequest
from tests.factories import make_order
from tests.orders.change_requests.cr_helpers import fresh, make_line, released_order, report, submitted

pytestmark = pytest.mark.django_db

MORE = [{"op": "set_quantity", "line_no": 1, "quantity": "12"}]


@pytest.fixture
def order(sales, planner):
    return released_order(sales, planner, make_line(planner))


def logged_in(client, user):
    client.force_login(user)
    return client


def test_a_locked_order_offers_request_a_change_in_its_lock_message_and_panel(client, sales, order):
    page = logged_in(client, sales).get(f"/orders/{order.number}/").content.decode()
    assert 'data-testid="lock-request-change"' in page and 'data-testid="request-change"' in page
    assert f"/change-requests/new/{order.number}/" in page


def test_a_draft_order_has_no_request_a_change_button(client, sales):
    draft = make_order(owner=sales)
    page = logged_in(client, sales).get(f"/orders/{draft.number}/").content.decode()
    assert "request-change" not in page


def test_the_form_creates_and_submits_a_change_request(client, sales, order):
    response = logged_in(client, sales).post(
        f"/change-requests/new/{order.number}/",
        {
            "base_revision": 1,
            "reason": "Customer called",
            "changes-TOTAL": 1,
            "changes-0-op": "set_quantity",
            "changes-0-line_no": 1,
            "changes-0-quantity": "12",
            "submit": "1",
        },
    )
    cr = ChangeRequest.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/change-requests/{cr.number}/"
    assert cr.status == "submitted" and cr.origin == "ui"


def test_the_form_shows_the_services_error_on_the_field(client, sales, order):
    response = logged_in(client, sales).post(
        f"/change-requests/new/{order.number}/",
        {
            "base_revision": 1,
            "reason": "Customer called",
            "changes-TOTAL": 1,
            "changes-0-op": "set_spec",
            "changes-0-line_no": 1,
            "changes-0-spec__material": "steel",
            "changes-0-spec__thickness_mm": "99",
            "submit": "1",
        },
    )
    assert response.status_code == 400
    assert "changes-0-spec__thickness_mm" in response.content.decode()
    assert response.context["rows"][0].errors.get("spec__thickness_mm")
    assert not ChangeRequest.objects.exists()


def test_choosing_an_op_renders_its_inputs(client, sales, order):
    response = logged_in(client, sales).get(
        f"/change-requests/new/{order.number}/row/",
        {"prefix": "changes-0", "changes-0-op": "set_spec", "changes-0-line_no": "1"},
        headers={"HX-Request": "true"},
    )
    html = response.content.decode()
    assert response.status_code == 200 and 'name="changes-0-spec__material"' in html


def test_the_inbox_lists_pending_requests_oldest_first_with_the_customer_tier(client, sales, planner, order):
    first = submitted(sales, order, MORE)
    second = submitted(sales, order, [{"op": "set_quantity", "line_no": 1, "quantity": "14"}])
    response = logged_in(client, planner).get("/change-requests/")
    assert [cr.number for cr, _ in response.context["rows"]] == [first.number, second.number]
    assert order.customer.get_tier_display() in response.content.decode()


def test_the_cr_page_shows_the_impact_and_lets_a_manager_approve_with_a_disposition(
    client, sales, planner, manager, order
):
    report(planner, order.work_orders.get(), good=8)
    cr = submitted(sales, order, [{"op": "set_quantity", "line_no": 1, "quantity": "5"}])
    page = logged_in(client, planner).get(f"/change-requests/{cr.number}/").content.decode()
    assert 'data-testid="cr-impact"' in page and 'name="disposition"' in page
    response = client.post(
        f"/change-requests/{cr.number}/approve/", {"disposition": "scrap", "comment": "ok"}
    )
    assert response.status_code == 302
    assert (fresh(cr).planner_approved_by, fresh(cr).disposition) == (planner, "scrap")


def test_rejecting_without_a_comment_shows_a_message_and_changes_nothing(client, sales, planner, order):
    cr = submitted(sales, order, MORE)
    response = logged_in(client, planner).post(
        f"/change-requests/{cr.number}/reject/", {"comment": ""}, follow=True
    )
    assert fresh(cr).status == "submitted"
    assert "Say why the change is rejected." in response.content.decode()


def test_sales_posting_an_approval_gets_403(client, sales, planner, order):
    cr = submitted(planner, order, MORE)
    assert logged_in(client, sales).post(f"/change-requests/{cr.number}/approve/").status_code == 403


def test_an_outsider_sees_neither_inbox_nor_request(client, outsider, sales, order):
    cr = submitted(sales, order, MORE)
    logged_in(client, outsider)
    assert client.get("/change-requests/").status_code == 403
    assert client.get(f"/change-requests/{cr.number}/").status_code == 404
    assert client.get(f"/change-requests/new/{order.number}/").status_code == 403


def test_the_nav_shows_change_requests_to_approvers(client, planner):
    page = logged_in(client, planner).get("/orders/").content.decode()
    assert 'data-testid="nav-change-requests"' in page


def test_the_form_opens_with_one_change_row_and_grows_without_javascript(client, sales, order):
    logged_in(client, sales)
    page = client.get(f"/change-requests/new/{order.number}/")
    assert page.status_code == 200 and len(page.context["rows"]) == 1
    grown = client.post(
        f"/change-requests/new/{order.number}/",
        {"base_revision": 1, "reason": "", "changes-TOTAL": 1, "changes-0-op": "hold", "add_row": "1"},
    )
    assert grown.status_code == 200 and len(grown.context["rows"]) == 2
    assert not ChangeRequest.objects.exists()


def test_the_form_of_a_draft_order_sends_the_owner_back_to_edit_it(client, sales):
    draft = make_order(owner=sales)
    response = logged_in(client, sales).get(f"/change-requests/new/{draft.number}/")
    assert response.status_code == 302 and response["Location"] == f"/orders/{draft.number}/"


def test_the_requester_withdraws_from_the_cr_page(client, sales, order):
    cr = submitted(sales, order, MORE)
    page = logged_in(client, sales).get(f"/change-requests/{cr.number}/").content.decode()
    assert 'data-testid="cr-action-withdraw"' in page and 'data-testid="cr-action-approve"' not in page
    client.post(f"/change-requests/{cr.number}/withdraw/", {"comment": "Sorted by phone"})
    assert fresh(cr).status == "withdrawn"


def test_the_form_shows_the_lines_current_quantity_beside_the_new_one(client, sales, order):
    response = logged_in(client, sales).get(
        f"/change-requests/new/{order.number}/row/",
        {"prefix": "changes-0", "changes-0-op": "set_quantity", "changes-0-line_no": "1"},
        headers={"HX-Request": "true"},
    )

    now = response.content.decode().split('data-testid="change-row-now"')[1]
    assert f"<strong>{order.lines.get().quantity.normalize():f}</strong>" in now


def test_the_form_warns_of_another_open_change_request_on_the_order(client, sales, order):
    other = submitted(sales, order, MORE)

    page = logged_in(client, sales).get(f"/change-requests/new/{order.number}/").content.decode()

    warning = page.split('data-testid="other-open-change-requests"')[1]
    assert other.number in warning


def test_the_approver_sees_the_other_open_request_that_applying_this_one_supersedes(
    client, sales, planner, order
):
    first = submitted(sales, order, MORE)
    second = submitted(sales, order, [{"op": "set_quantity", "line_no": 1, "quantity": "14"}])

    page = logged_in(client, planner).get(f"/change-requests/{second.number}/").content.decode()

    assert first.number in page.split('data-testid="other-open-change-requests"')[1]


def test_a_change_request_alone_on_its_order_shows_no_warning(client, sales, order):
    cr = submitted(sales, order, MORE)

    page = logged_in(client, sales).get(f"/change-requests/{cr.number}/").content.decode()

    assert "other-open-change-requests" not in page
