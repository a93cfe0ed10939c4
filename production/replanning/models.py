"""The rescheduler's one row of state: the debounce flag and the cross-process lease."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


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
