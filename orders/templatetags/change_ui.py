"""Template helpers of the change-request pages."""

from __future__ import annotations

from datetime import datetime

from django import template
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _

register = template.Library()

CR_BADGES = {
    "draft": "text-bg-light border",
    "submitted": "text-bg-primary",
    "approved": "text-bg-info",
    "rejected": "text-bg-danger",
    "applied": "text-bg-success",
    "withdrawn": "text-bg-secondary",
    "superseded": "text-bg-warning",
}
STEP_BADGES = {
    "grow": "text-bg-primary",
    "create": "text-bg-primary",
    "shrink": "text-bg-warning",
    "cancel": "text-bg-danger",
    "hold": "text-bg-warning",
    "rework": "text-bg-danger",
    "resume": "text-bg-info",
    "keep": "text-bg-light border",
}

STEP_LABELS = {
    "grow": _("grows"),
    "create": _("new work order"),
    "shrink": _("shrinks"),
    "cancel": _("cancelled"),
    "hold": _("held"),
    "rework": _("flagged: made to the old spec"),
    "resume": _("resumes"),
    "keep": _("unchanged"),
}


@register.filter
def step_label(action: str) -> str:
    return str(STEP_LABELS.get(action, action))


@register.filter
def cr_badge(status: str) -> str:
    return CR_BADGES.get(status, "text-bg-secondary")


@register.filter
def step_badge(action: str) -> str:
    return STEP_BADGES.get(action, "text-bg-secondary")


@register.filter
def as_datetime(value: str | None) -> datetime | None:
    """ISO text stored in the impact JSON → a datetime the date filter can format."""
    return parse_datetime(value) if value else None
