"""Printing travellers: one work order, an order's work orders, or every work order of a shift, as PDF.

Planners and production managers (production.print_traveller); a hidden work order answers 404 like one that
does not exist. Thin: the selectors choose the work orders, production.travellers.pdf draws them.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.contrib.auth.decorators import permission_required
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from config.http import AuthenticatedRequest
from production.travellers.forms import PrintOptionsForm, ShiftPrintForm
from production.travellers.links import operation_url
from production.travellers.pdf import traveller_pdf
from production.travellers.selectors import (
    order_travellers,
    shift_travellers,
    travellers_language,
    work_order_for_traveller,
)
from production.work_orders import WorkOrder, WorkOrderOperation

PERMISSION = "production.print_traveller"


def _pdf_response(
    request: AuthenticatedRequest,
    work_orders: Sequence[WorkOrder],
    options: PrintOptionsForm,
    *,
    filename: str,
) -> HttpResponse:
    paper, language, show_customer = options.options(plant_language=travellers_language(work_orders))

    def link(operation: WorkOrderOperation) -> str:
        return operation_url(operation, request=request)

    with translation.override(language):
        content = traveller_pdf(
            work_orders=work_orders, paper=paper, show_customer=show_customer, operation_url=link
        )
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{filename}-{paper}.pdf"'
    response["Cache-Control"] = "private, no-store"
    return response


def _options_or_400(request: AuthenticatedRequest) -> PrintOptionsForm | HttpResponse:
    options = PrintOptionsForm(request.GET)
    if not options.is_valid():
        return HttpResponse(
            "\n".join(f"{field}: {' '.join(map(str, errors))}" for field, errors in options.errors.items()),
            status=400,
            content_type="text/plain; charset=utf-8",
        )
    return options


@require_GET
@permission_required(PERMISSION, raise_exception=True)
def work_order_traveller(request: AuthenticatedRequest, number: str) -> HttpResponse:
    options = _options_or_400(request)
    if isinstance(options, HttpResponse):
        return options
    try:
        work_order = work_order_for_traveller(user=request.user, number=number)
    except WorkOrder.DoesNotExist:
        raise Http404(_("No such work order.")) from None
    return _pdf_response(request, [work_order], options, filename=work_order.number)


@require_GET
@permission_required(PERMISSION, raise_exception=True)
def order_traveller(request: AuthenticatedRequest, number: str) -> HttpResponse:
    options = _options_or_400(request)
    if isinstance(options, HttpResponse):
        return options
    work_orders = order_travellers(user=request.user, order_number=number)
    if not work_orders:
        raise Http404(_("No work orders to print."))
    return _pdf_response(request, work_orders, options, filename=number)


@require_GET
@permission_required(PERMISSION, raise_exception=True)
def shift_print(request: AuthenticatedRequest) -> HttpResponse:
    """The shift print page; with a date chosen (?day=...), the PDF of the shift's work orders."""
    if "day" not in request.GET:
        return render(request, "production/travellers/shift.html", {"form": ShiftPrintForm()})
    form = ShiftPrintForm(request.GET)
    if not form.is_valid():
        return render(request, "production/travellers/shift.html", {"form": form}, status=400)
    window = form.window()
    work_orders = shift_travellers(user=request.user, window=window, work_center_ids=form.work_center_ids())
    return _pdf_response(request, work_orders, form, filename=f"shift-{window.start:%Y%m%d-%H%M}")
