"""The planner's page: the plan as a Gantt chart by line (data drawn by static/js/plan.js, day/week zoom),
load versus capacity per work center and week as a heat map, at-risk orders with why, open exceptions,
and actions
(reschedule now, hold/resume a work order, decide what change requests left made but not wanted). Thin:
selectors read, services write."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.dateparse import parse_date
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from config.http import AuthenticatedRequest
from config.kernel import ApplicationError, Forbidden, allowed
from orders import sales as order_services
from orders.models import Priority
from orders.sales import policies
from production import changes, replanning, work_orders
from production.changes.models import ChangeDisposition
from production.policies import RUN_SCHEDULE
from production.scheduling import plan_page, plan_views
from production.scheduling.runs import optimiser_outcome, schedule_run
from production.scheduling.selectors import at_risk_orders, current_schedule
from production.work_orders import WorkOrder

LOAD_WEEKS = 6


@permission_required("production.view_schedule", raise_exception=True)
def planner(
    request: AuthenticatedRequest, *, status: int = 200, objective_errors: list[str] | None = None
) -> HttpResponse:
    """The plan page: the Gantt of a window (zoom day/week, from ?start=YYYY-MM-DD), load as a heat map,
    at-risk orders, what waits for release, exceptions, held work orders and dispositions, and the
    planner's objective (what "better" means) with who chose it."""
    zoom = request.GET.get("zoom", "day")
    zoom = zoom if zoom in plan_page.ZOOMS else "day"
    start = parse_date(request.GET.get("start", "") or "") if _is_date(request.GET.get("start")) else None
    schedule = current_schedule()
    context: dict[str, Any] = {
        "schedule": schedule,
        "zoom": zoom,
        "open_exceptions": work_orders.records_visible_to(work_orders.open_exceptions(), user=request.user)[
            :50
        ],
        "optimiser": optimiser_outcome(),
        "waiting_orders": plan_page.orders_waiting_for_release(user=request.user),
        "waiting_work_orders": plan_page.work_orders_waiting_for_release(user=request.user),
        "can_release": allowed(request.user, "orders.release_salesorder")
        or allowed(request.user, "production.release_workorder"),
    }
    if schedule is not None:
        begin, end = plan_page.gantt_window(schedule=schedule, zoom=zoom, start=start)
        centers = plan_page.plan_centers()
        span = plan_page.ZOOMS[zoom]
        context.update(
            gantt=plan_page.gantt_data(
                schedule=schedule, begin=begin, end=end, user=request.user, centers=centers
            ),
            window_start=begin,
            window_end=end,
            previous_start=(begin - span).date().isoformat(),
            next_start=(begin + span).date().isoformat(),
            load=plan_page.load_grid(schedule=schedule, centers=centers, weeks=LOAD_WEEKS),
            on_time_percent=round(100 * schedule.on_time_rate),
            at_risk=at_risk_orders(schedule=schedule, user=request.user)[:100],
        )
        load = context["load"]
        context["load_weeks"] = [cell.week_start for cell in load[0]["cells"]] if load else []
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
    context.update(
        objective=replanning.plan_objective(),
        objective_choices=replanning.PlanObjective.choices,
        objective_history=replanning.plan_objective_history(limit=5),
        objective_errors=objective_errors or [],
        can_plan=allowed(request.user, RUN_SCHEDULE),
    )
    return render(request, "production/planner.html", context, status=status)


def _is_date(value: str | None) -> bool:
    try:
        return bool(value) and parse_date(value or "") is not None
    except ValueError:  # a well-formed but impossible date (2026-02-30)
        return False


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
@permission_required(RUN_SCHEDULE, raise_exception=True)
def objective_set(request: AuthenticatedRequest) -> HttpResponse:
    """The planner chooses what "better" means (POST objective, reason); the plan is made again with it."""
    try:
        change = replanning.plan_objective_set(
            actor=request.user,
            objective=request.POST.get("objective", ""),
            reason=request.POST.get("reason", ""),
        )
    except Forbidden as exc:
        raise PermissionDenied(exc.message) from exc
    except ApplicationError as exc:
        errors = [str(message) for messages_ in (exc.fields or {}).values() for message in messages_]
        return planner(request, status=400, objective_errors=errors or [str(exc.message)])
    if change is not None:
        messages.success(request, _("Objective saved; the plan is being made again with it."))
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
    panel = bool(request.htmx)  # from the work order's panel: the panel again, not the page
    try:
        work_orders.work_order_transition(
            actor=request.user, work_order=work_order, name=action, reason=request.POST.get("reason", "")
        )
    except Forbidden as exc:
        raise PermissionDenied(exc.message) from exc
    except ApplicationError as exc:
        if panel:
            return plan_views.render_panel(request, work_order, status=400, error=exc.message)
        messages.error(request, exc.message)
        return _back(request)
    notice = _("Work order %(number)s updated.") % {"number": number}
    if panel:
        return plan_views.render_panel(request, work_order, notice=notice)
    messages.success(request, notice)
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
