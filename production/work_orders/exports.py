"""Work orders out as CSV (streamed) and XLSX, with the writers of config.tables."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.contrib.auth.decorators import permission_required
from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from config.http import AuthenticatedRequest
from config.tables import EXPORT_CHUNK, FORMATS, table_response
from production.work_orders import WorkOrder, WorkOrderStatus, records_visible_to

WORK_ORDER_COLUMNS = (
    ("number", gettext_lazy("Work order number")),
    ("order__number", gettext_lazy("Order number")),
    ("order__customer__name", gettext_lazy("Customer")),
    ("order_revision", gettext_lazy("Order revision")),
    ("product__sku", gettext_lazy("SKU")),
    ("quantity", gettext_lazy("Quantity")),
    ("status", gettext_lazy("Status")),
    ("percent_complete", gettext_lazy("Percent complete")),
    ("good_quantity", gettext_lazy("Good quantity")),
    ("created_at", gettext_lazy("Created at")),
    ("released_at", gettext_lazy("Released at")),
    ("completed_at", gettext_lazy("Completed at")),
)
STATUS_COLUMN = 6


def work_order_rows(queryset) -> Iterator[list[Any]]:
    labels = dict(WorkOrderStatus.choices)
    keys = [key for key, _label in WORK_ORDER_COLUMNS]
    for row in queryset.order_by("pk").values_list(*keys).iterator(chunk_size=EXPORT_CHUNK):
        row = list(row)
        row[STATUS_COLUMN] = str(labels.get(row[STATUS_COLUMN], row[STATUS_COLUMN]))
        yield row


@permission_required("production.view_workorder", raise_exception=True)
def work_orders_export(request: AuthenticatedRequest, fmt: str) -> HttpResponse | StreamingHttpResponse:
    """Every work order the user may see, or those of one status (?status=in_progress)."""
    if fmt not in FORMATS:
        raise Http404(_("Unknown format."))
    queryset = records_visible_to(WorkOrder.objects.all(), user=request.user)
    status = request.GET.get("status", "")
    if status in WorkOrderStatus.values:
        queryset = queryset.filter(status=status)
    return table_response(
        fmt=fmt,
        filename=f"work-orders-{timezone.localtime():%Y%m%d-%H%M}",
        columns=[label for _key, label in WORK_ORDER_COLUMNS],
        rows=work_order_rows(queryset),
        sheet="Work orders",
    )
