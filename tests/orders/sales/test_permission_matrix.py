"""Who may do what through the API: every role against every action, read from one table.

The expectations come from the role definitions (orders/migrations/0002_role_groups.py) and the rules
in orders/sales/policies.py. The target order is always owned by `sales` ("sally"); `sales_other` is
another sales person. `seen` / `hidden`: the order list answers 200 and does / does not include the order.
A refused request must change nothing; an allowed write must change something.

The target orders have no work made through the plant: starting production and completing them are
overrides (`"override": true` with a reason), a production manager's (orders.sales.overrides).
"""

from dataclasses import dataclass, field
from typing import Any

import pytest
from django.db.models import Sum
from rest_framework.test import APIClient

from orders.models import Customer, SalesOrder
from orders.sales import transitions
from tests.factories import make_order, valid_spec

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # Every persona gets a password; the real hasher is deliberately slow and would dominate these tests.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


MATRIX = """
action            sales_own  sales_other  planner  manager  service  admin  outsider  anonymous
list_orders       seen       hidden       seen     seen     seen     seen   hidden    401
retrieve          200        404          200      200      200      200    404       401
create_order      201        201          403      403      403      201    403       401
edit_draft        200        404          403      403      403      200    404       401
confirm           200        404          403      403      403      200    404       401
release           403        404          200      200      403      200    404       401
start_production  403        404          403      200      403      200    404       401
complete          403        404          403      200      403      200    404       401
ship              403        404          403      200      403      200    404       401
close             200        404          403      403      403      200    404       401
hold              200        404          200      200      403      200    404       401
resume            200        404          200      200      403      200    404       401
hold_released     403        404          200      200      403      200    404       401
resume_released   403        404          200      200      403      200    404       401
cancel_draft      200        404          403      200      403      200    404       401
cancel_released   403        404          403      200      403      200    404       401
view_customers    200        200          200      200      200      200    403       401
create_customer   403        403          403      403      403      201    403       401
"""

# Matrix column → the conftest fixture of that persona (None: no credentials at all).
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

# The transitions that bring a new draft into each starting state.
ROUTE = {
    "draft": [],
    "confirmed": ["confirm"],
    "released": ["confirm", "release"],
    "in_production": ["confirm", "release", "start_production"],
    "completed": ["confirm", "release", "start_production", "complete"],
    "shipped": ["confirm", "release", "start_production", "complete", "ship"],
    "on_hold": ["confirm", "hold"],
    "on_hold_released": ["confirm", "release", "hold"],
}


@dataclass(frozen=True)
class Action:
    method: str
    path: str  # "{number}" is the target order's number
    state: str = "draft"  # status the target order is brought to first
    body: dict[str, Any] = field(default_factory=dict)


def transition(segment: str, state: str, **body: Any) -> Action:
    return Action("post", f"/api/v1/orders/{{number}}/{segment}/", state, {"reason": "Matrix", **body})


ACTIONS = {
    "list_orders": Action("get", "/api/v1/orders/"),
    "retrieve": Action("get", "/api/v1/orders/{number}/"),
    "create_order": Action("post", "/api/v1/orders/"),
    "edit_draft": Action("patch", "/api/v1/orders/{number}/", body={"version": 1, "remarks": "Edited"}),
    "confirm": transition("confirm", "draft"),
    "release": transition("release", "confirmed"),
    "start_production": transition("start-production", "released", override=True),
    "complete": transition("complete", "in_production", override=True),
    "ship": transition("ship", "completed"),
    "close": transition("close", "shipped"),
    "hold": transition("hold", "confirmed"),
    "resume": transition("resume", "on_hold"),
    "hold_released": transition("hold", "released"),
    "resume_released": transition("resume", "on_hold_released"),
    "cancel_draft": transition("cancel", "draft"),
    "cancel_released": transition("cancel", "released"),
    "view_customers": Action("get", "/api/v1/customers/"),
    "create_customer": Action("post", "/api/v1/customers/", body={"code": "NEW", "name": "New Works"}),
}


def parse(table: str) -> list[tuple[str, str, str]]:
    header, *rows = (line.split() for line in table.strip().splitlines())
    personas = header[1:]
    assert set(personas) == set(PERSONAS)
    return [
        (row[0], persona, outcome) for row in rows for persona, outcome in zip(personas, row[1:], strict=True)
    ]


CASES = parse(MATRIX)
OVERRIDDEN = ("start_production", "complete")


def test_the_matrix_covers_every_action():
    assert {action for action, _, _ in CASES} == set(ACTIONS)


def world() -> tuple:
    """Everything an action could write: orders, their versions, customers."""
    return (
        SalesOrder.objects.count(),
        SalesOrder.objects.aggregate(total=Sum("version"))["total"],
        Customer.objects.count(),
    )


@pytest.mark.parametrize(("action", "persona", "expected"), CASES, ids=[f"{a}-{p}" for a, p, _ in CASES])
def test_permission_matrix(request, action, persona, expected, sales, admin_user, customer, product):
    spec = ACTIONS[action]
    order = make_order(owner=sales, customer=customer, product=product)
    for name in ROUTE[spec.state]:
        order = transitions.order_transition(
            actor=admin_user, order=order, name=name, reason="Setup", override=name in OVERRIDDEN
        )
    body = spec.body
    if action == "create_order":
        body = {
            "customer": customer.code,
            "lines": [{"product": product.sku, "quantity": "3", "spec_values": valid_spec()}],
        }
    client = APIClient()
    if PERSONAS[persona]:
        client.force_authenticate(request.getfixturevalue(PERSONAS[persona]))
    before = world()

    response = getattr(client, spec.method)(spec.path.format(number=order.number), body, format="json")

    if expected in ("seen", "hidden"):
        assert response.status_code == 200
        listed = [row["number"] for row in response.json()["results"]]
        assert (order.number in listed) == (expected == "seen")
    else:
        assert response.status_code == int(expected), response.content
    wrote = spec.method != "get" and response.status_code < 300
    assert (world() != before) == wrote
