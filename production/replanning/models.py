"""The rescheduler's one row of state: the debounce flag and the cross-process lease."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import JSONField, Value
from django.utils.translation import gettext_lazy as _


class PlanObjective(models.TextChoices):
    """What "better" means to the engines (production.scheduling.problem's objectives), as planners choose."""

    WEIGHTED_TARDINESS = "weighted_tardiness", _("Total weighted tardiness (VIP and key orders first)")
    ON_TIME = "on_time", _("On-time rate (fewest late work orders)")


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
    # Database defaults too: production.replanning.request_now inserts the row with hand-written SQL.
    # Bumped by every request for a new plan (after the change committed): a plan records the generation it
    # was built from, so an optimiser result that took a minute knows whether new work arrived meanwhile.
    generation = models.PositiveBigIntegerField(default=0, db_default=0)
    # When the last request came: the background optimiser starts only after a quiet time (debounce).
    last_request_at = models.DateTimeField(null=True, blank=True)
    # The fast plan at once: set by the request that enqueues the fast task, cleared by the run that takes
    # it (so a burst of releases makes one fast run at a time, plus at most one more).
    fast_pending = models.BooleanField(default=False, db_default=False)
    fast_trigger = models.CharField(max_length=200, blank=True, db_default="")
    fast_requested_at = models.DateTimeField(null=True, blank=True)
    # The background optimiser's last outcome (production.scheduling.runs.OptimiserOutcome, as JSON).
    optimiser_outcome = models.JSONField(default=dict, blank=True, db_default=Value({}, JSONField()))
    # The planner's objective ("" until one is chosen: settings.PRODUCTION_OBJECTIVE); who chose it and when
    # are in PlanObjectiveChange, one row per choice.
    objective = models.CharField(
        _("objective"), max_length=24, blank=True, default="", db_default="", choices=PlanObjective.choices
    )

    class Meta:
        verbose_name = _("scheduler state")
        verbose_name_plural = _("scheduler state")

    def __str__(self) -> str:
        return "pending" if self.pending else "idle"


class PlanObjectiveChange(models.Model):
    """The history of the planner's objective: who chose which, when, and why."""

    objective = models.CharField(_("objective"), max_length=24, choices=PlanObjective.choices)
    previous = models.CharField(_("previous objective"), max_length=24, blank=True)
    reason = models.CharField(_("reason"), max_length=300, blank=True)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("changed by")
    )
    changed_at = models.DateTimeField(_("changed at"), auto_now_add=True)

    class Meta:
        verbose_name = _("plan objective change")
        verbose_name_plural = _("plan objective changes")
        ordering = ["-changed_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.previous or '-'} → {self.objective}"
