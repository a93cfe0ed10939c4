"""Customer tracking links and the customer's rating of a delivered order.

Imported by orders/models.py so that Django finds the models; services live in orders/tracking/services.py.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from config.history import HistoricalRecords


class TrackingLinkState(models.TextChoices):
    ACTIVE = "active", _("Active")
    EXPIRED = "expired", _("Expired")
    REVOKED = "revoked", _("Revoked")


class TrackingLink(models.Model):
    """A link a customer opens without an account to follow one order.

    The URL carries `public_id` (128 random bits) signed with the server's secret (see
    orders/tracking/services.py): a guessed or altered token fails the signature before any lookup, and a
    copy of the database alone does not give working URLs.
    """

    order = models.ForeignKey(
        "orders.SalesOrder", on_delete=models.CASCADE, related_name="tracking_links", verbose_name=_("order")
    )
    public_id = models.CharField(_("public id"), max_length=40, unique=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("created by")
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    expires_at = models.DateTimeField(_("expires at"))
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("revoked by"),
    )
    # Counters, not history: how often the customer looked (customer service asks "has he seen it?").
    open_count = models.PositiveIntegerField(_("times opened"), default=0)
    last_opened_at = models.DateTimeField(_("last opened at"), null=True, blank=True)

    history = HistoricalRecords(excluded_fields=["open_count", "last_opened_at"])

    class Meta:
        verbose_name = _("tracking link")
        verbose_name_plural = _("tracking links")
        ordering = ["-created_at", "-id"]
        permissions = [("revoke_trackinglink", _("Can revoke tracking links"))]

    def __str__(self) -> str:
        return f"{self.order_id}/{self.public_id[:6]}…"

    def state(self, now: dt.datetime | None = None) -> str:
        if self.revoked_at is not None:
            return TrackingLinkState.REVOKED
        if self.expires_at <= (now or timezone.now()):
            return TrackingLinkState.EXPIRED
        return TrackingLinkState.ACTIVE

    def get_state_display(self) -> str:
        return str(TrackingLinkState(self.state()).label)


class OrderRating(models.Model):
    """The customer's one rating of a delivered order, given through a tracking link."""

    order = models.OneToOneField(
        "orders.SalesOrder", on_delete=models.CASCADE, related_name="rating", verbose_name=_("order")
    )
    tracking_link = models.ForeignKey(
        TrackingLink,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("tracking link"),
    )
    score = models.PositiveSmallIntegerField(
        _("score"), validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    comment = models.TextField(_("comment"), max_length=2000, blank=True)
    created_at = models.DateTimeField(_("rated at"), auto_now_add=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("order rating")
        verbose_name_plural = _("order ratings")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(score__gte=1, score__lte=5), name="orderrating_score_1_to_5"),
        ]

    def __str__(self) -> str:
        return f"{self.order_id}: {self.score}/5"
