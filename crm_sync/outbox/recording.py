"""Recording: every order event becomes an outbox row, with one delivery per system that takes it.

The rows are written in the caller's transaction (the change and its event commit together); a wake-up
per (system, order) queue follows after commit (wake_ups.py). crm_sync.apps subscribes these functions to
the domain event bus.
"""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.db.models import Max, Prefetch
from django.utils import timezone

from config.kernel import Actor
from config.kernel.events import OrderEvent, OrderResync
from crm_sync.models import Delivery, ExternalSystem, OutboxEvent
from crm_sync.outbox import origin
from crm_sync.outbox.systems import enabled_systems
from crm_sync.outbox.wake_ups import enqueue_on_commit
from orders.models import SalesOrder
from orders.sales import order_event_payload


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
        data=_with_work_orders(event),
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
                data=_with_work_orders(event),
                actor_id=event.actor_id,
                reason=(event.reason or "")[:500],
                origin=origin_label,
                state=OutboxEvent.State.PENDING if systems else OutboxEvent.State.DELIVERED,
            )
        )
        targets.append(systems)
    OutboxEvent.objects.bulk_create(rows)
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
                enqueue_on_commit(system_id=system.pk, order_id=row.order_id)
    return rows


# Events after which the MES needs the order's work orders (B2MML: one OperationsRequest per work order).
# A decided disposition completes or cancels a work order held pending it, or makes a new one.
WORK_ORDER_EVENTS = {
    "order.released",
    "order.change_applied",
    "order.resync",
    "production.disposition_decided",
}


def _with_work_orders(event: OrderEvent) -> dict:
    """The event's data, plus the order's current work orders and their operations where the MES needs them.

    production's handler of the same event runs first (apps are ready in dependency order), so a
    release's work orders exist here, in the same transaction.
    """
    if event.type not in WORK_ORDER_EVENTS or "work_orders" in event.data:
        return event.data
    from production.models import WorkOrder, WorkOrderOperation
    from production.work_orders.services import work_orders_made

    # A release made them just now, in this transaction: take them as made rather than read them back.
    work_orders = work_orders_made(event.order) if event.type == "order.released" else None
    if work_orders is None:
        operations = WorkOrderOperation.objects.select_related("work_center").order_by("sequence")
        work_orders = (
            WorkOrder.objects.filter(order_id=event.order.pk, order_revision=event.order.revision)
            .select_related("product", "order_line")
            .prefetch_related(Prefetch("operations", queryset=operations, to_attr="operations_made"))
            .order_by("number")
        )
    return {
        **event.data,
        "work_orders": [
            {
                "number": work_order.number,
                "line_no": work_order.order_line.line_no if work_order.order_line else None,
                "sku": work_order.product.sku,
                "quantity": str(work_order.quantity),
                "status": work_order.status,
                "operations": [
                    {
                        "sequence": operation.sequence,
                        "name": operation.name,
                        "work_center": operation.work_center.code,
                        "planned_minutes": operation.planned_minutes,
                    }
                    for operation in work_order.operations_made
                ],
            }
            for work_order in work_orders
        ],
    }


def outbox_record_resync(
    *, order: SalesOrder, system: ExternalSystem, actor: Actor, reason: str
) -> OutboxEvent:
    """Send one system the order's current state again (reconciliation's "re-send"), in the order's queue.

    A full snapshot event ("order.resync"): the receiver replaces what it holds; earlier events stay as
    they are. Only `system` gets it.
    """
    with transaction.atomic():
        locked = (
            SalesOrder.objects.select_for_update(of=("self",)).select_related("customer").get(pk=order.pk)
        )
        event = OrderResync(order=locked, actor=actor, reason=reason, snapshot=order_event_payload(locked))
        return _record(event=event, systems=[system], origin_label="")
