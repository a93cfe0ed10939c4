"""Reconciliation: compare what we hold with what each CRM and MES reports through its read API.

A system's read API is GET <base URL>/orders → {"orders": {"<order number>": {...}}}; a CRM reports
each order's "status" and "revision", an MES each order's "revision" and the "work_orders" it holds.
Only orders whose every event to the system was delivered are compared (an event still on its way is
not drift), over the orders changed in the last SYNC_RECONCILE_DAYS days.

Drift is listed (one open row per system, order and kind; a later run that no longer sees it resolves
it) and repaired through services: "re-send" puts a full snapshot event (order.resync) in the order's
queue for that system; "pull" fetches the CRM's order and applies it as an inbound message, through the
same pipeline as a webhook.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import uuid
from typing import TYPE_CHECKING, Any

import httpx
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from config.kernel import actor_name, require
from config.kernel.errors import ApplicationError, Conflict
from crm_sync import outbox
from crm_sync.inbound import inbound_enqueue
from crm_sync.models import Delivery, Drift, ExternalSystem, InboundMessage
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


def _expected(system: ExternalSystem, order: SalesOrder) -> dict[str, Any]:
    if system.kind == ExternalSystem.Kind.CRM:
        return {"status": order.status, "revision": order.revision}
    numbers = sorted(order.work_orders.filter(order_revision=order.revision).values_list("number", flat=True))
    return {"revision": order.revision, "work_orders": numbers}


def _their_numbers(held: Any, ours: dict) -> list[str]:
    """The MES's work orders to compare with ours: a list of numbers, or (per work order, as the simulator
    now holds them) those of this order that are ours — its own rework work orders left out, and a work
    order cancelled in an earlier revision only where we still count it."""
    if not isinstance(held, dict):
        return sorted(held or [])
    return sorted(
        number
        for number, work_order in held.items()
        if not (isinstance(work_order, dict) and work_order.get("rework_of"))
        and (
            number in ours["work_orders"]
            or not (isinstance(work_order, dict) and work_order.get("status") == "Cancelled")
        )
    )


def _differences(system: ExternalSystem, ours: dict, theirs: dict) -> list[str]:
    kinds: list[str] = []
    is_crm = system.kind == ExternalSystem.Kind.CRM
    if is_crm and "status" in theirs and theirs["status"] != ours["status"]:
        kinds.append(Drift.Kind.STATUS)
    if "revision" in theirs and str(theirs["revision"]) != str(ours["revision"]):
        kinds.append(Drift.Kind.REVISION)
    compare_work_orders = not is_crm and ours["work_orders"] and "work_orders" in theirs
    if compare_work_orders and _their_numbers(theirs["work_orders"], ours) != ours["work_orders"]:
        kinds.append(Drift.Kind.WORK_ORDERS)
    return kinds


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
    found: list[tuple[str, str, SalesOrder | None, dict, dict]] = []
    known_here = set()
    for order in orders:
        known_here.add(order.number)
        ours = _expected(system, order)
        held = theirs.get(order.number)
        if held is None:
            found.append((order.number, Drift.Kind.MISSING_THERE, order, ours, {}))
            continue
        for kind in _differences(system, ours, held):
            found.append((order.number, kind, order, ours, held))
    # A CRM may key the orders it entered itself by its own id: those are known here by crm_id.
    subjects = list(theirs)
    all_known = set(SalesOrder.objects.filter(number__in=subjects).values_list("number", flat=True))
    all_known |= set(SalesOrder.objects.filter(crm_id__in=subjects).values_list("crm_id", flat=True))
    for subject, held in theirs.items():
        if subject not in all_known:
            found.append((subject, Drift.Kind.MISSING_HERE, None, {}, held if isinstance(held, dict) else {}))
    return _record(system=system, found=found, now=now)


@transaction.atomic
def _record(*, system: ExternalSystem, found: list, now: dt.datetime) -> list[Drift]:
    seen = []
    for subject, kind, order, ours, held in found:
        drift = (
            Drift.objects.select_for_update()
            .filter(system=system, subject=subject[:64], kind=kind, resolved_at__isnull=True)
            .first()
        )
        if drift is None:
            try:
                with transaction.atomic():
                    drift = Drift.objects.create(
                        system=system,
                        subject=subject[:64],
                        kind=kind,
                        order=order,
                        ours=ours,
                        theirs=held,
                        detected_at=now,
                        last_seen_at=now,
                    )
            except IntegrityError:  # another run recorded it at the same moment
                continue
        else:
            Drift.objects.filter(pk=drift.pk).update(ours=ours, theirs=held, last_seen_at=now)
        seen.append(drift.pk)
    Drift.objects.filter(system=system, resolved_at__isnull=True).exclude(pk__in=seen).update(
        resolved_at=now, resolution="no longer seen"
    )
    return list(Drift.objects.filter(pk__in=seen))


def reconcile_all() -> int:
    """Every enabled system; one that cannot be read is logged and skipped. Returns the open drifts."""
    for system in ExternalSystem.objects.filter(is_enabled=True):
        try:
            reconcile_system(system=system)
        except ApplicationError as exc:
            logger.warning("reconciliation skipped %s: %s", system.slug, exc)
    return Drift.objects.filter(resolved_at__isnull=True).count()


def drift_repair(*, drift: Drift, actor: User) -> str:
    """Repair one drift: re-send our state to the system, or pull the order from the CRM."""
    require(actor, "crm_sync.change_drift", action="drift_repair", target=drift.subject)
    if drift.resolved_at is not None:
        raise Conflict(_("This drift is already resolved."), code="resolved")
    system = drift.system
    if drift.kind == Drift.Kind.MISSING_HERE:
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
    Drift.objects.filter(pk=drift.pk, resolved_at__isnull=True).update(
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


def open_drifts() -> QuerySet[Drift]:
    return Drift.objects.filter(Q(resolved_at__isnull=True)).select_related("system", "order")
