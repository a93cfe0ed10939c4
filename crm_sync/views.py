"""Inbound webhook endpoints, and the integration's pages: the order's sync panel, sync health, drift."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required, permission_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from config.api import error_body
from config.http import AuthenticatedRequest
from config.kernel import Actor, allowed
from config.kernel.errors import ApplicationError
from config.middleware import judges_its_own_body, machine_endpoint
from crm_sync import inbound, outbox, reconciliation
from crm_sync.models import Delivery, Drift, ExternalSystem, InboundMessage
from orders.models import SalesOrder
from orders.sales import policies


def _receive(request: HttpRequest, found: ExternalSystem | None) -> JsonResponse:
    if found is None:
        return JsonResponse(error_body("not_found", _("Unknown system.")), status=404)
    try:
        message, created = inbound.inbound_receive(system=found, headers=request.headers, body=request.body)
    except ApplicationError as exc:
        return JsonResponse(error_body(exc.code, exc.message, exc.fields), status=exc.status_code)
    return JsonResponse(
        {"id": message.message_id, "status": "accepted" if created else "duplicate"},
        status=202 if created else 200,
    )


@machine_endpoint  # no session, cookie or user: answered without the pages' middleware
@judges_its_own_body
@csrf_exempt  # machine-to-machine: the Standard Webhooks signature is the authentication
@require_POST
def inbound_webhook(request: HttpRequest, system: str) -> JsonResponse:
    return _receive(request, next((s for s in outbox.enabled_systems() if s.slug == system), None))


@machine_endpoint
@judges_its_own_body
@login_not_required  # the signature authenticates, not a session
@csrf_exempt
@require_POST
def kind_webhook(request: HttpRequest, kind: str) -> JsonResponse:
    """/hooks/crm/ and /hooks/mes/: the one enabled system of that kind, or ?system=<slug> among several."""
    # The process's cached enabled systems (see outbox.enabled_systems): no query per message.
    systems = [system for system in outbox.enabled_systems() if system.kind == kind]
    slug = request.GET.get("system")
    if slug:
        return _receive(request, next((system for system in systems if system.slug == slug), None))
    candidates = systems[:2]
    if len(candidates) > 1:
        return JsonResponse(
            error_body(
                "ambiguous_system",
                _("Several systems of this kind are enabled: name one with ?system=<slug>."),
                {"system": [_("This field is required.")]},
            ),
            status=400,
        )
    return _receive(request, candidates[0] if candidates else None)


# --- the order page's sync panel -----------------------------------------------------------------------
def order_panel_context(order: SalesOrder, user: Actor) -> dict | None:
    """Registered as the "sync-status" order panel: shown to those who may see deliveries."""
    if not allowed(user, "crm_sync.view_delivery"):
        return None
    return {
        "order": order,
        "systems": outbox.order_sync_status(order_id=order.pk),
        "unacknowledged": list(outbox.mes_changes_unacknowledged(now=timezone.now(), order_id=order.pk)),
        "ack_timeout_seconds": settings.MES_ACK_TIMEOUT_SECONDS,
    }


@permission_required("crm_sync.view_delivery", raise_exception=True)
def delivery_attempts(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    """The attempt log of one delivery: an htmx partial under the panel, or a page of its own."""
    delivery = get_object_or_404(Delivery.objects.select_related("system", "event", "order"), pk=pk)
    if not policies.can_view_order(request.user, delivery.order):
        raise Http404
    context = {"delivery": delivery, "attempts": outbox.delivery_attempts(delivery=delivery)}
    if request.headers.get("HX-Request"):
        return render(request, "crm_sync/partials/attempts.html", context)
    return render(request, "crm_sync/attempts.html", context)


# --- sync health (admins) --------------------------------------------------------------------------------
@permission_required("crm_sync.change_delivery", raise_exception=True)
def sync_health(request: AuthenticatedRequest) -> HttpResponse:
    now = timezone.now()
    context = {
        **outbox.sync_health(now=now),
        "unacknowledged": list(outbox.mes_changes_unacknowledged(now=now)[:100]),
        "ack_timeout_seconds": settings.MES_ACK_TIMEOUT_SECONDS,
    }
    return render(request, "crm_sync/health.html", context)


@require_POST
@permission_required("crm_sync.change_delivery", raise_exception=True)
def replay(request: AuthenticatedRequest) -> HttpResponse:
    """Replay dead (or failed) deliveries and inbound messages, through the same services as the admin."""
    delivery_ids = [int(x) for x in request.POST.getlist("delivery") if x.isdigit()]
    message_ids = [int(x) for x in request.POST.getlist("message") if x.isdigit()]
    count = outbox.deliveries_replay(
        deliveries=Delivery.objects.filter(pk__in=delivery_ids), actor=request.user
    )
    count += inbound.inbound_replay(
        messages=InboundMessage.objects.filter(pk__in=message_ids), actor=request.user
    )
    text = ngettext("%(count)d message replayed.", "%(count)d messages replayed.", count)
    messages.success(request, text % {"count": count})
    return redirect("sync:health")


# --- reconciliation ---------------------------------------------------------------------------------------
@permission_required("crm_sync.view_drift", raise_exception=True)
def drift_list(request: AuthenticatedRequest) -> HttpResponse:
    drifts = [(drift, reconciliation.drift_rows(drift)) for drift in reconciliation.open_drifts()]
    return render(request, "crm_sync/drift.html", {"drifts": drifts})


@require_POST
@permission_required("crm_sync.change_drift", raise_exception=True)
def reconcile_now(request: AuthenticatedRequest) -> HttpResponse:
    try:
        count = reconciliation.reconcile_all()
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Reconciliation done: %(count)d open drifts.") % {"count": count})
    return redirect("sync:drift")


@require_POST
@permission_required("crm_sync.change_drift", raise_exception=True)
def drift_repair(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    drift = get_object_or_404(Drift, pk=pk)
    try:
        outcome = reconciliation.drift_repair(drift=drift, actor=request.user)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, outcome)
    return redirect("sync:drift")
