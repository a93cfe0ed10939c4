"""The customer service desk: one search box, a result list, and the order's page as its one-page story.
Before a search, the worklist of orders at risk (the customers to call before they call)."""

from __future__ import annotations

from django.contrib.auth.decorators import permission_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_GET

from config.http import AuthenticatedRequest
from orders.service_desk import selectors as service_desk


@require_GET
@permission_required("orders.view_salesorder", raise_exception=True)
def desk(request: AuthenticatedRequest) -> HttpResponse:
    term = (request.GET.get("q") or "").strip()[:100]
    results = service_desk.desk_search(user=request.user, term=term)
    partial = bool(request.htmx) and not request.htmx.history_restore_request
    # The caller quoted an order number exactly: go straight to its story (not while typing in the box).
    if not partial and results and results[0].order.number.lower() == term.lower():
        return redirect("orders:order_detail", number=results[0].order.number)
    context = {"term": term, "results": results, "too_short": 0 < len(term) < service_desk.MIN_TERM}
    if not term:
        context["at_risk"], context["at_risk_total"] = service_desk.desk_at_risk(user=request.user)
    template = "service/partials/results.html" if partial else "service/desk.html"
    response = render(request, template, context)
    patch_vary_headers(response, ("HX-Request",))
    return response
