"""Change requests: every change of an order that production already holds, decided and applied on record.

Imported by orders.models (``ChangeRequest`` lives in ``orders.models`` for everyone else). Statuses change
only through the transitions below, called by the services of ``orders.change_requests`` (which lock the
rows, check the approval matrix, record history and the decision row, and publish the events).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from django_fsm import FSMField, transition

from config.history import HistoricalRecords


class ChangeRequestStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Submitted")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    APPLIED = "applied", _("Applied")
    WITHDRAWN = "withdrawn", _("Withdrawn")
    SUPERSEDED = "superseded", _("Superseded")


# A CR in one of these may still change the order; the others are final.
OPEN_CR_STATUSES = (ChangeRequestStatus.DRAFT, ChangeRequestStatus.SUBMITTED, ChangeRequestStatus.APPROVED)


class ChangeOrigin(models.TextChoices):
    UI = "ui", _("User interface")
    API = "api", _("API")
    CRM = "crm", _("CRM")


class Disposition(models.TextChoices):
    """What happens to quantity already made that a change makes surplus or wrong."""

    STOCK = "stock", _("To stock")
    REWORK = "rework", _("Rework")
    SCRAP = "scrap", _("Scrap")


class ChangeRequestNumber(models.Model):
    """One row per issued CR number: the auto-increment key is the counter (like order numbers)."""

    allocated_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("change request number")
        verbose_name_plural = _("change request numbers")

    def __str__(self) -> str:
        return str(self.pk)


class ChangeRequest(models.Model):
    order = models.ForeignKey(
        "orders.SalesOrder",
        on_delete=models.PROTECT,
        related_name="change_requests",
        verbose_name=_("order"),
    )
    number = models.CharField(_("change request number"), max_length=32, unique=True, editable=False)
    status = FSMField(
        _("status"),
        default=ChangeRequestStatus.DRAFT,
        choices=ChangeRequestStatus.choices,
        protected=True,
        db_index=True,
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="change_requests",
        verbose_name=_("requested by"),
    )
    origin = models.CharField(
        _("origin"), max_length=8, choices=ChangeOrigin.choices, default=ChangeOrigin.UI
    )
    base_revision = models.PositiveIntegerField(_("base revision"))
    reason = models.TextField(_("reason"))
    # The proposed changes, validated and normalised: [{"op": "set_quantity", "line_no": 1, ...}, ...].
    changes = models.JSONField(_("changes"), default=list)
    # What the change would do, computed on submit (production registers the analysis).
    impact = models.JSONField(_("impact analysis"), default=dict, blank=True)
    needs_manager = models.BooleanField(_("needs a production manager"), default=False)
    disposition = models.CharField(
        _("disposition"), max_length=8, choices=Disposition.choices, blank=True, default=""
    )
    rebased_from = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="rebased_copies",
        verbose_name=_("re-based from"),
    )
    planner_approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("approved by (planner)"),
    )
    manager_approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("approved by (production manager)"),
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("decided by"),
    )
    applied_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("applied by"),
    )
    applied_revision = models.PositiveIntegerField(_("applied as revision"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    applied_at = models.DateTimeField(_("applied at"), null=True, blank=True)
    acknowledged_at = models.DateTimeField(_("acknowledged by the MES at"), null=True, blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("change request")
        verbose_name_plural = _("change requests")
        ordering = ["-created_at", "-id"]
        permissions = [
            ("approve_changerequest", _("Can approve, reject and apply change requests")),
            (
                "approve_changerequest_as_manager",
                _("Can give the production manager's approval of change requests"),
            ),
        ]
        indexes = [
            # The approvers' inbox reads only pending requests, oldest first.
            models.Index(
                fields=["submitted_at"], condition=Q(status="submitted"), name="changerequest_pending_idx"
            ),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_CR_STATUSES

    # --- transitions: state rules only ---------------------------------------------------------------
    @transition(field=status, source=ChangeRequestStatus.DRAFT, target=ChangeRequestStatus.SUBMITTED)
    def submit(self) -> None:
        pass

    @transition(field=status, source=ChangeRequestStatus.SUBMITTED, target=ChangeRequestStatus.APPROVED)
    def approve(self) -> None:
        pass

    @transition(field=status, source=ChangeRequestStatus.SUBMITTED, target=ChangeRequestStatus.REJECTED)
    def reject(self) -> None:
        pass

    @transition(
        field=status,
        source=[ChangeRequestStatus.DRAFT, ChangeRequestStatus.SUBMITTED],
        target=ChangeRequestStatus.WITHDRAWN,
    )
    def withdraw(self) -> None:
        pass

    @transition(field=status, source=ChangeRequestStatus.APPROVED, target=ChangeRequestStatus.APPLIED)
    def apply(self) -> None:
        pass

    @transition(field=status, source=list(OPEN_CR_STATUSES), target=ChangeRequestStatus.SUPERSEDED)
    def supersede(self) -> None:
        pass


class DecisionAction(models.TextChoices):
    # The step "created" (已创建), not the column "Created" (创建时间): the same English word.
    CREATED = "created", pgettext_lazy("change request step", "Created")
    SUBMITTED = "submitted", _("Submitted")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    WITHDRAWN = "withdrawn", _("Withdrawn")
    APPLIED = "applied", _("Applied")
    SUPERSEDED = "superseded", _("Superseded")
    REBASED = "rebased", _("Re-based")
    ACKNOWLEDGED = "acknowledged", _("Acknowledged by the MES")


class DecisionRole(models.TextChoices):
    REQUESTER = "requester", _("Requester")
    PLANNER = "planner", _("Planner")
    MANAGER = "manager", _("Production manager")
    SYSTEM = "system", _("System")


class ChangeRequestDecision(models.Model):
    """One row per step of a CR: who did what, in which capacity, when and why. Never edited."""

    change_request = models.ForeignKey(
        ChangeRequest, on_delete=models.CASCADE, related_name="decisions", verbose_name=_("change request")
    )
    action = models.CharField(_("action"), max_length=16, choices=DecisionAction.choices)
    role = models.CharField(_("role"), max_length=16, choices=DecisionRole.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("by"),
    )
    comment = models.TextField(_("comment"), blank=True)
    created_at = models.DateTimeField(_("at"), auto_now_add=True)

    class Meta:
        verbose_name = _("change request decision")
        verbose_name_plural = _("change request decisions")
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.change_request_id} {self.action}"
