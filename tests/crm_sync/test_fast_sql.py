"""crm_sync/fast_sql.py: what each hand-written statement does, pinned on PostgreSQL (the database that runs
all of them; skipped elsewhere unless ORDERBRIDGE_REQUIRE_SERVICES=1)."""

from __future__ import annotations

import datetime as dt
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from django.db import DatabaseError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from crm_sync import fast_sql, outbox
from crm_sync.models import Delivery, ExternalSystem, InboundCursor, InboundMessage, OutboxEvent, TaskReceipt
from orders import sales as order_services
from tests.crm_sync.factories import ExternalSystemFactory
from tests.factories import make_order
from tests.services import require_postgresql

pytestmark = pytest.mark.django_db

MARGIN = 5.0


@pytest.fixture(autouse=True)
def _postgresql():
    require_postgresql()


def claim(system: ExternalSystem, order, *, now: dt.datetime | None = None) -> Delivery | None:
    return fast_sql.delivery_claim(
        system_id=system.pk, order_id=order.pk, now=now or timezone.now(), lease_margin=MARGIN
    )


def columns(instance) -> dict:
    return {field.attname: getattr(instance, field.attname) for field in type(instance)._meta.concrete_fields}


def in_other_connection(function):
    """Run `function` in another thread, hence on another database connection, and return its result."""

    def run():
        try:
            return function()
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(run).result(timeout=20)


# --- the delivery claim ---------------------------------------------------------------------------------
def test_the_claim_is_one_statement():
    system = ExternalSystemFactory()
    order = make_order()

    with CaptureQueriesContext(connection) as queries:
        claimed = claim(system, order)

    assert claimed is not None
    assert len(queries) == 1
    assert queries[0]["sql"].startswith("UPDATE") and "SKIP LOCKED" in queries[0]["sql"]


def test_the_claim_marks_the_head_in_flight_with_one_more_attempt_and_the_systems_lease():
    system = ExternalSystemFactory(connect_timeout=2.5, read_timeout=7.0)
    order = make_order()
    now = timezone.now()

    claimed = claim(system, order, now=now)

    stored = Delivery.objects.get(pk=claimed.pk)
    assert (stored.state, stored.attempts, stored.updated_at) == (Delivery.State.IN_FLIGHT, 1, now)
    assert stored.claimed_until == now + dt.timedelta(seconds=2.5 + 7.0 + MARGIN)


def test_the_claim_returns_the_delivery_its_event_and_its_system_as_the_orm_reads_them():
    system = ExternalSystemFactory(field_mapping={"outbound": {"id": "$.id"}}, event_types=["order.created"])
    order = make_order()

    claimed = claim(system, order)

    stored = Delivery.objects.select_related("event", "system").get(pk=claimed.pk)
    assert columns(claimed) == columns(stored)
    assert columns(claimed.event) == columns(stored.event)
    assert columns(claimed.system) == columns(stored.system)
    assert isinstance(claimed.event.data, dict) and claimed.system.field_mapping == {
        "outbound": {"id": "$.id"}
    }
    for instance in (claimed, claimed.event, claimed.system):
        assert (instance._state.adding, instance._state.db) == (False, "default")


PAST, FUTURE = dt.timedelta(minutes=-1), dt.timedelta(minutes=5)


@pytest.mark.parametrize(
    ("state", "next_attempt_in", "claimed_until_in", "claimable"),
    [
        (Delivery.State.PENDING, PAST, None, True),
        (Delivery.State.PENDING, FUTURE, None, False),
        (Delivery.State.FAILED, PAST, None, True),
        (Delivery.State.FAILED, FUTURE, None, False),
        (Delivery.State.IN_FLIGHT, PAST, PAST, True),  # its worker died: the lease ran out
        (Delivery.State.IN_FLIGHT, PAST, FUTURE, False),
        (Delivery.State.DELIVERED, PAST, None, False),
        (Delivery.State.DEAD, PAST, None, False),
    ],
)
def test_the_claim_takes_what_deliveries_claimable_takes(state, next_attempt_in, claimed_until_in, claimable):
    system = ExternalSystemFactory()
    order = make_order()
    now = timezone.now()
    Delivery.objects.filter(system=system, order=order).update(
        state=state,
        next_attempt_at=now + next_attempt_in,
        claimed_until=now + claimed_until_in if claimed_until_in else None,
    )
    orm_head = outbox.deliveries_claimable(now=now).filter(system=system, order=order).first()

    claimed = claim(system, order, now=now)

    assert (orm_head is not None, claimed is not None) == (claimable, claimable)


@pytest.mark.parametrize("change", [{"is_paused": True}, {"is_enabled": False}])
def test_the_claim_takes_nothing_for_a_paused_or_disabled_system(change):
    system = ExternalSystemFactory()
    order = make_order()
    ExternalSystem.objects.filter(pk=system.pk).update(**change)

    assert claim(system, order) is None


def test_the_claim_takes_an_orders_events_in_sequence_and_an_undelivered_one_holds_back_the_next(sales):
    system = ExternalSystemFactory()
    order = make_order(owner=sales)
    order_services.order_confirm(actor=sales, order=order)
    first = Delivery.objects.get(system=system, order=order, sequence=1)

    Delivery.objects.filter(pk=first.pk).update(state=Delivery.State.DEAD)
    assert claim(system, order) is None

    Delivery.objects.filter(pk=first.pk).update(state=Delivery.State.DELIVERED)
    assert claim(system, order).sequence == 2


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_claim_skips_a_head_another_worker_holds_rather_than_waiting_for_it():
    system = ExternalSystemFactory()
    order = make_order()
    head = Delivery.objects.get(system=system, order=order)

    with transaction.atomic():
        Delivery.objects.select_for_update().get(pk=head.pk)  # another worker's claim, not committed yet
        while_held = in_other_connection(lambda: claim(system, order))

    assert while_held is None
    assert claim(system, order).pk == head.pk


# --- settling an outbox event ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("states", "settled"),
    [
        ((Delivery.State.DEAD, Delivery.State.DELIVERED), OutboxEvent.State.DEAD),
        ((Delivery.State.DEAD, Delivery.State.PENDING), OutboxEvent.State.DEAD),
        ((Delivery.State.DELIVERED, Delivery.State.DELIVERED), OutboxEvent.State.DELIVERED),
        ((Delivery.State.FAILED, Delivery.State.DELIVERED), OutboxEvent.State.PENDING),
        ((Delivery.State.IN_FLIGHT, Delivery.State.PENDING), OutboxEvent.State.PENDING),
    ],
)
def test_settling_makes_the_events_state_the_summary_of_its_deliveries(states, settled):
    first, second = ExternalSystemFactory(), ExternalSystemFactory()
    event = OutboxEvent.objects.get(order=make_order())
    for system, state in zip((first, second), states, strict=True):
        event.deliveries.filter(system=system).update(state=state)

    with CaptureQueriesContext(connection) as queries:
        fast_sql.outbox_event_settle(event.pk)

    assert len(queries) == 1
    event.refresh_from_db()
    assert event.state == settled


def test_settling_an_event_without_deliveries_makes_it_delivered():
    event = OutboxEvent.objects.get(order=make_order())  # no system takes it
    OutboxEvent.objects.filter(pk=event.pk).update(state=OutboxEvent.State.PENDING)

    fast_sql.outbox_event_settle(event.pk)

    event.refresh_from_db()
    assert event.state == OutboxEvent.State.DELIVERED


def test_settling_changes_only_its_own_event():
    ExternalSystemFactory()
    event, other = (OutboxEvent.objects.get(order=make_order()) for _ in range(2))
    event.deliveries.update(state=Delivery.State.DEAD)
    other.deliveries.update(state=Delivery.State.DEAD)

    fast_sql.outbox_event_settle(event.pk)

    assert OutboxEvent.objects.get(pk=other.pk).state == OutboxEvent.State.PENDING


# --- recording a delivery's outcome --------------------------------------------------------------------
def record(delivery: Delivery, *, state: str, now: dt.datetime | None = None, status_code: int | None = 200):
    now = now or timezone.now()
    return fast_sql.delivery_record_outcome(
        delivery=delivery,
        changes={
            "state": state,
            "last_error": "",
            "claimed_until": None,
            "queued_until": None,
            "updated_at": now,
        },
        attempt={
            "number": delivery.attempts,
            "started_at": now,
            "status_code": status_code,
            "latency_ms": 12,
            "error": "",
            "response_excerpt": "ok",
        },
    )


def test_recording_an_outcome_logs_the_attempt_moves_the_delivery_and_settles_its_event_in_one_statement():
    system = ExternalSystemFactory()
    delivery = claim(system, make_order())
    now = timezone.now()

    with CaptureQueriesContext(connection) as queries:
        applied, more = record(delivery, state=Delivery.State.DELIVERED, now=now)

    assert len(queries) == 1
    assert (applied, more) == (True, False)
    stored = Delivery.objects.get(pk=delivery.pk)
    assert (stored.state, stored.claimed_until, stored.updated_at) == (Delivery.State.DELIVERED, None, now)
    [attempt] = stored.attempt_log.all()
    assert (attempt.number, attempt.status_code, attempt.latency_ms, attempt.response_excerpt) == (
        1,
        200,
        12,
        "ok",
    )
    assert OutboxEvent.objects.get(pk=delivery.event_id).state == OutboxEvent.State.DELIVERED


def test_an_outcome_of_an_overtaken_claim_logs_its_attempt_but_changes_nothing_else():
    system = ExternalSystemFactory()
    delivery = claim(system, make_order())
    Delivery.objects.filter(pk=delivery.pk).update(attempts=2)  # its lease ran out; another worker claimed it

    applied, _more = record(delivery, state=Delivery.State.DELIVERED)

    assert applied is False
    stored = Delivery.objects.get(pk=delivery.pk)
    assert (stored.state, stored.attempts) == (Delivery.State.IN_FLIGHT, 2)
    assert stored.attempt_log.count() == 1
    assert OutboxEvent.objects.get(pk=delivery.event_id).state == OutboxEvent.State.PENDING


def test_an_outcome_says_whether_the_order_has_more_to_send_to_that_system(sales):
    system = ExternalSystemFactory()
    order = make_order(owner=sales)
    order_services.order_confirm(actor=sales, order=order)  # a second event waits behind the first

    first = claim(system, order)
    assert record(first, state=Delivery.State.DELIVERED) == (True, True)
    second = claim(system, order)
    assert record(second, state=Delivery.State.DELIVERED) == (True, False)


@pytest.mark.parametrize(
    ("new_state", "other_state", "settled"),
    [
        (Delivery.State.DELIVERED, Delivery.State.DELIVERED, OutboxEvent.State.DELIVERED),
        (Delivery.State.DELIVERED, Delivery.State.PENDING, OutboxEvent.State.PENDING),
        (Delivery.State.DELIVERED, Delivery.State.DEAD, OutboxEvent.State.DEAD),
        (Delivery.State.FAILED, Delivery.State.DELIVERED, OutboxEvent.State.PENDING),
        (Delivery.State.DEAD, Delivery.State.DELIVERED, OutboxEvent.State.DEAD),
    ],
)
def test_an_outcome_settles_the_event_as_settling_after_it_would(new_state, other_state, settled):
    first, second = ExternalSystemFactory(), ExternalSystemFactory()
    order = make_order()
    Delivery.objects.filter(system=second, order=order).update(state=other_state)
    delivery = claim(first, order)

    record(delivery, state=new_state)

    event = OutboxEvent.objects.get(pk=delivery.event_id)
    assert event.state == settled
    fast_sql.outbox_event_settle(event.pk)
    event.refresh_from_db()
    assert event.state == settled


# --- task receipts --------------------------------------------------------------------------------------
def test_counting_a_new_task_message_stores_one_running_receipt_in_one_statement():
    now = timezone.now()

    with CaptureQueriesContext(connection) as queries:
        receipt = fast_sql.task_receipt_count(
            task_id="t-1", name="crm_sync.deliver_order", args=[1, 2], now=now
        )

    assert len(queries) == 1
    stored = TaskReceipt.objects.get(task_id="t-1")
    assert (stored.name, stored.args, stored.deliveries, stored.state) == (
        "crm_sync.deliver_order",
        [1, 2],
        1,
        TaskReceipt.State.RUNNING,
    )
    assert columns(receipt) == columns(stored)
    assert receipt._state.adding is False


def test_counting_a_redelivered_task_message_adds_one_and_keeps_when_it_was_first_seen():
    first = timezone.now()
    fast_sql.task_receipt_count(task_id="t-1", name="crm_sync.deliver_order", args=[1, 2], now=first)
    TaskReceipt.objects.filter(task_id="t-1").update(state=TaskReceipt.State.DEAD)
    later = first + dt.timedelta(seconds=30)

    receipt = fast_sql.task_receipt_count(
        task_id="t-1", name="crm_sync.deliver_order", args=[1, 2], now=later
    )

    assert (receipt.deliveries, receipt.state, receipt.first_seen_at) == (2, TaskReceipt.State.DEAD, first)
    stored = TaskReceipt.objects.get(task_id="t-1")
    assert (stored.deliveries, stored.first_seen_at, stored.last_seen_at) == (2, first, later)
    assert TaskReceipt.objects.count() == 1


def test_marking_a_receipt_done_is_one_statement_and_touches_only_that_receipt():
    now = timezone.now()
    receipt = fast_sql.task_receipt_count(task_id="t-1", name="n", args=[], now=now)
    other = fast_sql.task_receipt_count(task_id="t-2", name="n", args=[], now=now)

    with CaptureQueriesContext(connection) as queries:
        fast_sql.task_receipt_done(pk=receipt.pk)

    assert len(queries) == 1
    assert TaskReceipt.objects.get(pk=receipt.pk).state == TaskReceipt.State.DONE
    assert TaskReceipt.objects.get(pk=other.pk).state == TaskReceipt.State.RUNNING


# --- the inbound cursor ---------------------------------------------------------------------------------
def advance(system: ExternalSystem, sequence: int, *, subject: str = "CRM-1", message_id: str = "m") -> bool:
    return fast_sql.inbound_cursor_advance(
        system_id=system.pk, subject=subject, sequence=sequence, message_id=message_id, now=timezone.now()
    )


def test_the_first_message_of_a_subject_creates_its_cursor_in_one_statement():
    system = ExternalSystemFactory()

    with CaptureQueriesContext(connection) as queries:
        advanced = advance(system, 3, message_id="m-3")

    assert advanced is True
    assert len(queries) == 1
    cursor = InboundCursor.objects.get(system=system, subject="CRM-1")
    assert (cursor.last_sequence, cursor.last_message_id, cursor.stale_ignored) == (3, "m-3", 0)


@pytest.mark.parametrize(("sequence", "advanced", "stored"), [(6, True, 6), (5, False, 5), (4, False, 5)])
def test_the_cursor_moves_only_to_a_newer_sequence(sequence, advanced, stored):
    system = ExternalSystemFactory()
    advance(system, 5, message_id="m-5")

    assert advance(system, sequence, message_id=f"m-{sequence}") is advanced

    cursor = InboundCursor.objects.get(system=system, subject="CRM-1")
    assert (cursor.last_sequence, cursor.last_message_id) == (stored, f"m-{stored}")


def test_each_system_and_subject_has_its_own_cursor():
    crm, other = ExternalSystemFactory(), ExternalSystemFactory()
    advance(crm, 5)

    assert advance(crm, 1, subject="CRM-2") is True
    assert advance(other, 1) is True
    assert InboundCursor.objects.count() == 3


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_cursor_row_stays_locked_until_the_callers_transaction_ends():
    system = ExternalSystemFactory()
    advance(system, 1)
    ready = threading.Event()

    def lock_it_now() -> str:
        ready.wait(timeout=10)
        try:
            with transaction.atomic():
                InboundCursor.objects.select_for_update(nowait=True).get(system=system, subject="CRM-1")
        except DatabaseError:
            return "locked"
        return "free"

    with transaction.atomic():
        advance(system, 2)
        ready.set()
        inside = in_other_connection(lock_it_now)
    after = in_other_connection(lock_it_now)

    assert (inside, after) == ("locked", "free")


# --- storing an inbound message -------------------------------------------------------------------------
def a_system() -> ExternalSystem:
    system: Any = ExternalSystemFactory()  # the factory's instance is the model's
    return system


def store(system: ExternalSystem, message_id: str):
    return fast_sql.inbound_message_store(
        system_id=system.pk,
        message_id=message_id,
        content_type="application/json",
        body='{"type": "order.created"}',
        kind="order.created",
        subject="CRM-1",
        now=timezone.now(),
    )


def test_storing_an_inbound_message_is_one_statement_returning_the_row_as_the_orm_reads_it():
    system = a_system()

    with CaptureQueriesContext(connection) as queries:
        message = store(system, "msg-1")

    assert len(queries) == 1
    assert columns(message) == columns(InboundMessage.objects.get(pk=message.pk))
    assert (message.state, message.attempts, message.result) == (InboundMessage.State.RECEIVED, 0, {})


def test_storing_a_message_id_twice_returns_none_and_keeps_one_row():
    system = a_system()
    first = store(system, "msg-1")

    again = store(system, "msg-1")

    assert first is not None
    assert again is None
    assert InboundMessage.objects.filter(system=system, message_id="msg-1").count() == 1


def test_the_same_message_id_from_another_system_is_another_message():
    first, second = a_system(), a_system()

    assert store(first, "msg-1") is not None
    assert store(second, "msg-1") is not None
