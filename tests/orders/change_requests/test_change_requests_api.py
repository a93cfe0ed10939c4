"""The change-request API: create, list with filters, read, and the POST actions, in the one error format."""

import pytest
from rest_framework.test import APIClient

from orders.models import ChangeRequest
from tests.orders.change_requests.cr_helpers import fresh, make_line, released_order, submitted

pytestmark = pytest.mark.django_db

URL = "/api/v1/change-requests/"
MORE = [{"op": "set_quantity", "line_no": 1, "quantity": "12"}]


def client_for(user):
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


@pytest.fixture
def order(sales, planner):
    return released_order(sales, planner, make_line(planner))


def body(order, **overrides):
    return {
        "order": order.number,
        "base_revision": order.revision,
        "reason": "Customer called",
        "changes": MORE,
        **overrides,
    }


def test_sales_creates_and_submits_a_change_request(sales, order):
    response = client_for(sales).post(URL, body(order, submit=True), format="json")
    assert response.status_code == 201, response.json()
    data = response.json()
    assert (data["order"], data["status"], data["origin"], data["requested_by"]) == (
        order.number,
        "submitted",
        "api",
        "sally",
    )
    assert data["impact"]["lines"][0]["action"] == "grow"
    assert response["Location"].endswith(f"{URL}{data['number']}/")


@pytest.mark.parametrize("claimed", ["crm", "ui"])
def test_the_origin_of_a_change_request_is_the_servers_not_the_clients(sales, order, claimed):
    response = client_for(sales).post(URL, body(order, origin=claimed, submit=True), format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["origin"] == "api"
    assert ChangeRequest.objects.get().origin == "api"


def test_a_bad_quantity_names_the_change_and_stores_nothing(sales, order):
    bad = [{"op": "set_quantity", "line_no": 1, "quantity": "0"}]
    response = client_for(sales).post(URL, body(order, changes=bad), format="json")
    assert response.status_code == 400
    assert "changes[0].quantity" in response.json()["error"]["fields"]
    assert not ChangeRequest.objects.exists()


def test_an_unknown_order_is_a_400_naming_the_order(sales):
    response = client_for(sales).post(
        URL, {"order": "SO-404", "base_revision": 1, "reason": "r", "changes": MORE}, format="json"
    )
    assert response.status_code == 400 and "order" in response.json()["error"]["fields"]


def test_a_missing_reason_is_a_400(sales, order):
    response = client_for(sales).post(URL, body(order, reason=""), format="json")
    assert response.status_code == 400 and "reason" in response.json()["error"]["fields"]


def test_a_role_that_may_not_request_gets_403(service_agent, order):
    response = client_for(service_agent).post(URL, body(order), format="json")
    assert response.status_code == 403
    assert not ChangeRequest.objects.exists()


def test_a_stale_revision_is_a_409(sales, order):
    response = client_for(sales).post(URL, body(order, base_revision=7), format="json")
    assert response.status_code == 409 and response.json()["error"]["code"] == "stale"


def test_anonymous_gets_401(order):
    assert client_for(None).get(URL).status_code == 401


def test_the_list_filters_by_status_and_order_and_hides_other_peoples_orders(
    sales, other_sales, planner, order
):
    cr = submitted(sales, order, MORE)
    other_order = released_order(other_sales, planner, make_line(planner, code="WELD"))
    submitted(other_sales, other_order, MORE)
    mine = client_for(sales).get(URL).json()["results"]
    assert [row["number"] for row in mine] == [cr.number]
    plant = client_for(planner).get(URL, {"status": "submitted", "order": order.number}).json()["results"]
    assert [row["number"] for row in plant] == [cr.number]
    assert client_for(planner).get(URL, {"status": "applied"}).json()["results"] == []


def test_a_change_request_on_someone_elses_order_is_a_404(sales, other_sales, order):
    cr = submitted(sales, order, MORE)
    assert client_for(other_sales).get(f"{URL}{cr.number}/").status_code == 404
    assert client_for(other_sales).post(f"{URL}{cr.number}/withdraw/").status_code == 404


def test_approve_then_apply_through_the_api(sales, planner, order):
    cr = submitted(sales, order, MORE)
    api = client_for(planner)
    response = api.post(f"{URL}{cr.number}/approve/", {"comment": "fine"}, format="json")
    assert response.status_code == 200 and response.json()["status"] == "approved"
    response = api.post(f"{URL}{cr.number}/apply/", format="json")
    assert response.status_code == 200 and response.json()["applied_revision"] == 2
    assert [d["action"] for d in response.json()["decisions"]] == [
        "created",
        "submitted",
        "approved",
        "applied",
    ]
    assert fresh(order).revision == 2


def test_approving_ones_own_request_is_a_403(planner, order):
    cr = submitted(planner, order, MORE)
    response = client_for(planner).post(f"{URL}{cr.number}/approve/", format="json")
    assert response.status_code == 403 and response.json()["error"]["code"] == "own_change_request"


def test_sales_cannot_approve_403(sales, planner, order):
    cr = submitted(planner, order, MORE)
    assert client_for(sales).post(f"{URL}{cr.number}/approve/", format="json").status_code == 403
    assert fresh(cr).status == "submitted"


def test_reject_without_comment_is_a_400_with_the_field(sales, planner, order):
    cr = submitted(sales, order, MORE)
    response = client_for(planner).post(f"{URL}{cr.number}/reject/", {"comment": ""}, format="json")
    assert response.status_code == 400 and "comment" in response.json()["error"]["fields"]


def test_a_decided_request_cannot_be_decided_again_409(sales, planner, manager, order):
    cr = submitted(sales, order, MORE)
    client_for(planner).post(f"{URL}{cr.number}/reject/", {"comment": "no"}, format="json")
    response = client_for(manager).post(f"{URL}{cr.number}/approve/", format="json")
    assert response.status_code == 409 and response.json()["error"]["code"] == "transition_not_allowed"


def test_rebase_returns_the_new_draft_201(sales, planner, order):
    cr = submitted(sales, order, MORE)
    client_for(sales).post(f"{URL}{cr.number}/withdraw/", format="json")
    response = client_for(sales).post(f"{URL}{cr.number}/rebase/", format="json")
    assert response.status_code == 201
    assert (response.json()["status"], response.json()["rebased_from"]) == ("draft", cr.number)


def test_a_direct_api_edit_of_a_released_order_points_to_a_change_request(sales, order):
    response = client_for(sales).patch(
        f"/api/v1/orders/{order.number}/", {"version": order.version, "remarks": "x"}, format="json"
    )
    assert response.status_code == 409
    assert (
        response.json()["error"]["code"] == "order_locked"
        and "change request" in response.json()["error"]["message"]
    )


def test_the_locked_order_error_links_to_the_change_request_api_and_form(sales, order):
    response = client_for(sales).patch(
        f"/api/v1/orders/{order.number}/", {"version": order.version, "remarks": "x"}, format="json"
    )
    links = response.json()["error"]["links"]
    assert links == {
        "change_request_api": "/api/v1/change-requests/",
        "change_request_form": f"/change-requests/new/{order.number}/",
    }
    assert client_for(sales).get(links["change_request_api"]).status_code == 200


def test_errors_with_nowhere_else_to_go_keep_the_three_keys(sales, order):
    response = client_for(sales).post(f"/api/v1/orders/{order.number}/confirm/", {}, format="json")
    assert response.status_code == 409 and set(response.json()["error"]) == {"code", "message", "fields"}
