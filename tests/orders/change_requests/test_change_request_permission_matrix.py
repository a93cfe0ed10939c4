"""Who may do what to change requests through the API: every role against every action, from one table.

The target order is released and owned by `sales` ("sally"); its CR is requested by sally (for `apply`,
approved first by the admin). `seen` / `hidden`: the list answers 200 and does / does not include the CR.
A refused request changes nothing; an allowed write changes something.
"""

import pytest
from rest_framework.test import APIClient

from orders import change_requests as crs
from orders.models import ChangeRequest, ChangeRequestDecision
from orders.sales import transitions
from tests.factories import make_order

pytestmark = pytest.mark.django_db

MATRIX = """
action       sales_own  sales_other  planner  manager  service  admin  outsider  anonymous
list         seen       hidden       seen     seen     seen     seen   hidden    401
retrieve     200        404          200      200      200      200    404       401
create       201        400          201      201      403      201    403       401
approve      403        404          200      200      403      200    404       401
reject       403        404          200      200      403      200    404       401
withdraw     200        404          403      403      403      403    404       401
apply        403        404          200      200      403      200    404       401
"""
PERSONAS = {
    "sales_own": "sales",
    "sales_other": "other_sales",
    "planner": "planner",
    "manager": "manager",
    "service": "service_agent",
    "admin": "admin_user",
    "outsider": "outsider",
    "anonymous": None,
}


def parse(table: str) -> list[tuple[str, str, str]]:
    header, *rows = (line.split() for line in table.strip().splitlines())
    return [
        (row[0], persona, outcome)
        for row in rows
        for persona, outcome in zip(header[1:], row[1:], strict=True)
    ]


CASES = parse(MATRIX)


def world() -> tuple:
    return ChangeRequest.objects.count(), ChangeRequestDecision.objects.count()


@pytest.mark.parametrize(("action", "persona", "expected"), CASES, ids=[f"{a}-{p}" for a, p, _ in CASES])
def test_change_request_permission_matrix(request, action, persona, expected, sales, admin_user):
    order = make_order(owner=sales, confirmed=True)
    order = transitions.order_release(actor=admin_user, order=order)
    change = [{"op": "set_quantity", "line_no": 1, "quantity": "12"}]
    cr = crs.change_request_create(
        actor=sales, order=order, base_revision=1, reason="Customer called", changes=change, submit=True
    )
    if action == "apply":
        crs.change_request_approve(actor=admin_user, change_request=cr)
    client = APIClient()
    if PERSONAS[persona]:
        client.force_authenticate(request.getfixturevalue(PERSONAS[persona]))
    before = world()

    if action == "list":
        response = client.get("/api/v1/change-requests/")
    elif action == "retrieve":
        response = client.get(f"/api/v1/change-requests/{cr.number}/")
    elif action == "create":
        body = {"order": order.number, "base_revision": 1, "reason": "Again", "changes": change}
        response = client.post("/api/v1/change-requests/", body, format="json")
    else:
        response = client.post(
            f"/api/v1/change-requests/{cr.number}/{action}/", {"comment": "Matrix"}, format="json"
        )

    if expected in ("seen", "hidden"):
        assert response.status_code == 200
        listed = [row["number"] for row in response.json()["results"]]
        assert (cr.number in listed) == (expected == "seen")
    else:
        assert response.status_code == int(expected), response.content
    wrote = action not in ("list", "retrieve") and response.status_code < 300
    assert (world() != before) == wrote
