"""The order list's actions: the same transition on the ticked orders, and saved views. Thin: the rules
are orders.sales.bulk and orders.sales.saved_filters."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.http import HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from config.http import AuthenticatedRequest
from config.kernel.errors import ApplicationError
from orders.sales.bulk import orders_bulk_transition
from orders.sales.saved_filters import saved_filter_delete, saved_filter_save

# How many refused orders the message names; the rest are counted.
REFUSALS_SHOWN = 10


def _back_to_list(request: AuthenticatedRequest) -> HttpResponse:
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}
    ) or not target.startswith(reverse("orders:order_list")):
        target = reverse("orders:order_list")
    return redirect(target)


@require_POST
@permission_required("orders.view_salesorder", raise_exception=True)
def order_bulk(request: AuthenticatedRequest) -> HttpResponse:
    """Confirm or release the ticked orders; each order's own permission and rules apply."""
    numbers = request.POST.getlist("number")
    if not numbers:
        messages.warning(request, _("Tick the orders first."))
        return _back_to_list(request)
    try:
        result = orders_bulk_transition(
            actor=request.user, numbers=numbers, name=request.POST.get("action", "")
        )
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return _back_to_list(request)
    action = request.POST.get("action", "")
    if result.done:
        text = (
            ngettext("%(count)s order confirmed.", "%(count)s orders confirmed.", len(result.done))
            if action == "confirm"
            else ngettext("%(count)s order released.", "%(count)s orders released.", len(result.done))
        )
        messages.success(request, text % {"count": len(result.done)})
    if result.refused:
        named = "; ".join(f"{number}: {message}" for number, message in result.refused[:REFUSALS_SHOWN])
        rest = len(result.refused) - REFUSALS_SHOWN
        more = (" " + _("And %(count)s more.") % {"count": rest}) if rest > 0 else ""
        messages.warning(
            request,
            ngettext(
                "%(count)s order was left as it was: %(orders)s",
                "%(count)s orders were left as they were: %(orders)s",
                len(result.refused),
            )
            % {"count": len(result.refused), "orders": named}
            + more,
        )
    return _back_to_list(request)


@require_POST
@permission_required("orders.view_salesorder", raise_exception=True)
def saved_filter_create(request: AuthenticatedRequest) -> HttpResponse:
    try:
        saved = saved_filter_save(
            actor=request.user, name=request.POST.get("name", ""), query_string=request.POST.get("query", "")
        )
    except ApplicationError as exc:
        detail = " ".join(message for messages_ in exc.fields.values() for message in messages_)
        messages.error(request, f"{exc.message} {detail}".strip())
        return _back_to_list(request)
    messages.success(request, _("View “%(name)s” saved.") % {"name": saved.name})
    return redirect(f"{reverse('orders:order_list')}?{saved.query}")


@require_POST
@permission_required("orders.view_salesorder", raise_exception=True)
def saved_filter_remove(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    saved_filter_delete(actor=request.user, pk=pk)
    messages.success(request, _("Saved view deleted."))
    return _back_to_list(request)
