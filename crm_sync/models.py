"""The integration outbox: every order change other systems must learn of, written in the same transaction."""

import uuid

from django.conf import settings
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
    # Where the change came from ("" = made here; "crm:<slug>" = applied from that system's message):
    # the origin system is not sent its own change back (echo suppression).
    origin = models.CharField(_("origin"), max_length=80, blank=True, default="")
    state = models.CharField(_("state"), max_length=16, choices=State.choices, default=State.PENDING)
    # Where end-to-end latency starts: when our hook received the message that caused the change, or (a
    # change made here) when it was made. NULL on events recorded before this field existed.
    caused_at = models.DateTimeField(_("caused at"), null=True, blank=True)
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
            "origin": self.origin or "orderbridge",
            "data": self.data,
        }


# Events of the change-request workflow (submitted, approved, rejected…): people's business, not the line's.
APPROVAL_EVENT_PREFIX = "change_request."


class ExternalSystem(models.Model):
    """A CRM or MES that receives our events (and may send us messages), configured by an admin."""

    class Kind(models.TextChoices):
        CRM = "crm", _("CRM")
        MES = "mes", _("MES")

    class Format(models.TextChoices):
        JSON = "json", _("JSON (CloudEvents)")
        B2MML = "b2mml", _("B2MML XML (ISA-95)")

    name = models.CharField(_("name"), max_length=100, unique=True)
    slug = models.SlugField(
        _("slug"), max_length=50, unique=True, help_text=_("Names the system in inbound webhook URLs.")
    )
    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices)
    base_url = models.URLField(_("base URL"), max_length=300)
    events_path = models.CharField(
        _("events path"), max_length=200, default="/events", help_text=_("Appended to the base URL.")
    )
    bearer_token = models.CharField(_("bearer token"), max_length=300, blank=True)
    signing_secret = models.CharField(
        _("signing secret"),
        max_length=300,
        blank=True,
        help_text=_("Standard Webhooks secret, whsec_ followed by base64. Signs outbound, verifies inbound."),
    )
    format = models.CharField(_("format"), max_length=8, choices=Format.choices, default=Format.JSON)
    event_types = models.JSONField(
        _("event types"),
        default=list,
        blank=True,
        help_text=_('Event types this system takes, e.g. ["order.released"]. Empty: every type.'),
    )
    field_mapping = models.JSONField(
        _("field mapping"),
        default=dict,
        blank=True,
        help_text=_(
            'Their payload shape: {"outbound": {"their.path": "our.path" or {"from": "our.path", '
            '"map": {...}, "default": ...} or {"each": "our.list", "fields": {...}}}}. Empty: CloudEvents.'
        ),
    )
    is_enabled = models.BooleanField(
        _("enabled"), default=True, help_text=_("A disabled system is not sent new events at all.")
    )
    is_paused = models.BooleanField(
        _("paused"),
        default=False,
        help_text=_("A paused system keeps its queue; delivery resumes when unpaused."),
    )
    service_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("service user"),
        help_text=_("Acts in OrderBridge for this system's inbound messages (needs the role's rights)."),
    )
    connect_timeout = models.FloatField(_("connect timeout (s)"), default=3.0)
    read_timeout = models.FloatField(_("read timeout (s)"), default=10.0)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("external system")
        verbose_name_plural = _("external systems")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def events_url(self) -> str:
        return self.base_url.rstrip("/") + "/" + self.events_path.lstrip("/")

    def takes(self, event_type: str) -> bool:
        if self.format == self.Format.B2MML and event_type.startswith(APPROVAL_EVENT_PREFIX):
            # An approval step is no OperationsSchedule (it names no work): a B2MML system gets its outcome,
            # order.change_applied, even with no event filter.
            return False
        return not self.event_types or event_type in self.event_types


class Delivery(models.Model):
    """One event to one system: the unit that is claimed, sent, retried and finally acknowledged or dead.

    `order` and `sequence` are copied from the event so that "the head of this order's queue for this
    system" is answered from this table and its index alone.
    """

    class State(models.TextChoices):
        PENDING = "pending", _("Pending")
        IN_FLIGHT = "in_flight", _("In flight")
        DELIVERED = "delivered", _("Delivered")
        FAILED = "failed", _("Failed, will retry")
        DEAD = "dead", _("Dead letter")

    event = models.ForeignKey(
        OutboxEvent, on_delete=models.PROTECT, related_name="deliveries", verbose_name=_("event")
    )
    system = models.ForeignKey(
        ExternalSystem, on_delete=models.PROTECT, related_name="deliveries", verbose_name=_("system")
    )
    order = models.ForeignKey(
        "orders.SalesOrder", on_delete=models.PROTECT, related_name="+", verbose_name=_("order")
    )
    sequence = models.PositiveIntegerField(_("sequence"))
    state = models.CharField(_("state"), max_length=16, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt at"))
    claimed_until = models.DateTimeField(_("claimed until"), null=True, blank=True)
    # The relay published a wake-up for this queue head; it does not publish another before this time
    # (cleared when an attempt's outcome is recorded): a backlog is not flooded with duplicate tasks.
    queued_until = models.DateTimeField(_("queued until"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)
    acknowledged_at = models.DateTimeField(
        _("acknowledged at"),
        null=True,
        blank=True,
        help_text=_("When the receiver confirmed it (e.g. ConfirmBOD)."),
    )
    # When the planners were told the MES had not acknowledged it in time (crm_sync.outbox.acks): once.
    ack_overdue_at = models.DateTimeField(_("acknowledgement overdue since"), null=True, blank=True)
    # A replay starts a fresh retry budget (attempts and age) without rewriting the attempt history.
    replayed_at = models.DateTimeField(_("replayed at"), null=True, blank=True)
    attempts_before_replay = models.PositiveIntegerField(default=0, editable=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["event", "system"], name="delivery_event_system_unique"),
        ]
        indexes = [
            # Claiming and "is an earlier one still open?" only ever look at undelivered rows.
            models.Index(
                fields=["system", "order", "sequence"],
                condition=~Q(state="delivered"),
                name="delivery_open_idx",
            ),
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(state__in=["pending", "failed", "in_flight"]),
                name="delivery_due_idx",
            ),
            models.Index(fields=["state", "system"], name="delivery_state_idx"),
            # Sync health's end-to-end latency reads the deliveries delivered in a period.
            models.Index(
                fields=["delivered_at"],
                include=["created_at", "order_id"],
                condition=Q(delivered_at__isnull=False),
                name="delivery_delivered_kpi_idx",
            ),
            # Beat looks for delivered changes still waiting for the MES's acknowledgement.
            models.Index(
                fields=["delivered_at"],
                condition=Q(state="delivered", acknowledged_at__isnull=True, ack_overdue_at__isnull=True),
                name="delivery_unacknowledged_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event} → {self.system_id}"


class DeliveryAttempt(models.Model):
    """One HTTP request of a delivery: history for the admin, evidence for latency figures."""

    delivery = models.ForeignKey(
        Delivery, on_delete=models.CASCADE, related_name="attempt_log", verbose_name=_("delivery")
    )
    number = models.PositiveIntegerField(_("attempt"))
    started_at = models.DateTimeField(_("started at"))
    status_code = models.PositiveSmallIntegerField(_("status code"), null=True, blank=True)
    latency_ms = models.PositiveIntegerField(_("latency (ms)"))
    error = models.TextField(_("error"), blank=True)
    response_excerpt = models.CharField(_("response"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("delivery attempt")
        verbose_name_plural = _("delivery attempts")
        ordering = ["delivery", "number"]
        indexes = [
            # Sync health's attempt counts and latencies read the attempts started in a period.
            models.Index(
                fields=["started_at"],
                include=["id", "delivery_id", "status_code", "latency_ms"],
                name="attempt_started_kpi_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.number} {self.status_code or self.error[:40]}"

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


class InboundMessage(models.Model):
    """A message another system sent us, stored raw under its unique id before anything is done with it.

    The unique (system, message id) makes a redelivered message a no-op; `state` turns processed in the
    same transaction as the message's effect, so the effect happens once.
    """

    class State(models.TextChoices):
        RECEIVED = "received", _("Received")
        PROCESSED = "processed", _("Processed")
        FAILED = "failed", _("Failed, will retry")
        DEAD = "dead", _("Dead letter")

    system = models.ForeignKey(
        ExternalSystem, on_delete=models.PROTECT, related_name="inbound_messages", verbose_name=_("system")
    )
    message_id = models.CharField(_("message id"), max_length=200)
    content_type = models.CharField(_("content type"), max_length=100, blank=True)
    body = models.TextField(_("body"))
    kind = models.CharField(_("kind"), max_length=100, blank=True)
    subject = models.CharField(_("subject"), max_length=64, blank=True)
    state = models.CharField(_("state"), max_length=16, choices=State.choices, default=State.RECEIVED)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt at"))
    last_error = models.TextField(_("last error"), blank=True)
    result = models.JSONField(_("result"), default=dict, blank=True)
    received_at = models.DateTimeField(_("received at"), auto_now_add=True)
    processed_at = models.DateTimeField(_("processed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("inbound message")
        verbose_name_plural = _("inbound messages")
        ordering = ["-received_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["system", "message_id"], name="inbound_system_message_unique"),
        ]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(state__in=["received", "failed"]),
                name="inbound_due_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.system_id}:{self.message_id}"


class InboundCursor(models.Model):
    """The newest message sequence applied per (system, subject): an older one arriving late is ignored.

    Locked while a message for the subject is applied, so two messages for one order or work order are
    applied one after the other, and the check and the effect commit together.
    """

    system = models.ForeignKey(
        ExternalSystem, on_delete=models.CASCADE, related_name="cursors", verbose_name=_("system")
    )
    subject = models.CharField(_("subject"), max_length=64)
    last_sequence = models.BigIntegerField(_("last sequence"), default=0)
    last_message_id = models.CharField(_("last message id"), max_length=200, blank=True)
    stale_ignored = models.PositiveIntegerField(_("stale messages ignored"), default=0)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("inbound cursor")
        verbose_name_plural = _("inbound cursors")
        constraints = [
            models.UniqueConstraint(fields=["system", "subject"], name="inbound_cursor_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.system_id}:{self.subject}@{self.last_sequence}"


class TaskReceipt(models.Model):
    """How often the broker handed a worker one task message (acks_late redelivers after a crash).

    Counted before the task body runs, in its own commit, so a message that kills its worker every time
    is seen again and again and, after CELERY_POISON_MAX_DELIVERIES, dead-lettered instead of looping.
    """

    class State(models.TextChoices):
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")
        # Still "running" past SYNC_TASK_LEASE_SECONDS: its worker was killed or lost the database.
        ABANDONED = "abandoned", _("Abandoned")
        DEAD = "dead", _("Dead letter")

    task_id = models.CharField(_("task id"), max_length=100, unique=True)
    name = models.CharField(_("task"), max_length=200)
    args = models.JSONField(_("arguments"), default=list, blank=True)
    deliveries = models.PositiveIntegerField(_("deliveries"), default=0)
    state = models.CharField(_("state"), max_length=16, choices=State.choices, default=State.RUNNING)
    first_seen_at = models.DateTimeField(_("first seen at"), auto_now_add=True)
    last_seen_at = models.DateTimeField(_("last seen at"), auto_now=True)

    class Meta:
        verbose_name = _("task receipt")
        verbose_name_plural = _("task receipts")
        ordering = ["-last_seen_at"]
        indexes = [models.Index(fields=["state", "last_seen_at"], name="taskreceipt_state_idx")]

    def __str__(self) -> str:
        return f"{self.name} {self.task_id} x{self.deliveries}"


class Drift(models.Model):
    """A difference between what we hold and what a CRM or MES reports (found by reconciliation)."""

    class Kind(models.TextChoices):
        MISSING_THERE = "missing_there", _("Unknown to the other system")
        MISSING_HERE = "missing_here", _("Unknown here")
        STATUS = "status", _("Status differs")
        REVISION = "revision", _("Revision differs")
        WORK_ORDERS = "work_orders", _("Work orders differ")
        QUANTITY = "quantity", _("Quantity differs")

    system = models.ForeignKey(
        ExternalSystem, on_delete=models.CASCADE, related_name="drifts", verbose_name=_("system")
    )
    order = models.ForeignKey(
        "orders.SalesOrder",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("order"),
    )
    # The order's number, or the work order's for a difference in one work order (then also work_order).
    subject = models.CharField(_("subject"), max_length=64)
    work_order = models.CharField(_("work order"), max_length=40, blank=True)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    # What differs, field by field ({"quantity": "12.000", "status": "Held"}): the drift page's table.
    ours = models.JSONField(_("ours"), default=dict, blank=True)
    theirs = models.JSONField(_("theirs"), default=dict, blank=True)
    detected_at = models.DateTimeField(_("detected at"))
    last_seen_at = models.DateTimeField(_("last seen at"))
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    resolution = models.CharField(_("resolution"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("drift")
        verbose_name_plural = _("drifts")
        ordering = ["-detected_at", "-id"]
        constraints = [
            # One open drift per system, subject and kind: a reconciliation run refreshes it.
            models.UniqueConstraint(
                fields=["system", "subject", "kind"],
                condition=Q(resolved_at__isnull=True),
                name="drift_open_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.system_id}:{self.subject} {self.kind}"


class ProgressFeed(models.Model):
    """Per order: whether the CRM is owed a progress event (order.progress), and when it may have it.

    The coalescing state lives here, in the database every web process and worker shares: a progress report
    (or a projection that moved far enough) sets `due_at` only if it is unset, to the later of now and
    `next_allowed_at`; the one event written when it is due reads the order's state at that moment, so any
    number of reports in between become one event with the newest state.
    """

    order = models.OneToOneField(
        "orders.SalesOrder",
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="+",
        verbose_name=_("order"),
    )
    # Set: a progress event is owed, not before this time. Unset: nothing to send.
    due_at = models.DateTimeField(_("due at"), null=True, blank=True)
    # The last event's time plus the interval: the earliest the next one may be written.
    next_allowed_at = models.DateTimeField(_("next allowed at"), null=True, blank=True)
    last_sent_at = models.DateTimeField(_("last sent at"), null=True, blank=True)
    # The projected completion the CRM was last given: the base a projection shift is measured from.
    projected_sent = models.DateTimeField(_("projection sent"), null=True, blank=True)
    events_sent = models.PositiveIntegerField(_("events sent"), default=0)

    class Meta:
        verbose_name = _("progress feed")
        verbose_name_plural = _("progress feeds")
        indexes = [
            # The sweep only ever looks for owed events.
            models.Index(fields=["due_at"], condition=Q(due_at__isnull=False), name="progress_due_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.order_id} due {self.due_at}"
