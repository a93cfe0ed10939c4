"""The planner's page: the plan as a Gantt chart by work center (server-rendered SVG, day/week zoom),
load versus capacity per work center and week, at-risk orders with why, open exceptions, and actions
(reschedule now, hold/resume a work order, decide what change requests left made but not wanted). Thin:
selectors read, services write."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from config.http import AuthenticatedRequest
from config.kernel import Actor, ApplicationError, Forbidden, allowed
from orders import sales as order_services
from orders.models import Priority
from orders.sales import policies
from production import changes, master_data, work_orders
from production.changes.models import ChangeDisposition
from production.policies import RUN_SCHEDULE
from production.scheduling.runs import optimiser_outcome, schedule_run
from production.scheduling.selectors import at_risk_orders, current_schedule, work_center_load
from production.work_orders import WorkOrder

GANTT_WIDTH = 1100
ROW_HEIGHT = 26
LABEL_WIDTH = 110
ZOOMS = {
    "day": (dt.timedelta(days=2), dt.timedelta(hours=3)),
    "week": (dt.timedelta(days=14), dt.timedelta(days=1)),
}
TIER_COLOURS = {"vip": "#d63384", "key": "#fd7e14", "standard": "#0d6efd"}
BUSY_COLOUR = "#adb5bd"


def _gantt(schedule, zoom: str, user: Actor) -> dict:
    span, tick = ZOOMS[zoom]
    start = schedule.horizon_start
    end = start + span
    scale = GANTT_WIDTH / span.total_seconds()
    entries = (
        schedule.entries.filter(start__lt=end, end__gt=start)
        .select_related("work_center", "operation__work_order__order__customer")
        .order_by("work_center__code", "unit", "start")
    )
    at_risk = set(schedule.projections.filter(at_risk=True).values_list("order_id", flat=True))
    rows: dict[tuple[str, int], list] = {}
    for center in master_data.work_centers().filter(is_active=True):
        for unit in range(center.units):
            rows[(center.code, unit)] = []
    for entry in entries:
        order = entry.operation.work_order.order
        left = max(entry.start, start)
        right = min(entry.end, end)
        bar = {
            "x": LABEL_WIDTH + round((left - start).total_seconds() * scale, 1),
            "width": max(1.0, round((right - left).total_seconds() * scale, 1)),
            "label": entry.operation.work_order.number,
            "title": f"{entry.operation.work_order.number} · {entry.operation.name} · "
            f"{order.customer.name} · {entry.start:%Y-%m-%d %H:%M}-{entry.end:%H:%M}",
            "colour": TIER_COLOURS.get(order.customer.tier, "#0d6efd"),
            "at_risk": order.pk in at_risk,
            "frozen": entry.frozen,
        }
        if not policies.can_view_order(user, order):
            # Another rep's order (the one visibility rule): the capacity it takes, not whose it is.
            bar.update(label="", title=f"{entry.start:%Y-%m-%d %H:%M}-{entry.end:%H:%M}", colour=BUSY_COLOUR)
            bar["at_risk"] = False
        rows.setdefault((entry.work_center.code, entry.unit), []).append(bar)
    lines = []
    for index, ((code, unit), bars) in enumerate(rows.items()):
        y = index * ROW_HEIGHT + 20
        lines.append({"label": f"{code} #{unit + 1}", "y": y, "text_y": y + 17, "bars": bars, "bar_y": y + 3})
    ticks = []
    moment = start
    while moment <= end:
        ticks.append(
            {
                "x": LABEL_WIDTH + round((moment - start).total_seconds() * scale, 1),
                "label": f"{moment:%d.%m %H:%M}" if zoom == "day" else f"{moment:%a %d.%m}",
            }
        )
        moment += tick
    return {
        "rows": lines,
        "ticks": ticks,
        "width": LABEL_WIDTH + GANTT_WIDTH,
        "height": len(lines) * ROW_HEIGHT + 30,
        "bar_height": ROW_HEIGHT - 6,
    }


@permission_required("production.view_schedule", raise_exception=True)
def planner(request: AuthenticatedRequest) -> HttpResponse:
    zoom = request.GET.get("zoom", "day")
    zoom = zoom if zoom in ZOOMS else "day"
    schedule = current_schedule()
    context: dict[str, Any] = {
        "schedule": schedule,
        "zoom": zoom,
        "open_exceptions": work_orders.records_visible_to(work_orders.open_exceptions(), user=request.user)[
            :50
        ],
        "optimiser": optimiser_outcome(),
    }
    if schedule is not None:
        context.update(
            gantt=_gantt(schedule, zoom, request.user),
            load=work_center_load(schedule=schedule, weeks=6),
            at_risk=at_risk_orders(schedule=schedule, user=request.user)[:100],
        )
    held_work_orders = work_orders.work_orders().filter(status="on_hold")
    context["held"] = held = list(work_orders.records_visible_to(held_work_orders, user=request.user)[:50])
    context["pending_disposition"] = work_orders.work_orders_pending_disposition(
        work_order_ids=[work_order.pk for work_order in held]
    )
    if allowed(request.user, changes.DECIDE_PERM):
        open_dispositions = work_orders.open_dispositions()
        context["open_dispositions"] = work_orders.records_visible_to(open_dispositions, user=request.user)[
            :100
        ]
    context["priorities"] = Priority.choices
    context["can_prioritise"] = allowed(request.user, policies.PRIORITISE_ANY)
    return render(request, "production/planner.html", context)


@require_POST
@permission_required(RUN_SCHEDULE, raise_exception=True)
def reschedule_now(request: AuthenticatedRequest) -> HttpResponse:
    try:
        schedule = schedule_run(
            actor=request.user,
            trigger=_("reschedule now by %(user)s") % {"user": request.user},
            method="fast",
        )
        messages.success(
            request, _("Plan version %(version)s is now current.") % {"version": schedule.version}
        )
    except ApplicationError as exc:
        messages.error(request, exc.message)
    return redirect("production:planner")


@require_POST
@permission_required("production.view_workorder", raise_exception=True)
def work_order_action(request: AuthenticatedRequest) -> HttpResponse:
    """Hold or resume a work order, or release one of a floor plant to the floor (POST number, action,
    reason)."""
    number = request.POST.get("number", "").strip()
    action = request.POST.get("action", "")
    work_order = get_object_or_404(
        work_orders.records_visible_to(WorkOrder.objects.all(), user=request.user), number=number
    )
    if action not in ("hold", "resume", "release"):
        return _back(request)
    if action == "release" and not work_orders.work_order_on_floor(work_order):
        # A work order of an MES plant is released by the MES's acknowledgement, not from here.
        messages.error(request, _("Work order %(number)s is released by the MES.") % {"number": number})
        return _back(request)
    try:
        work_orders.work_order_transition(
            actor=request.user, work_order=work_order, name=action, reason=request.POST.get("reason", "")
        )
        messages.success(request, _("Work order %(number)s updated.") % {"number": number})
    except Forbidden as exc:
        raise PermissionDenied(exc.message) from exc
    except ApplicationError as exc:
        messages.error(request, exc.message)
    return _back(request)


@require_POST
@permission_required(changes.DECIDE_PERM, raise_exception=True)
def disposition_decide(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """Decide an open disposition (POST decision, reason) from the planner page."""
    row = get_object_or_404(
        work_orders.records_visible_to(ChangeDisposition.objects.all(), user=request.user), pk=pk
    )
    try:
        changes.change_disposition_decide(
            actor=request.user,
            disposition=row,
            decision=request.POST.get("decision", ""),
            reason=request.POST.get("reason", ""),
        )
    except Forbidden as exc:
        raise PermissionDenied(exc.message) from exc
    except ApplicationError as exc:
        messages.error(request, exc.text())
    else:
        messages.success(
            request,
            _("Disposition of work order %(number)s decided.") % {"number": row.work_order.number},
        )
    return _back(request)


def _back(request: AuthenticatedRequest) -> HttpResponse:
    """To the page the action came from (the planner page or an order page), never off this site."""
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(target)
    return redirect("production:planner")


@require_POST
def order_priority(request: AuthenticatedRequest, number: str) -> HttpResponse:
    """Raise (or lower) an order's priority with a reason, from the planner page or the order page.

    Who may: orders.sales.policies.can_set_priority, checked by the service; a hidden order is a 404.
    """
    order = get_object_or_404(order_services.orders_visible_to(request.user), number=number)
    version = request.POST.get("version", "")
    try:
        order_services.order_set_priority(
            actor=request.user,
            order=order,
            priority=request.POST.get("priority", ""),
            reason=request.POST.get("reason", ""),
            expected_version=int(version) if version.isdigit() else None,
        )
    except Forbidden as exc:
        raise PermissionDenied(exc.message) from exc
    except ApplicationError as exc:
        messages.error(request, exc.text())
    else:
        messages.success(
            request,
            _("Priority of order %(number)s saved; the plan is being updated.") % {"number": order.number},
        )
    return _back(request)
