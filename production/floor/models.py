"""The shop floor of a plant without an MES: operators' badges, the reason codes they pick, and every report
an operator's phone sends (kept under the id the phone made, so that a report sent twice counts once).

Other packages' models are named by label: model modules import no other package.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from config.history import HistoricalRecords


class OperatorBadge(models.Model):
    """An operator's badge number and PIN (hashed like a password), for a fast sign-in on a shared device.
    The reports are recorded as this user."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="operator_badge",
        verbose_name=_("user"),
    )
    badge = models.CharField(_("badge number"), max_length=32, unique=True)
    pin_hash = models.CharField(_("PIN (hashed)"), max_length=128, editable=False)
    is_active = models.BooleanField(_("active"), default=True)

    history = HistoricalRecords(excluded_fields=["pin_hash"])

    class Meta:
        verbose_name = _("operator badge")
        verbose_name_plural = _("operator badges")
        ordering = ["badge"]

    def __str__(self) -> str:
        return self.badge


class ReasonKind(models.TextChoices):
    SCRAP = "scrap", _("Scrap")
    REWORK = "rework", _("Rework")


class ReasonCode(models.Model):
    """Why pieces were scrapped or sent to rework: a list the plant keeps in the admin, in both languages."""

    code = models.CharField(_("code"), max_length=32, unique=True)
    kind = models.CharField(_("kind"), max_length=16, choices=ReasonKind.choices)
    name_en = models.CharField(_("name (English)"), max_length=120)
    name_zh_hans = models.CharField(_("name (Simplified Chinese)"), max_length=120)
    is_active = models.BooleanField(_("active"), default=True)
    sort_order = models.PositiveSmallIntegerField(_("sort order"), default=0)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("reason code")
        verbose_name_plural = _("reason codes")
        ordering = ["kind", "sort_order", "code"]

    def __str__(self) -> str:
        return f"{self.code} · {self.name}"

    @property
    def name(self) -> str:
        """The name in the active language."""
        return self.name_zh_hans if (get_language() or "").startswith("zh") else self.name_en


class FloorAction(models.TextChoices):
    START = "start", _("Start")
    PAUSE = "pause", _("Pause")
    REPORT = "report", _("Report")
    EXCEPTION = "exception", _("Exception")
    LOT = "lot", _("Lot")


class FloorReport(models.Model):
    """One report from an operator's phone, as accepted (a refused report leaves nothing).

    `client_id` is made by the phone: a repeat returns the first answer (`answer`) and changes nothing.
    `device_time` is when the operator tapped; `occurred_at` is the time taken for it (the device's when
    plausible, else the time received, `time_flagged` set)."""

    client_id = models.UUIDField(_("client id"), unique=True)
    action = models.CharField(_("action"), max_length=16, choices=FloorAction.choices)
    operation = models.ForeignKey(
        "production.WorkOrderOperation",
        on_delete=models.PROTECT,
        related_name="floor_reports",
        verbose_name=_("operation"),
    )
    operator = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("operator")
    )
    good_quantity = models.DecimalField(_("good quantity"), max_digits=12, decimal_places=3, default=0)
    scrap_quantity = models.DecimalField(_("scrap quantity"), max_digits=12, decimal_places=3, default=0)
    rework_quantity = models.DecimalField(_("rework quantity"), max_digits=12, decimal_places=3, default=0)
    scrap_reason = models.ForeignKey(
        ReasonCode,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("scrap reason"),
    )
    rework_reason = models.ForeignKey(
        ReasonCode,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("rework reason"),
    )
    finished = models.BooleanField(_("operation finished"), default=False)
    progress_report = models.OneToOneField(
        "production.ProgressReport",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="floor_report",
        verbose_name=_("progress report"),
    )
    exception = models.OneToOneField(
        "production.ProductionException",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="floor_report",
        verbose_name=_("production exception"),
    )
    lot = models.ForeignKey(
        "production.Lot",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("lot"),
    )
    photo = models.ImageField(_("photo"), upload_to="floor/photos/%Y/%m/", blank=True)
    note = models.CharField(_("note"), max_length=500, blank=True)
    device_time = models.DateTimeField(_("device time"), null=True, blank=True)
    received_at = models.DateTimeField(_("received at"))
    occurred_at = models.DateTimeField(_("occurred at"))
    time_flagged = models.BooleanField(_("device time not plausible"), default=False)
    answer = models.JSONField(_("answer"), default=dict, editable=False)

    class Meta:
        verbose_name = _("floor report")
        verbose_name_plural = _("floor reports")
        ordering = ["-received_at", "-id"]
        permissions = [("use_floor", _("Can report on the shop floor (operator pages)"))]

    def __str__(self) -> str:
        return f"{self.action} {self.client_id}"
