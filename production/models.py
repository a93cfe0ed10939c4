"""Work centers and their calendars, routings, work orders, progress, exceptions, lots and the schedule.

Statuses change only through the transitions below, called by `production.work_orders.services` (which lock
the row,
check permissions, record history with the actor and the reason, and publish/trigger what follows).
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django_fsm import RETURN_VALUE, FSMField, transition

from config.history import HistoricalRecords


def production_permission(codename: str):
    """A django-fsm `permission=` callable for a production permission."""

    def check(instance, user) -> bool:
        return bool(user and user.is_active and user.has_perm(f"production.{codename}"))

    check.__name__ = f"can_{codename}"
    return check


# --- work centers and calendars ------------------------------------------------------------------------
class WorkCenter(models.Model):
    """A production line: `units` identical machines/crews working to one calendar."""

    code = models.CharField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=120)
    units = models.PositiveSmallIntegerField(
        _("parallel units"), default=1, validators=[MinValueValidator(1), MaxValueValidator(50)]
    )
    # Actual output / standard output: 0.8 means an operation takes 1/0.8 of its standard time here.
    efficiency = models.DecimalField(
        _("efficiency"),
        max_digits=4,
        decimal_places=2,
        default=Decimal("1.00"),
        validators=[MinValueValidator(Decimal("0.10")), MaxValueValidator(Decimal("2.00"))],
    )
    is_active = models.BooleanField(_("active"), default=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        verbose_name = _("work center")
        verbose_name_plural = _("work centers")
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(condition=Q(units__gte=1), name="workcenter_units_positive"),
            models.CheckConstraint(condition=Q(efficiency__gt=0), name="workcenter_efficiency_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.code} · {self.name}"


class Weekday(models.IntegerChoices):
    MONDAY = 0, _("Monday")
    TUESDAY = 1, _("Tuesday")
    WEDNESDAY = 2, _("Wednesday")
    THURSDAY = 3, _("Thursday")
    FRIDAY = 4, _("Friday")
    SATURDAY = 5, _("Saturday")
    SUNDAY = 6, _("Sunday")


class Shift(models.Model):
    """A weekly working window of a work center, in the plant's time zone (settings.TIME_ZONE).

    A shift that ends at or before its start runs past midnight into the next day. Breaks are the gaps
    between shifts: model a break by splitting the shift in two.
    """

    work_center = models.ForeignKey(
        WorkCenter, on_delete=models.CASCADE, related_name="shifts", verbose_name=_("work center")
    )
    weekday = models.PositiveSmallIntegerField(_("weekday"), choices=Weekday.choices)
    start = models.TimeField(_("start"))
    end = models.TimeField(_("end"))

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("shift")
        verbose_name_plural = _("shifts")
        ordering = ["work_center", "weekday", "start"]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.start:%H:%M}-{self.end:%H:%M}"


class CalendarException(models.Model):
    """A holiday or closure (not working) or an extra shift (working) on one date.

    Without a work center it applies to the whole plant; without start/end it covers the whole day.
    """

    work_center = models.ForeignKey(
        WorkCenter,
        on_delete=models.CASCADE,
        related_name="calendar_exceptions",
        null=True,
        blank=True,
        verbose_name=_("work center"),
    )
    date = models.DateField(_("date"))
    start = models.TimeField(_("start"), null=True, blank=True)
    end = models.TimeField(_("end"), null=True, blank=True)
    is_working = models.BooleanField(_("working time"), default=False)
    description = models.CharField(_("description"), max_length=200, blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("calendar exception")
        verbose_name_plural = _("calendar exceptions")
        ordering = ["date", "start"]

    def __str__(self) -> str:
        return f"{self.date} {self.description}".strip()


# --- routings ------------------------------------------------------------------------------------------
class Routing(models.Model):
    """How one product is made: its operations in sequence order."""

    product = models.OneToOneField(
        "orders.Product", on_delete=models.PROTECT, related_name="routing", verbose_name=_("product")
    )
    name = models.CharField(_("name"), max_length=120, blank=True)
    # Quantities above the lot size are split into several work orders of at most this size.
    lot_size = models.DecimalField(
        _("lot size"),
        max_digits=12,
        decimal_places=3,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0.001"))],
        help_text=_("Largest quantity of one work order; empty means never split."),
    )
    is_active = models.BooleanField(_("active"), default=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("routing")
        verbose_name_plural = _("routings")
        ordering = ["product__sku"]

    def __str__(self) -> str:
        return self.name or str(self.product)


class Operation(models.Model):
    routing = models.ForeignKey(
        Routing, on_delete=models.CASCADE, related_name="operations", verbose_name=_("routing")
    )
    sequence = models.PositiveIntegerField(_("sequence"))
    name = models.CharField(_("name"), max_length=120)
    work_center = models.ForeignKey(
        WorkCenter, on_delete=models.PROTECT, related_name="operations", verbose_name=_("work center")
    )
    setup_minutes = models.DecimalField(
        _("setup time (min)"), max_digits=8, decimal_places=2, default=0, validators=[MinValueValidator(0)]
    )
    run_minutes_per_unit = models.DecimalField(
        _("run time per unit (min)"), max_digits=10, decimal_places=4, validators=[MinValueValidator(0)]
    )

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("operation")
        verbose_name_plural = _("operations")
        ordering = ["routing", "sequence"]
        constraints = [
            models.UniqueConstraint(fields=["routing", "sequence"], name="operation_unique_sequence"),
        ]

    def __str__(self) -> str:
        return f"{self.sequence} {self.name}"


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
    # No routing when the work order was made: it waits for one (see services.work_orders_create_for_order).
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
    work_center = models.ForeignKey(
        WorkCenter,
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
        return f"{self.work_order_id}/{self.sequence} {self.name}"

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


class ProductionException(models.Model):
    kind = models.CharField(_("kind"), max_length=32, choices=ExceptionKind.choices)
    severity = models.CharField(
        _("severity"), max_length=16, choices=Severity.choices, default=Severity.MEDIUM
    )
    work_center = models.ForeignKey(
        WorkCenter,
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


# --- the schedule --------------------------------------------------------------------------------------
class ScheduleMethod(models.TextChoices):
    FAST = "fast", _("Fast (dispatching)")
    OPTIMISED = "optimised", _("Optimised (CP-SAT)")


class Schedule(models.Model):
    """One stored, immutable plan. Exactly one is current; older ones stay for comparison and audit."""

    version = models.PositiveIntegerField(_("version"), unique=True, editable=False)
    is_current = models.BooleanField(_("current"), default=False)
    trigger = models.CharField(_("trigger"), max_length=200)
    method = models.CharField(_("method"), max_length=16, choices=ScheduleMethod.choices)
    engine = models.CharField(_("engine"), max_length=60, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    horizon_start = models.DateTimeField(_("plan start"))
    weighted_tardiness = models.BigIntegerField(_("total weighted tardiness (weighted minutes)"), default=0)
    makespan_end = models.DateTimeField(_("makespan end"), null=True, blank=True)
    work_orders = models.PositiveIntegerField(_("work orders"), default=0)
    operations = models.PositiveIntegerField(_("operations"), default=0)
    late_orders = models.PositiveIntegerField(_("late orders"), default=0)
    on_time_rate = models.FloatField(_("on-time rate"), default=1.0)
    solve_seconds = models.FloatField(_("solve seconds"), default=0.0)
    # Seed figures, problems (unschedulable work orders with why), solver status.
    details = models.JSONField(_("details"), default=dict, blank=True)

    class Meta:
        verbose_name = _("schedule")
        verbose_name_plural = _("schedules")
        ordering = ["-version"]
        constraints = [
            # At most one current plan; the switch happens in one transaction.
            models.UniqueConstraint(
                fields=["is_current"], condition=Q(is_current=True), name="schedule_one_current"
            ),
        ]

    def __str__(self) -> str:
        return f"v{self.version} ({self.get_method_display()})"


class ScheduleEntry(models.Model):
    schedule = models.ForeignKey(Schedule, on_delete=models.CASCADE, related_name="entries")
    operation = models.ForeignKey(
        WorkOrderOperation, on_delete=models.CASCADE, related_name="schedule_entries"
    )
    work_center = models.ForeignKey(WorkCenter, on_delete=models.CASCADE, related_name="+")
    unit = models.PositiveSmallIntegerField()
    start = models.DateTimeField()
    end = models.DateTimeField()
    frozen = models.BooleanField(default=False)

    class Meta:
        verbose_name = _("schedule entry")
        verbose_name_plural = _("schedule entries")
        ordering = ["schedule", "work_center", "unit", "start"]
        indexes = [models.Index(fields=["schedule", "work_center", "start"])]
        constraints = [models.CheckConstraint(condition=Q(end__gte=F("start")), name="entry_end_after_start")]

    def __str__(self) -> str:
        return f"{self.operation_id}@{self.work_center_id}/{self.unit} {self.start:%Y-%m-%d %H:%M}"


class OrderProjection(models.Model):
    """An order's projected completion in one plan, and whether that breaks its promise."""

    schedule = models.ForeignKey(Schedule, on_delete=models.CASCADE, related_name="projections")
    order = models.ForeignKey("orders.SalesOrder", on_delete=models.CASCADE, related_name="projections")
    projected_completion = models.DateTimeField(_("projected completion"), null=True, blank=True)
    promised_date = models.DateField(_("promised date"), null=True, blank=True)
    at_risk = models.BooleanField(_("at risk"), default=False)
    tardiness_minutes = models.PositiveIntegerField(_("tardiness (min)"), default=0)
    weight = models.PositiveIntegerField(_("weight"), default=1)
    why = models.CharField(_("why"), max_length=300, blank=True)  # in English
    # The same as data ({"kind": "wait", "hours": 3.5, "work_center": "PRESS"}...): pages show it in the
    # reader's language (why_text), while `why` keeps the English sentence for the API, events and logs.
    why_detail = models.JSONField(_("why (detail)"), default=dict, blank=True)

    class Meta:
        verbose_name = _("order projection")
        verbose_name_plural = _("order projections")
        constraints = [
            models.UniqueConstraint(fields=["schedule", "order"], name="projection_unique_order"),
        ]

    def __str__(self) -> str:
        return f"{self.order_id} → {self.projected_completion}"

    @property
    def why_text(self) -> str:
        """Why the order is at risk, in the active language (the stored sentence for older rows)."""
        return why_text(self.why_detail) or self.why


def why_text(detail: dict) -> str:
    """The sentence for a projection's why_detail in the active language ("" when there is nothing to say)."""
    kind = (detail or {}).get("kind")
    if kind == "wait":
        return gettext("waits %(hours)s h for work center %(code)s") % {
            "hours": detail["hours"],
            "code": detail["work_center"],
        }
    if kind == "no_routing":
        return gettext("no routing for %(sku)s") % {"sku": detail["sku"]}
    if kind == "on_hold":
        return gettext("work order %(number)s on hold") % {"number": detail["work_order"]}
    if kind == "late":
        return gettext("late")
    return ""


class SchedulerState(models.Model):
    """One row (pk=1): the debounce flag and the cross-process lease of the rescheduler.

    Both are claimed by compare-and-set UPDATEs, so they work across processes and machines that share the
    database, and no transaction is held open while the solver runs.
    """

    pending = models.BooleanField(default=False)
    pending_triggers = models.JSONField(default=list, blank=True)
    requested_at = models.DateTimeField(null=True, blank=True)
    lease_holder = models.CharField(max_length=64, blank=True)
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    last_run_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("scheduler state")
        verbose_name_plural = _("scheduler state")

    def __str__(self) -> str:
        return "pending" if self.pending else "idle"


class KpiDashboard(models.Model):
    """No table: carries the permission to read the KPI dashboard (a page, not a model of its own)."""

    class Meta:
        managed = False
        default_permissions = ()
        permissions = [("view_kpi_dashboard", _("Can view the KPI dashboard"))]
        verbose_name = _("KPI dashboard")
        verbose_name_plural = _("KPI dashboard")

    def __str__(self) -> str:
        return str(self._meta.verbose_name)


# Dispositions of work changed by change requests live in their own module; part of this app's models.
from production.changes.models import ChangeDisposition, DispositionKind  # noqa: E402, F401
