"""Records of the shop floor: production exceptions (machine breakdowns, shortages, quality holds), lots
produced by work orders, and quality inspections of lots."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from config.kernel import Conflict, ValidationFailed, publish, require, stamp
from config.kernel.events import ProductionExceptionRaised
from orders import sales as order_services
from orders.models import SalesOrder
from production.inputs import decimal_input
from production.master_data import WorkCenter
from production.replanning import schedule_request
from production.work_orders.models import (
    ExceptionKind,
    InspectionResult,
    Lot,
    ProductionException,
    QualityInspection,
    Severity,
    WorkOrder,
    WorkOrderStatus,
)

if TYPE_CHECKING:
    from django.contrib.auth.models import User


@transaction.atomic
def exception_raise(
    *,
    actor: User | None,
    kind: str,
    severity: str = Severity.MEDIUM,
    work_center: WorkCenter | None = None,
    work_order: WorkOrder | None = None,
    description: str = "",
    expected_delay_minutes: int = 0,
    raised_at: dt.datetime | None = None,
) -> ProductionException:
    """Record a production exception; its expected delay counts in the next plan (a reschedule is asked)."""
    require(actor, "production.add_productionexception", action="exception_raise", target=kind)
    errors: dict[str, list[str]] = {}
    if kind not in ExceptionKind.values:
        errors["kind"] = [_("Choose a valid kind.")]
    if severity not in Severity.values:
        errors["severity"] = [_("Choose a valid severity.")]
    if work_center is None and work_order is None:
        errors["work_center"] = [_("Name the work center or the work order concerned.")]
    if int(expected_delay_minutes or 0) < 0:
        errors["expected_delay_minutes"] = [_("The delay cannot be negative.")]
    if errors:
        raise ValidationFailed(_("Please correct the errors below."), fields=errors)
    exception = ProductionException(
        kind=kind,
        severity=severity,
        work_center=work_center,
        work_order=work_order,
        description=description,
        expected_delay_minutes=int(expected_delay_minutes or 0),
        raised_at=raised_at or timezone.now(),
        raised_by=actor,
    )
    stamp(exception, actor=actor, reason=_("Exception raised"))
    exception.save()
    schedule_request(trigger=f"exception.{kind}")
    if work_order is not None:
        _publish_exception(exception, work_order=work_order, actor=actor)
    return exception


def _publish_exception(exception: ProductionException, *, work_order: WorkOrder, actor: User | None) -> None:
    """Tell the order's subscribers (notifications, integration) in this transaction."""
    # Locked like any order event's order: subscribers number the order's events under this lock.
    order = (
        SalesOrder.objects.select_for_update(no_key=True, of=("self",))
        .select_related("customer", "owner")
        .get(pk=work_order.order_id)
    )
    publish(
        ProductionExceptionRaised(
            order=order,
            actor=actor,
            reason=exception.description[:500],
            snapshot=order_services.order_event_payload(order),
            exception_id=exception.pk,
            kind=exception.kind,
            kind_label=str(exception.get_kind_display()),
            severity=exception.severity,
            severity_label=str(exception.get_severity_display()),
            work_order_number=work_order.number,
            expected_delay_minutes=exception.expected_delay_minutes,
        )
    )


@transaction.atomic
def exception_resolve(
    *, actor: User | None, exception: ProductionException | int, resolution: str = ""
) -> ProductionException:
    pk = exception.pk if isinstance(exception, ProductionException) else exception
    exception = ProductionException.objects.select_for_update().get(pk=pk)
    require(actor, "production.change_productionexception", action="exception_resolve", target=str(pk))
    if exception.resolved_at is not None:
        raise Conflict(_("This exception is already resolved."), code="resolved")
    exception.resolved_at = timezone.now()
    exception.resolution = resolution
    stamp(exception, actor=actor, reason=resolution or _("Exception resolved"))
    exception.save()
    schedule_request(trigger="exception.resolved")
    return exception


# A lot exists once its work order has produced something.
LOT_STATUSES = (WorkOrderStatus.IN_PROGRESS, WorkOrderStatus.COMPLETED, WorkOrderStatus.ON_HOLD)


@transaction.atomic
def lot_create(
    *,
    actor: User | None,
    work_order: WorkOrder,
    number: str,
    quantity: Any,
    produced_at: dt.datetime | None = None,
) -> Lot:
    """Record a lot (batch) produced by a work order; its number is unique plant-wide (traceability)."""
    work_order = WorkOrder.objects.select_for_update(no_key=True).get(pk=work_order.pk)
    require(actor, "production.add_lot", action="lot_create", target=work_order.number)
    errors: dict[str, list[str]] = {}
    number = (number or "").strip()
    amount = decimal_input(quantity, "quantity", errors, minimum=Decimal("0.001"))
    if not number:
        errors["number"] = [_("This field is required.")]
    elif len(number) > 60:
        errors["number"] = [_("At most 60 characters.")]
    elif Lot.objects.filter(number=number).exists():
        errors["number"] = [_("Another lot already has this number.")]
    if not errors and amount <= 0:
        errors["quantity"] = [_("The quantity must be greater than zero.")]
    if errors:
        raise ValidationFailed(_("Please correct the errors below."), fields=errors)
    if work_order.status not in LOT_STATUSES:
        raise Conflict(
            _("Work order %(number)s is %(status)s: it has produced nothing to make a lot of.")
            % {"number": work_order.number, "status": work_order.get_status_display()},
            code="work_order_not_producing",
        )
    lot = Lot(
        work_order=work_order, number=number, quantity=amount, produced_at=produced_at or timezone.now()
    )
    stamp(lot, actor=actor, reason=_("Lot recorded"))
    try:
        with transaction.atomic():
            lot.save()
    except IntegrityError as exc:
        # The same number was recorded at the same moment by someone else.
        raise Conflict(
            _("Another lot already has this number."), fields={"number": [number]}, code="duplicate"
        ) from exc
    return lot


@transaction.atomic
def inspection_record(
    *,
    actor: User | None,
    lot: Lot,
    result: str,
    defect_code: str = "",
    notes: str = "",
    inspected_at: dt.datetime | None = None,
) -> QualityInspection:
    """A quality inspection of a lot: pass, or fail / rework with the defect code that says why."""
    require(actor, "production.add_qualityinspection", action="inspection_record", target=lot.number)
    defect_code = (defect_code or "").strip()
    if result not in InspectionResult.values:
        raise ValidationFailed(_("Choose a valid result."), fields={"result": [_("Choose a valid result.")]})
    if result != InspectionResult.PASS and not defect_code:
        raise ValidationFailed(
            _("A failed or rework inspection needs a defect code."),
            fields={"defect_code": [_("This field is required.")]},
        )
    if len(defect_code) > 32:
        raise ValidationFailed(
            _("Please correct the errors below."), fields={"defect_code": [_("At most 32 characters.")]}
        )
    inspection = QualityInspection(
        lot=lot,
        result=result,
        defect_code=defect_code,
        notes=notes,
        inspected_at=inspected_at or timezone.now(),
        inspector=actor,
    )
    stamp(inspection, actor=actor, reason=_("Inspection recorded"))
    inspection.save()
    return inspection
