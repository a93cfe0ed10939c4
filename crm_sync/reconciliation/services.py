"""Reconciliation: compare what we hold with what each CRM and MES reports through its read API.

A system's read API is GET <base URL>/orders → {"orders": {"<order number>": {...}}}; a CRM reports
each order's "status" and "revision", an MES each order's "revision" and the "work_orders" it holds, each
with its quantity and status (see comparison: per order for a CRM, per work order for an MES).
Only orders whose every event to the system was delivered are compared (an event still on its way is
not drift), over the orders changed in the last SYNC_RECONCILE_DAYS days.

Drift is listed (one open row per system, subject — order or work order — and kind; a later run that no
longer sees it resolves it) and repaired through services: "re-send" puts a full snapshot event
(order.resync, with all the order's work orders) in the order's
queue for that system; "pull" fetches the CRM's order and applies it as an inbound message, through the
same pipeline as a webhook.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import uuid
from typing import TYPE_CHECKING

import httpx
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from config.kernel import actor_name, require
from config.kernel.errors import ApplicationError, Conflict
from crm_sync import outbox
from crm_sync.inbound import inbound_enqueue
from crm_sync.models import Delivery, Drift, ExternalSystem, InboundMessage
from crm_sync.reconciliation.comparison import WORK_ORDERS_PREFETCH, Finding, order_findings
from orders.models import SalesOrder

if TYPE_CHECKING:
    from django.contrib.auth.models import User

logger = logging.getLogger("orderbridge.crm_sync")

SYNC_RECONCILE_DAYS = 30


def read_remote(system: ExternalSystem) -> dict[str, dict]:
    """The system's view of its orders; ApplicationError if it cannot be read (nothing is concluded)."""
    url = system.base_url.rstrip("/") + "/orders"
    headers = {"authorization": f"Bearer {system.bearer_token}"} if system.bearer_token else {}
    timeout = httpx.Timeout(connect=system.connect_timeout, read=system.read_timeout, write=5.0, pool=5.0)
    try:
        response = httpx.get(url, headers=headers, timeout=timeout)
        response.raise_for_status()
        orders = response.json()["orders"]
    except (httpx.HTTPError, ValueError, KeyError, TypeError) as exc:
        raise ApplicationError(
            _("%(system)s could not be read: %(error)s") % {"system": system.name, "error": exc},
            code="read_failed",
        ) from exc
    if not isinstance(orders, dict):
        raise ApplicationError(_("%(system)s answered in an unknown shape.") % {"system": system.name})
    return orders


def reconcile_system(*, system: ExternalSystem, now: dt.datetime | None = None) -> list[Drift]:
    """Compare one system; record open drifts, resolve those no longer seen. Returns the open drifts."""
    now = now or timezone.now()
    theirs = read_remote(system)
    since = now - dt.timedelta(days=SYNC_RECONCILE_DAYS)
    sent = Delivery.objects.filter(system=system, order__updated_at__gte=since)
    open_orders = set(sent.exclude(state=Delivery.State.DELIVERED).values_list("order_id", flat=True))
    orders = (
        SalesOrder.objects.filter(pk__in=sent.values("order_id"))
        .exclude(pk__in=open_orders)
        .select_related("customer")
    )
    if system.kind == ExternalSystem.Kind.MES:
        orders = orders.prefetch_related(WORK_ORDERS_PREFETCH)
    found: list[Finding] = []
    for order in orders:
        held = theirs.get(order.number)
        found.extend(order_findings(system, order, held if isinstance(held, dict) else None))
    # A CRM may key the orders it entered itself by its own id: those are known here by crm_id.
    subjects = list(theirs)
    all_known = set(SalesOrder.objects.filter(number__in=subjects).values_list("number", flat=True))
    all_known |= set(SalesOrder.objects.filter(crm_id__in=subjects).values_list("crm_id", flat=True))
    for subject, held in theirs.items():
        if subject not in all_known:
            shown = held if isinstance(held, dict) else {}
            found.append(Finding(subject, Drift.Kind.MISSING_HERE, None, {}, shown))
    return _record(system=system, found=found, now=now)


@transaction.atomic
def _record(*, system: ExternalSystem, found: list[Finding], now: dt.datetime) -> list[Drift]:
    seen = []
    for finding in found:
        subject = finding.subject[:64]
        drift = (
            Drift.objects.select_for_update()
            .filter(system=system, subject=subject, kind=finding.kind, resolved_at__isnull=True)
            .first()
        )
        if drift is None:
            try:
                with transaction.atomic():
                    drift = Drift.objects.create(
                        system=system,
                        subject=subject,
                        work_order=finding.work_order[:40],
                        kind=finding.kind,
                        order=finding.order,
                        ours=finding.ours,
                        theirs=finding.theirs,
                        detected_at=now,
                        last_seen_at=now,
                    )
            except IntegrityError:  # another run recorded it at the same moment
                continue
        else:
            Drift.objects.filter(pk=drift.pk).update(
                ours=finding.ours, theirs=finding.theirs, last_seen_at=now
            )
        seen.append(drift.pk)
    Drift.objects.filter(system=system, resolved_at__isnull=True).exclude(pk__in=seen).update(
        resolved_at=now, resolution="no longer seen"
    )
    return list(Drift.objects.filter(pk__in=seen).order_by("subject", "kind"))


def reconcile_all() -> int:
    """Every enabled system; one that cannot be read is logged and skipped. Returns the open drifts."""
    for system in ExternalSystem.objects.filter(is_enabled=True):
        try:
            reconcile_system(system=system)
        except ApplicationError as exc:
            logger.warning("reconciliation skipped %s: %s", system.slug, exc)
    return Drift.objects.filter(resolved_at__isnull=True).count()


def drift_repair(*, drift: Drift, actor: User) -> str:
    """Repair one drift: re-send our state of its order to the system, or pull an order from the CRM.

    A re-send is one full snapshot (order.resync) of the order and all its work orders, so it repairs
    every open drift of that order with that system at once: they are all resolved with this outcome (a
    later run opens again what it did not repair). Refused (Conflict) for a resolved drift.
    """
    require(actor, "crm_sync.change_drift", action="drift_repair", target=drift.subject)
    # Read again: a re-send of the same order (another drift of it, another admin) may have resolved it.
    if (
        drift.resolved_at is not None
        or not Drift.objects.filter(pk=drift.pk, resolved_at__isnull=True).exists()
    ):
        raise Conflict(_("This drift is already resolved."), code="resolved")
    system = drift.system
    repaired = Drift.objects.filter(pk=drift.pk)
    if drift.kind == Drift.Kind.MISSING_HERE and drift.order is None:
        outcome = _pull(system=system, drift=drift)
    elif drift.order is None:
        raise Conflict(_("This drift names no order of ours."), code="no_order")
    else:
        event = outbox.outbox_record_resync(
            order=drift.order, system=system, actor=actor, reason=_("Reconciliation: re-send")
        )
        outcome = _("Order %(number)s re-sent to %(system)s (event #%(sequence)s).") % {
            "number": drift.order.number,
            "system": system.name,
            "sequence": event.sequence,
        }
        repaired = Drift.objects.filter(system=system, order=drift.order)
    repaired.filter(resolved_at__isnull=True).update(
        resolved_at=timezone.now(), resolution=f"{actor_name(actor)}: {outcome}"[:200]
    )
    return outcome


def _pull(*, system: ExternalSystem, drift: Drift) -> str:
    """Fetch the CRM's order document and apply it like a webhook (stored, processed by a task)."""
    if system.kind != ExternalSystem.Kind.CRM:
        raise Conflict(_("Only a CRM's orders can be pulled."), code="not_pullable")
    url = f"{system.base_url.rstrip('/')}/orders/{drift.subject}"
    timeout = httpx.Timeout(connect=system.connect_timeout, read=system.read_timeout, write=5.0, pool=5.0)
    try:
        response = httpx.get(url, timeout=timeout)
        response.raise_for_status()
        document = response.json()
    except (httpx.HTTPError, ValueError) as exc:
        raise ApplicationError(_("The order could not be pulled: %(error)s") % {"error": exc}) from exc
    if isinstance(document, dict) and isinstance(document.get("document"), dict):
        document = document["document"]  # the CRM's own message for an order it entered
    if not isinstance(document, dict) or "type" not in document:
        document = {"type": "order.created", "subject": drift.subject, "data": document}
    with transaction.atomic():
        message = InboundMessage.objects.create(
            system=system,
            message_id=f"pull:{drift.subject}:{uuid.uuid4().hex}",
            content_type="application/json",
            body=json.dumps(document),
            kind=str(document["type"])[:100],
            subject=drift.subject[:64],
            next_attempt_at=timezone.now(),
        )
        transaction.on_commit(lambda: inbound_enqueue(message.pk), robust=True)
    return _("Order %(subject)s pulled from %(system)s.") % {"subject": drift.subject, "system": system.name}
