"""Writes of the integration: the outbox, deliveries to external systems, their configuration.

Delivery contract (per order and per external system, like one SAP qRFC queue):
- at least once, with the event id as the idempotency key (header webhook-id, B2MML BODID);
- strictly in sequence: an order's later event is not sent to a system before every earlier one has
  been acknowledged by it; a failing or dead event holds back that order for that system only;
- claimed by one worker at a time (SELECT … FOR UPDATE SKIP LOCKED on PostgreSQL, compare-and-set on
  the row everywhere), with a lease so that a worker killed mid-request does not strand its row.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
import os
import random
import threading
import time
from collections.abc import Iterable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

import httpx
from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Max
from django.utils import timezone

from config.kernel.events import OrderEvent, OrderResync
from config.process_cache import VersionedProcessCache
from crm_sync import webhooks
from crm_sync.b2mml import messages as b2mml
from crm_sync.mapping import apply_mapping
from crm_sync.models import Delivery, DeliveryAttempt, ExternalSystem, OutboxEvent
from crm_sync.outbox import origin, selectors
from crm_sync.outbox.work_orders import event_data, rows_written

logger = logging.getLogger("orderbridge.crm_sync")

RESPONSE_EXCERPT_CHARS = 500


# --- the outbox -----------------------------------------------------------------------------------------
# Every order write records an event, and which systems take events changes rarely (an admin's edit): each
# process keeps the enabled systems under a version in the shared cache (config/process_cache.py), replaced
# by every save or delete of a system. A change that bypasses the ORM's signals is read within
# SYSTEMS_MAX_AGE_SECONDS.
SYSTEMS_VERSION_KEY = "crm_sync:systems:version"
SYSTEMS_MAX_AGE_SECONDS = 30.0
_systems = VersionedProcessCache(key=SYSTEMS_VERSION_KEY, max_age_seconds=SYSTEMS_MAX_AGE_SECONDS)
_systems.watch([ExternalSystem], uid="crm_sync_systems")


def enabled_systems() -> tuple[ExternalSystem, ...]:
    """The enabled external systems (shared instances: read them, never change them)."""
    return _systems.get("enabled", lambda: tuple(ExternalSystem.objects.filter(is_enabled=True)))


def outbox_record_order_event(event: OrderEvent) -> OutboxEvent:
    """Write the event row, and one delivery per subscribed system, in the caller's transaction.

    The caller holds the order's row lock (or has just created the order), so reading the last
    sequence and writing the next one cannot race; the unique constraint is the backstop.
    Side effect after commit: one delivery task per system; if the broker is down then, the beat
    sweep finds the pending rows (the rows are the truth, the task only a wake-up call).
    """
    source_system = origin.current_system()
    systems = [
        system
        for system in enabled_systems()
        if system.takes(event.type)
        # Echo suppression: the system the change came from already has it.
        and (source_system is None or system.pk != source_system.pk)
    ]
    return _record(event=event, systems=systems, origin_label=origin.label(source_system))


def _record(*, event: OrderEvent, systems: list[ExternalSystem], origin_label: str) -> OutboxEvent:
    if event.order_is_new:
        last = 0  # created in this transaction: no earlier event (the unique constraint is the backstop)
    else:
        last = OutboxEvent.objects.filter(order_id=event.order.pk).aggregate(last=Max("sequence"))["last"]
        last = last or 0
    now = timezone.now()
    outbox_event = OutboxEvent.objects.create(
        type=event.type,
        source=settings.EVENT_SOURCE,
        subject=event.order.number,
        order_id=event.order.pk,
        sequence=last + 1,
        time=now,
        data=event_data(event),
        actor_id=event.actor_id,
        reason=(event.reason or "")[:500],
        origin=origin_label,
        # Nobody to tell: nothing is pending.
        state=OutboxEvent.State.PENDING if systems else OutboxEvent.State.DELIVERED,
    )
    Delivery.objects.bulk_create(
        Delivery(
            event=outbox_event,
            system=system,
            order_id=event.order.pk,
            sequence=outbox_event.sequence,
            next_attempt_at=now,
        )
        for system in systems
    )
    rows_written([(outbox_event, event)])
    for system in systems:
        if not system.is_paused:
            _enqueue_on_commit(system_id=system.pk, order_id=event.order.pk)
    return outbox_event


def outbox_record_order_events(events: list[OrderEvent]) -> list[OutboxEvent]:
    """outbox_record_order_event for a batch (a spreadsheet import): the same rows, in a few queries.

    Each event gets what it would get alone: the next sequence of its order (events of one order in the
    batch follow each other), its own id (the idempotency key), the systems that take its type, one
    delivery per system, and one wake-up per (system, order) after commit. The caller holds the orders'
    row locks or has just created them, as for the single form.
    """
    if not events:
        return []
    source_system = origin.current_system()
    origin_label = origin.label(source_system)
    enabled = [
        system for system in enabled_systems() if source_system is None or system.pk != source_system.pk
    ]
    # An order created in this transaction has no earlier event: only the others need their last sequence.
    created = {event.order.pk for event in events if event.order_is_new}
    order_ids = {event.order.pk for event in events} - created
    last = {}
    if order_ids:
        last = dict(
            OutboxEvent.objects.filter(order_id__in=order_ids)
            .values("order_id")
            .annotate(last=Max("sequence"))
            .values_list("order_id", "last")
        )
    now = timezone.now()
    rows: list[OutboxEvent] = []
    targets: list[list[ExternalSystem]] = []
    for event in events:
        systems = [system for system in enabled if system.takes(event.type)]
        sequence = last.get(event.order.pk, 0) + 1
        last[event.order.pk] = sequence
        rows.append(
            OutboxEvent(
                type=event.type,
                source=settings.EVENT_SOURCE,
                subject=event.order.number,
                order_id=event.order.pk,
                sequence=sequence,
                time=now,
                data=event_data(event),
                actor_id=event.actor_id,
                reason=(event.reason or "")[:500],
                origin=origin_label,
                state=OutboxEvent.State.PENDING if systems else OutboxEvent.State.DELIVERED,
            )
        )
        targets.append(systems)
    OutboxEvent.objects.bulk_create(rows)
    rows_written(list(zip(rows, events, strict=True)))
    Delivery.objects.bulk_create(
        Delivery(
            event=row,
            system=system,
            order_id=row.order_id,
            sequence=row.sequence,
            next_attempt_at=now,
        )
        for row, systems in zip(rows, targets, strict=True)
        for system in systems
    )
    woken: set[tuple[int, int]] = set()
    for row, systems in zip(rows, targets, strict=True):
        for system in systems:
            if not system.is_paused and (system.pk, row.order_id) not in woken:
                woken.add((system.pk, row.order_id))
                _enqueue_on_commit(system_id=system.pk, order_id=row.order_id)
    return rows


def outbox_record_resync(*, order: Any, system: ExternalSystem, actor: Any, reason: str) -> OutboxEvent:
    """Send one system the order's current state again (reconciliation's "re-send"), in the order's queue.

    A full snapshot event ("order.resync"): the receiver replaces what it holds; earlier events stay as
    they are. Only `system` gets it.
    """
    from orders.sales.services import order_event_payload

    with transaction.atomic():
        locked = (
            type(order).objects.select_for_update(of=("self",)).select_related("customer").get(pk=order.pk)
        )
        event = OrderResync(order=locked, actor=actor, reason=reason, snapshot=order_event_payload(locked))
        return _record(event=event, systems=[system], origin_label="")


# The wake-ups of an inbound message's effect, collected by deliveries_inline() instead of published.
_inline: ContextVar[list[tuple[int, int]] | None] = ContextVar("crm_sync_inline_deliveries", default=None)


@contextlib.contextmanager
def deliveries_inline() -> Iterator[list[tuple[int, int]]]:
    """Collect the (system, order) queues that the block's committed changes woke up, instead of publishing
    one delivery task each; the caller drains them itself with deliveries_drain_woken() after the block.

    For a worker's task whose change is an order entered from another system (the CRM's messages): the
    wake-up task would cost more CPU than the delivery. The outbox guarantees do not change: the rows are
    written in the change's transaction, the drain claims them as a delivery task does (in sequence, one
    claimer at a time), and a worker that dies before draining leaves them pending for the relay sweep.
    """
    woken: list[tuple[int, int]] = []
    token = _inline.set(woken)
    try:
        yield woken
    finally:
        _inline.reset(token)


def deliveries_drain_woken(woken: list[tuple[int, int]]) -> None:
    """Drain the queues deliveries_inline() collected; one that fails here is left to its delivery task."""
    for system_id, order_id in dict.fromkeys(woken):
        try:
            deliveries_drain(system_id=system_id, order_id=order_id)
        except Exception:  # e.g. the database went away: the task (or the relay) delivers it later
            logger.warning("inline delivery failed system=%s order=%s", system_id, order_id, exc_info=True)
            _publish_wake_up(system_id=system_id, order_id=order_id)


def _publish_wake_up(*, system_id: int, order_id: int) -> None:
    from crm_sync.tasks import deliver_order

    try:
        deliver_order.delay(system_id, order_id)
    except Exception:  # the broker is down: the sweep will find the row
        logger.warning("could not enqueue delivery system=%s order=%s", system_id, order_id, exc_info=True)


def _enqueue_on_commit(*, system_id: int, order_id: int) -> None:
    woken = _inline.get()
    if woken is not None and settings.SYNC_DELIVER_INLINE:
        transaction.on_commit(lambda: woken.append((system_id, order_id)))
        return
    transaction.on_commit(lambda: _publish_wake_up(system_id=system_id, order_id=order_id))


# --- claiming -------------------------------------------------------------------------------------------
def _lease_seconds(system: ExternalSystem) -> float:
    # A claim outlives the longest possible request by this margin before another worker may take over.
    return system.connect_timeout + system.read_timeout + settings.SYNC_LEASE_MARGIN_SECONDS


def delivery_claim_next(*, system_id: int, order_id: int) -> Delivery | None:
    """Claim the head of one order's queue for one system, if it is due; None if there is nothing to do.

    The claim is committed before the request goes out, so the lock is never held over the network.
    The head comes with its event and system, ready to send.
    """
    now = timezone.now()
    if connection.vendor == "postgresql":
        return _claim_next_postgresql(system_id=system_id, order_id=order_id, now=now)
    with transaction.atomic():
        candidates = selectors.deliveries_claimable(now=now).filter(system_id=system_id, order_id=order_id)
        if connection.features.has_select_for_update_skip_locked:
            # Another worker holding this row is busy with it: skip rather than wait.
            candidates = candidates.select_for_update(skip_locked=True, of=("self",))
        head = candidates.select_related("event", "system").order_by("sequence").first()
        if head is None:
            return None
        claimed_until = now + dt.timedelta(seconds=_lease_seconds(head.system))
        # Compare-and-set: only one claimer wins even where SKIP LOCKED does not exist (SQLite).
        won = Delivery.objects.filter(pk=head.pk, state=head.state, attempts=head.attempts).update(
            state=Delivery.State.IN_FLIGHT,
            attempts=F("attempts") + 1,
            claimed_until=claimed_until,
            updated_at=now,
        )
        if not won:
            return None
    # What the row now holds (the compare-and-set above proves attempts was head.attempts).
    head.state = Delivery.State.IN_FLIGHT
    head.attempts += 1
    head.claimed_until = claimed_until
    head.updated_at = now
    return head


_CLAIMED = (Delivery, OutboxEvent, ExternalSystem)
_claim_statement: str | None = None
_converters: dict[type, list[tuple[Any, list]]] = {}  # per model: (column, its converters) in order


def _claim_sql() -> str:
    """The claim as one statement: pick the head as deliveries_claimable does, lock it (SKIP LOCKED), mark it
    in flight with the system's lease, and return the delivery, its event and its system.

    Written as SQL (built once per process) because it runs for every delivery: the ORM's version (a locking
    SELECT with an EXISTS subquery and two joins, then the compare-and-set UPDATE, in a transaction of their
    own) cost more CPU to build than anything else on the delivery path, and four round trips instead of
    one. The row lock of the sub-select makes the update a compare-and-set; a single statement commits alone.
    Keep its conditions those of selectors.deliveries_claimable (tests/crm_sync/test_delivery.py).
    """
    global _claim_statement
    if _claim_statement is None:
        q = connection.ops.quote_name
        deliveries, events, systems = (q(model._meta.db_table) for model in _CLAIMED)
        returning = ", ".join(
            f"{alias}.{q(field.column)}"
            for alias, model in zip(("d", "e", "s"), _CLAIMED, strict=True)
            for field in model._meta.concrete_fields
        )
        _claim_statement = (
            f"UPDATE {deliveries} d SET state = %(in_flight)s, attempts = d.attempts + 1, "  # noqa: S608 - our tables
            "claimed_until = %(now)s"
            " + make_interval(secs => s.connect_timeout + s.read_timeout + %(margin)s), "
            "updated_at = %(now)s "
            f"FROM {events} e, {systems} s "
            "WHERE e.id = d.event_id AND s.id = d.system_id AND d.id = ("
            f"  SELECT c.id FROM {deliveries} c JOIN {systems} cs ON cs.id = c.system_id"
            "   WHERE c.system_id = %(system)s AND c.order_id = %(order)s"
            "   AND cs.is_enabled AND NOT cs.is_paused"
            "   AND ((c.state IN (%(pending)s, %(failed)s) AND c.next_attempt_at <= %(now)s)"
            "        OR (c.state = %(in_flight)s AND c.claimed_until < %(now)s))"
            # The ordering guarantee: no earlier undelivered event of the order for the system.
            f"  AND NOT EXISTS (SELECT 1 FROM {deliveries} p WHERE p.system_id = c.system_id"
            "     AND p.order_id = c.order_id AND p.sequence < c.sequence AND p.state <> %(delivered)s)"
            # Another worker holding this row is busy with it: skip rather than wait.
            "   ORDER BY c.sequence LIMIT 1 FOR UPDATE OF c SKIP LOCKED"
            f") RETURNING {returning}"
        )
    return _claim_statement


def _from_row(model: type, values: list) -> Any:
    """A model instance from its concrete columns as the database returned them (the ORM's converters)."""
    converters = _converters.get(model)
    if converters is None:
        converters = []
        for field in model._meta.concrete_fields:
            column = field.get_col(model._meta.db_table)
            converters.append(
                (column, connection.ops.get_db_converters(column) + column.get_db_converters(connection))
            )
        _converters[model] = converters
    converted = []
    for (column, functions), value in zip(converters, values, strict=True):
        for function in functions:
            value = function(value, column, connection)
        converted.append(value)
    return model.from_db(connection.alias, [column.target.attname for column, _ in converters], converted)


def _claim_next_postgresql(*, system_id: int, order_id: int, now: dt.datetime) -> Delivery | None:
    with connection.cursor() as cursor:
        cursor.execute(
            _claim_sql(),
            {
                "system": system_id,
                "order": order_id,
                "now": now,
                "margin": settings.SYNC_LEASE_MARGIN_SECONDS,
                "pending": Delivery.State.PENDING.value,
                "failed": Delivery.State.FAILED.value,
                "in_flight": Delivery.State.IN_FLIGHT.value,
                "delivered": Delivery.State.DELIVERED.value,
            },
        )
        row = cursor.fetchone()
    if row is None:
        return None
    instances = []
    start = 0
    for model in _CLAIMED:
        width = len(model._meta.concrete_fields)
        instances.append(_from_row(model, list(row[start : start + width])))
        start += width
    delivery, event, system = instances
    delivery.event = event
    delivery.system = system
    return delivery


# --- sending --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SendResult:
    status_code: int | None
    latency_ms: int
    error: str
    response_excerpt: str

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


_client_lock = threading.Lock()
_clients: dict[int, httpx.Client] = {}


def _http_client() -> httpx.Client:
    """One pooled client per process (connections are reused; a forked worker gets its own)."""
    pid = os.getpid()
    with _client_lock:
        if pid not in _clients:
            _clients.clear()
            _clients[pid] = httpx.Client(follow_redirects=False)
        return _clients[pid]


def render_payload(*, system: ExternalSystem, event: OutboxEvent) -> tuple[bytes, str]:
    """The body and content type this system takes for this event."""
    cloudevent = event.as_cloudevent()
    if system.format == ExternalSystem.Format.B2MML:
        return b2mml.schedule_for_event(cloudevent, receiver=system.slug), "application/xml"
    outbound = (system.field_mapping or {}).get("outbound")
    if outbound:
        return json.dumps(apply_mapping(outbound, cloudevent)).encode(), "application/json"
    return json.dumps(cloudevent).encode(), "application/cloudevents+json"


def delivery_send(*, delivery: Delivery) -> SendResult:
    """One signed HTTP request; never raises for transport problems (they are the result)."""
    system = delivery.system
    body, content_type = render_payload(system=system, event=delivery.event)
    headers = {"content-type": content_type, "user-agent": "OrderBridge"}
    msg_id = str(delivery.event_id)
    if system.signing_secret:
        headers.update(webhooks.signed_headers(secret=system.signing_secret, msg_id=msg_id, body=body))
    else:
        headers["webhook-id"] = msg_id
    if system.bearer_token:
        headers["authorization"] = f"Bearer {system.bearer_token}"
    timeout = httpx.Timeout(
        connect=system.connect_timeout, read=system.read_timeout, write=system.read_timeout, pool=5.0
    )
    started = time.monotonic()
    try:
        response = _http_client().post(system.events_url, content=body, headers=headers, timeout=timeout)
    except httpx.HTTPError as exc:
        latency = int((time.monotonic() - started) * 1000)
        return SendResult(None, latency, f"{type(exc).__name__}: {exc}"[:1000], "")
    latency = int((time.monotonic() - started) * 1000)
    error = "" if response.is_success else f"HTTP {response.status_code}"
    return SendResult(response.status_code, latency, error, response.text[:RESPONSE_EXCERPT_CHARS])


# --- recording ------------------------------------------------------------------------------------------
def retry_delay(*, attempts: int) -> dt.timedelta:
    """Exponential backoff with "equal jitter": half the step fixed, half random, capped."""
    step = min(
        settings.SYNC_RETRY_MAX_SECONDS, settings.SYNC_RETRY_BASE_MS / 1000 * 2 ** max(attempts - 1, 0)
    )
    return dt.timedelta(seconds=step / 2 + random.uniform(0, step / 2))  # noqa: S311 - jitter, not crypto


def _gives_up(delivery: Delivery, now: dt.datetime) -> bool:
    tries = delivery.attempts - delivery.attempts_before_replay
    started = delivery.replayed_at or delivery.created_at
    return (
        tries >= settings.SYNC_MAX_ATTEMPTS
        or (now - started).total_seconds() >= settings.SYNC_MAX_AGE_SECONDS
    )


def _settle_event(event_id: Any) -> None:
    """Keep the event's own state a summary of its deliveries (dead wins over pending); one UPDATE.

    Written as SQL: it runs after every attempt, and building the same CASE … EXISTS through the ORM cost
    more CPU than the statement itself.
    """
    events = connection.ops.quote_name(OutboxEvent._meta.db_table)
    deliveries = connection.ops.quote_name(Delivery._meta.db_table)
    pk = OutboxEvent._meta.pk.get_db_prep_value(event_id, connection)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {events} SET state = CASE "  # noqa: S608 - our own table names
            f"WHEN EXISTS (SELECT 1 FROM {deliveries} d WHERE d.event_id = %s AND d.state = %s) THEN %s "
            f"WHEN NOT EXISTS (SELECT 1 FROM {deliveries} d WHERE d.event_id = %s AND d.state <> %s) THEN %s "
            "ELSE %s END WHERE id = %s",
            [
                pk,
                Delivery.State.DEAD.value,
                OutboxEvent.State.DEAD.value,
                pk,
                Delivery.State.DELIVERED.value,
                OutboxEvent.State.DELIVERED.value,
                OutboxEvent.State.PENDING.value,
                pk,
            ],
        )


@transaction.atomic
def delivery_record_result(*, delivery: Delivery, result: SendResult, started_at: dt.datetime) -> Delivery:
    """Log the attempt and move the delivery on: delivered, failed (retry later) or dead (alert).

    Compare-and-set on (state, attempts): a worker whose lease ran out and was overtaken logs its
    attempt but does not overwrite the newer claim's outcome.
    """
    now = timezone.now()
    DeliveryAttempt.objects.create(
        delivery=delivery,
        number=delivery.attempts,
        started_at=started_at,
        status_code=result.status_code,
        latency_ms=result.latency_ms,
        error=result.error,
        response_excerpt=result.response_excerpt,
    )
    current = Delivery.objects.filter(
        pk=delivery.pk, state=Delivery.State.IN_FLIGHT, attempts=delivery.attempts
    )
    if result.ok:
        changes = {"state": Delivery.State.DELIVERED, "delivered_at": now, "last_error": ""}
    elif _gives_up(delivery, now):
        changes = {"state": Delivery.State.DEAD, "last_error": result.error}
    else:
        changes = {
            "state": Delivery.State.FAILED,
            "last_error": result.error,
            "next_attempt_at": now
            + retry_delay(attempts=delivery.attempts - delivery.attempts_before_replay),
        }
    if not current.update(claimed_until=None, updated_at=now, **changes):
        logger.warning("delivery %s was claimed again while in flight; outcome not applied", delivery.pk)
        return delivery
    if changes["state"] == Delivery.State.DEAD:
        # The alert: an ERROR log line for the operators' log monitoring, and the admin's dead letters.
        logger.error(
            "dead letter: event %s (%s #%s %s) to %s after %s attempts: %s",
            delivery.event_id,
            delivery.event.subject,
            delivery.sequence,
            delivery.event.type,
            delivery.system.name,
            delivery.attempts,
            result.error,
        )
    _settle_event(delivery.event_id)
    for key, value in changes.items():
        setattr(delivery, key, value)
    return delivery


def deliveries_drain(*, system_id: int, order_id: int, limit: int = 100) -> int:
    """Send one order's due events to one system, in sequence, until the queue is empty or one fails.

    Idempotent: safe to run twice at once (the second finds the head claimed) or after a crash.
    Returns how many were delivered.
    """
    delivered = 0
    for _ in range(limit):
        delivery = delivery_claim_next(system_id=system_id, order_id=order_id)
        if delivery is None:
            break
        started_at = timezone.now()
        result = delivery_send(delivery=delivery)
        delivery = delivery_record_result(delivery=delivery, result=result, started_at=started_at)
        if delivery.state != Delivery.State.DELIVERED:
            break
        delivered += 1
        # Usually the queue is now empty: one plain read says so for less than a claim costs. It runs after
        # the result committed, so an event written since then has its own wake-up task, which can claim it.
        if not _queue_open(system_id=system_id, order_id=order_id):
            break
    return delivered


def _queue_open(*, system_id: int, order_id: int) -> bool:
    """Whether the order has any delivery to this system still to send (due or not)."""
    return (
        Delivery.objects.filter(system_id=system_id, order_id=order_id)
        .exclude(state__in=[Delivery.State.DELIVERED, Delivery.State.DEAD])
        .exists()
    )


# --- operator actions -----------------------------------------------------------------------------------
@transaction.atomic
def deliveries_replay(*, deliveries: Iterable[Delivery], actor: Any) -> int:
    """Put dead or failed deliveries back in their queue with a fresh retry budget, due now.

    In-flight and delivered rows are left alone (replaying a delivered event is a re-send the receiver
    would dedupe anyway; that is reconciliation's job). Returns how many were replayed.
    """
    now = timezone.now()
    ids = [delivery.pk for delivery in deliveries]
    rows = list(
        Delivery.objects.select_for_update()
        .filter(pk__in=ids, state__in=[Delivery.State.DEAD, Delivery.State.FAILED])
        .select_related("system")
    )
    for delivery in rows:
        Delivery.objects.filter(pk=delivery.pk).update(
            state=Delivery.State.PENDING,
            next_attempt_at=now,
            replayed_at=now,
            attempts_before_replay=F("attempts"),
            updated_at=now,
        )
        _settle_event(delivery.event_id)
        if not delivery.system.is_paused:
            _enqueue_on_commit(system_id=delivery.system_id, order_id=delivery.order_id)
    if rows:
        logger.info("%s replayed %s deliveries", getattr(actor, "username", "system"), len(rows))
    return len(rows)


@transaction.atomic
def external_system_set_paused(*, system: ExternalSystem, paused: bool, actor: Any) -> ExternalSystem:
    """Pause (the queue builds up, nothing is sent) or resume (every waiting order is woken up)."""
    system = ExternalSystem.objects.select_for_update().get(pk=system.pk)
    if system.is_paused == paused:
        return system
    system.is_paused = paused
    system.save(update_fields=["is_paused", "updated_at"])
    logger.info(
        "%s %s %s", getattr(actor, "username", "system"), "paused" if paused else "resumed", system.name
    )
    if not paused:
        for order_id in selectors.orders_waiting(system_id=system.pk):
            _enqueue_on_commit(system_id=system.pk, order_id=order_id)
    return system
