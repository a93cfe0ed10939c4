"""Over HTTP with the real MES simulator process: what the line holds after a quantity cut with scrap and
after cancels, the simulator's acknowledgements (with its own ids) coming back to our /hooks/mes/.

The simulator makes nothing in these tests (a step of ten minutes): progress is reported here, as the
planner, so that what the MES holds depends on our messages alone.
"""

from __future__ import annotations

import datetime as dt
import time
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from django.conf import settings
from django.utils import timezone

from crm_sync import b2mml, outbox
from crm_sync.management.commands.crm_sync_setup_demo import MES_EVENTS
from crm_sync.models import Delivery, ExternalSystem, InboundMessage
from orders import change_requests as crs
from orders.sales import transitions
from production.work_orders import WorkOrder
from tests.crm_sync.conftest import Simulator, start_simulator
from tests.crm_sync.factories import TEST_SECRET, ExternalSystemFactory
from tests.crm_sync.helpers import process_all
from tests.factories import UserFactory
from tests.orders.change_requests.cr_helpers import approved, fresh, make_line, released_order, report

pytestmark = [pytest.mark.django_db(transaction=True, serialized_rollback=True), pytest.mark.services]


@pytest.fixture
def line_mes(live_server):
    """A strict MES (schema-validating when MESA's XSDs are there) that answers to our live server."""
    arguments = ["--secret", TEST_SECRET, "--step-ms", "600000", "--exception-rate", "0"]
    arguments += ["--callback-url", f"{live_server.url}/hooks/mes/"]
    folder = Path(settings.B2MML_SCHEMA_DIR)
    if b2mml.schema_path(folder).exists():
        arguments += ["--schema-dir", str(folder)]
    simulator = start_simulator("crm_sync.simulators.mes", *arguments)
    yield simulator
    simulator.stop()


@pytest.fixture
def mes_system(line_mes):
    return ExternalSystemFactory(
        slug="mes",
        kind=ExternalSystem.Kind.MES,
        format=ExternalSystem.Format.B2MML,
        base_url=line_mes.url,
        event_types=MES_EVENTS,
        service_user=UserFactory(username="mes-bot", role="production_manager"),
    )


def sync(system: ExternalSystem, order, *, timeout: float = 20.0) -> None:
    """Deliver the order's queue, wait for the MES's acknowledgement of each delivery, and apply them."""
    outbox.deliveries_drain(system_id=system.pk, order_id=order.pk)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        process_all()
        waiting = Delivery.objects.filter(system=system, order=order, acknowledged_at__isnull=True)
        if not waiting.exists():
            return
        time.sleep(0.2)
    raise AssertionError(f"not acknowledged: {list(waiting.values_list('event__type', flat=True))}")


def held_by_mes(simulator: Simulator, order) -> dict:
    return httpx.get(f"{simulator.url}/orders", timeout=5).json()["orders"][order.number]


def test_a_quantity_cut_with_scrap_reaches_the_line_and_the_mes_ids_come_back(
    line_mes, mes_system, sales, planner, manager
):
    order = released_order(sales, planner, make_line(planner))
    sync(mes_system, order)
    (work_order,) = WorkOrder.objects.filter(order=order)
    assert work_order.status == "released"  # the MES's acknowledgement released it
    report(planner, work_order, good=6)

    cut = [{"op": "set_quantity", "line_no": 1, "quantity": "3"}]
    crs.change_request_apply(
        actor=manager,
        change_request=approved(sales, planner, order, cut, manager=manager, disposition="scrap"),
    )
    sync(mes_system, order)

    held = held_by_mes(line_mes, order)["work_orders"][work_order.number]
    assert (Decimal(held["quantity"]), held["status"]) == (Decimal(6), "Released")
    assert held["dispositions"] == [{"decision": "scrap", "quantity": "3"}]
    ours = fresh(work_order)
    assert ours.mes_id == held["mes_id"]
    assert dict(ours.operations.values_list("sequence", "mes_id")) == {
        int(sequence): operation["mes_id"] for sequence, operation in held["operations"].items()
    }
    assert not outbox.mes_changes_unacknowledged(now=timezone.now() + dt.timedelta(days=1))
    assert InboundMessage.objects.filter(state=InboundMessage.State.DEAD).count() == 0


def test_cancels_reach_the_line_by_work_order_id(line_mes, mes_system, sales, planner, manager):
    order = released_order(sales, planner, make_line(planner, lot_size="5"))
    sync(mes_system, order)
    first, second = WorkOrder.objects.filter(order=order).order_by("number")

    cut = [{"op": "set_quantity", "line_no": 1, "quantity": "5"}]
    crs.change_request_apply(actor=planner, change_request=approved(sales, planner, order, cut))
    sync(mes_system, order)
    work = held_by_mes(line_mes, order)["work_orders"]
    assert (work[first.number]["status"], work[second.number]["status"]) == ("Released", "Cancelled")

    transitions.order_cancel(actor=manager, order=fresh(order), reason="Customer withdrew")
    sync(mes_system, order)
    work = held_by_mes(line_mes, order)["work_orders"]
    # Only our work orders, each by its own id, all cancelled: no phantom per order line.
    assert sorted(work) == [first.number, second.number]
    assert {held["status"] for held in work.values()} == {"Cancelled"}
