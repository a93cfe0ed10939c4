"""Orders out as CSV and XLSX, with the table writers of config.tables."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.db.models import QuerySet
from django.http import HttpResponse, StreamingHttpResponse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from config.tables import EXPORT_CHUNK, table_response
from orders.sales.models import OrderStatus, SalesOrder

ORDER_COLUMNS = (
    ("number", _("Order number")),
    ("external_ref", _("External reference")),
    ("crm_id", _("CRM id")),
    ("customer__code", _("Customer code")),
    ("customer__name", _("Customer")),
    ("customer__tier", _("Tier")),
    ("customer_po", _("Customer PO")),
    ("owner__username", _("Sales owner")),
    ("status", _("Status")),
    ("priority", _("Priority")),
    ("revision", _("Revision")),
    ("requested_date", _("Requested date")),
    ("promised_date", _("Promised date")),
    ("created_at", _("Created at")),
    ("confirmed_at", _("Confirmed at")),
    ("released_at", _("Released at")),
    ("production_started_at", _("Production started at")),
    ("completed_at", _("Completed at")),
    ("shipped_at", _("Shipped at")),
)


def order_rows(queryset: QuerySet[SalesOrder]) -> Iterator[list[Any]]:
    """Rows of the orders in `queryset` (already limited to what the user may see), read in chunks."""
    keys = [key for key, _label in ORDER_COLUMNS]
    statuses = dict(OrderStatus.choices)
    for row in queryset.order_by("pk").values_list(*keys).iterator(chunk_size=EXPORT_CHUNK):
        row = list(row)
        row[8] = str(statuses.get(row[8], row[8]))
        yield row


def orders_export(*, queryset: QuerySet[SalesOrder], fmt: str) -> HttpResponse | StreamingHttpResponse:
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    return table_response(
        fmt=fmt,
        filename=f"orders-{stamp}",
        columns=[label for _key, label in ORDER_COLUMNS],
        rows=order_rows(queryset),
        sheet="Orders",
    )
