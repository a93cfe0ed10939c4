"""In-app notifications, each user's choice of channels, and the email/chat deliveries of each notice.

Imported by orders/models.py so that Django finds the models; routing and sending live in
orders/notifications/services.py.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class NotificationKind(models.TextChoices):
    CR_SUBMITTED = "cr_submitted", _("Change request waiting for my approval")
    CR_DECIDED = "cr_decided", _("My change request decided")
    EXCEPTION_RAISED = "exception_raised", _("Production exception on my order")
    ORDER_AT_RISK = "order_at_risk", _("My order at risk of being late")
    ORDER_COMPLETED = "order_completed", _("My order completed")
    ORDER_SHIPPED = "order_shipped", _("My order shipped")
    ORDER_HELD = "order_held", _("My order put on hold, resumed or cancelled")
    ORDER_RATED = "order_rated", _("Customer rated my order")
    MES_UNACKNOWLEDGED = "mes_unacknowledged", _("A change to work under way not acknowledged by the MES")


class Channel(models.TextChoices):
    IN_APP = "in_app", _("In-app")
    EMAIL = "email", _("Email")
    CHAT = "chat", _("Chat webhook")


class ChatStyle(models.TextChoices):
    # The JSON body each kind of incoming webhook expects.
    WECOM = "wecom", _("WeCom")
    DINGTALK = "dingtalk", _("DingTalk")
    SLACK = "slack", _("Slack or generic")


class Notification(models.Model):
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="notifications",
        verbose_name=_("recipient"),
    )
    kind = models.CharField(_("kind"), max_length=32, choices=NotificationKind.choices)
    # The event and its parameters: the inbox shows the text again in the reader's language.
    event = models.CharField(_("event"), max_length=64, blank=True)
    params = models.JSONField(_("parameters"), default=dict, blank=True)
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("body"), blank=True)
    link = models.CharField(_("link"), max_length=300, blank=True)
    order = models.ForeignKey(
        "orders.SalesOrder",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("order"),
    )
    # Off when the user chose email or chat only: the row still carries the deliveries.
    in_app = models.BooleanField(_("shown in the inbox"), default=True)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["recipient", "-created_at"], name="notification_inbox_idx"),
            # The navbar badge counts unread rows on every page: the partial index keeps it cheap.
            models.Index(
                fields=["recipient"],
                condition=Q(read_at__isnull=True, in_app=True),
                name="notification_unread_idx",
            ),
        ]

    def __str__(self) -> str:
        return self.title


class NotificationPreference(models.Model):
    """A user's channels for one kind of notice. No row: in-app only (NotificationPreference.DEFAULTS)."""

    DEFAULTS = {"in_app": True, "email": False, "chat": False}

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="notification_preferences",
        verbose_name=_("user"),
    )
    kind = models.CharField(_("kind"), max_length=32, choices=NotificationKind.choices)
    in_app = models.BooleanField(_("in-app"), default=True)
    email = models.BooleanField(_("email"), default=False)
    chat = models.BooleanField(_("chat webhook"), default=False)

    class Meta:
        verbose_name = _("notification preference")
        verbose_name_plural = _("notification preferences")
        constraints = [
            models.UniqueConstraint(fields=["user", "kind"], name="notificationpreference_unique_kind"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id}/{self.kind}"


def default_language() -> str:
    return settings.LANGUAGE_CODE


class NotificationProfile(models.Model):
    """Per user: the language of emails and chat messages, and the chat webhook to post to."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="notification_profile",
        verbose_name=_("user"),
    )
    language = models.CharField(
        _("language"), max_length=10, choices=settings.LANGUAGES, default=default_language
    )
    chat_webhook_url = models.URLField(_("chat webhook URL"), max_length=500, blank=True)
    chat_style = models.CharField(
        _("chat webhook type"), max_length=16, choices=ChatStyle.choices, default=ChatStyle.WECOM
    )

    class Meta:
        verbose_name = _("notification settings")
        verbose_name_plural = _("notification settings")

    def __str__(self) -> str:
        return str(self.user_id)


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")


class NotificationDelivery(models.Model):
    """One notice on one outside channel (email or chat): sent once, retried with backoff until it is."""

    notification = models.ForeignKey(
        Notification, on_delete=models.CASCADE, related_name="deliveries", verbose_name=_("notification")
    )
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices)
    status = models.CharField(
        _("status"), max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt at"))
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)

    class Meta:
        verbose_name = _("notification delivery")
        verbose_name_plural = _("notification deliveries")
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["notification", "channel"], name="notificationdelivery_unique"),
        ]
        indexes = [
            # The sweep reads only what is still to send.
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(status="pending"),
                name="notificationdelivery_due_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.notification_id}/{self.channel}: {self.status}"
