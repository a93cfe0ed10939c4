"""The API answers as its OpenAPI schema says: schemathesis fuzzes every operation of /api/schema/ as each
role (sales, planner, admin), in process against the WSGI app, and fails on any server error (5xx) and on
any answer the schema does not document (status code, content type, headers, body shape).

The data is the demo plant (`setup_demo`: a few dozen orders in every status with work orders, a plan,
change requests, lots and inspections), loaded once for this module inside a transaction rolled back at the
end; each role's test runs in its own savepoint, so what the fuzzer writes stays in that test. Path
parameters are mostly real objects of the demo (so detail and action operations reach their logic), else
generated (so unknown and malformed ones are tried too).

Bounded and repeatable: a fixed seed from which each operation's inputs derive, a few examples per
operation. Deeper runs: CONTRACT_FUZZ_EXAMPLES=30 CONTRACT_FUZZ_PHASES=coverage,fuzzing (the coverage phase
adds schemathesis' deterministic edge cases of every parameter; minutes per role), CONTRACT_FUZZ_SEED=...
"""

from __future__ import annotations

import os
from io import StringIO
from typing import Any

import pytest
import schemathesis
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, transaction
from hypothesis import HealthCheck, settings
from schemathesis.config import SchemathesisConfig

from config.wsgi import application
from orders.api_tokens import api_token_create
from orders.models import (
    ChangeRequest,
    Customer,
    OrderStatus,
    Product,
    ProductFamily,
    SalesOrder,
    TrackingLink,
)
from production.models import (
    ChangeDisposition,
    Lot,
    ProductionException,
    ProgressReport,
    QualityInspection,
    Routing,
    Schedule,
    WorkCenter,
    WorkOrder,
)
from tests.services import require_postgresql

pytestmark = [pytest.mark.django_db, pytest.mark.contract]

ROLES = ("sales", "planner", "admin")
EXAMPLES = int(os.environ.get("CONTRACT_FUZZ_EXAMPLES", "3"))
SEED = int(os.environ.get("CONTRACT_FUZZ_SEED", "20261206"))
PHASES = os.environ.get("CONTRACT_FUZZ_PHASES", "fuzzing").split(",")
# How often a path parameter is a real object of the demo rather than a generated value.
KNOWN_OBJECT_PROBABILITY = 0.75

# The checks that compare answers with the schema, plus "no 5xx". Left out: positive_data_acceptance and
# negative_data_rejection (business rules a schema does not express: an order needs lines before it is
# confirmed), the stateful ones (use_after_free, ensure_resource_availability: nothing is deleted here) and
# the auth probes (ignored_auth, object_level_authorization: the API tests under tests/ cover who may see
# what).
CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_headers_conformance",
    "response_schema_conformance",
)


def known_objects() -> dict[tuple[str, str], list[str | int]]:
    """(path prefix, path parameter) → a few real objects of the demo, in several states. Orders and change
    requests are those of the demo's `sales` user, whom the other roles see too."""
    statuses = (OrderStatus.DRAFT, OrderStatus.CONFIRMED, OrderStatus.RELEASED, OrderStatus.IN_PRODUCTION)
    orders = [
        SalesOrder.objects.filter(owner__username="sales", status=status).order_by("number").first()
        for status in statuses
    ]
    order_numbers = [order.number for order in orders if order is not None]
    found: dict[tuple[str, str], Any] = {
        ("orders", "number"): order_numbers,
        ("orders", "link_id"): TrackingLink.objects.filter(order__number__in=order_numbers).values_list(
            "pk", flat=True
        ),
        ("change-requests", "number"): ChangeRequest.objects.filter(order__owner__username="sales")
        .order_by("status", "number")
        .distinct("status")
        .values_list("number", flat=True),
        ("customers", "code"): Customer.objects.values_list("code", flat=True)[:2],
        ("products", "sku"): Product.objects.values_list("sku", flat=True)[:2],
        ("product-families", "code"): ProductFamily.objects.values_list("code", flat=True)[:2],
        ("work-centers", "code"): WorkCenter.objects.values_list("code", flat=True)[:2],
        ("routings", "id"): Routing.objects.values_list("pk", flat=True)[:2],
        ("work-orders", "number"): WorkOrder.objects.filter(order__number__in=order_numbers)
        .order_by("status", "number")
        .distinct("status")
        .values_list("number", flat=True),
        ("schedule", "version"): Schedule.objects.values_list("version", flat=True)[:2],
        ("dispositions", "id"): ChangeDisposition.objects.values_list("pk", flat=True)[:2],
        ("progress-reports", "message_id"): ProgressReport.objects.values_list("message_id", flat=True)[:2],
        ("exceptions", "id"): ProductionException.objects.values_list("pk", flat=True)[:2],
        ("lots", "number"): Lot.objects.values_list("number", flat=True)[:2],
        ("inspections", "id"): QualityInspection.objects.values_list("pk", flat=True)[:2],
    }
    return {key: list(values) for key, values in found.items() if list(values)}


def fuzz_config(objects: dict[tuple[str, str], list[str | int]]) -> SchemathesisConfig:
    return SchemathesisConfig.from_dict(
        {
            "seed": SEED,
            "generation": {"max-examples": EXAMPLES, "database": "none"},
            # Stateful runs need the CLI's engine; examples: the schema has none.
            "phases": {
                "examples": {"enabled": False},
                "stateful": {"enabled": False},
                "coverage": {"enabled": "coverage" in PHASES},
                "fuzzing": {"enabled": "fuzzing" in PHASES},
            },
            "checks": {"enabled": False, **{name: {"enabled": True} for name in CHECKS}},
            "dictionaries": {
                f"{prefix}.{name}": {"values": values} for (prefix, name), values in objects.items()
            },
            "operations": [
                *(
                    {
                        "include-path-regex": f"^/api/v1/{prefix}/.*{{{name}}}",
                        "parameters": {
                            f"path.{name}": {
                                "dictionary": f"{prefix}.{name}",
                                "probability": KNOWN_OBJECT_PROBABILITY,
                            }
                        },
                    }
                    for prefix, name in objects
                ),
            ],
        }
    )


@pytest.fixture(scope="module", autouse=True)
def _connection_kept_across_requests():
    """As Django's test client does: the WSGI handler closes the connection before and after each request,
    which would end the test's transaction (and the demo's) with it."""
    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    yield
    for signal in (request_started, request_finished):
        signal.connect(close_old_connections)


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    """The demo plant and each role's API token (on PostgreSQL: what production runs, and what the known
    objects' DISTINCT ON needs)."""
    require_postgresql()
    with django_db_blocker.unblock(), transaction.atomic():
        call_command("setup_demo", "--seed", "7", "--orders", "30", stdout=StringIO())
        users = get_user_model().objects.filter(username__in=ROLES)
        tokens = {user.username: api_token_create(user=user, name="contract")[1] for user in users}
        yield {"tokens": tokens, "objects": known_objects()}
        transaction.set_rollback(True)


@pytest.fixture(scope="module")
def api_schema(demo):
    return schemathesis.openapi.from_wsgi(
        "/api/schema/?format=json",
        application,
        headers={"Authorization": f"Bearer {demo['tokens']['admin']}"},
        config=fuzz_config(demo["objects"]),
    )


schema = schemathesis.pytest.from_fixture("api_schema")
FUZZ_SETTINGS = settings(deadline=None, database=None, suppress_health_check=list(HealthCheck))


def call_as(role: str, case, demo) -> None:
    case.call_and_validate(headers={"Authorization": f"Bearer {demo['tokens'][role]}"})


@schema.parametrize()
@FUZZ_SETTINGS
def test_sales_get_only_documented_answers(case, demo):
    call_as("sales", case, demo)


@schema.parametrize()
@FUZZ_SETTINGS
def test_planners_get_only_documented_answers(case, demo):
    call_as("planner", case, demo)


@schema.parametrize()
@FUZZ_SETTINGS
def test_admins_get_only_documented_answers(case, demo):
    call_as("admin", case, demo)
