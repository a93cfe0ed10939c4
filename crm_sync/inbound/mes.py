"""What the MES tells us: acknowledgements, progress per operation, exceptions, completion.

JSON messages (mapped to our shape) read {"type", "subject": order number, "sequence", "data": {...}}:

- operations.acknowledged   {"event_id": "<our event id>"}
                            (or B2MML AcknowledgeOperationsSchedule / ConfirmBOD)
- operations.progress       {"work_order": "SO-…-01", "operation": 10, "good_quantity": "4",
                             "scrap_quantity": "0", "rework_quantity": "0", "finished": false,
                             "operator": "…", "reported_at": "…", "started_at": "…" (optional: when
                             the operation began)}   quantities are the operation's totals
                             so far, so a repeated or late report adds nothing twice
                            (or B2MML ProcessOperationsPerformance / V0401 SyncProductionPerformance)
- operations.exception      {"work_order": "…", "kind": "material_shortage", "severity": "high",
                             "description": "…", "expected_delay_minutes": 90}
- operations.completed      {"work_order": "…"}

An older message after a newer one for the same work order operation is ignored and counted (the
sender's sequence, or for B2MML the document's CreationDateTime).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from config.kernel.errors import ValidationFailed
from crm_sync import b2mml
from crm_sync.inbound import common
from crm_sync.models import Delivery, InboundMessage
from orders import sales
from orders.change_requests import change_request_mark_acknowledged
from orders.models import SalesOrder
from production import work_orders
from production.work_orders import OperationStatus, WorkOrder, WorkOrderOperation, WorkOrderStatus


# --- acknowledgements ------------------------------------------------------------------------------------
def acknowledge(message: InboundMessage) -> dict:
    """The MES confirms it has our message(s): deliveries acknowledged, work orders released to it,
    and an applied change request marked acknowledged (its change response time ends here)."""
    taken: list[Any]
    if "xml" in message.content_type:
        _root, event_ids = b2mml.acknowledged_bod_ids(message.body.encode())
        taken = b2mml.acknowledged_work_orders(message.body.encode())
    else:
        data = common.document(message).get("data") or {}
        event_ids = [data["event_id"]] if data.get("event_id") else []
        listed = data.get("work_orders")
        taken = listed if isinstance(listed, list) else []
    if not event_ids:
        raise ValidationFailed(
            _("The acknowledgement names no message of ours."),
            fields={"data.event_id": [_("This field is required.")]},
        )
    now = timezone.now()
    deliveries = list(
        Delivery.objects.filter(system=message.system, event_id__in=event_ids).select_related("event")
    )
    Delivery.objects.filter(pk__in=[d.pk for d in deliveries], acknowledged_at__isnull=True).update(
        acknowledged_at=now
    )
    mes_ids = _store_mes_ids(taken)
    released: list[str] = []
    acknowledged_changes: list[int] = []
    for delivery in deliveries:
        data = delivery.event.data
        released += _release_work_orders(message, [w["number"] for w in data.get("work_orders") or []])
        is_change = delivery.event.type == "order.change_applied" and data.get("change_request_id")
        if is_change:
            change_request_mark_acknowledged(change_request_id=data["change_request_id"], at=now)
            acknowledged_changes.append(data["change_request_id"])
    return {
        "acknowledged": len(deliveries),
        "work_orders_released": released,
        "change_requests_acknowledged": acknowledged_changes,
        "mes_ids_stored": mes_ids,
    }


def _store_mes_ids(taken: list[Any]) -> int:
    """The MES's own ids of the work orders and operations it took, kept for its later messages and ours.

    An id the MES gives again is kept as it is (no write); a new one replaces the old (the MES re-keyed).
    Returns how many ids were written.
    """
    written = 0
    entries = [entry for entry in taken if isinstance(entry, dict) and entry.get("number")]
    by_number = {
        work_order.number: work_order
        for work_order in WorkOrder.objects.filter(number__in=[str(entry["number"]) for entry in entries])
    }
    for entry in entries:
        work_order = by_number.get(str(entry["number"]))
        if work_order is None:
            continue  # a request of the MES's own (a rework work order) or an order line: nothing of ours
        mes_id = str(entry.get("mes_id") or "")[:80]
        if mes_id and work_order.mes_id != mes_id:
            written += WorkOrder.objects.filter(pk=work_order.pk).update(mes_id=mes_id)
        for operation in entry.get("operations") or []:
            if not isinstance(operation, dict) or not operation.get("mes_id"):
                continue
            sequence = operation.get("sequence")
            if not isinstance(sequence, int | str) or not str(sequence).isdigit():
                continue
            written += (
                WorkOrderOperation.objects.filter(work_order=work_order, sequence=int(sequence))
                .exclude(mes_id=str(operation["mes_id"])[:80])
                .update(mes_id=str(operation["mes_id"])[:80])
            )
    return written


def _release_work_orders(message: InboundMessage, numbers: list[str]) -> list[str]:
    """Work orders the MES has taken are released to it (planned → released), once."""
    actor = common.service_user(message.system)
    released = []
    for work_order in WorkOrder.objects.filter(
        number__in=numbers, status=WorkOrderStatus.PLANNED, routing_missing=False
    ):
        work_orders.work_order_transition(
            actor=actor,
            work_order=work_order,
            name="release",
            reason=_("Acknowledged by %(system)s") % {"system": message.system.name},
        )
        released.append(work_order.number)
    return released


# --- progress --------------------------------------------------------------------------------------------
def _taken_by_mes(message: InboundMessage, work_order: WorkOrder) -> None:
    """Progress proves the MES has the work order, even if its acknowledgement is late or lost."""
    if work_order.status == WorkOrderStatus.PLANNED:
        # (The caller's copy keeps its old status: only numbers and operations are read from it.)
        _release_work_orders(message, [work_order.number])


def _work_order(number: str | None, field: str) -> WorkOrder:
    """A work order by our number or by the MES's own id of it (from its acknowledgement)."""
    ref = (number or "").strip()
    work_order = WorkOrder.objects.filter(number=ref).first() if ref else None
    if work_order is None and ref:
        work_order = WorkOrder.objects.filter(mes_id=ref).first()
    if work_order is None:
        raise ValidationFailed(
            _("No work order %(number)s.") % {"number": number or "—"},
            fields={field: [_("Unknown work order.")]},
        )
    return work_order


def _operation(work_order: WorkOrder, ref: object, field: str) -> WorkOrderOperation:
    """An operation by its routing sequence (10, "0010"), by the MES's own id of it, or, as real MES files
    do, by its name."""
    operations = work_order.operations.all()
    text = str(ref or "").strip()
    found = None
    if text.isdigit():
        found = operations.filter(sequence=int(text)).first()
    if found is None and text:
        found = operations.filter(mes_id=text).first()
    if found is None and text:
        found = operations.filter(name__iexact=text).first()
    if found is None:
        raise ValidationFailed(
            _("Work order %(number)s has no operation %(operation)s.")
            % {"number": work_order.number, "operation": text or "—"},
            fields={field: [_("Unknown operation.")]},
        )
    return found


def _report(
    message: InboundMessage,
    *,
    work_order: WorkOrder,
    operation: WorkOrderOperation,
    totals: dict[str, Decimal],
    finished: bool,
    sequence: int | None,
    key: str,
    operator: str = "",
    reported_at: dt.datetime | None = None,
    started_at: dt.datetime | None = None,
) -> dict:
    """Turn the operation's reported totals into one progress report (the increment since the last)."""
    subject = f"{work_order.number}/{operation.sequence}"
    _taken_by_mes(message, work_order)
    if not common.cursor_advance(
        system=message.system, subject=subject, sequence=sequence, message_id=message.message_id
    ):
        return common.stale(subject, sequence)
    if operation.status == OperationStatus.COMPLETED:
        return {"operation": subject, "ignored": "already completed"}
    increments = {name: max(total - getattr(operation, name), Decimal(0)) for name, total in totals.items()}
    if not any(increments.values()) and not finished:
        return {"operation": subject, "unchanged": True}
    report, created = work_orders.progress_report_create(
        actor=common.service_user(message.system),
        operation=operation,
        message_id=f"{message.system.slug}:{message.message_id}:{key}"[:100],
        operator=operator[:80],
        reported_at=reported_at,
        operation_finished=finished,
        started_at=started_at,
        **increments,
    )
    return {"operation": subject, "report": report.pk, "created": created}


def progress(message: InboundMessage) -> dict:
    doc = common.document(message)
    data = common.data_of(doc)
    if "work_order" not in data:
        return _order_progress(message, doc, data)
    work_order = _work_order(data.get("work_order"), "data.work_order")
    operation = _operation(work_order, data.get("operation"), "data.operation")
    errors: dict[str, list[str]] = {}
    totals = {
        name: common.decimal_of(data.get(name), f"data.{name}", errors)
        for name in ("good_quantity", "scrap_quantity", "rework_quantity")
    }
    if errors:
        raise ValidationFailed(_("Please correct the errors below."), fields=errors)
    return _report(
        message,
        work_order=work_order,
        operation=operation,
        totals=totals,
        finished=bool(data.get("finished")),
        sequence=common.sequence_of(doc),
        key=str(operation.sequence),
        operator=str(data.get("operator") or ""),
        reported_at=common.optional_datetime(data.get("reported_at"), "data.reported_at"),
        started_at=common.optional_datetime(data.get("started_at"), "data.started_at"),
    )


# Order-level progress (an MES that knows no work orders): forward only, never back.
_ORDER_PROGRESS = {
    "running": ("start_production", ["released"]),
    "completed": ("complete", ["released", "in_production"]),
}


def _order_progress(message: InboundMessage, doc: dict, data: dict) -> dict:
    state = data.get("state")
    if state not in _ORDER_PROGRESS:
        raise ValidationFailed(_("Unknown progress state."), fields={"data.state": [str(state)]})
    actor = common.service_user(message.system)
    order = SalesOrder.objects.get(number=message.subject)
    transition, from_statuses = _ORDER_PROGRESS[state]
    if order.status not in from_statuses:
        return {"ignored": f"order is {order.status}"}
    reason = f"{message.system.name}: {state}"
    sales.order_transition(actor=actor, order=order, name=transition, reason=reason)
    return {"order": order.number, "state": state}


def _document_sequence(created: str | None) -> int | None:
    """B2MML has no sequence number: the document's creation time (in microseconds) orders them."""
    parsed = parse_datetime(created or "")
    if parsed is None:
        return None
    if timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed, dt.UTC)
    return int(parsed.timestamp() * 1_000_000)


def performance(message: InboundMessage) -> dict:
    """B2MML ProcessOperationsPerformance (V0701) or SyncProductionPerformance (V0401)."""
    read = b2mml.performance_read(message.body.encode())
    if not read["responses"]:
        raise ValidationFailed(
            _("The performance message reports no response."),
            fields={"OperationsResponse": [_("This field is required.")]},
        )
    sequence = _document_sequence(read["created"])
    results = []
    for index, response in enumerate(read["responses"]):
        work_order = _work_order(response["work_order"], f"OperationsResponse[{index}].ID")
        for position, segment in enumerate(response["segments"]):
            where = f"OperationsResponse[{index}].SegmentResponse[{position}]"
            operation = _operation(work_order, segment["operation"], f"{where}.ProcessSegmentID")
            good = common.decimal_of(segment["good_quantity"], f"{where}.MaterialActual", {})
            finished = (segment["state"] or "").lower() == "completed"
            totals = {"good_quantity": good} if segment["good_quantity"] is not None else {}
            results.append(
                _report(
                    message,
                    work_order=work_order,
                    operation=operation,
                    totals=totals,
                    finished=finished,
                    sequence=sequence,
                    key=f"{index}.{position}",
                    reported_at=common.optional_datetime(segment["actual_end"], f"{where}.ActualEndTime"),
                    started_at=common.optional_datetime(segment["actual_start"], f"{where}.ActualStartTime"),
                )
            )
    return {"root": read["root"], "reports": results}


# --- exceptions and completion ---------------------------------------------------------------------------
def exception(message: InboundMessage) -> dict:
    doc = common.document(message)
    data = common.data_of(doc)
    work_order = _work_order(data.get("work_order"), "data.work_order")
    delay = data.get("expected_delay_minutes") or 0
    if not isinstance(delay, int) or isinstance(delay, bool):
        raise ValidationFailed(
            _("Please correct the errors below."),
            fields={"data.expected_delay_minutes": [_("Enter a whole number.")]},
        )
    try:
        raised = work_orders.exception_raise(
            actor=common.service_user(message.system),
            kind=str(data.get("kind") or ""),
            severity=str(data.get("severity") or "medium"),
            work_order=work_order,
            description=str(data.get("description") or "")[:2000],
            expected_delay_minutes=delay,
            raised_at=common.optional_datetime(data.get("raised_at"), "data.raised_at"),
        )
    except ValidationFailed as exc:
        raise common.prefixed(exc, "data.") from exc
    return {"work_order": work_order.number, "exception": raised.pk}


def completed(message: InboundMessage) -> dict:
    """The MES finished a work order: every operation not yet finished is finished now."""
    doc = common.document(message)
    data = common.data_of(doc)
    work_order = _work_order(data.get("work_order"), "data.work_order")
    if not common.cursor_advance(
        system=message.system,
        subject=work_order.number,
        sequence=common.sequence_of(doc),
        message_id=message.message_id,
    ):
        return common.stale(work_order.number, common.sequence_of(doc))
    _taken_by_mes(message, work_order)
    finished = []
    for operation in work_order.operations.exclude(status=OperationStatus.COMPLETED).order_by("sequence"):
        work_orders.progress_report_create(
            actor=common.service_user(message.system),
            operation=operation,
            message_id=f"{message.system.slug}:{message.message_id}:done:{operation.sequence}"[:100],
            operation_finished=True,
        )
        finished.append(operation.sequence)
    return {"work_order": work_order.number, "finished_operations": finished}
