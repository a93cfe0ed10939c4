"""Material availability as the plan sees it: each open work order's material-ready time (its release in
the scheduling problem) and the shortages behind it, kept as rows so that a NEW shortage raises one
production exception (sales and the CRM hear of it through the exception flow) and a refresh never
raises it again.

Work orders take material in order of their order's promised date (then id), each from stock, open supply
by expected date and what holds and other orders left; what released work orders reserved is left out of
the time lines because their own needs are counted here instead.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from production.scheduling.models import Schedule
from production.supply_planning import sources
from production.supply_planning.models import Shortage
from production.work_orders import Severity, exception_raise, exception_resolve, system_actor
from production.work_orders.models import ExceptionKind, ProductionException, WorkOrder

# Material that arrives less than this before the plan needs it (or after) is a shortage: the plan starts a
# work order when its material arrives, so "needed at" is at most a shift later than "arrives" when the
# material is what holds the work order.
LATE_MARGIN = dt.timedelta(days=1)


@dataclass(frozen=True)
class Short:
    work_order: int
    item: int
    quantity: Decimal
    needed_at: dt.datetime
    projected_at: dt.datetime
    source: str
    late: bool  # not there when the plan needs it (or no supply covers it): a shortage to raise


@dataclass
class Availability:
    ready: dict[int, dt.datetime]  # work order → when all its material is there (only when later than now)
    # Needs whose material is not there yet, per (work order, item); `late` ones are shortages.
    waiting: dict[tuple[int, int], Short]


def material_availability(*, work_order_ids: list[int] | None = None, now: dt.datetime) -> Availability:
    """Allocate material to open work orders in promise order (a fixed number of queries)."""
    schedule = Schedule.objects.filter(is_current=True).first()
    work_orders = sources.open_work_orders(work_order_ids)
    needs = sources.work_order_needs(work_orders, now=now, schedule=schedule)
    by_order: dict[int, list[sources.WorkOrderNeed]] = defaultdict(list)
    for need in needs:
        by_order[need.work_order].append(need)
    lines = sources.timelines({need.item for need in needs}, now=now, work_order_reservations=False)
    lead_times = sources.lead_times({need.item for need in needs if need.item})
    ready: dict[int, dt.datetime] = {}
    waiting: dict[tuple[int, int], Short] = {}
    for row in work_orders:
        for need in by_order.get(row["id"], ()):
            timeline = lines[need.item]
            found = timeline.ready(need.quantity, now=now)
            if found is None:
                projected, source = now + dt.timedelta(days=lead_times.get(need.item, 0)), ""
                available = max(Decimal(0), timeline.on_hand)
            else:
                projected, source = found
                available = need.quantity
            if projected > now:
                ready[row["id"]] = max(ready.get(row["id"], now), projected)
                key = (row["id"], need.item)
                short = need.quantity - min(available, need.quantity)
                earlier = waiting.get(key)
                waiting[key] = Short(
                    row["id"],
                    need.item,
                    short + (earlier.quantity if earlier else Decimal(0)),
                    min(need.at, earlier.needed_at) if earlier else need.at,
                    max(projected, earlier.projected_at) if earlier else projected,
                    source,
                    found is None or projected + LATE_MARGIN > need.at or bool(earlier and earlier.late),
                )
            timeline.promise(need.quantity, max(projected, need.at))
    return Availability(ready=ready, waiting=waiting)


def release_minutes(*, origin: dt.datetime, now: dt.datetime) -> dict[int, int]:
    """Per work order, the minute from `origin` before which its material is not all there (the
    scheduling problem's release; work orders whose material is there now are left out)."""
    availability = material_availability(now=now)
    return {
        work_order: max(0, math.ceil((moment - origin).total_seconds() / 60))
        for work_order, moment in availability.ready.items()
    }


@transaction.atomic
def shortages_refresh(*, now: dt.datetime | None = None) -> list[Shortage]:
    """Bring the shortage rows up to date with the plan and supply; returns the NEW shortages.

    A new (work order, item) shortage (material not there when the plan needs it) gets a row and, per work
    order, one production exception of kind material shortage whose expected delay reaches the projected
    date (sales and the CRM are told by the exception flow). A known shortage stays open while its material
    is still to come, whatever the next plan does with the release it caused (only its projected date
    moves), and is resolved once the material is there; its exception too when all its shortages are.
    Idempotent: a second run with nothing changed does nothing.
    """
    now = now or timezone.now()
    found = material_availability(now=now).waiting
    open_rows = {
        (row.work_order_id, row.item_id): row
        for row in Shortage.objects.select_for_update().filter(resolved_at__isnull=True)
    }
    for key, row in open_rows.items():
        short = found.get(key)
        if short is None:
            row.resolved_at = now
            row.save(update_fields=["resolved_at"])
        elif (row.projected_at, row.quantity, row.source) != (
            short.projected_at,
            short.quantity,
            short.source,
        ):
            row.projected_at, row.quantity, row.source = short.projected_at, short.quantity, short.source
            row.save(update_fields=["projected_at", "quantity", "source"])
    _resolve_cleared_exceptions(now)
    new_by_order: dict[int, list[Short]] = defaultdict(list)
    for key, short in found.items():
        if key not in open_rows and short.late:
            new_by_order[short.work_order].append(short)
    if not new_by_order:
        return []
    actor = system_actor()
    work_orders = WorkOrder.objects.in_bulk(list(new_by_order))
    codes = sources.item_codes({short.item for shorts_ in new_by_order.values() for short in shorts_})
    created: list[Shortage] = []
    for work_order_id, new in sorted(new_by_order.items()):
        latest = max(short.projected_at for short in new)
        description = _("Material shortage: %(items)s; material expected by %(date)s.") % {
            "items": ", ".join(
                f"{codes.get(short.item, short.item)} ({short.source or _('no open supply')})"
                for short in new
            ),
            "date": timezone.localtime(latest).strftime("%Y-%m-%d %H:%M"),
        }
        exception = exception_raise(
            actor=actor,
            kind=ExceptionKind.MATERIAL_SHORTAGE,
            severity=Severity.HIGH,
            work_order=work_orders[work_order_id],
            description=description,
            expected_delay_minutes=max(0, math.ceil((latest - now).total_seconds() / 60)),
            raised_at=now,
        )
        for short in new:
            created.append(
                Shortage.objects.create(
                    work_order_id=work_order_id,
                    item_id=short.item,
                    quantity=short.quantity,
                    needed_at=short.needed_at,
                    projected_at=short.projected_at,
                    source=short.source,
                    exception=exception,
                    detected_at=now,
                )
            )
    return created


def _resolve_cleared_exceptions(now: dt.datetime) -> None:
    """A shortage exception all of whose shortages are resolved is resolved (its delay no longer holds)."""
    still_open = Shortage.objects.filter(resolved_at__isnull=True, exception__isnull=False).values(
        "exception_id"
    )
    cleared = (
        ProductionException.objects.filter(
            kind=ExceptionKind.MATERIAL_SHORTAGE,
            resolved_at__isnull=True,
            pk__in=Shortage.objects.values("exception_id"),
        )
        .exclude(pk__in=still_open)
        .values_list("pk", flat=True)
    )
    ids = list(cleared)
    if ids:
        actor = system_actor()
        for pk in ids:
            exception_resolve(actor=actor, exception=pk, resolution=_("The material is there now."))
