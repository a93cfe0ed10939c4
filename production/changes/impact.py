"""The impact analysis of a change request, as production sees it (registered with
orders.change_requests.register_impact_provider in ProductionConfig.ready).

Which work orders and operations the change touches and how far along they are (production.changes.plans),
surplus and rework, the projected completion before and after through the current plan (capable-to-promise),
and the other orders the added work would push past their promise.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from orders.catalog.models import Product
from orders.change_requests import WorkImpact
from orders.sales.models import SalesOrder
from production.changes.models import DispositionKind
from production.changes.plans import lots, plan_change, quantity_text
from production.master_data import planned_minutes
from production.master_data.models import Routing
from production.scheduling import (
    HorizonExceeded,
    QuoteLine,
    capable_to_promise,
    current_schedule,
    job_weight,
    order_projection,
    plan_index,
    promise_due,
)
from production.scheduling.models import OrderProjection
from production.supply_planning import QuoteMaterialLine, material_ready


def _iso(moment: dt.datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def _promised_after(
    order: SalesOrder, changes: list[Mapping[str, Any]]
) -> tuple[dt.date | None, dt.time | None]:
    """The promised date and time of day once the changes are made."""
    promised, at = order.promised_date, order.promised_time
    for change in changes:
        if change["op"] == "set_date" and change["field"] == "promised_date":
            promised = dt.date.fromisoformat(change["value"])
        if change["op"] == "set_time" and change["field"] == "promised_time":
            at = dt.time.fromisoformat(change["value"]) if change["value"] else None
    return promised, at


def _quote_extra(
    order: SalesOrder, extra: list[tuple[Product, Decimal, dict[str, Any]]]
) -> tuple[dt.datetime | None, dict[int, int], str]:
    """Insert the extra work into the current plan (capable-to-promise), each line from when its material
    is there; its completion, whom it delays, and the material that binds it ("" when capacity does)."""
    schedule = current_schedule()
    index, origin, centers = plan_index(schedule)
    now = timezone.now()
    # Not strict: a spec the BOM cannot be exploded with is the change's own validation's to name.
    materials = material_ready(
        lines=[QuoteMaterialLine(product.pk, quantity, spec) for product, quantity, spec in extra],
        now=now,
        strict=False,
    )
    lines = []
    for number, (product, quantity, _spec) in enumerate(extra):
        routing = Routing.objects.filter(product=product, is_active=True).first()
        operations = list(routing.operations.all()) if routing else []
        if routing is None or not operations or any(op.work_center_id not in centers for op in operations):
            continue
        for lot in lots(quantity, routing.lot_size):
            ops = [
                (
                    op.work_center_id,
                    max(
                        1, math.ceil(planned_minutes(op, lot) / float(centers[op.work_center_id].efficiency))
                    ),
                )
                for op in operations
            ]
            release = max(0, int((materials[number].ready - origin).total_seconds() // 60))
            lines.append(QuoteLine(key=number, ops=ops, release=release))
    if not lines:
        return None, {}, ""
    earliest = max(0, int((now - origin).total_seconds() // 60))
    try:
        result = capable_to_promise(
            index, lines=lines, weight=job_weight(order.customer.tier, order.priority), earliest=earliest
        )
    except HorizonExceeded:
        return None, {}, ""
    binding = ""
    if any(line.release > earliest for line in lines):
        latest = max(materials, key=lambda material: material.ready)
        binding = _("The added work waits for material %(item)s until %(date)s%(source)s.") % {
            "item": latest.item,
            "date": timezone.localtime(latest.ready).date().isoformat(),
            "source": f" ({latest.source})" if latest.source else "",
        }
    # The quote names the orders whose planned work the inserted work lands on; each moves behind it, so
    # its delay is at most the span of the inserted work (calendar-aware: the quote's completion).
    span = max(0, result.completion - earliest)
    delayed = {key: span for key in result.delayed if key != order.pk}
    return origin + dt.timedelta(minutes=result.completion), delayed, binding


def _respec_material(
    work: list[tuple[Product, Decimal, dict[str, Any]]], work_orders: list[int]
) -> tuple[dt.datetime | None, str]:
    """Unstarted work that takes a new spec needs the new spec's material (powder in the new RAL colour):
    when the last of it is there, and a note naming it ("" and None when it is all there now)."""
    now = timezone.now()
    materials = material_ready(
        lines=[QuoteMaterialLine(product.pk, quantity, spec) for product, quantity, spec in work],
        now=now,
        strict=False,
        except_work_orders=work_orders,  # what they reserved for the old spec is theirs to swap
    )
    latest = max(materials, key=lambda material: material.ready, default=None)
    if latest is None or latest.ready <= now + dt.timedelta(minutes=1):
        return None, ""
    note = _("The new spec needs material %(item)s, there by %(date)s%(source)s.") % {
        "item": latest.item,
        "date": timezone.localtime(latest.ready).date().isoformat(),
        "source": f" ({latest.source})" if latest.source else f" ({_('no open supply')})",
    }
    return latest.ready, note


def analyse_change(*, order: SalesOrder, changes: list[Mapping[str, Any]]) -> WorkImpact:
    """The impact of validated changes on work under way and on the plan."""
    plan = plan_change(order=order, changes=changes)
    projection = order_projection(order=order)
    before = projection.projected_completion if projection else None
    after = before
    delays_other: list[dict[str, Any]] = []
    notes: list[str] = []
    if plan.extra_work:
        completion, delayed, binding = _quote_extra(order, plan.extra_work)
        if binding:
            notes.append(binding)
        if completion is not None and before is not None:
            after = max(before, completion)
        else:
            notes.append(_("The added work has no routing yet: its completion cannot be projected."))
        if delayed:
            schedule = current_schedule()
            others = OrderProjection.objects.filter(schedule=schedule, order_id__in=delayed).select_related(
                "order__customer"
            )
            for other in others:
                if other.promised_date is None or other.projected_completion is None:
                    continue
                pushed = other.projected_completion + dt.timedelta(minutes=delayed[other.order_id])
                if pushed > promise_due(other.promised_date, other.order.promised_time):
                    delays_other.append(
                        {
                            "order": other.order.number,
                            "customer": other.order.customer.name,
                            "tier": other.order.customer.tier,
                            "promised_date": other.promised_date.isoformat(),
                            "projected_before": _iso(other.projected_completion),
                            "projected_after": _iso(pushed),  # at most
                        }
                    )
    elif any(step.action in ("shrink", "cancel") for step in plan.steps):
        notes.append(_("Less work: the order completes at the projected date or earlier."))
    if plan.respec_work:
        ready, note = _respec_material(plan.respec_work, plan.respec_work_orders)
        if note:
            notes.append(note)
        if ready is not None and after is not None:
            after = max(after, ready)
    if projection is None:
        notes.append(_("No current plan projects this order yet: run the schedule for dates."))
    promised, promised_time = _promised_after(order, changes)
    late_after = bool(after and promised and after > promise_due(promised, promised_time))
    return {
        "errors": plan.errors,
        "lines": [step.as_dict() for step in plan.steps],
        "work_started": plan.work_started,
        "reduces_started_work": plan.reduces_started_work,
        "surplus_quantity": quantity_text(plan.surplus(DispositionKind.SURPLUS)),
        "rework_quantity": quantity_text(plan.surplus(DispositionKind.WRONG_SPEC)),
        "cancelled_made_quantity": quantity_text(plan.surplus(DispositionKind.CANCELLED)),
        "projected_before": _iso(before),
        "projected_after": _iso(after),
        "promised_date": promised.isoformat() if promised else None,
        "late_after": late_after,
        "delays_other_orders": delays_other,
        "notes": [str(note) for note in notes],
    }
