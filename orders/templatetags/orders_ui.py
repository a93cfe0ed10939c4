"""Presentation helpers for the order pages: badges, quantities, form widgets with Bootstrap classes."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django import forms, template
from django.template import Context
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from config.kernel import Actor
from orders.catalog.models import CustomerTier, Priority
from orders.sales.models import OrderStatus
from orders.tracking import services as tracking

register = template.Library()

# One colour per status, so that a planner reads the list by colour before reading words.
STATUS_BADGES: dict[str, str] = {
    OrderStatus.DRAFT: "text-bg-light border",
    OrderStatus.CONFIRMED: "text-bg-primary",
    OrderStatus.RELEASED: "text-bg-info",
    OrderStatus.IN_PRODUCTION: "ob-badge-production",
    OrderStatus.COMPLETED: "text-bg-success",
    OrderStatus.SHIPPED: "ob-badge-shipped",
    OrderStatus.CLOSED: "text-bg-secondary",
    OrderStatus.ON_HOLD: "text-bg-warning",
    OrderStatus.CANCELLED: "text-bg-danger",
}
PRIORITY_CLASSES: dict[int, str] = {
    Priority.LOW: "text-body-secondary",
    Priority.NORMAL: "",
    Priority.HIGH: "text-warning-emphasis fw-semibold",
    Priority.URGENT: "text-danger fw-bold",
}
TIER_BADGES: dict[str, str] = {
    CustomerTier.STANDARD: "",
    CustomerTier.KEY: "text-bg-info-subtle",
    CustomerTier.VIP: "ob-badge-vip",
}
ROLE_LABELS = {
    "sales": _("Sales"),
    "planner": _("Production planner"),
    "production_manager": _("Production manager"),
    "customer_service": _("Customer service"),
    "purchasing": _("Purchasing"),
    "admin": _("Administrator"),
}
ALERT_CLASSES = {"error": "danger", "debug": "secondary"}


@register.filter
def width_class(percent: Any) -> str:
    """A bar's width as a class (ob-w-0 … ob-w-100, static/css/app.css): the Content-Security-Policy
    forbids inline style attributes. Clamped; anything unreadable is 0."""
    try:
        value = round(float(percent))
    except (TypeError, ValueError):
        value = 0
    return f"ob-w-{min(max(value, 0), 100)}"


@register.filter
def status_badge(status: str) -> str:
    return STATUS_BADGES.get(status, "text-bg-secondary")


@register.filter
def priority_class(priority: int) -> str:
    return PRIORITY_CLASSES.get(priority, "")


@register.filter
def tier_badge(tier: str) -> str:
    return TIER_BADGES.get(tier, "")


@register.filter
def alert_class(level_tag: str) -> str:
    return ALERT_CLASSES.get(level_tag, level_tag or "info")


@register.filter
def qty(value: Any) -> str:
    """A quantity without trailing zeros: 12.500 → 12.5, 10.000 → 10."""
    if value is None or value == "":
        return ""
    text = f"{Decimal(str(value)):f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


@register.filter
def display_value(value: Any) -> Any:
    """A spec or history value for reading: Yes/No, dates as the rest of the UI writes them (Y-m-d)."""
    if value is True:
        return _("Yes")
    if value is False:
        return _("No")
    if isinstance(value, dt.datetime):
        return date_format(timezone.localtime(value) if timezone.is_aware(value) else value, "Y-m-d H:i")
    if isinstance(value, dt.date):
        return date_format(value, "Y-m-d")
    if isinstance(value, Decimal):
        return qty(value)
    return value


@register.simple_tag
def user_role(user: Actor) -> str:
    """The user's role(s) in the plant's words (one query: the user's groups)."""
    if user is None or not user.is_authenticated:
        return ""
    names = [str(ROLE_LABELS.get(group.name, group.name)) for group in user.groups.all()]
    if not names and user.is_superuser:
        names = [str(ROLE_LABELS["admin"])]
    return ", ".join(names) or str(_("No role"))


# --- form fields ------------------------------------------------------------------------------------------
def _base_class(widget: forms.Widget, small: bool) -> str:
    if isinstance(widget, forms.CheckboxInput):
        return "form-check-input"
    if isinstance(widget, forms.Select | forms.SelectMultiple):
        return "form-select form-select-sm" if small else "form-select"
    return "form-control form-control-sm" if small else "form-control"


@register.simple_tag
def widget(field: forms.BoundField, small: bool = False, **attrs: Any) -> str:
    """Render a field's widget with Bootstrap classes, `is-invalid` and the error's aria link."""
    css = " ".join(filter(None, [_base_class(field.field.widget, small), attrs.pop("css", "")]))
    if field.errors:
        css += " is-invalid"
        attrs["aria-describedby"] = f"{field.auto_id}_error"
    attrs["class"] = css
    return field.as_widget(attrs=attrs)


@register.filter
def is_checkbox(field: forms.BoundField) -> bool:
    return isinstance(field.field.widget, forms.CheckboxInput)


@register.filter
def marked_required(field: forms.BoundField) -> bool:
    """Required by the form, or by the product family's schema (checked by the service, marked here)."""
    return field.field.required or getattr(field.field, "spec_required", False)


@register.filter
def unit(field: forms.BoundField) -> str:
    return getattr(field.field, "unit", "")


@register.simple_tag(takes_context=True)
def public_url(context: Context, path: str) -> str:
    """An absolute URL for customers (tracking links): ORDERBRIDGE_PUBLIC_URL, else this request's host."""
    return tracking.public_url(path, request=context.get("request"))
