"""The start page: each role lands where its day starts."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from config.kernel import allowed


def home(request: HttpRequest) -> HttpResponse:
    """Sales (and admins) on the order list, planners and managers on the production plan, customer
    service on the service desk, buyers on the supply page. Login is required (deny by default), so there
    is always a user."""
    user = request.user
    if allowed(user, "orders.add_salesorder"):
        return redirect("orders:order_list")
    if allowed(user, "production.run_schedule") and allowed(user, "production.view_schedule"):
        return redirect("production:planner")
    if allowed(user, "orders.view_salesorder"):
        return redirect("service:desk")
    if allowed(user, "production.manage_purchasing"):
        return redirect("production:material_supply")
    return redirect("orders:order_list")
