"""What an applied change request left on the shop floor: quantities made that became surplus or wrong.

Imported by production.models. One row per work order (and operation, for a spec change), written in the
change's own transaction by production.changes; the disposition is the one the approver picked.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords


class DispositionKind(models.TextChoices):
    SURPLUS = "surplus", _("Surplus (made beyond the new need)")
    WRONG_SPEC = "wrong_spec", _("Made to the old spec")
    CANCELLED = "cancelled", _("Made for cancelled work")


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
    # stock / rework / scrap (orders.models.Disposition); empty until someone decides (cancel pending).
    disposition = models.CharField(_("disposition"), max_length=8, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("change disposition")
        verbose_name_plural = _("change dispositions")
        ordering = ["-created_at", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="changedisposition_quantity_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.change_request_number} {self.work_order_id} {self.kind} {self.quantity}"
