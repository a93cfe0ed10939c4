"""Master data: what the plant is — work centers with their weekly shifts and calendar exceptions, and
routings (how each product is made, operation by operation).

Written by production.master_data.services; work orders copy a routing's operations when they are made.
"""

from __future__ import annotations

from decimal import Decimal

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from config.history import HistoricalRecords
from config.kernel.names import localized


# --- plants -------------------------------------------------------------------------------------------
class PlantMode(models.TextChoices):
    MES = "mes", _("External MES")
    FLOOR = "floor", _("Shop-floor reporting in OrderBridge")


class FloorLanguage(models.TextChoices):
    EN = "en", _("English")
    ZH_HANS = "zh-hans", _("Simplified Chinese")


class Plant(models.Model):
    """A plant: whether its work orders go out to an external MES or are reported on OrderBridge's own
    floor pages (production.floor), and the language its floor reads by default."""

    code = models.CharField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=120)
    mode = models.CharField(_("mode"), max_length=16, choices=PlantMode.choices, default=PlantMode.MES)
    floor_language = models.CharField(
        _("floor language"), max_length=16, choices=FloorLanguage.choices, default=FloorLanguage.EN
    )

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("plant")
        verbose_name_plural = _("plants")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} · {self.name}"


# --- work centers and calendars ------------------------------------------------------------------------
class WorkCenter(models.Model):
    """A production line: `units` identical machines/crews working to one calendar."""

    code = models.CharField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=120)
    units = models.PositiveSmallIntegerField(
        _("parallel units"), default=1, validators=[MinValueValidator(1), MaxValueValidator(50)]
    )
    # Actual output / standard output: 0.8 means an operation takes 1/0.8 of its standard time here.
    efficiency = models.DecimalField(
        _("efficiency"),
        max_digits=4,
        decimal_places=2,
        default=Decimal("1.00"),
        validators=[MinValueValidator(Decimal("0.10")), MaxValueValidator(Decimal("2.00"))],
    )
    is_active = models.BooleanField(_("active"), default=True)
    # No plant: the only plant's, or ORDERBRIDGE_PLANT_MODE's mode (production.master_data.plants).
    plant = models.ForeignKey(
        Plant,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="work_centers",
        verbose_name=_("plant"),
    )
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        verbose_name = _("work center")
        verbose_name_plural = _("work centers")
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(condition=Q(units__gte=1), name="workcenter_units_positive"),
            models.CheckConstraint(condition=Q(efficiency__gt=0), name="workcenter_efficiency_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.code} · {self.name}"


class Weekday(models.IntegerChoices):
    MONDAY = 0, _("Monday")
    TUESDAY = 1, _("Tuesday")
    WEDNESDAY = 2, _("Wednesday")
    THURSDAY = 3, _("Thursday")
    FRIDAY = 4, _("Friday")
    SATURDAY = 5, _("Saturday")
    SUNDAY = 6, _("Sunday")


class Shift(models.Model):
    """A weekly working window of a work center, in the plant's time zone (settings.TIME_ZONE).

    A shift that ends at or before its start runs past midnight into the next day. Breaks are the gaps
    between shifts: model a break by splitting the shift in two.
    """

    work_center = models.ForeignKey(
        WorkCenter, on_delete=models.CASCADE, related_name="shifts", verbose_name=_("work center")
    )
    weekday = models.PositiveSmallIntegerField(_("weekday"), choices=Weekday.choices)
    start = models.TimeField(_("start"))
    end = models.TimeField(_("end"))

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("shift")
        verbose_name_plural = _("shifts")
        ordering = ["work_center", "weekday", "start"]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.start:%H:%M}-{self.end:%H:%M}"


class CalendarException(models.Model):
    """A holiday or closure (not working) or an extra shift (working) on one date.

    Without a work center it applies to the whole plant; without start/end it covers the whole day.
    """

    work_center = models.ForeignKey(
        WorkCenter,
        on_delete=models.CASCADE,
        related_name="calendar_exceptions",
        null=True,
        blank=True,
        verbose_name=_("work center"),
    )
    date = models.DateField(_("date"))
    start = models.TimeField(_("start"), null=True, blank=True)
    end = models.TimeField(_("end"), null=True, blank=True)
    is_working = models.BooleanField(_("working time"), default=False)
    description = models.CharField(_("description"), max_length=200, blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("calendar exception")
        verbose_name_plural = _("calendar exceptions")
        ordering = ["date", "start"]

    def __str__(self) -> str:
        return f"{self.date} {self.description}".strip()


# --- routings ------------------------------------------------------------------------------------------
class Routing(models.Model):
    """How one product is made: its operations in sequence order."""

    product = models.OneToOneField(
        "orders.Product", on_delete=models.PROTECT, related_name="routing", verbose_name=_("product")
    )
    name = models.CharField(_("name"), max_length=120, blank=True)
    # Quantities above the lot size are split into several work orders of at most this size.
    lot_size = models.DecimalField(
        _("lot size"),
        max_digits=12,
        decimal_places=3,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0.001"))],
        help_text=_("Largest quantity of one work order; empty means never split."),
    )
    is_active = models.BooleanField(_("active"), default=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("routing")
        verbose_name_plural = _("routings")
        ordering = ["product__sku"]

    def __str__(self) -> str:
        return self.name or str(self.product)


class Operation(models.Model):
    routing = models.ForeignKey(
        Routing, on_delete=models.CASCADE, related_name="operations", verbose_name=_("routing")
    )
    sequence = models.PositiveIntegerField(_("sequence"))
    name = models.CharField(_("name"), max_length=120)
    # The name on Chinese pages (the English name when empty); copied onto work order operations.
    name_zh = models.CharField(_("Chinese name"), max_length=120, blank=True, default="", db_default="")
    work_center = models.ForeignKey(
        WorkCenter, on_delete=models.PROTECT, related_name="operations", verbose_name=_("work center")
    )
    setup_minutes = models.DecimalField(
        _("setup time (min)"), max_digits=8, decimal_places=2, default=0, validators=[MinValueValidator(0)]
    )
    run_minutes_per_unit = models.DecimalField(
        _("run time per unit (min)"), max_digits=10, decimal_places=4, validators=[MinValueValidator(0)]
    )

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("operation")
        verbose_name_plural = _("operations")
        ordering = ["routing", "sequence"]
        constraints = [
            models.UniqueConstraint(fields=["routing", "sequence"], name="operation_unique_sequence"),
        ]

    def __str__(self) -> str:
        return f"{self.sequence} {self.display_name}"

    @property
    def display_name(self) -> str:
        return localized(self.name, self.name_zh)
