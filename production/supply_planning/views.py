"""The supply planning pages: the shortage list (per work order, per item) and the buyer's purchase
suggestions (review, Excel export, turn one into a purchase order)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from config.http import AuthenticatedRequest
from config.kernel import ValidationFailed
from config.tables import table_response
from production.supply_planning.mrp import purchase_suggestions, suggestion_order
from production.supply_planning.policies import ORDER_SUGGESTION, VIEW_SHORTAGES, VIEW_SUGGESTIONS
from production.supply_planning.selectors import open_shortages, shortages_by_item, shortages_by_work_order

SUGGESTION_COLUMNS = (
    gettext_lazy("Material"),
    gettext_lazy("Order by"),
    gettext_lazy("Needed on"),
    gettext_lazy("Net requirement"),
    gettext_lazy("Suggested quantity"),
    gettext_lazy("Late"),
    gettext_lazy("Work orders"),
)


@require_GET
@permission_required(VIEW_SHORTAGES, raise_exception=True)
def shortages(request: AuthenticatedRequest) -> HttpResponse:
    rows = open_shortages()
    by = "item" if request.GET.get("by") == "item" else "work_order"
    context: dict[str, Any] = {
        "by": by,
        "by_item": shortages_by_item(rows) if by == "item" else [],
        "by_work_order": shortages_by_work_order(rows) if by == "work_order" else [],
        "count": len(rows),
    }
    return render(request, "production/supply_planning/shortages.html", context)


def _suggestion_rows(request: AuthenticatedRequest) -> list[Any]:
    return purchase_suggestions(actor=request.user)


@require_GET
@permission_required(VIEW_SUGGESTIONS, raise_exception=True)
def suggestions(request: AuthenticatedRequest) -> HttpResponse:
    return _render_suggestions(request, errors=[])


def _render_suggestions(
    request: AuthenticatedRequest, *, errors: list[str], status: int = 200
) -> HttpResponse:
    rows = _suggestion_rows(request)
    context = {
        "suggestions": rows,
        "errors": errors,
        "can_order": request.user.has_perm(ORDER_SUGGESTION),
        "late": sum(1 for row in rows if row.late),
    }
    return render(request, "production/supply_planning/suggestions.html", context, status=status)


@require_GET
@permission_required(VIEW_SUGGESTIONS, raise_exception=True)
def suggestions_export(request: AuthenticatedRequest) -> HttpResponse | StreamingHttpResponse:
    rows = [
        [
            row.code,
            row.order_date,
            row.need_date,
            row.net_requirement,
            row.quantity,
            _("yes") if row.late else "",
            len(row.orders),
        ]
        for row in _suggestion_rows(request)
    ]
    return table_response(
        fmt="xlsx",
        filename=f"purchase-suggestions-{timezone.localtime():%Y%m%d-%H%M}",
        columns=[str(column) for column in SUGGESTION_COLUMNS],
        rows=rows,
        sheet="Purchase suggestions",
    )


@require_POST
@permission_required(ORDER_SUGGESTION, raise_exception=True)
def suggestion_to_order(request: AuthenticatedRequest) -> HttpResponse:
    """One suggestion (item, quantity, expected date, supplier) → an open purchase order."""
    errors: list[str] = []
    raw_item = request.POST.get("item", "")
    try:
        quantity = Decimal(request.POST.get("quantity", ""))
    except InvalidOperation:
        quantity = Decimal(0)
        errors.append(_("The quantity must be a number."))
    try:
        expected = dt.date.fromisoformat(request.POST.get("expected_date", ""))
    except ValueError:
        expected = None
        errors.append(_("Give the expected date as YYYY-MM-DD."))
    if not raw_item.isdigit():
        errors.append(_("Choose an item the plant buys."))
    if not errors and expected is not None:
        try:
            order = suggestion_order(
                actor=request.user,
                item=int(raw_item),
                quantity=quantity,
                expected_date=expected,
                supplier=request.POST.get("supplier", ""),
            )
        except ValidationFailed as exc:
            errors = [str(message) for values in exc.fields.values() for message in values] or [exc.message]
        else:
            messages.success(request, _("Purchase order %(number)s created.") % {"number": order.number})
            return redirect("production:purchase_suggestions")
    return _render_suggestions(request, errors=errors, status=400)
