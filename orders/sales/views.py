"""Server-rendered order pages. Thin: reads through selectors, writes through services.

Refusals are answered the same way everywhere: a hidden order is a 404, a forbidden action a 403 page, any
other business refusal (conflict, stale version, invalid input) a message on the page the user was on.
"""

from __future__ import annotations

import re
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import transaction
from django.http import Http404, HttpResponse, QueryDict, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from config.forms import add_errors
from config.http import AuthenticatedRequest
from config.kernel import Actor
from config.kernel.errors import ApplicationError, Forbidden, StaleObject
from config.tables import FORMATS
from orders import imports, panels
from orders.catalog import customers_active, products_active, spec_display
from orders.catalog.models import Product
from orders.providers import OrderWork, order_work
from orders.sales import creation, editing, overrides, policies, selectors, transitions
from orders.sales.bulk import BULK_TRANSITIONS
from orders.sales.forms import (
    BaseLineFormSet,
    OrderFilterForm,
    OrderHeaderForm,
    OrderLineForm,
    OverrideForm,
    TransitionForm,
    apply_service_errors,
    line_formset,
    line_initial,
    product_choices,
)
from orders.sales.models import OrderStatus, SalesOrder
from orders.sales.rules import LineInput
from orders.sales.saved_filters import filter_query, saved_filters_of

PAGE_SIZE = 25
LINE_PREFIX = re.compile(r"^lines-(\d{1,3})$")
# Transitions that ask for a reason in a small form before they run.
REASON_ACTIONS = transitions.REASON_REQUIRED
ACTION_STYLES = {
    "confirm": "btn-primary",
    "release": "btn-success",
    "start_production": "btn-outline-primary",
    "complete": "btn-outline-success",
    "ship": "btn-outline-success",
    "close": "btn-outline-secondary",
    "hold": "btn-outline-warning",
    "resume": "btn-outline-primary",
    "cancel": "btn-outline-danger",
}
OVERRIDE_FIELDS = {"override": "confirm"}
CONDITION_HINTS = {
    "confirm": gettext_lazy("Add at least one line first."),
    "release": gettext_lazy("Set a promised date first."),
}


def action_label(name: str) -> str:
    # TRANSITION_LABELS are lazy; translate them per request.
    return _(str(transitions.TRANSITION_LABELS[name]))


def _htmx_partial(request: AuthenticatedRequest) -> bool:
    # A history restore (back button after hx-push-url) needs the whole page, not the fragment.
    return bool(request.htmx) and not request.htmx.history_restore_request


# --- list -----------------------------------------------------------------------------------------------
@require_GET
@permission_required("orders.view_salesorder", raise_exception=True)
def order_list(request: AuthenticatedRequest) -> HttpResponse:
    form = OrderFilterForm(request.GET or None, customers=customers_active())
    filters = form.filters()
    queryset = selectors.order_list(user=request.user, **filters)
    page = Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "form": form,
        "page": page,
        "orders": selectors.orders_with_line_counts(page.object_list),
        "group": filters["group"],
        "saved_filters": saved_filters_of(request.user),
        "current_query": filter_query(request.GET.urlencode()),
        "bulk_actions": [
            (name, action_label(name))
            for name in BULK_TRANSITIONS
            if request.user.has_perm(f"orders.{name}_salesorder")
        ],
    }
    template = "orders/partials/order_table.html" if _htmx_partial(request) else "orders/order_list.html"
    response = render(request, template, context)
    patch_vary_headers(response, ("HX-Request",))
    return response


def orders_export(request: AuthenticatedRequest, fmt: str) -> HttpResponse | StreamingHttpResponse:
    """The order list as filtered on screen (or the orders ticked on it), only orders the user may see."""
    if fmt not in FORMATS:
        raise Http404(_("Unknown format."))
    form = OrderFilterForm(request.GET or None, customers=customers_active())
    # "Export selected": the numbers ticked on the list (still only those the user may see).
    numbers = request.GET.getlist("number") or None
    queryset = selectors.order_list(user=request.user, numbers=numbers, **form.filters())
    return imports.orders_export(queryset=queryset, fmt=fmt)


# --- detail and transitions -----------------------------------------------------------------------------
def available_actions(order: SalesOrder, user: Actor) -> list[dict[str, Any]]:
    """The transitions this user may run on the order in its current status, as django-fsm defines them.

    A transition whose condition is not met yet (confirm without lines, release without a promised date)
    is listed disabled with what to do, rather than hidden: the user learns why. Start production and
    complete ahead of the work orders are offered to a production manager only, as an override that opens
    its confirmation page (`override_url`); the work orders move the order by themselves otherwise.
    """
    actions = []
    work: OrderWork | None = None
    for name in transitions.TRANSITION_LABELS:
        meta = getattr(order, name)._django_fsm
        if not (meta.has_transition(order.status) and meta.has_transition_perm(order, order.status, user)):
            continue
        override_url = ""
        if name in overrides.WORK_TRANSITIONS:
            work = work if work is not None else order_work(order)
            if not overrides.work_earns(name, work):
                if not overrides.can_override(user, order):
                    continue
                override_url = reverse("orders:order_override", args=[order.number, name])
        ready = meta.conditions_met(order, order.status)
        actions.append(
            {
                "name": name,
                "label": action_label(name),
                "style": ACTION_STYLES.get(name, "btn-outline-secondary"),
                "needs_reason": name in REASON_ACTIONS,
                "override_url": override_url,
                "enabled": ready,
                "hint": "" if ready else CONDITION_HINTS.get(name, ""),
            }
        )
    return actions


@require_GET
def order_detail(request: AuthenticatedRequest, number: str) -> HttpResponse:
    order = selectors.order_get(user=request.user, number=number)
    lines = [
        (line, spec_display(line.product.family.spec_schema or {}, line.spec_values))
        for line in order.lines.all()
    ]
    with panels.one_page():  # the panels read what they share once (e.g. the work orders)
        main_panels = panels.panels_for(order, request.user, column="main")
        side_panels = panels.panels_for(order, request.user, column="side")
    context = {
        "order": order,
        "lines": lines,
        "history": selectors.order_history(order=order),
        "actions": available_actions(order, request.user),
        "can_edit": order.is_editable and policies.can_edit_order(request.user, order),
        "is_locked": not order.is_editable and order.status != OrderStatus.CANCELLED,
        "main_panels": main_panels,
        "side_panels": side_panels,
    }
    return render(request, "orders/order_detail.html", context)


@require_POST
def order_transition(request: AuthenticatedRequest, number: str, action: str) -> HttpResponse:
    if action not in transitions.TRANSITION_LABELS:
        raise Http404
    order = selectors.order_get(user=request.user, number=number)
    form = TransitionForm(request.POST)
    form.is_valid()
    data = form.cleaned_data
    try:
        transitions.order_transition(
            actor=request.user,
            order=order.pk,
            name=action,
            reason=data.get("reason") or "",
            expected_version=data.get("version"),
        )
    except Forbidden as exc:
        raise PermissionDenied(exc.message) from exc
    except ApplicationError as exc:
        messages.error(request, _error_text(exc))
    else:
        messages.success(
            request,
            _("%(action)s: done for order %(number)s.")
            % {"action": action_label(action), "number": order.number},
        )
    return redirect("orders:order_detail", number=order.number)


@require_http_methods(["GET", "POST"])
def order_override(request: AuthenticatedRequest, number: str, action: str) -> HttpResponse:
    """Start production or complete an order ahead of its work orders: the production manager's override.

    GET shows what is unfinished (work order, product, done/planned, status) and asks for a reason and an
    explicit confirmation; POST runs the one transition door with `override=True`. Without the permission:
    403. Once the work earns the transition (it moved meanwhile), the page says so and sends the user back.
    """
    if action not in overrides.WORK_TRANSITIONS:
        raise Http404
    order = selectors.order_get(user=request.user, number=number)
    if not overrides.can_override(request.user, order):
        raise PermissionDenied
    work = order_work(order)
    form = OverrideForm(request.POST or None, initial={"version": order.version})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            transitions.order_transition(
                actor=request.user,
                order=order.pk,
                name=action,
                reason=data["reason"],
                expected_version=data.get("version"),
                override=data["confirm"],
            )
        except Forbidden as exc:
            raise PermissionDenied(exc.message) from exc
        except ApplicationError as exc:
            # The door's `override` is this form's confirmation.
            fields = {OVERRIDE_FIELDS.get(key, key): value for key, value in exc.fields.items()}
            for field, field_messages in fields.items():
                if field in form.fields and field != "version":
                    add_errors(form, field, field_messages)
            if not any(field in form.fields and field != "version" for field in fields):
                messages.error(request, _error_text(exc))
                return redirect("orders:order_detail", number=order.number)
        else:
            messages.success(
                request,
                _("%(action)s: done for order %(number)s (override).")
                % {"action": action_label(action), "number": order.number},
            )
            return redirect("orders:order_detail", number=order.number)
    context = {
        "order": order,
        "action": action,
        "label": action_label(action),
        "form": form,
        "work": work,
        "earned": overrides.work_earns(action, work),
        "summary": overrides.unfinished_summary(action, work),
        "done": [w for w in work.work_orders if w.closed],
    }
    status = 400 if form.is_bound and form.errors else 200
    return render(request, "orders/order_override.html", context, status=status)


def _error_text(error: ApplicationError) -> str:
    return error.text(skip=("version",))


# --- create and edit -------------------------------------------------------------------------------------
def _products_for(order: SalesOrder | None) -> list[Product]:
    products = list(products_active())
    if order is not None:
        # A line keeps showing its product even if the product was retired since (the service says so).
        known = {product.pk for product in products}
        products += [line.product for line in order.lines.all() if line.product_id not in known]
    return products


def _line_formset(
    request: AuthenticatedRequest, *, order: SalesOrder | None, products: list[Product]
) -> BaseLineFormSet:
    initial = line_initial(order) if order is not None else []
    formset_class = line_formset(extra=0 if initial else 1)
    form_kwargs = {"products": products, "choices": product_choices(products)}
    if request.method != "POST":
        return formset_class(prefix="lines", initial=initial, form_kwargs=form_kwargs)
    data: QueryDict = request.POST
    if "add_line" in data:  # the no-JavaScript way to add a line: one more row, nothing saved
        data = request.POST.copy()
        total = data.get("lines-TOTAL_FORMS", "")
        if total.isdigit():  # otherwise the formset reports the broken management form itself
            data["lines-TOTAL_FORMS"] = str(int(total) + 1)
    return formset_class(data, prefix="lines", initial=initial, form_kwargs=form_kwargs)


def _save_order(request: AuthenticatedRequest, *, order: SalesOrder | None) -> HttpResponse:
    """Shared by create and edit: parse, call the services in one transaction, map errors back."""
    customers = customers_active() if order is None else None
    products = _products_for(order)
    if request.method == "POST":
        header = OrderHeaderForm(request.POST, customers=customers)
    else:
        initial = OrderHeaderForm.initial_for(order) if order is not None else {}
        header = OrderHeaderForm(initial=initial, customers=customers)
    formset = _line_formset(request, order=order, products=products)
    context: dict[str, Any] = {"order": order, "header": header, "formset": formset, "errors": []}

    wants_save = request.method == "POST" and not ({"add_line", "refresh"} & set(request.POST))
    if wants_save and header.is_valid() and formset.is_valid():
        lines, sources = formset.submitted_lines()
        confirm = "confirm" in request.POST
        try:
            # One transaction around both calls: if confirming fails, the order is not saved either.
            with transaction.atomic():
                saved = _write(request, order=order, header=header, lines=lines)
                if confirm and saved.status == OrderStatus.DRAFT:
                    saved = transitions.order_confirm(
                        actor=request.user, order=saved, expected_version=saved.version
                    )
        except Forbidden as exc:
            raise PermissionDenied(exc.message) from exc
        except ApplicationError as exc:
            context["error"] = exc
            context["stale"] = isinstance(exc, StaleObject)
            context["errors"] = apply_service_errors(exc, header=header, line_forms=sources)
        else:
            if confirm:
                text = _("Order %(number)s saved and confirmed.")
            elif order is None:
                text = _("Order %(number)s created.")
            else:
                text = _("Order %(number)s saved.")
            messages.success(request, text % {"number": saved.number})
            return redirect("orders:order_detail", number=saved.number)
    elif wants_save:
        context["errors"] = [*formset.non_form_errors()]
        context["invalid"] = True
    status = 400 if context.get("error") or context.get("invalid") else 200
    if context.get("stale"):
        status = 409
    return render(request, "orders/order_form.html", context, status=status)


def _write(
    request: AuthenticatedRequest,
    *,
    order: SalesOrder | None,
    header: OrderHeaderForm,
    lines: list[LineInput],
) -> SalesOrder:
    data = header.service_data()
    note = header.promise_note(previous=order.promised_date if order is not None else None)
    if order is None:
        return creation.order_create(
            actor=request.user,
            customer=header.cleaned_data["customer"],
            lines=lines,
            reason=f"{_('Order entered')}; {note}" if note else "",
            **data,
        )
    reason = header.cleaned_data.get("reason") or ""
    return editing.order_update(
        actor=request.user,
        order=order.pk,
        expected_version=header.cleaned_data.get("version"),
        data=data,
        lines=lines,
        reason="; ".join(part for part in (reason, note) if part),
    )


@permission_required("orders.add_salesorder", raise_exception=True)
def order_create(request: AuthenticatedRequest) -> HttpResponse:
    return _save_order(request, order=None)


def order_edit(request: AuthenticatedRequest, number: str) -> HttpResponse:
    order = selectors.order_get(user=request.user, number=number)
    if not policies.can_edit_order(request.user, order):
        raise PermissionDenied
    if request.method == "GET" and not order.is_editable:
        messages.info(
            request,
            _(
                "Order %(number)s is %(status)s and locked for direct edits. "
                "Changes to a released order go through a change request."
            )
            % {"number": order.number, "status": order.get_status_display()},
        )
        return redirect("orders:order_detail", number=order.number)
    return _save_order(request, order=order)


# --- htmx fragments of the order form ------------------------------------------------------------------
def _line_prefix(value: str | None) -> str:
    if not value or not LINE_PREFIX.match(value):
        raise Http404
    return value


@require_GET
@permission_required("orders.view_product", raise_exception=True)
def line_spec_fields(request: AuthenticatedRequest) -> HttpResponse:
    """The spec inputs of one order line for the product just chosen (its family's schema)."""
    prefix = _line_prefix(request.GET.get("prefix"))
    products = list(products_active())
    try:
        product = next((p for p in products if p.pk == int(request.GET.get(f"{prefix}-product", ""))), None)
    except ValueError:
        product = None
    form = OrderLineForm(prefix=prefix, products=products, choices=[], product=product)
    return render(request, "orders/partials/line_spec_fields.html", {"line": form})


@require_GET
@permission_required("orders.view_product", raise_exception=True)
def line_row(request: AuthenticatedRequest) -> HttpResponse:
    """One more, empty line row; bumps the formset's TOTAL_FORMS out of band."""
    try:
        index = int(request.GET.get("lines-TOTAL_FORMS", ""))
    except ValueError as exc:
        raise Http404 from exc
    prefix = _line_prefix(f"lines-{index}")
    products = list(products_active())
    form = OrderLineForm(prefix=prefix, products=products, empty_permitted=True, use_required_attribute=False)
    return render(
        request, "orders/partials/line_row.html", {"line": form, "number": index + 1, "total": index + 1}
    )
