"""The delivery-date quote on the sales order form (htmx).

orders must not import production, so the order form only posts itself here (hx-post, hx-include the
form) and shows the partial this returns: the earliest feasible completion against the current plan, the
orders a higher-priority order would delay, and a "use this date" button that fills the promised date.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from django.contrib.auth.decorators import permission_required
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from config.http import AuthenticatedRequest
from config.kernel.errors import ApplicationError
from orders.catalog import SPEC_PREFIX, spec_fields, spec_form_field
from orders.models import Customer, Priority, Product, SalesOrder
from orders.sales import policies
from production.policies import QUOTE_PROMISE
from production.scheduling.selectors import promise_quote

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

MAX_LINES = 200


def _form_lines(data: Any) -> list[dict]:
    """The order form's line rows (formset prefix "lines") that name a product and are not removed."""
    try:
        total = min(int(data.get("lines-TOTAL_FORMS", 0)), MAX_LINES)
    except (TypeError, ValueError):
        total = 0
    lines = []
    for index in range(total):
        prefix = f"lines-{index}-"
        if data.get(f"{prefix}remove") or not data.get(f"{prefix}product"):
            continue
        try:
            product = int(data[f"{prefix}product"])
        except ValueError:
            product = None
        try:
            quantity = Decimal(data.get(f"{prefix}quantity") or "0")
        except InvalidOperation:
            quantity = Decimal(0)
        lines.append({"product": product, "quantity": quantity, "row": index + 1})
    _add_spec_values(data, lines)
    return lines


def _add_spec_values(data: Any, lines: list[dict]) -> None:
    """Each line's spec inputs ("lines-<i>-spec__<attribute>"), read as the order form reads them: the
    material check explodes the BOM with them (the powder in the order's RAL colour, metres of profile for
    the length). A value the form would refuse is left out (the order form reports it on save)."""
    products = Product.objects.filter(
        pk__in=[line["product"] for line in lines if line["product"] is not None]
    ).select_related("family")
    schemas = {product.pk: product.family.spec_schema or {} for product in products}
    for line in lines:
        prefix = f"lines-{line['row'] - 1}-{SPEC_PREFIX}"
        spec_values: dict[str, Any] = {}
        line["spec_labels"] = {}
        for meta in spec_fields(schemas.get(line["product"], {})):
            line["spec_labels"][meta["name"]] = meta["label"]
            raw = data.get(prefix + meta["name"])
            if meta["type"] != "boolean" and (raw is None or raw == ""):
                continue
            try:
                value = spec_form_field(meta).clean(raw)
            except ValidationError:
                continue
            if value is not None and value != "":
                spec_values[meta["name"]] = value
        line["spec_values"] = spec_values


def _customer(request: AuthenticatedRequest) -> tuple[Customer | None, SalesOrder | None]:
    """The customer chosen on a new order's form, or the customer of the order being edited."""
    number = request.POST.get("order", "").strip()
    if number:
        order = SalesOrder.objects.select_related("customer").filter(number=number).first()
        if order is not None and policies.can_view_order(request.user, order):
            return order.customer, order
        return None, None
    raw = request.POST.get("customer", "")
    customer = Customer.objects.filter(pk=int(raw), is_active=True).first() if raw.isdigit() else None
    return customer, None


def _date_or_none(raw: str) -> dt.date | None:
    """The form's date, or None when it is empty or not a date (the order form itself reports that)."""
    try:
        return parse_date(raw.strip()) if raw else None
    except ValueError:
        return None


def _moment_or_none(raw: str) -> dt.datetime | None:
    """The form's release time (datetime-local, plant time), or None when empty or unreadable (the order
    form itself reports that)."""
    try:
        moment = parse_datetime(raw.strip().replace("T", " ")) if raw else None
    except ValueError:
        return None
    if moment is not None and timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    return moment


def _messages(error: ApplicationError, lines: list[dict]) -> list[StrOrPromise]:
    """Field messages with "lines[i]." turned into the row number the user sees on the form."""
    texts: list[StrOrPromise] = []
    for key, messages in error.fields.items():
        label = ""
        if key.startswith("lines["):
            try:
                line = lines[int(key[6 : key.index("]")])]
                label = _("Line %(row)s") % {"row": line["row"]}
            except (ValueError, IndexError):
                label, line = "", {}
            # A spec value's message names the attribute as the form labels it ("Line 1 (Length)").
            attribute = key.partition(".spec_values.")[2]
            if label and attribute:
                label = f"{label} ({line.get('spec_labels', {}).get(attribute, attribute)})"
        texts.extend(f"{label}: {message}" if label else message for message in messages)
    return texts or [error.message]


def _hold_vals(order: SalesOrder | None) -> str:
    """What the "hold the material" button posts besides the form: the hold, and the order being edited."""
    return json.dumps({"hold": "1", **({"order": order.number} if order is not None else {})})


@require_POST
@permission_required(QUOTE_PROMISE, raise_exception=True)
def order_form_quote(request: AuthenticatedRequest) -> HttpResponse:
    customer, order = _customer(request)
    lines = _form_lines(request.POST)
    context: dict[str, Any] = {"errors": [], "quote": None, "hold_vals": _hold_vals(order)}
    raw_priority = request.POST.get("priority", "")
    priority = int(raw_priority) if raw_priority.isdigit() and int(raw_priority) in Priority.values else None
    if order is not None and priority is None:
        priority = order.priority
    if customer is None:
        context["errors"] = [_("Choose the customer first.")]
    elif not lines:
        context["errors"] = [_("Add a line with a product and a quantity first.")]
    else:
        try:
            context["quote"] = promise_quote(
                actor=request.user,
                customer=customer,
                lines=[
                    {
                        "product": line["product"],
                        "quantity": line["quantity"],
                        "spec_values": line["spec_values"],
                    }
                    for line in lines
                ],
                priority=priority,
                hold=request.POST.get("hold") == "1",
                start_not_before=_moment_or_none(request.POST.get("start_not_before", "")),
            )
        except ApplicationError as exc:
            context["errors"] = _messages(exc, lines)
    if context["quote"] is not None:
        quote = context["quote"]
        for delay in quote["delays"]:
            delay["delay_hours"] = round(delay["delay_minutes_at_most"] / 60, 1)
        # What "use this date" copies into the order form: the date, and where it came from (history).
        # Never earlier than the customer asked: promising 6 Jan to a customer who wants 15 Jan only
        # ties up capacity that other orders need.
        requested = _date_or_none(request.POST.get("requested_date", ""))
        promise = quote["promise_date"]
        if requested is not None and requested > promise:
            promise = requested
            context["requested_later"] = requested
        context["fill_date"] = promise
        context["fill"] = json.dumps(
            {
                "id_promised_date": promise.isoformat(),
                "id_promise_quote": f"{quote['promise_date'].isoformat()}@{quote['plan_version'] or 0}",
            }
        )
    return render(request, "production/partials/order_form_quote.html", context)
