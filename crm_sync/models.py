"""The integration outbox: every order change other systems must learn of, written in the same transaction."""

import uuid

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class OutboxEvent(models.Model):
    """One CloudEvents 1.0 event. Delivery (per order, in sequence, at least once) reads these rows."""

    class State(models.TextChoices):
        PENDING = "pending", _("Pending")
        DELIVERED = "delivered", _("Delivered")
        DEAD = "dead", _("Dead letter")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    type = models.CharField(_("type"), max_length=100)
    source = models.CharField(_("source"), max_length=200)
    subject = models.CharField(_("subject"), max_length=64, help_text=_("The order number."))
    order = models.ForeignKey(
        "orders.SalesOrder", on_delete=models.PROTECT, related_name="outbox_events", verbose_name=_("order")
    )
    sequence = models.PositiveIntegerField(_("sequence"), help_text=_("Per-order sequence number."))
    time = models.DateTimeField(_("time"))
    data = models.JSONField(_("data"))
    actor_id = models.IntegerField(_("actor"), null=True, blank=True)
    reason = models.CharField(_("reason"), max_length=500, blank=True)
    state = models.CharField(_("state"), max_length=16, choices=State.choices, default=State.PENDING)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("outbox event")
        verbose_name_plural = _("outbox events")
        ordering = ["order_id", "sequence"]
        constraints = [
            models.UniqueConstraint(fields=["order", "sequence"], name="outbox_order_sequence_unique"),
        ]
        indexes = [
            # Delivery only ever looks for pending rows: keep that lookup small.
            models.Index(
                fields=["order", "sequence"], condition=Q(state="pending"), name="outbox_pending_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.subject}#{self.sequence} {self.type}"

    def as_cloudevent(self) -> dict:
        return {
            "specversion": "1.0",
            "id": str(self.id),
            "source": self.source,
            "type": f"com.orderbridge.{self.type}",
            "subject": self.subject,
            "time": self.time.isoformat(),
            "datacontenttype": "application/json",
            "sequence": self.sequence,
            "data": self.data,
        }
