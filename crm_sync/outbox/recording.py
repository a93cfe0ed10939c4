"""Recording: every order event becomes an outbox row, with one delivery per system that takes it.

The rows are written in the caller's transaction (the change and its event commit together); a wake-up
per (system, order) queue follows after commit (wake_ups.py). crm_sync.apps subscribes these functions to
the domain event bus.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from config.kernel.events import OrderEvent, OrderResync
from crm_sync.models import Delivery, ExternalSystem, OutboxEvent
from crm_sync.outbox import origin
from crm_sync.outbox.systems import enabled_systems
from crm_sync.outbox.wake_ups import enqueue_many_on_commit, enqueue_on_commit
from crm_sync.outbox.work_orders import event_data, rows_written
from orders.models import SalesOrder
from orders.sales import order_event_payload
from production.supply_planning import explosions_held

if TYPE_CHECKING:
    from django.contrib.auth.models import User


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
        if _takes(system, event)
        # Echo suppression: the system the change came from already has it.
        and (source_system is None or system.pk != source_system.pk)
    ]
    return _record(event=event, systems=systems, origin_label=origin.label(source_system))


def _takes(system: ExternalSystem, event: OrderEvent) -> bool:
    """The system takes the event's type, and is of the kind the event is for (work-order events: the MES)."""
    return system.takes(event.type) and (not event.audience or system.kind == event.audience)


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
        caused_at=origin.caused_at(now),
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
            enqueue_on_commit(system_id=system.pk, order_id=event.order.pk)
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
    caused_at = origin.caused_at(now)
    rows: list[OutboxEvent] = []
    targets: list[list[ExternalSystem]] = []
    with explosions_held():  # the events' materials (MES payloads) from one read of the BOMs
        for event in events:
            systems = [system for system in enabled if _takes(system, event)]
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
                    caused_at=caused_at,
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
    enqueue_many_on_commit(
        (system.pk, row.order_id)
        for row, systems in zip(rows, targets, strict=True)
        for system in systems
        if not system.is_paused
    )
    return rows


def outbox_record_resync(
    *, order: SalesOrder, system: ExternalSystem, actor: User, reason: str
) -> OutboxEvent:
    """Send one system the order's current state again (reconciliation's "re-send"), in the order's queue.

    A full snapshot event ("order.resync"): the receiver replaces what it holds; earlier events stay as
    they are. Only `system` gets it.
    """
    with transaction.atomic():
        locked = (
            SalesOrder.objects.select_for_update(no_key=True, of=("self",))
            .select_related("customer")
            .get(pk=order.pk)
        )
        event = OrderResync(order=locked, actor=actor, reason=reason, snapshot=order_event_payload(locked))
        return _record(event=event, systems=[system], origin_label="")
