"""Work orders and what happens to them on the shop floor: operations, progress reports, exceptions, lots
and quality inspections.

Statuses change only through the transitions below, called by production.work_orders' services (which
lock the row, check permissions, record history with the actor and the reason, and ask for a new plan).
Other packages' models are named by label ("production.WorkCenter"): model modules import no other package.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeAlias, TypedDict

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django_fsm import RETURN_VALUE, FSMField, transition

from config.history import HistoricalRecords
from config.kernel import define
from config.kernel.names import localized
from production.policies import production_permission

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations


# --- work orders ---------------------------------------------------------------------------------------
class WorkOrderStatus(models.TextChoices):
    PLANNED = "planned", _("Planned")
    RELEASED = "released", _("Released")
    IN_PROGRESS = "in_progress", _("In progress")
    COMPLETED = "completed", _("Completed")
    ON_HOLD = "on_hold", _("On hold")
    CANCELLED = "cancelled", _("Cancelled")


# Statuses a schedule plans for, and those whose work is over.
SCHEDULABLE_STATUSES = (WorkOrderStatus.PLANNED, WorkOrderStatus.RELEASED, WorkOrderStatus.IN_PROGRESS)
HOLDABLE_STATUSES = SCHEDULABLE_STATUSES
CLOSED_STATUSES = (WorkOrderStatus.COMPLETED, WorkOrderStatus.CANCELLED)


class WorkOrder(models.Model):
    """What the plant makes for one order line (or one lot of it), for the order revision it was made for."""

    number = models.CharField(_("work order number"), max_length=40, unique=True, editable=False)
    # The MES's own id of this work order, from its acknowledgement: its messages may name it instead of ours.
    mes_id = models.CharField(_("MES id"), max_length=80, blank=True, db_index=True, editable=False)
    order = models.ForeignKey(
        "orders.SalesOrder", on_delete=models.PROTECT, related_name="work_orders", verbose_name=_("order")
    )
    order_line = models.ForeignKey(
        "orders.OrderLine",
        on_delete=models.SET_NULL,
        null=True,
        related_name="work_orders",
        verbose_name=_("order line"),
    )
    order_revision = models.PositiveIntegerField(_("order revision"))
    product = models.ForeignKey(
        "orders.Product", on_delete=models.PROTECT, related_name="+", verbose_name=_("product")
    )
    quantity = models.DecimalField(_("quantity"), max_digits=12, decimal_places=3)
    # No routing when the work order was made: it waits for one (see making.work_orders_create_for_order).
    routing_missing = models.BooleanField(_("routing missing"), default=False)
    status = FSMField(
        _("status"),
        default=WorkOrderStatus.PLANNED,
        choices=WorkOrderStatus.choices,
        protected=True,
        db_index=True,
    )
    status_before_hold = models.CharField(max_length=20, blank=True, editable=False)
    percent_complete = models.DecimalField(_("percent complete"), max_digits=5, decimal_places=2, default=0)
    good_quantity = models.DecimalField(_("good quantity"), max_digits=12, decimal_places=3, default=0)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    released_at = models.DateTimeField(_("released at"), null=True, blank=True, editable=False)
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True, editable=False)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("work order")
        verbose_name_plural = _("work orders")
        ordering = ["number"]
        permissions = [
            ("release_workorder", _("Can release work orders to the MES")),
            ("progress_workorder", _("Can report production progress")),
            ("hold_workorder", _("Can hold and resume work orders")),
            ("cancel_workorder", _("Can cancel work orders")),
            ("run_schedule", _("Can reschedule production")),
            ("quote_promise", _("Can ask for a delivery-date quote")),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="workorder_quantity_positive"),
        ]

    def __str__(self) -> str:
        return self.number

    @transition(
        field=status,
        source=WorkOrderStatus.PLANNED,
        target=WorkOrderStatus.RELEASED,
        permission=production_permission("release_workorder"),
    )
    def release(self) -> None:
        pass

    @transition(
        field=status,
        source=[WorkOrderStatus.PLANNED, WorkOrderStatus.RELEASED],
        target=WorkOrderStatus.IN_PROGRESS,
        permission=production_permission("progress_workorder"),
    )
    def start(self) -> None:
        pass

    @transition(
        field=status,
        source=[WorkOrderStatus.RELEASED, WorkOrderStatus.IN_PROGRESS],
        target=WorkOrderStatus.COMPLETED,
        permission=production_permission("progress_workorder"),
    )
    def complete(self) -> None:
        pass

    @transition(
        field=status,
        source=list(HOLDABLE_STATUSES),
        target=WorkOrderStatus.ON_HOLD,
        permission=production_permission("hold_workorder"),
    )
    def hold(self) -> None:
        self.status_before_hold = self.status

    @transition(
        field=status,
        source=WorkOrderStatus.ON_HOLD,
        target=RETURN_VALUE(*HOLDABLE_STATUSES),
        permission=production_permission("hold_workorder"),
    )
    def resume(self) -> str:
        previous, self.status_before_hold = self.status_before_hold or WorkOrderStatus.PLANNED, ""
        return previous

    @transition(
        field=status,
        source=[*HOLDABLE_STATUSES, WorkOrderStatus.ON_HOLD],
        target=WorkOrderStatus.CANCELLED,
        permission=production_permission("cancel_workorder"),
    )
    def cancel(self) -> None:
        pass


class OperationStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    STARTED = "started", _("Started")
    COMPLETED = "completed", _("Completed")


class WorkOrderOperation(models.Model):
    """One routing step of one work order, with its planned duration copied when the work order was made."""

    work_order = models.ForeignKey(
        WorkOrder, on_delete=models.CASCADE, related_name="operations", verbose_name=_("work order")
    )
    sequence = models.PositiveIntegerField(_("sequence"))
    name = models.CharField(_("name"), max_length=120)
    # The operation's name on Chinese pages (the English name when empty).
    name_zh = models.CharField(_("Chinese name"), max_length=120, blank=True, default="", db_default="")
    # The MES's own id of this operation, from its acknowledgement (see WorkOrder.mes_id).
    mes_id = models.CharField(_("MES id"), max_length=80, blank=True, db_index=True, editable=False)
    work_center = models.ForeignKey(
        "production.WorkCenter",
        on_delete=models.PROTECT,
        related_name="work_order_operations",
        verbose_name=_("work center"),
    )
    # Standard minutes (setup + run x quantity); the work center's efficiency applies when scheduling.
    planned_minutes = models.PositiveIntegerField(_("planned minutes"))
    status = FSMField(
        _("status"), default=OperationStatus.PENDING, choices=OperationStatus.choices, protected=True
    )
    scheduled_start = models.DateTimeField(_("scheduled start"), null=True, blank=True)
    scheduled_end = models.DateTimeField(_("scheduled end"), null=True, blank=True)
    scheduled_unit = models.PositiveSmallIntegerField(_("scheduled unit"), null=True, blank=True)
    actual_start = models.DateTimeField(_("actual start"), null=True, blank=True)
    actual_end = models.DateTimeField(_("actual end"), null=True, blank=True)
    good_quantity = models.DecimalField(_("good quantity"), max_digits=12, decimal_places=3, default=0)
    scrap_quantity = models.DecimalField(_("scrap quantity"), max_digits=12, decimal_places=3, default=0)
    rework_quantity = models.DecimalField(_("rework quantity"), max_digits=12, decimal_places=3, default=0)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("work order operation")
        verbose_name_plural = _("work order operations")
        ordering = ["work_order", "sequence"]
        constraints = [
            models.UniqueConstraint(fields=["work_order", "sequence"], name="wooperation_unique_sequence"),
        ]

    def __str__(self) -> str:
        return f"{self.work_order_id}/{self.sequence} {self.display_name}"

    @property
    def display_name(self) -> str:
        return localized(self.name, self.name_zh)

    @transition(field=status, source=OperationStatus.PENDING, target=OperationStatus.STARTED)
    def start(self) -> None:
        pass

    @transition(
        field=status,
        source=[OperationStatus.PENDING, OperationStatus.STARTED],
        target=OperationStatus.COMPLETED,
    )
    def complete(self) -> None:
        pass


class ProgressReport(models.Model):
    """What the MES reports for one operation. `message_id` makes a repeated report harmless."""

    message_id = models.CharField(_("message id"), max_length=100, unique=True)
    operation = models.ForeignKey(
        WorkOrderOperation,
        on_delete=models.PROTECT,
        related_name="progress_reports",
        verbose_name=_("operation"),
    )
    good_quantity = models.DecimalField(_("good quantity"), max_digits=12, decimal_places=3, default=0)
    scrap_quantity = models.DecimalField(_("scrap quantity"), max_digits=12, decimal_places=3, default=0)
    rework_quantity = models.DecimalField(_("rework quantity"), max_digits=12, decimal_places=3, default=0)
    operator = models.CharField(_("operator"), max_length=80, blank=True)
    reported_at = models.DateTimeField(_("reported at"))
    operation_finished = models.BooleanField(_("operation finished"), default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("recorded by")
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("progress report")
        verbose_name_plural = _("progress reports")
        ordering = ["-reported_at", "-id"]
        indexes = [
            # The KPI dashboard's rework and scrap rates sum the quantities reported in a period.
            models.Index(
                fields=["reported_at"],
                include=["operation_id", "good_quantity", "scrap_quantity", "rework_quantity"],
                name="progress_reported_kpi_idx",
            ),
        ]

    def __str__(self) -> str:
        return self.message_id


class ExceptionKind(models.TextChoices):
    MATERIAL_SHORTAGE = "material_shortage", _("Material shortage")
    MACHINE_BREAKDOWN = "machine_breakdown", _("Machine breakdown")
    QUALITY_HOLD = "quality_hold", _("Quality hold")


class Severity(models.TextChoices):
    LOW = "low", _("Low")
    MEDIUM = "medium", _("Medium")
    HIGH = "high", _("High")
    CRITICAL = "critical", _("Critical")


# Notices name an exception's kind and severity by code, read in the reader's language (config.kernel).
for _kind in ExceptionKind:
    define(f"production.exception_kind.{_kind.value}", _kind.label)
for _severity in Severity:
    define(f"production.severity.{_severity.value}", _severity.label)


class ProductionException(models.Model):
    kind = models.CharField(_("kind"), max_length=32, choices=ExceptionKind.choices)
    severity = models.CharField(
        _("severity"), max_length=16, choices=Severity.choices, default=Severity.MEDIUM
    )
    work_center = models.ForeignKey(
        "production.WorkCenter",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="exceptions",
        verbose_name=_("work center"),
    )
    work_order = models.ForeignKey(
        WorkOrder,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="exceptions",
        verbose_name=_("work order"),
    )
    description = models.TextField(_("description"), blank=True)
    # A machine breakdown takes this much time off its work center's next working time when scheduling;
    # on a work order it delays the work order's remaining operations.
    expected_delay_minutes = models.PositiveIntegerField(_("expected delay (min)"), default=0)
    raised_at = models.DateTimeField(_("raised at"))
    raised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("raised by")
    )
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    resolution = models.TextField(_("resolution"), blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("production exception")
        verbose_name_plural = _("production exceptions")
        ordering = ["-raised_at", "-id"]
        indexes = [
            # The planner's "open exceptions" list reads only unresolved rows.
            models.Index(
                fields=["raised_at"], condition=Q(resolved_at__isnull=True), name="exception_open_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.get_severity_display()})"

    @property
    def is_open(self) -> bool:
        return self.resolved_at is None


class Lot(models.Model):
    number = models.CharField(_("lot number"), max_length=60, unique=True)
    work_order = models.ForeignKey(
        WorkOrder, on_delete=models.PROTECT, related_name="lots", verbose_name=_("work order")
    )
    quantity = models.DecimalField(_("quantity"), max_digits=12, decimal_places=3)
    produced_at = models.DateTimeField(_("produced at"))

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("lot")
        verbose_name_plural = _("lots")
        ordering = ["-produced_at"]

    def __str__(self) -> str:
        return self.number


class InspectionResult(models.TextChoices):
    PASS = "pass", _("Pass")
    FAIL = "fail", _("Fail")
    REWORK = "rework", _("Rework")


class QualityInspection(models.Model):
    lot = models.ForeignKey(Lot, on_delete=models.PROTECT, related_name="inspections", verbose_name=_("lot"))
    result = models.CharField(_("result"), max_length=16, choices=InspectionResult.choices)
    defect_code = models.CharField(_("defect code"), max_length=32, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    inspected_at = models.DateTimeField(_("inspected at"))
    inspector = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("inspector")
    )

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("quality inspection")
        verbose_name_plural = _("quality inspections")
        ordering = ["-inspected_at"]
        constraints = [
            # A failed or rework result must say what was wrong.
            models.CheckConstraint(
                condition=Q(result="pass") | ~Q(defect_code=""), name="inspection_defect_code_required"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.lot_id} {self.result}"


if TYPE_CHECKING:

    class OperationsMade(TypedDict):
        """Not a column: a work order's operations in sequence order, attached where they are at hand — as
        made (production.work_orders.making, announced by WorkOrdersCreated) or read with
        Prefetch("operations", to_attr="operations_made")."""

        operations_made: list[WorkOrderOperation]

    # A work order carrying its operations.
    MadeWorkOrder: TypeAlias = WithAnnotations[WorkOrder, OperationsMade]
