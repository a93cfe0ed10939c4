"""Which work orders a traveller prints, read in a fixed number of queries and within the visibility rule
(production.work_orders.records_visible_to: a work order of an order the user may not see is not found)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone

from config.kernel import Actor
from production.master_data import Shift, WorkCenter, work_center_plant
from production.work_orders import (
    SCHEDULABLE_STATUSES,
    WorkOrder,
    WorkOrderOperation,
    WorkOrderStatus,
    records_visible_to,
)


def traveller_work_orders(*, user: Actor) -> QuerySet[WorkOrder]:
    """Work orders `user` may see, with what a ticket prints: order and customer, product and its family's
    spec schema, the order line's spec values, operations in sequence with their work centers."""
    return records_visible_to(
        WorkOrder.objects.select_related("order__customer", "product__family", "order_line").prefetch_related(
            Prefetch(
                "operations",
                queryset=WorkOrderOperation.objects.select_related("work_center__plant").order_by("sequence"),
            )
        ),
        user=user,
    )


def work_order_for_traveller(*, user: Actor, number: str) -> WorkOrder:
    """One work order by number (WorkOrder.DoesNotExist when it does not exist or is hidden)."""
    return traveller_work_orders(user=user).get(number=number)


def order_travellers(*, user: Actor, order_number: str) -> list[WorkOrder]:
    """The live work orders of an order (its current ones, not cancelled), in number order."""
    return list(
        traveller_work_orders(user=user)
        .filter(order__number=order_number)
        .exclude(status=WorkOrderStatus.CANCELLED)
        .order_by("number")
    )


@dataclass(frozen=True)
class ShiftWindow:
    start: dt.datetime
    end: dt.datetime


def shift_window(*, day: dt.date, start: dt.time | None, end: dt.time | None) -> ShiftWindow:
    """A shift of `day` in the plant's time zone; a shift that ends at or before its start runs past
    midnight (as production.master_data.Shift does); no times: the whole day."""
    zone = timezone.get_current_timezone()
    begin = dt.datetime.combine(day, start or dt.time(0), tzinfo=zone)
    finish = dt.datetime.combine(day, end or dt.time(0), tzinfo=zone)
    if finish <= begin:
        finish += dt.timedelta(days=1)
    return ShiftWindow(start=begin, end=finish)


def shift_travellers(
    *, user: Actor, window: ShiftWindow, work_center_ids: list[int] | None = None
) -> list[WorkOrder]:
    """Work orders with an operation the current plan puts in `window` (on one of the work centers, when
    given), open ones only, in the order their first such operation starts."""
    operations = WorkOrderOperation.objects.filter(
        scheduled_start__lt=window.end,
        scheduled_end__gt=window.start,
        work_order__status__in=SCHEDULABLE_STATUSES,
    )
    if work_center_ids:
        operations = operations.filter(work_center_id__in=work_center_ids)
    first_start: dict[int, dt.datetime] = {}
    for work_order_id, start in operations.order_by("scheduled_start", "pk").values_list(
        "work_order_id", "scheduled_start"
    ):
        if start is not None:  # always: the filter above needs a start
            first_start.setdefault(work_order_id, start)
    if not first_start:
        return []
    found = traveller_work_orders(user=user).filter(pk__in=list(first_start))
    return sorted(found, key=lambda work_order: (first_start[work_order.pk], work_order.number))


def shift_choices() -> list[tuple[dt.time, dt.time]]:
    """The distinct shift windows of the plant's calendars, earliest first (the shift print page's list)."""
    return sorted(set(Shift.objects.values_list("start", "end")))


def active_work_centers() -> QuerySet[WorkCenter]:
    return WorkCenter.objects.filter(Q(is_active=True)).order_by("code")


def travellers_language(work_orders: Sequence[WorkOrder]) -> str:
    """The language tickets print in unless asked otherwise: the floor language of the plant the first work
    order runs in (its first operation's work center's plant, or the only plant), else
    ORDERBRIDGE_PLANT_LANGUAGE."""
    first = next((operations[0] for w in work_orders if (operations := list(w.operations.all()))), None)
    plant = work_center_plant(first.work_center) if first is not None else None
    return plant.floor_language if plant is not None else settings.PLANT_LANGUAGE
