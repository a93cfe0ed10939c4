"""What one shop-floor report costs: queries per request of the operator endpoint (the shopfloor bench's
budget), and that the cheap path still counts every piece once."""

from __future__ import annotations

import json
import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from production.floor import FloorReport
from production.work_orders import ProgressReport, WorkOrder, WorkOrderOperation
from tests.production.floor.conftest import PIN

pytestmark = pytest.mark.django_db

# Measured when these budgets were set (December 2026, floor): a report of good pieces on a started
# operation costs 16 queries (was 30): the session and its user (2), the repeat check (1), the operation's
# work order with its operations and order in one read, unlocked (1), the progress report and its history
# (2), the work order's lock (1) and its operations read afresh under it (1), the operation and the work
# order updated with their history rows (4), the reservations to backflush (1: none here), the floor report
# (1), and the test's own savepoint around the request's transaction (2). Before: the operation and the
# work order were each read four times (locked twice, then again for the answer), the operations twice,
# the order's work orders on every report, the progress report again by the backflush, and three
# savepoints. A repeat (the offline queue resending) costs the session, the user and the repeat check,
# and the test's savepoint (2). A change that adds queries on the path must raise them here, knowingly.
REPORT_QUERY_BUDGET = 16
REPEAT_QUERY_BUDGET = 5


@pytest.fixture
def phone(client, operator):
    client.post(reverse("floor:sign_in"), {"badge": "1001", "pin": PIN})
    return client


def report(phone, operation: WorkOrderOperation, client_id: str, good: str = "1"):
    body = {"client_id": client_id, "operation": operation.pk, "action": "report", "good_quantity": good}
    return phone.post(reverse("floor:report"), data=json.dumps(body), content_type="application/json")


@pytest.fixture
def started(phone, ops):
    """The first operation has had its first report (which started it, its work order and the order), and
    one more: the first made the system actor, which made the cached permission sets read anew once."""
    for _ in range(2):
        assert report(phone, ops[0], str(uuid.uuid4())).status_code == 201
    return ops[0]


def test_a_report_on_a_started_operation_stays_within_its_query_budget(phone, started):
    with CaptureQueriesContext(connection) as queries:
        response = report(phone, started, str(uuid.uuid4()), good="2")

    assert response.status_code == 201
    assert len(queries) <= REPORT_QUERY_BUDGET, "\n".join(q["sql"][:120] for q in queries.captured_queries)


def test_a_repeated_report_stays_within_its_query_budget(phone, started):
    client_id = str(uuid.uuid4())
    assert report(phone, started, client_id).status_code == 201

    with CaptureQueriesContext(connection) as queries:
        response = report(phone, started, client_id)

    assert response.status_code == 200
    assert response.json()["duplicate"] is True
    assert len(queries) <= REPEAT_QUERY_BUDGET, "\n".join(q["sql"][:120] for q in queries.captured_queries)


def test_the_budgeted_path_rolls_every_report_up_once(phone, started):
    history_before = WorkOrderOperation.history.filter(id=started.pk).count()
    client_id = str(uuid.uuid4())
    for _ in range(2):
        report(phone, started, client_id, good="2")
    answer = report(phone, started, str(uuid.uuid4()), good="3").json()

    operation = WorkOrderOperation.objects.get(pk=started.pk)
    work_order = WorkOrder.objects.get(pk=started.work_order_id)
    assert operation.good_quantity == 7  # 2 (the first reports) + 2 (sent twice, counted once) + 3
    assert answer["operation"]["good"] == "7"
    assert answer["operation"]["remaining"] == "3"
    assert work_order.good_quantity == 0  # the last operation's good: nothing on BEND yet
    assert work_order.percent_complete == 35  # two operations of equal minutes: 7 of 10 on the first
    assert FloorReport.objects.count() == ProgressReport.objects.count() == 4
    # Who and why, once per report: a history row of the operation each.
    assert WorkOrderOperation.history.filter(id=started.pk).count() == history_before + 2
