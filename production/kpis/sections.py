"""What the dashboard is made of: its filters, sections (figures, charts, tables) and the registry of
section providers (production's own, and crm_sync's sync health)."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import (
    Exists,
    OuterRef,
    Q,
    QuerySet,
)
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import gettext as _

from orders.models import (
    Customer,
    CustomerTier,
    OrderLine,
    ProductFamily,
)

DEFAULT_WEEKS = 13
MAX_DAYS = 731


# --- filters -------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class KpiFilters:
    """The period (inclusive dates, plant time) and the optional customer, tier and product family."""

    start: dt.date
    end: dt.date
    customer_id: int | None = None
    tier: str = ""
    family_id: int | None = None

    @classmethod
    def default(cls) -> KpiFilters:
        today = timezone.localdate()
        return cls(start=today - dt.timedelta(weeks=DEFAULT_WEEKS) + dt.timedelta(days=1), end=today)

    @property
    def since(self) -> dt.datetime:
        return timezone.make_aware(dt.datetime.combine(self.start, dt.time.min))

    @property
    def until(self) -> dt.datetime:
        return timezone.make_aware(dt.datetime.combine(self.end + dt.timedelta(days=1), dt.time.min))

    def cache_key(self) -> str:
        raw = f"{self.start}|{self.end}|{self.customer_id}|{self.tier}|{self.family_id}"
        return hashlib.sha256(raw.encode()).hexdigest()[:24]

    def query(self) -> dict[str, str]:
        data = {"start": self.start.isoformat(), "end": self.end.isoformat()}
        if self.customer_id:
            data["customer"] = str(self.customer_id)
        if self.tier:
            data["tier"] = self.tier
        if self.family_id:
            data["family"] = str(self.family_id)
        return data

    def in_period(self, moment: str) -> Q:
        return Q(**{f"{moment}__gte": self.since, f"{moment}__lt": self.until})

    def orders(self, queryset: QuerySet, *, order: str = "", family: str | None = None) -> QuerySet:
        """Apply customer, tier and family to a queryset whose rows reach an order through `order`.

        `family` names a product path on the rows themselves (work orders make one product); without it
        an order matches when any of its lines is of the family.
        """
        prefix = f"{order}__" if order else ""
        if self.customer_id:
            queryset = queryset.filter(**{f"{prefix}customer_id": self.customer_id})
        if self.tier:
            queryset = queryset.filter(**{f"{prefix}customer__tier": self.tier})
        if self.family_id:
            if family:
                queryset = queryset.filter(**{f"{family}__family_id": self.family_id})
            else:
                lines = OrderLine.objects.filter(
                    order_id=OuterRef(f"{prefix}pk" if prefix else "pk"), product__family_id=self.family_id
                )
                queryset = queryset.filter(Exists(lines))
        return queryset


def parse_filters(params: Any) -> tuple[KpiFilters, dict[str, list[str]]]:
    """Filters from a query string; a bad value is reported by field and replaced by its default."""
    default = KpiFilters.default()
    errors: dict[str, list[str]] = {}
    values: dict[str, Any] = {"start": default.start, "end": default.end}
    for name in ("start", "end"):
        raw = (params.get(name) or "").strip()
        if raw:
            try:
                values[name] = dt.date.fromisoformat(raw)
            except ValueError:
                errors[name] = [_("Enter a valid date (YYYY-MM-DD).")]
    if values["end"] < values["start"]:
        errors["end"] = [_("The end of the period is before its start.")]
        values["start"], values["end"] = default.start, default.end
    elif (values["end"] - values["start"]).days > MAX_DAYS:
        errors["start"] = [_("Choose a period of at most two years.")]
        values["start"] = values["end"] - dt.timedelta(days=MAX_DAYS)
    for name, model in (("customer", Customer), ("family", ProductFamily)):
        raw = (params.get(name) or "").strip()
        if not raw:
            continue
        if not raw.isdigit() or not model.objects.filter(pk=int(raw)).exists():
            errors[name] = [_("Choose a valid option.")]
        else:
            values[f"{name}_id"] = int(raw)
    tier = (params.get("tier") or "").strip()
    if tier and tier not in CustomerTier.values:
        errors["tier"] = [_("Choose a valid option.")]
    elif tier:
        values["tier"] = tier
    return KpiFilters(**values), errors


# --- what a section is made of -------------------------------------------------------------------------
@dataclass
class Figure:
    label: str
    value: float | int | None
    unit: str = ""
    hint: str = ""

    @property
    def text(self) -> str:
        """The value as shown: thousands grouped; a whole count without decimals, a rate or time with one."""
        if self.value is None:
            return ""
        whole = isinstance(self.value, int) or (not self.unit and float(self.value).is_integer())
        return number_format(self.value, 0 if whole else 1, force_grouping=True)


@dataclass
class Series:
    label: str
    points: list[tuple[Any, float | None]]


@dataclass
class Chart:
    title: str
    kind: str  # "line" (over time) or "bar" (categories)
    series: list[Series]
    unit: str = ""


@dataclass
class Table:
    key: str
    title: str
    columns: list[str]
    rows: list[list[Any]]


@dataclass
class Section:
    key: str
    title: str
    definition: str
    figures: list[Figure] = field(default_factory=list)
    charts: list[Chart] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    unavailable: str = ""
    note: str = ""


@dataclass(frozen=True)
class SectionProvider:
    key: str
    build: Callable[[KpiFilters], Section]
    order: int = 100


_providers: dict[str, SectionProvider] = {}


def register(provider: SectionProvider) -> SectionProvider:
    _providers[provider.key] = provider
    return provider


def providers() -> list[SectionProvider]:
    return sorted(_providers.values(), key=lambda p: (p.order, p.key))


def weeks_of(filters: KpiFilters) -> list[dt.date]:
    start = filters.start - dt.timedelta(days=filters.start.weekday())
    weeks = []
    while start <= filters.end:
        weeks.append(start)
        start += dt.timedelta(weeks=1)
    return weeks
