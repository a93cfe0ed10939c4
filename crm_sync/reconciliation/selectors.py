"""Reads for the drift page and the admin: open drifts, and each one's differences as table rows."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from crm_sync.models import Drift

# The fields a drift compares, as the page names them (anything else a system reports: its own name).
FIELD_LABELS: dict[str, Promise] = {
    "status": _("Status"),
    "revision": _("Revision"),
    "quantity": _("Quantity"),
    "work_orders": _("Work orders"),
    "crm_id": _("CRM id"),
    "document": _("Document"),
}
# What the table shows for a value one side does not hold.
NOT_HELD = "—"
LONGEST_VALUE = 120


@dataclass(frozen=True)
class DriftRow:
    """One line of a drift's table: a field, our value, theirs."""

    field: str
    label: str
    ours: str
    theirs: str


def open_drifts() -> QuerySet[Drift]:
    """Open drifts, newest first, ordered so a work order's drifts follow its order's."""
    return (
        Drift.objects.filter(resolved_at__isnull=True)
        .select_related("system", "order")
        .order_by("system__name", "-detected_at", "subject", "kind")
    )


def drift_rows(drift: Drift) -> list[DriftRow]:
    """The fields that differ (all of them when one side holds nothing), ours beside theirs."""
    ours = drift.ours if isinstance(drift.ours, dict) else {"value": drift.ours}
    theirs = drift.theirs if isinstance(drift.theirs, dict) else {"value": drift.theirs}
    names = list(ours) + [name for name in theirs if name not in ours]
    differing = [name for name in names if ours.get(name) != theirs.get(name)] or names
    return [
        DriftRow(
            field=name,
            label=str(FIELD_LABELS.get(name, name)),
            ours=readable(ours[name]) if name in ours else NOT_HELD,
            theirs=readable(theirs[name]) if name in theirs else NOT_HELD,
        )
        for name in differing
    ]


def readable(value: Any) -> str:
    """A stored value as one short line of text: lists joined, mappings as "key: value"."""
    if value is None or value == "":
        text = NOT_HELD
    elif isinstance(value, list | tuple):
        text = ", ".join(readable(item) for item in value) or NOT_HELD
    elif isinstance(value, dict):
        text = "; ".join(f"{key}: {readable(item)}" for key, item in value.items()) or NOT_HELD
    else:
        text = str(value)
    return text if len(text) <= LONGEST_VALUE else text[: LONGEST_VALUE - 1] + "…"
