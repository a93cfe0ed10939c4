"""The requester edits a draft change request before submitting it (change_requests.change_request_update)."""

import pytest
from rest_framework.test import APIClient

from config.kernel.errors import Forbidden, StaleObject, TransitionNotAllowed, ValidationFailed
from orders import change_requests as crs
from tests.orders.change_requests.cr_helpers import fresh, make_line, released_order, submitted

pytestmark = pytest.mark.django_db

MORE = [{"op": "set_quantity", "line_no": 1, "quantity": "12"}]
LATER = [{"op": "set_line_due_date", "line_no": 1, "value": "2099-01-31"}]


@pytest.fixture
def order(sales, planner):
    return released_order(sales, planner, make_line(planner))


@pytest.fixture
def draft(sales, order):
    return crs.change_request_create(
        actor=sales, order=order, base_revision=order.revision, reason="Customer called", changes=MORE
    )


def edit(actor, cr, **overrides):
    proposal = {"base_revision": cr.base_revision, "reason": "Customer called again", "changes": LATER}
    return crs.change_request_update(actor=actor, change_request=cr, **{**proposal, **overrides})


def test_the_requester_edits_a_draft_and_history_says_who_and_why(sales, draft):
    edited = edit(sales, draft)
    assert (edited.status, edited.reason, edited.changes[0]["op"]) == (
        "draft",
        "Customer called again",
        "set_line_due_date",
    )
    last = fresh(draft).history.first()
    assert last.history_user == sales and "Customer called again" in last.history_change_reason


def test_an_edit_can_submit_the_draft_at_once(sales, draft):
    edited = edit(sales, draft, changes=MORE, submit=True)
    assert edited.status == "submitted" and edited.impact.get("diff")


def test_an_edit_is_checked_like_a_new_request_and_changes_nothing_when_bad(sales, draft):
    with pytest.raises(ValidationFailed) as refused:
        edit(sales, draft, reason=" ", changes=[{"op": "set_quantity", "line_no": 1, "quantity": "-1"}])
    assert set(refused.value.fields) == {"reason", "changes[0].quantity"}
    assert (fresh(draft).reason, fresh(draft).changes) == ("Customer called", MORE)


def test_only_the_requester_edits_a_draft(draft, other_sales, planner):
    for someone in (other_sales, planner):
        with pytest.raises(Forbidden):
            edit(someone, draft)
    assert fresh(draft).changes == MORE


def test_a_submitted_request_is_no_longer_edited(sales, order):
    cr = submitted(sales, order, MORE)
    with pytest.raises(TransitionNotAllowed):
        edit(sales, cr)
    assert fresh(cr).changes == MORE


def test_an_edit_on_another_revision_is_refused_as_stale(sales, draft):
    with pytest.raises(StaleObject):
        edit(sales, draft, base_revision=draft.base_revision + 1)
    assert fresh(draft).reason == "Customer called"


# --- pages --------------------------------------------------------------------------------------------
def test_the_draft_page_offers_its_requester_the_edit_form_filled_in(client, sales, other_sales, draft):
    client.force_login(sales)
    page = client.get(f"/change-requests/{draft.number}/").content.decode()
    assert 'data-testid="cr-edit"' in page
    form = client.get(f"/change-requests/{draft.number}/edit/")
    assert form.status_code == 200
    (row,) = form.context["rows"]
    assert (row["op"].value(), str(row["quantity"].value())) == ("set_quantity", "12")
    assert form.context["header"]["reason"].value() == "Customer called"
    client.force_login(other_sales)
    assert 'data-testid="cr-edit"' not in client.get(f"/change-requests/{draft.number}/").content.decode()


def test_posting_the_edit_form_saves_the_draft(client, sales, draft):
    client.force_login(sales)
    response = client.post(
        f"/change-requests/{draft.number}/edit/",
        {
            "base_revision": draft.base_revision,
            "reason": "Bigger order",
            "changes-TOTAL": 1,
            "changes-0-op": "set_quantity",
            "changes-0-line_no": 1,
            "changes-0-quantity": "15",
            "draft": "1",
        },
    )
    assert response.status_code == 302
    assert (fresh(draft).reason, fresh(draft).changes[0]["quantity"]) == ("Bigger order", "15")


def test_a_bad_edit_form_shows_the_errors_and_keeps_the_draft(client, sales, draft):
    client.force_login(sales)
    response = client.post(
        f"/change-requests/{draft.number}/edit/",
        {"base_revision": draft.base_revision, "reason": "", "changes-TOTAL": 1, "changes-0-op": ""},
    )
    assert response.status_code == 400 and fresh(draft).reason == "Customer called"


# --- API ----------------------------------------------------------------------------------------------
def api(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_the_api_patches_a_draft_keeping_what_is_left_out(sales, draft):
    response = api(sales).patch(
        f"/api/v1/change-requests/{draft.number}/", {"reason": "Customer called again"}, format="json"
    )
    assert response.status_code == 200, response.json()
    assert (response.json()["reason"], fresh(draft).changes) == ("Customer called again", MORE)


def test_the_api_puts_a_whole_draft_and_refuses_another_user(sales, other_sales, planner, draft):
    proposal = {"base_revision": draft.base_revision, "reason": "Later", "changes": LATER}
    url = f"/api/v1/change-requests/{draft.number}/"
    refused = api(planner).put(url, proposal, format="json")  # sees the order, is not the requester
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "forbidden"
    assert api(other_sales).put(url, proposal, format="json").status_code == 404  # cannot see it
    response = api(sales).put(f"/api/v1/change-requests/{draft.number}/", proposal, format="json")
    assert response.status_code == 200 and fresh(draft).changes[0]["op"] == "set_line_due_date"
