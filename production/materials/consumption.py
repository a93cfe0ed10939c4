"""Materials follow work orders: reservations when work orders are made at a release, consumption by
backflush when progress is reported (good and scrap both consume), reservations let go when work orders
are cancelled.

The handlers are subscribed to typed events (config.kernel.events) in ProductionConfig.ready and run inside
the publishing transaction; each reads what it needs from its event's fields.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import TYPE_CHECKING

from django.utils import timezone
from django.utils.translation import gettext_lazy

from config.kernel import Message, define, message, stamp
from config.kernel.events import OrderCancelled, ProgressReported, WorkOrderCancelled, WorkOrdersCreated
from production.materials import fast_sql
from production.materials.boms import BomBook, leaf_requirements
from production.materials.models import (
    Item,
    Location,
    MovementKind,
    Reservation,
    ReservationState,
    StockLevel,
)
from production.materials.stock import default_location, movement_record
from production.work_orders import ProgressReport, WorkOrder, WorkOrderOperation, event_actor

# The reasons the ledger and the reservations' history keep, as messages read in each reader's language.
RESERVED = define("materials.reserved", gettext_lazy("Reserved at the release of order %(number)s"))
BACKFLUSHED = define(
    "materials.backflushed", gettext_lazy("Backflushed with progress on %(number)s/%(sequence)s")
)
OPERATION_FINISHED = define(
    "materials.operation_finished",
    gettext_lazy(
        "Operation %(number)s/%(sequence)s finished: the rest of its material is no longer reserved"
    ),
)
WORK_ORDER_CANCELLED = define("materials.work_order_cancelled", gettext_lazy("Work order cancelled"))
ORDER_CANCELLED = define("materials.order_cancelled", gettext_lazy("Order cancelled"))

if TYPE_CHECKING:
    from django.contrib.auth.models import User


def on_work_orders_created(event: WorkOrdersCreated) -> None:
    """Reserve the leaf components of every work order made (spec of its order line, BOM in force on the
    order's requested date, else today), one reservation per item and consuming operation. Idempotent: a
    work order that has reservations gets none again."""
    on_work_orders_created_many([event])


def on_work_orders_created_many(events: list[WorkOrdersCreated]) -> None:
    """on_work_orders_created's batch form: the products' items read once for all the events."""
    made_of = [(event, list(event.work_orders)) for event in events]
    product_ids = {wo.product_id for _event, made in made_of for wo in made}
    if not product_ids:
        return
    # The products' items first: a product with no item (no BOM to explode, the common case of a release
    # from the CRM) needs neither the reservations check nor the BOM book, two reads fewer per release.
    by_product = {item.product_id: item for item in Item.objects.filter(product_id__in=product_ids)}
    if not by_product:
        return
    book = BomBook()
    for event, made in made_of:
        _reserve(event, [wo for wo in made if wo.product_id in by_product], by_product, book)


def _reserve(
    event: WorkOrdersCreated, made: list[WorkOrder], by_product: dict[int | None, Item], book: BomBook
) -> None:
    if not made:
        return
    already = set(
        Reservation.objects.filter(work_order__in=[wo.pk for wo in made]).values_list(
            "work_order_id", flat=True
        )
    )
    order = event.order
    on = order.requested_date or timezone.localdate()
    actor = event_actor(event)
    reason = message(RESERVED, number=order.number)
    for work_order in made:
        item = by_product.get(work_order.product_id)
        if item is None or work_order.pk in already:
            continue
        spec = work_order.order_line.spec_values if work_order.order_line else {}
        rows = book.explode(item, spec=spec or {}, quantity=work_order.quantity, on=on)
        for (item_id, sequence), quantity in sorted(leaf_requirements(rows).items(), key=_by_item):
            reservation = Reservation(
                item_id=item_id,
                quantity=quantity,
                needed_on=on,
                work_order=work_order,
                operation_sequence=sequence,
                holder=actor,
                reference=work_order.number,
            )
            stamp(reservation, actor=actor, reason=reason)
            reservation.save()


def _by_item(entry: tuple[tuple[int, int | None], Decimal]) -> tuple[int, int]:
    (item_id, sequence), _quantity = entry
    return item_id, sequence or 0


def on_progress_reported(event: ProgressReported) -> None:
    """Backflush: the report's good and scrap quantities consume, per unit of the work order, what the
    reservations of the reported operation hold (reservations without an operation go with the first
    operation). Good is a consumption movement, scrap a scrap movement; the reservation's consumed quantity
    grows and it is consumed when used up. Once per report (the ledger's unique key). A report that
    finishes the operation settles its reservations: what they still hold is released.

    A report on work with nothing reserved (most of them) costs one read: the reservations come first."""
    if event.progress_report_id is None:
        return
    told_good, told_scrap = event.good_quantity, event.scrap_quantity
    nothing_told = told_good is not None and told_scrap is not None and told_good + told_scrap <= 0
    if nothing_told and not event.operation_finished:
        return
    if event.work_order_id is not None and event.operation_is_first is not None:
        work_order_id, first = event.work_order_id, event.operation_is_first
    else:
        work_order_id = WorkOrder.objects.values_list("pk", flat=True).get(number=event.work_order_number)
        first_sequence = (
            WorkOrderOperation.objects.filter(work_order_id=work_order_id)
            .order_by("sequence")
            .values_list("sequence", flat=True)
            .first()
        )
        first = event.operation_sequence == first_sequence
    reservations = fast_sql.reservations_to_consume(
        work_order_id=work_order_id, sequence=event.operation_sequence, first=first
    )
    if not reservations:
        return
    report = (
        ProgressReport.objects.select_related("operation__work_order")
        .filter(pk=event.progress_report_id)
        .first()
    )
    if report is None:
        return
    actor = event_actor(event)
    if not report.stock_movements.exists():
        _backflush(event, report, reservations, actor)
    if event.operation_finished:
        _settle(report, reservations, actor)


def _settle(report: ProgressReport, reservations: list[Reservation], actor: User | None) -> None:
    """The consuming operation is finished: what its reservations still hold was not used (fewer made, or
    less scrap than planned) and is no longer reserved (it stays on hand, free for other work)."""
    reason = message(
        OPERATION_FINISHED, number=report.operation.work_order.number, sequence=str(report.operation.sequence)
    )
    for reservation in reservations:
        if reservation.state != ReservationState.ACTIVE:
            continue
        reservation.release()
        stamp(reservation, actor=actor, reason=reason)
        reservation.save()


def _backflush(
    event: ProgressReported, report: ProgressReport, reservations: list[Reservation], actor: User | None
) -> None:
    items = Item.objects.in_bulk({reservation.item_id for reservation in reservations})
    work_order = report.operation.work_order
    sequence = event.operation_sequence
    good = event.good_quantity if event.good_quantity is not None else report.good_quantity
    scrap = event.scrap_quantity if event.scrap_quantity is not None else report.scrap_quantity
    if good + scrap <= 0 or work_order.quantity <= 0:
        return
    reason = message(BACKFLUSHED, number=work_order.number, sequence=str(sequence))
    per_item: dict[int, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    for reservation in reservations:
        per_unit = reservation.quantity / work_order.quantity
        used_good, used_scrap = per_unit * good, per_unit * scrap
        per_item[reservation.item_id][MovementKind.CONSUMPTION] += used_good
        per_item[reservation.item_id][MovementKind.SCRAP] += used_scrap
        reservation.consumed_quantity = min(
            reservation.quantity, reservation.consumed_quantity + used_good + used_scrap
        )
        if reservation.consumed_quantity >= reservation.quantity:
            reservation.consume()
        stamp(reservation, actor=actor, reason=reason)
        reservation.save()
    for item_id, kinds in per_item.items():
        location = _take_from(items[item_id], sum(kinds.values(), Decimal(0)))
        for kind, quantity in kinds.items():
            if quantity > 0:
                movement_record(
                    item=items[item_id],
                    location=location,
                    kind=kind,
                    quantity=-quantity,
                    actor=actor,
                    reason=reason,
                    occurred_at=report.reported_at,
                    work_order=work_order,
                    progress_report=report,
                )


def _take_from(item: Item, quantity: Decimal) -> Location:
    """The location a backflush takes from: one that has enough, else the one with most, else the default."""
    levels = list(StockLevel.objects.filter(item=item).select_related("location").order_by("location__code"))
    for level in levels:
        if level.on_hand >= quantity:
            return level.location
    if levels:
        return max(levels, key=lambda level: level.on_hand).location
    return default_location()


def reservations_release(*, work_orders: list[WorkOrder], actor: User | None, reason: str | Message) -> int:
    """Let go of what cancelled work orders still hold; returns how many reservations were released."""
    reservations = Reservation.objects.select_for_update(no_key=True).filter(
        work_order__in=[wo.pk for wo in work_orders], state=ReservationState.ACTIVE
    )
    count = 0
    for reservation in reservations:
        reservation.release()
        stamp(reservation, actor=actor, reason=reason)
        reservation.save()
        count += 1
    return count


def on_work_order_cancelled(event: WorkOrderCancelled) -> None:
    work_order = WorkOrder.objects.filter(number=event.work_order_number).first()
    if work_order is not None:
        reservations_release(
            work_orders=[work_order],
            actor=event_actor(event),
            reason=event.reason or message(WORK_ORDER_CANCELLED),
        )


def on_order_cancelled(event: OrderCancelled) -> None:
    reservations_release(
        work_orders=list(event.order.work_orders.all()),
        actor=event_actor(event),
        reason=event.reason or message(ORDER_CANCELLED),
    )
