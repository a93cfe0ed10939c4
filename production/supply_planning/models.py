"""Material shortages: a work order whose material is not there when the plan needs it, per item.

One open row per (work order, item): the shortage list pages read these rows, and a new row is what raises
the production exception (once; later refreshes only move its projected date or close it).
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Shortage(models.Model):
    work_order = models.ForeignKey(
        "production.WorkOrder",
        on_delete=models.CASCADE,
        related_name="shortages",
        verbose_name=_("work order"),
    )
    item = models.ForeignKey(
        "production.Item", on_delete=models.PROTECT, related_name="shortages", verbose_name=_("item")
    )
    quantity = models.DecimalField(_("quantity short"), max_digits=14, decimal_places=3)
    needed_at = models.DateTimeField(_("needed at"))
    projected_at = models.DateTimeField(_("projected availability"), null=True, blank=True)
    source = models.CharField(_("expected from"), max_length=60, blank=True)
    exception = models.ForeignKey(
        "production.ProductionException",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("production exception"),
    )
    detected_at = models.DateTimeField(_("detected at"))
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)

    class Meta:
        verbose_name = _("material shortage")
        verbose_name_plural = _("material shortages")
        ordering = ["needed_at", "pk"]
        constraints = [
            # One open shortage per work order and item: a refresh finds it instead of raising another.
            models.UniqueConstraint(
                fields=["work_order", "item"],
                condition=Q(resolved_at__isnull=True),
                name="supply_one_open_shortage_per_work_order_item",
            )
        ]
        permissions = [
            ("view_purchase_suggestions", "Can view purchase suggestions (MRP)"),
            ("order_purchase_suggestion", "Can turn a purchase suggestion into a purchase order"),
            ("hold_material", "Can hold material for a delivery-date quote"),
        ]

    def __str__(self) -> str:
        return f"{self.work_order_id}/{self.item_id}"
