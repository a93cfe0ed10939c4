"""The plan page's actions: a work order's panel (opened by clicking its bar, through htmx), pinning and
unpinning an operation, and the bulk release of what waits for release (one transaction per row, a result
per row). Thin: production.scheduling.plan_page reads, the services write."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.contrib.auth.decorators import permission_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from config.http import AuthenticatedRequest
from config.kernel import ApplicationError, Forbidden, allowed
from orders import sales as order_services
from orders.models import Priority
from orders.sales import policies, visible_to
from production import work_orders
from production.policies import RUN_SCHEDULE
from production.scheduling import plan_page
from production.scheduling.models import OperationPin
from production.scheduling.pins import operation_pin, operation_unpin
from production.scheduling.selectors import current_schedule
from production.work_orders import WorkOrder, WorkOrderOperation, WorkOrderStatus

VIEW_SCHEDULE = "production.view_schedule"
RELEASE_LIMIT = 200  # rows one bulk release takes (the page lists at most 100 of each kind)


def _visible_work_order(request: AuthenticatedRequest, number: str) -> WorkOrder:
    queryset = work_orders.records_visible_to(
        WorkOrder.objects.select_related("order__customer", "product"), user=request.user
    )
    return get_object_or_404(queryset, number=number)


def render_panel(
    request: AuthenticatedRequest,
    work_order: WorkOrder,
    *,
    status: int = 200,
    notice: str = "",
    error: str = "",
    errors: dict[str, list[str]] | None = None,
) -> HttpResponse:
    """The work order's panel (templates/production/plan/work_order_panel.html), for htmx to swap in."""
    work_order = _visible_work_order(request, work_order.number)  # fresh: after an action, its new status
    context = plan_page.work_order_panel(work_order=work_order, schedule=current_schedule())
    context.update(
        notice=notice,
        error=error,
        errors=errors or {},
        priorities=Priority.choices,
        can_prioritise=policies.can_set_priority(request.user, work_order.order),
        can_pin=allowed(request.user, RUN_SCHEDULE),
        can_hold=allowed(request.user, "production.hold_workorder"),
        # A planned work order of a plant that reports on OrderBridge's own floor: released from here.
        can_release_to_floor=work_order.status == WorkOrderStatus.PLANNED
        and allowed(request.user, "production.release_workorder")
        and work_orders.work_order_on_floor(work_order),
        now=timezone.localtime().replace(second=0, microsecond=0),
    )
    return render(request, "production/plan/work_order_panel.html", context, status=status)


@require_GET
@permission_required(VIEW_SCHEDULE, raise_exception=True)
def work_order_panel(request: AuthenticatedRequest, number: str) -> HttpResponse:
    return render_panel(request, _visible_work_order(request, number))


def _pin_start(value: str) -> dt.datetime | None:
    """A datetime-local field's value ("2026-12-07T06:00") in the plant's time zone; None if unreadable."""
    try:
        moment = parse_datetime(value.strip())
    except ValueError:
        return None
    if moment is None:
        return None
    return timezone.make_aware(moment) if timezone.is_naive(moment) else moment


@require_POST
@permission_required(RUN_SCHEDULE, raise_exception=True)
def operation_pin_view(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """Pin an operation (POST line — 1-based —, start, reason); the panel again, with errors as 400."""
    operation = get_object_or_404(
        work_orders.records_visible_to(
            WorkOrderOperation.objects.select_related("work_order"), user=request.user
        ),
        pk=pk,
    )
    line = request.POST.get("line", "").strip()
    try:
        operation_pin(
            actor=request.user,
            operation=operation,
            unit=int(line) - 1 if line.isdigit() else None,
            start=_pin_start(request.POST.get("start", "")),
            reason=request.POST.get("reason", ""),
        )
    except Forbidden as exc:
        raise PermissionDenied(exc.message) from exc
    except ApplicationError as exc:
        return render_panel(
            request, operation.work_order, status=400, error=exc.message, errors=_pin_fields(exc)
        )
    return render_panel(
        request,
        operation.work_order,
        notice=_("Operation %(sequence)s pinned; the plan is being updated.")
        % {"sequence": operation.sequence},
    )


def _pin_fields(exc: ApplicationError) -> dict[str, list[str]]:
    return dict(getattr(exc, "fields", None) or {})


@require_POST
@permission_required(RUN_SCHEDULE, raise_exception=True)
def operation_unpin_view(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    pins = OperationPin.objects.select_related("operation__work_order")
    pin = get_object_or_404(
        visible_to(pins, user=request.user, through="operation__work_order__order"), pk=pk
    )
    try:
        operation_unpin(actor=request.user, pin=pin, reason=request.POST.get("reason", ""))
    except Forbidden as exc:
        raise PermissionDenied(exc.message) from exc
    return render_panel(
        request,
        pin.operation.work_order,
        notice=_("Operation %(sequence)s unpinned; the plan is being updated.")
        % {"sequence": pin.operation.sequence},
    )


# --- bulk release --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ReleaseResult:
    kind: str  # "order" or "work_order"
    number: str
    ok: bool
    message: str


@require_POST
@permission_required(VIEW_SCHEDULE, raise_exception=True)
def release_selected(request: AuthenticatedRequest) -> HttpResponse:
    """Release each selected order (to production) and work order (to the MES) through its own transition,
    one transaction per row: one row's refusal leaves the others released. A result per row."""
    items = request.POST.getlist("item")[:RELEASE_LIMIT]
    reason = request.POST.get("reason", "").strip() or _("Released from the plan page")
    results = []
    for item in items:
        kind, _sep, number = item.partition(":")
        if kind == "order":
            results.append(_release_order(request, number, reason))
        elif kind == "work_order":
            results.append(_release_work_order(request, number, reason))
    status = 200 if items else 400
    partial = bool(request.htmx)
    return render(
        request,
        "production/plan/release_results.html" if partial else "production/plan/release_results_page.html",
        {"results": results, "nothing": not items, "released": sum(r.ok for r in results)},
        status=status,
    )


def _release_order(request: AuthenticatedRequest, number: str, reason: str) -> ReleaseResult:
    refusal = order_services.order_try_transition(
        actor=request.user, number=number, name="release", reason=reason
    )
    if refusal is not None:
        return ReleaseResult("order", number, False, refusal)
    return ReleaseResult("order", number, True, _("Released to production."))


def _release_work_order(request: AuthenticatedRequest, number: str, reason: str) -> ReleaseResult:
    work_order = (
        work_orders.records_visible_to(WorkOrder.objects.all(), user=request.user)
        .filter(number=number)
        .first()
    )
    if work_order is None:
        return ReleaseResult("work_order", number, False, _("No such work order."))
    try:
        work_orders.work_order_transition(
            actor=request.user, work_order=work_order, name="release", reason=reason
        )
    except ApplicationError as exc:
        return ReleaseResult("work_order", number, False, exc.message)
    return ReleaseResult("work_order", number, True, _("Released to the MES."))
