"""End to end over HTTP: every kind of change to an order with work under way reaches the MES.

The hub runs as a live server; the MES simulator is a real process that validates every B2MML message
against MESA's V0701 XSDs (refusing what does not validate), holds each work order and acknowledges
over HTTP to /hooks/mes/ with its own ids; the CRM simulator is a real process too. Progress comes from the
MES over HTTP; changes are made through the REST API (create and submit, approve, apply, decide a
disposition) by sales, planner and production manager. The test plays the worker: it processes inbound
messages and drains delivery queues through the same services the Celery tasks call, until all is quiet.

Afterwards, for each scenario: reconciliation finds no drift (the MES holds each work order as we do:
presence, quantity, ISA-95 status), every message to the MES was accepted and every acknowledgement
validates, and the CRM holds the order's newest status, revision and progress (coalesced order.progress,
its interval 0 here).
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from django.conf import settings
from django.utils import timezone

from crm_sync import b2mml, inbound, outbox, progress, reconciliation, webhooks
from crm_sync.management.commands.crm_sync_setup_demo import MES_EVENTS
from crm_sync.models import Delivery, ExternalSystem, InboundMessage
from orders.api_tokens import api_token_create
from orders.models import SalesOrder
from production.changes.models import ChangeDisposition
from production.work_orders import WorkOrder, WorkOrderOperation
from tests.crm_sync.conftest import Simulator, start_simulator
from tests.crm_sync.factories import TEST_SECRET, ExternalSystemFactory
from tests.factories import UserFactory, in_days, make_order
from tests.orders.change_requests.cr_helpers import make_line
from tests.services import require_postgresql, unavailable

# The live server reads what the test writes: real commits (the flush keeps the role groups).
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

QUIET_ROUNDS = 3


@pytest.fixture(scope="module")
def strict_mes():
    """An MES simulator that refuses any B2MML not valid against the V0701 XSDs and makes nothing on its
    own (its progress reports would finish the work the scenarios need part-done)."""
    schema_dir = Path(settings.B2MML_SCHEMA_DIR)
    if not (schema_dir / "Schema").is_dir():
        unavailable(f"needs MESA's B2MML schemas in {schema_dir}/Schema (ORDERBRIDGE_B2MML_SCHEMA_DIR)")
    simulator = start_simulator(
        "crm_sync.simulators.mes",
        *("--secret", TEST_SECRET, "--schema-dir", str(schema_dir)),
        *("--step-ms", "3600000", "--exception-rate", "0"),
    )
    yield simulator
    simulator.stop()


@dataclass
class Hub:
    """The hub's HTTP doors, the two simulators, and the worker's loop."""

    url: str
    mes: Simulator
    crm: Simulator
    mes_system: ExternalSystem
    crm_system: ExternalSystem
    # Each user's API token (the plain secret: shown once, kept here for the test's calls).
    tokens: dict[int, str] = field(default_factory=dict)

    def api(self, user, method: str, path: str, body: dict | None = None) -> dict:
        secret = self.tokens.get(user.pk)
        if secret is None:
            secret = self.tokens[user.pk] = api_token_create(user=user, name="end-to-end")[1]
        response = httpx.request(
            method,
            f"{self.url}/api/v1/{path}",
            json=body,
            headers={"authorization": f"Bearer {secret}"},
            timeout=30,
        )
        assert response.status_code < 300, (path, response.status_code, response.text)
        return response.json()

    def progress(self, work_order: WorkOrder, *, operation: int, good: str, finished: bool = False) -> None:
        """The MES reports an operation's totals so far (JSON, signed), as its shop floor would."""
        document = {
            "type": "operations.progress",
            "subject": work_order.order.number,
            "sequence": time.time_ns() // 1000,
            "data": {
                "work_order": work_order.number,
                "operation": operation,
                "good_quantity": good,
                "finished": finished,
                "reported_at": timezone.now().isoformat(),
            },
        }
        body = json.dumps(document).encode()
        headers = webhooks.signed_headers(secret=TEST_SECRET, msg_id=f"mes-{uuid.uuid4().hex}", body=body)
        headers["content-type"] = "application/json"
        response = httpx.post(f"{self.url}/hooks/mes/", content=body, headers=headers, timeout=30)
        assert response.status_code == 202, response.text

    def settle(self, *, timeout: float = 60) -> None:
        """Process and deliver until nothing is left here and the MES has sent everything it meant to."""
        deadline = time.monotonic() + timeout
        quiet, last_sent = 0, -1
        while quiet < QUIET_ROUNDS:
            assert time.monotonic() < deadline, "the hub and the simulators did not settle"
            worked = False
            for pk in inbound.inbound_due():
                inbound.inbound_process(message_pk=pk)
                worked = True
            worked = progress.progress_emit_due() > 0 or worked  # the CRM's coalesced progress
            for system_id, order_id in outbox.due_queues(now=timezone.now()):
                outbox.deliveries_drain(system_id=system_id, order_id=order_id)
                worked = True
            sent = self.mes.snapshot()["sent"]
            finished = all(item["status"] for item in sent)
            quiet = 0 if worked or len(sent) != last_sent or not finished else quiet + 1
            last_sent = len(sent)
            time.sleep(0.2)

    def order(self, number: str) -> SalesOrder:
        return SalesOrder.objects.get(number=number)


@pytest.fixture
def hub(live_server, strict_mes, _crm_process, settings) -> Hub:
    require_postgresql()
    settings.CRM_PROGRESS_INTERVAL_SECONDS = 0  # each report's progress goes out at the next round
    strict_mes.control(reset=True, secret=TEST_SECRET, callback_url=f"{live_server.url}/hooks/mes/")
    _crm_process.control(reset=True, secret=TEST_SECRET)
    mes_system = ExternalSystemFactory(
        name="Plant MES",
        slug="mes",
        kind=ExternalSystem.Kind.MES,
        format=ExternalSystem.Format.B2MML,
        event_types=MES_EVENTS,  # as `make run` connects it: the messages an MES takes
        base_url=strict_mes.url,
        service_user=UserFactory(username="mes-bot", role="production_manager"),
    )
    crm_system = ExternalSystemFactory(
        name="CRM",
        slug="crm",
        kind=ExternalSystem.Kind.CRM,
        base_url=_crm_process.url,
        service_user=UserFactory(username="crm-bot", role="admin"),
    )
    return Hub(live_server.url, strict_mes, _crm_process, mes_system, crm_system)


def work_orders_of(order) -> list[WorkOrder]:
    return list(WorkOrder.objects.filter(order=order).select_related("order").order_by("number"))


@pytest.fixture
def under_way(hub, sales, planner):
    """Released to the MES (acknowledged), two lots of 5 in two operations: the first lot has made 4 of
    its first operation, the second 2."""
    order = make_order(owner=sales, product=make_line(planner, lot_size="5"), confirmed=True)
    hub.api(planner, "post", f"orders/{order.number}/release/", {"version": order.version})
    hub.settle()
    first, second = work_orders_of(order)
    hub.progress(first, operation=10, good="4")
    hub.progress(second, operation=10, good="2")
    hub.settle()
    assert WorkOrder.objects.get(pk=first.pk).good_quantity == 0  # part-done: no operation finished yet
    assert first.operations.get(sequence=10).good_quantity == Decimal(4)
    return hub.order(order.number)


def change(hub, order, changes, *, sales, planner, manager, disposition="") -> dict:
    """Sales asks, the planner (and the production manager where needed) approve, the planner applies."""
    cr = hub.api(
        sales,
        "post",
        "change-requests/",
        {
            "order": order.number,
            "base_revision": hub.order(order.number).revision,
            "reason": "Customer called",
            "changes": changes,
            "submit": True,
        },
    )
    path = f"change-requests/{cr['number']}/"
    cr = hub.api(planner, "post", f"{path}approve/", {"disposition": disposition})
    if cr["status"] != "approved":
        cr = hub.api(manager, "post", f"{path}approve/", {"disposition": disposition})
    cr = hub.api(planner, "post", f"{path}apply/", {})
    hub.settle()
    return cr


def decide_open_dispositions(hub, order, decision: str, planner) -> None:
    for row in ChangeDisposition.objects.filter(work_order__order=order, decided_at__isnull=True):
        hub.api(
            planner, "post", f"dispositions/{row.pk}/decide/", {"decision": decision, "reason": "Decided"}
        )
    hub.settle()


def assert_in_step(hub: Hub, order: SalesOrder) -> None:
    """The MES holds each work order as we do, every message was taken, and the CRM has the newest."""
    order = hub.order(order.number)
    assert reconciliation.reconcile_system(system=hub.mes_system) == []
    held = httpx.get(f"{hub.mes.url}/orders", timeout=10).json()["orders"][order.number]
    ours = {
        wo.number: (wo.quantity, b2mml.work_order_state(order.status, wo.status))
        for wo in work_orders_of(order)
    }
    # The MES holds our work orders, and its own requests to rework some of them (named "rework_of").
    theirs = {
        number: (Decimal(view["quantity"]), view["status"])
        for number, view in held["work_orders"].items()
        if not view.get("rework_of")
    }
    open_here = {number for number, (_q, state) in ours.items() if state != "Cancelled"}
    assert {n: q for n, (q, _s) in theirs.items() if n in open_here} == {n: ours[n][0] for n in open_here}
    assert held["revision"] == order.revision
    # Every message to the MES was accepted by a validating receiver, and acknowledged.
    mes = hub.mes.snapshot()
    assert (mes["rejected"], mes["failed"]) == (0, 0)
    deliveries = Delivery.objects.filter(system=hub.mes_system, order=order)
    assert set(deliveries.values_list("state", flat=True)) == {Delivery.State.DELIVERED}
    schema_dir = Path(settings.B2MML_SCHEMA_DIR)
    acknowledgements = InboundMessage.objects.filter(system=hub.mes_system, content_type__contains="xml")
    assert acknowledgements.exists()
    for message in acknowledgements:
        assert b2mml.validation_errors(message.body.encode(), schema_dir=schema_dir) == []
        assert message.state == InboundMessage.State.PROCESSED, message.error
    # The CRM has the order's newest status and revision, and its newest progress: what each operation has
    # made, as we hold it now.
    assert reconciliation.reconcile_system(system=hub.crm_system) == []
    crm_view = httpx.get(f"{hub.crm.url}/orders", timeout=10).json()["orders"][order.number]
    assert (crm_view["status"], crm_view["revision"]) == (order.status, order.revision)
    made = {
        (operation.work_order.number, operation.sequence): operation.good_quantity
        for operation in WorkOrderOperation.objects.filter(work_order__order=order).select_related(
            "work_order"
        )
    }
    reported = {
        (wo["number"], op["sequence"]): Decimal(op["good_quantity"])
        for wo in crm_view["progress"]["work_orders"]
        for op in wo["operations"]
    }
    assert reported and {key: made[key] for key in reported} == reported
    assert any(reported.values())  # the part-done work


def test_quantity_up_reaches_the_mes_per_work_order(hub, under_way, sales, planner, manager):
    change(hub, under_way, [{"op": "set_quantity", "line_no": 1, "quantity": "13"}], **people(locals()))

    assert sum(wo.quantity for wo in work_orders_of(under_way) if wo.status != "cancelled") == 13
    assert_in_step(hub, under_way)


def test_quantity_down_with_the_surplus_scrapped_reaches_the_mes(hub, under_way, sales, planner, manager):
    cut = [{"op": "set_quantity", "line_no": 1, "quantity": "3"}]
    change(hub, under_way, cut, disposition="scrap", **people(locals()))
    decide_open_dispositions(hub, under_way, "scrap", planner)

    assert ChangeDisposition.objects.filter(work_order__order=under_way, decision="scrap").exists()
    assert_in_step(hub, under_way)


def test_quantity_down_with_the_surplus_to_stock_reaches_the_mes(hub, under_way, sales, planner, manager):
    cut = [{"op": "set_quantity", "line_no": 1, "quantity": "3"}]
    change(hub, under_way, cut, disposition="stock", **people(locals()))
    decide_open_dispositions(hub, under_way, "stock", planner)

    assert ChangeDisposition.objects.filter(work_order__order=under_way, decision="stock").exists()
    assert_in_step(hub, under_way)


def test_a_date_change_reaches_the_mes(hub, under_way, sales, planner, manager):
    later = [{"op": "set_date", "field": "promised_date", "value": in_days(60).isoformat()}]
    change(hub, under_way, later, **people(locals()))

    assert hub.order(under_way.number).promised_date == in_days(60)
    assert_in_step(hub, under_way)


def test_a_spec_change_with_rework_reaches_the_mes(hub, under_way, sales, planner, manager):
    spec = [{"op": "set_spec", "line_no": 1, "spec_values": {"colour": "RAL 5010"}}]
    change(hub, under_way, spec, disposition="rework", **people(locals()))
    decide_open_dispositions(hub, under_way, "rework", planner)

    assert ChangeDisposition.objects.filter(work_order__order=under_way, kind="wrong_spec").exists()
    assert_in_step(hub, under_way)
    held = httpx.get(f"{hub.mes.url}/orders", timeout=10).json()["orders"][under_way.number]
    reworked = {view["rework_of"] for view in held["work_orders"].values() if view.get("rework_of")}
    assert reworked == {wo.number for wo in work_orders_of(under_way)[:2]}  # both lots had made parts


def test_a_removed_line_reaches_the_mes(hub, sales, planner, manager):
    product = make_line(planner, lot_size="5")
    order = make_order(owner=sales, product=product, lines=2, confirmed=True)
    hub.api(planner, "post", f"orders/{order.number}/release/", {"version": order.version})
    hub.settle()
    on_line_two = [wo for wo in work_orders_of(order) if wo.order_line.line_no == 2]
    hub.progress(on_line_two[0], operation=10, good="3")
    hub.settle()

    change(hub, order, [{"op": "remove_line", "line_no": 2}], disposition="scrap", **people(locals()))
    decide_open_dispositions(hub, order, "scrap", planner)

    assert {WorkOrder.objects.get(pk=wo.pk).status for wo in on_line_two} == {"cancelled"}
    assert_in_step(hub, order)


def test_hold_and_resume_reach_the_mes(hub, under_way, sales, planner, manager):
    change(hub, under_way, [{"op": "hold"}], **people(locals()))
    assert_in_step(hub, under_way)
    held = httpx.get(f"{hub.mes.url}/orders", timeout=10).json()["orders"][under_way.number]
    assert {view["status"] for view in held["work_orders"].values()} == {"Held"}

    change(hub, under_way, [{"op": "resume"}], **people(locals()))

    assert_in_step(hub, under_way)


def test_a_cancel_reaches_the_mes(hub, under_way, sales, planner, manager):
    change(hub, under_way, [{"op": "cancel"}], disposition="scrap", **people(locals()))
    decide_open_dispositions(hub, under_way, "scrap", planner)

    assert hub.order(under_way.number).status == "cancelled"
    assert_in_step(hub, under_way)
    held = httpx.get(f"{hub.mes.url}/orders", timeout=10).json()["orders"][under_way.number]
    assert {view["status"] for view in held["work_orders"].values()} == {"Cancelled"}


def people(names: dict) -> dict:
    return {role: names[role] for role in ("sales", "planner", "manager")}
