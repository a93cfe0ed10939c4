"""The plan: stored, versioned schedules, their entries, and each order's projected completion.

Written by production.scheduling.service; read by its selectors, the planner page and the KPI dashboard.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from config.kernel import Message, define, message


# --- the schedule --------------------------------------------------------------------------------------
class OptimiserStop(models.TextChoices):
    """Why the optimiser stopped (Plan.details["stop_reason"]: the engine's problem.STOP_* values), as the
    plan page and the API say it."""

    OPTIMAL = "optimal", _("the optimiser finished early: no better plan was left to find")
    STALLED = "stalled", _("the optimiser stopped early: it had stopped improving")
    DEADLINE = "deadline", _("the optimiser used its whole time limit")


def optimiser_stop_text(reason: str) -> str:
    """What stop reason `reason` says to the reader, in their language ("" for none or an unknown one)."""
    return str(OptimiserStop(reason).label) if reason in OptimiserStop.values else ""


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
    # The replanning input generation this plan was built from (SchedulerState.generation when it started):
    # an optimiser result built from an older generation than the current plan's never replaces it.
    generation = models.PositiveBigIntegerField(_("input generation"), default=0)
    # The fast engine's plan on the same input (the optimiser's seed): what the optimiser gained over it.
    fast_weighted_tardiness = models.BigIntegerField(
        _("fast plan's total weighted tardiness"), null=True, blank=True
    )
    fast_makespan_end = models.DateTimeField(_("fast plan's makespan end"), null=True, blank=True)
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

    @property
    def optimiser_gain(self) -> int | None:
        """Weighted minutes of tardiness the optimiser saved against the fast plan (None: a fast plan)."""
        if self.fast_weighted_tardiness is None:
            return None
        return self.fast_weighted_tardiness - self.weighted_tardiness

    @property
    def optimiser_gain_percent(self) -> float | None:
        gain = self.optimiser_gain
        if gain is None or not self.fast_weighted_tardiness:
            return None
        return round(100 * gain / self.fast_weighted_tardiness, 1)

    @property
    def optimiser_stop(self) -> str:
        """Why the optimiser that made this plan stopped, in the reader's language ("" for a fast plan).
        Plans from before the stop reason was kept said only whether it stopped early (it had stalled)."""
        details = self.details or {}
        reason = details.get("stop_reason") or (OptimiserStop.STALLED if details.get("stopped_early") else "")
        return optimiser_stop_text(reason)

    @property
    def makespan_gain_hours(self) -> float | None:
        if self.fast_makespan_end is None or self.makespan_end is None:
            return None
        return round((self.fast_makespan_end - self.makespan_end).total_seconds() / 3600, 1)


class ScheduleEntry(models.Model):
    schedule = models.ForeignKey(Schedule, on_delete=models.CASCADE, related_name="entries")
    operation = models.ForeignKey(
        "production.WorkOrderOperation", on_delete=models.CASCADE, related_name="schedule_entries"
    )
    work_center = models.ForeignKey("production.WorkCenter", on_delete=models.CASCADE, related_name="+")
    unit = models.PositiveSmallIntegerField()
    start = models.DateTimeField()
    end = models.DateTimeField()
    frozen = models.BooleanField(default=False)

    class Meta:
        verbose_name = _("schedule entry")
        verbose_name_plural = _("schedule entries")
        ordering = ["schedule", "work_center", "unit", "start"]
        indexes = [
            models.Index(fields=["schedule", "work_center", "start"]),
            # Writing a plan copies each operation's times from its entry (service.store_plan); an operation
            # has an entry in every plan version, so the lookup goes by plan first.
            models.Index(fields=["schedule", "operation"], name="entry_schedule_operation"),
        ]
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


# Why an order is at risk, as messages (config.kernel): a notice keeps the code and reads it in its reader's
# language.
WHY_WAIT = define("production.why.wait", _("waits %(hours)s h for work center %(code)s"))
WHY_NO_ROUTING = define("production.why.no_routing", _("no routing for %(sku)s"))
WHY_ON_HOLD = define("production.why.on_hold", _("work order %(number)s on hold"))
WHY_LATE = define("production.why.late", _("late"))


def why_message(detail: dict) -> Message | None:
    """A projection's why_detail as a message (None when there is nothing to say)."""
    kind = (detail or {}).get("kind")
    if kind == "wait":
        return Message(WHY_WAIT, {"hours": str(detail["hours"]), "code": str(detail["work_center"])})
    if kind == "no_routing":
        return message(WHY_NO_ROUTING, sku=str(detail["sku"]))
    if kind == "on_hold":
        return message(WHY_ON_HOLD, number=str(detail["work_order"]))
    if kind == "late":
        return message(WHY_LATE)
    return None


def why_text(detail: dict) -> str:
    """The sentence for a projection's why_detail in the active language ("" when there is nothing to say)."""
    found = why_message(detail)
    return str(found) if found is not None else ""


# --- pins: a planner's fixed bookings ----------------------------------------------------------------------
class OperationPin(models.Model):
    """A planner's pin: this operation runs on this unit of its work center from this time. The scheduler
    takes an active pin as a fixed booking (like the frozen window's); the row stays after an unpin as the
    history of who pinned, who unpinned and why."""

    operation = models.ForeignKey(
        "production.WorkOrderOperation",
        on_delete=models.CASCADE,
        related_name="pins",
        verbose_name=_("operation"),
    )
    unit = models.PositiveSmallIntegerField(_("line"))  # 0-based unit of the operation's work center
    start = models.DateTimeField(_("start"))
    reason = models.CharField(_("reason"), max_length=300)
    pinned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("pinned by")
    )
    pinned_at = models.DateTimeField(_("pinned at"), auto_now_add=True)
    unpinned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("unpinned by"),
    )
    unpinned_at = models.DateTimeField(_("unpinned at"), null=True, blank=True)
    unpin_reason = models.CharField(_("reason for unpinning"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("operation pin")
        verbose_name_plural = _("operation pins")
        ordering = ["-pinned_at"]
        constraints = [
            # One active pin per operation; the replaced ones stay as history.
            models.UniqueConstraint(
                fields=["operation"],
                condition=Q(unpinned_at__isnull=True),
                name="pin_one_active_per_operation",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.operation_id}/{self.unit} @ {self.start:%Y-%m-%d %H:%M}"

    @property
    def active(self) -> bool:
        return self.unpinned_at is None
