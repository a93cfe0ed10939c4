"""What an applied change request left on the shop floor: quantities made that became surplus or wrong.

Imported by production.models. One row per work order (and operation, for a spec change), written in the
change's own transaction by production.changes.follow; the disposition is the one the approver picked.

A row is open until someone decides it (`decided_at`): a row whose work order the change put on hold
(pending its disposition), or whose disposition nobody picked, waits for a planner or production manager
(production.changes.dispositions.change_disposition_decide); a row the change settled at once is decided
when written.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from config.history import HistoricalRecords
from orders.change_requests.models import Disposition

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


class DispositionKind(models.TextChoices):
    SURPLUS = "surplus", _("Surplus (made beyond the new need)")
    WRONG_SPEC = "wrong_spec", _("Made to the old spec")
    CANCELLED = "cancelled", _("Made for cancelled work")


# What may be decided per kind: made to the old spec can be reworked; surplus or cancelled work is kept
# as stock or scrapped (resuming it would only make more of what nobody needs).
DECISIONS_BY_KIND: dict[str, tuple[str, ...]] = {
    DispositionKind.SURPLUS: ("stock", "scrap"),
    DispositionKind.CANCELLED: ("stock", "scrap"),
    DispositionKind.WRONG_SPEC: ("rework", "scrap"),
}
# The kinds whose work order a change holds pending the decision (a spec change never holds: its work
# order goes on making the line; its decision is about the parts made to the old spec).
HOLDING_KINDS = (DispositionKind.SURPLUS, DispositionKind.CANCELLED)


class ChangeDisposition(models.Model):
    work_order = models.ForeignKey(
        "production.WorkOrder",
        on_delete=models.PROTECT,
        related_name="dispositions",
        verbose_name=_("work order"),
    )
    operation = models.ForeignKey(
        "production.WorkOrderOperation",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="dispositions",
        verbose_name=_("operation"),
    )
    change_request_number = models.CharField(_("change request number"), max_length=32, db_index=True)
    kind = models.CharField(_("kind"), max_length=16, choices=DispositionKind.choices)
    quantity = models.DecimalField(_("quantity"), max_digits=12, decimal_places=3)
    # stock / rework / scrap (orders.change_requests.models.Disposition); empty until someone decides
    # (cancel pending).
    disposition = models.CharField(_("disposition"), max_length=8, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    # The decision actually carried out (stock / rework / scrap), by whom, when and why; empty while open.
    decision = models.CharField(_("decision"), max_length=8, blank=True)
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("decided by"),
    )
    decision_reason = models.TextField(_("reason for the decision"), blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("change disposition")
        verbose_name_plural = _("change dispositions")
        ordering = ["-created_at", "id"]
        permissions = [("decide_changedisposition", _("Can decide dispositions of changed work"))]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="changedisposition_quantity_positive"),
            models.CheckConstraint(
                condition=Q(decided_at__isnull=True) | ~Q(decision=""),
                name="changedisposition_decided_has_decision",
            ),
        ]
        # The planners' worklist reads the open rows only; they stay few however many are decided.
        indexes = [
            models.Index(
                fields=["created_at"], condition=Q(decided_at__isnull=True), name="changedisposition_open"
            )
        ]

    def __str__(self) -> str:
        return f"{self.change_request_number} {self.work_order_id} {self.kind} {self.quantity}"

    @property
    def is_open(self) -> bool:
        return self.decided_at is None

    @property
    def decision_choices(self) -> tuple[str, ...]:
        return DECISIONS_BY_KIND.get(self.kind, ())

    @property
    def decision_options(self) -> list[tuple[str, StrOrPromise]]:
        """(value, label) of the allowed decisions, for forms."""
        labels: dict[str, StrOrPromise] = dict(Disposition.choices)
        return [(value, labels[value]) for value in self.decision_choices]
