"""The KPI dashboard page and its downloads (management, planners; customer service reads it).

Thin: production.kpis computes (and caches) every section, production.charts turns charts into SVG
coordinates, orders.exports writes the CSV/XLSX downloads.
"""

from __future__ import annotations

from django.contrib.auth.decorators import permission_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from orders.exports import FORMATS, table_response
from orders.models import Customer, CustomerTier, ProductFamily

from . import charts, kpis

PERMISSION = "production.view_kpi_dashboard"


@permission_required(PERMISSION, raise_exception=True)
def dashboard(request: HttpRequest) -> HttpResponse:
    filters, errors = kpis.parse_filters(request.GET)
    sections = kpis.dashboard(filters)
    query = urlencode(filters.query())
    context = {
        "filters": filters,
        "errors": errors,
        "query": query,
        "sections": [
            {"section": section, "charts": [charts.build(chart) for chart in section.charts]}
            for section in sections
        ],
        "customers": Customer.objects.order_by("name").values_list("pk", "name"),
        "families": ProductFamily.objects.order_by("name").values_list("pk", "name"),
        "tiers": CustomerTier.choices,
    }
    return render(request, "production/kpi/dashboard.html", context)


@permission_required(PERMISSION, raise_exception=True)
def table_download(request: HttpRequest, key: str, fmt: str) -> HttpResponse:
    if fmt not in FORMATS:
        raise Http404(_("Unknown format."))
    filters, _errors = kpis.parse_filters(request.GET)
    table = kpis.table_by_key(filters, key)
    if table is None:
        raise Http404(_("No such table."))
    return table_response(
        fmt=fmt,
        filename=f"kpi-{key}-{filters.start:%Y%m%d}-{filters.end:%Y%m%d}",
        columns=table.columns,
        rows=table.rows,
        sheet=key,
    )
