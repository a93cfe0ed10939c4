"""The KPI dashboard page and its downloads (management, planners; customer service reads it).

Thin: production.kpis.dashboard computes (and caches) every section, production.kpis.charts turns charts
into SVG coordinates, config.tables writes the CSV/XLSX downloads.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import permission_required
from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils.formats import localize
from django.utils.html import format_html
from django.utils.http import urlencode
from django.utils.safestring import mark_safe
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from config import shared_cache
from config.http import AuthenticatedRequest
from config.tables import FORMATS, table_response
from orders.models import Customer, CustomerTier, ProductFamily
from production.kpis import charts
from production.kpis.dashboard import dashboard as dashboard_sections
from production.kpis.dashboard import table_by_key
from production.kpis.sections import KpiFilters, Table, parse_filters

PERMISSION = "production.view_kpi_dashboard"


@permission_required(PERMISSION, raise_exception=True)
def dashboard(request: AuthenticatedRequest) -> HttpResponse:
    filters, errors = parse_filters(request.GET)
    context = {
        "filters": filters,
        "errors": errors,
        "sections_html": _sections_html(request, filters),
        "customer_options": _options(Customer.objects.order_by("name"), filters.customer_id),
        "family_options": _options(ProductFamily.objects.order_by("name"), filters.family_id),
        "tiers": CustomerTier.choices,
    }
    return render(request, "production/kpi/dashboard.html", context)


def _options(queryset, selected: int | None) -> str:
    """<option>s built in Python: a plant has hundreds of customers, a template loop is slow for that."""
    return mark_safe(  # noqa: S308 - every value escaped by html_rows
        charts.html_rows(
            '<option value="{}"{}>{}</option>',
            (
                (pk, " selected" if pk == selected else "", name)
                for pk, name in queryset.values_list("pk", "name")
            ),
        )
    )


def _sections_html(request: AuthenticatedRequest, filters: KpiFilters) -> str:
    """The sections as HTML, kept as long as their figures (the page's costly part after the queries)."""
    seconds = settings.KPI_CACHE_SECONDS
    key = f"kpi:html:{get_language()}:{filters.cache_key()}"
    html = shared_cache.get(key) if seconds else None
    if html is None:
        sections = dashboard_sections(filters)
        context = {
            "query": urlencode(filters.query()),
            "sections": [
                {
                    "section": section,
                    "charts": [charts.build(chart) for chart in section.charts],
                    "tables": [{"table": table, "rows": _table_rows(table)} for table in section.tables],
                }
                for section in sections
            ],
        }
        html = render_to_string("production/kpi/_sections.html", context, request=request)
        if seconds:
            shared_cache.set(key, html, seconds)
    return mark_safe(html)  # noqa: S308 - rendered by our own template with autoescaping


def _table_rows(table: Table) -> str:
    """A table's <tr>s built in Python (a template loop per cell took ~17 ms of an uncached page); cells
    are localized as the template's {{ cell }} would (dates and numbers in the reader's language)."""
    if not table.rows:
        return format_html(
            '<tr><td colspan="{}" class="text-body-secondary">{}</td></tr>',
            len(table.columns),
            _("No data in this period."),
        )
    cells = (("—" if cell is None else localize(cell) for cell in row) for row in table.rows)
    return mark_safe(  # noqa: S308 - every value escaped by html_rows
        "".join(f"<tr>{charts.html_rows('<td>{}</td>', ((cell,) for cell in row))}</tr>" for row in cells)
    )


@permission_required(PERMISSION, raise_exception=True)
def table_download(request: AuthenticatedRequest, key: str, fmt: str) -> HttpResponse | StreamingHttpResponse:
    if fmt not in FORMATS:
        raise Http404(_("Unknown format."))
    filters, _errors = parse_filters(request.GET)
    table = table_by_key(filters, key)
    if table is None:
        raise Http404(_("No such table."))
    return table_response(
        fmt=fmt,
        filename=f"kpi-{key}-{filters.start:%Y%m%d}-{filters.end:%Y%m%d}",
        columns=table.columns,
        rows=table.rows,
        sheet=key,
    )
