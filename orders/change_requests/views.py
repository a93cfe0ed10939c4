"""Change-request pages: the approvers' inbox, the CR form, the CR page, and the order page's CR panel.

Thin: reads through orders.change_requests.selectors, writes through the services of orders.change_requests.
A CR or order the user may not see is a 404, a refused action a 403 page, any other refusal a message on the
page.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from config.http import AuthenticatedRequest
from config.kernel import allowed
from config.kernel.errors import ApplicationError, Forbidden
from orders import panels
from orders.catalog import products_active
from orders.change_requests import change_lists, decisions, policies, proposals, selectors
from orders.change_requests.forms import (
    ChangeRequestForm,
    ChangeRowForm,
    DecisionForm,
    apply_change_errors,
    change_rows,
    rows_from_changes,
)
from orders.change_requests.impact import MANAGER_REASONS
from orders.change_requests.models import OPEN_CR_STATUSES, ChangeRequest, ChangeRequestStatus, Disposition
from orders.sales import diff_row_display, order_get
from orders.sales.models import SalesOrder

if TYPE_CHECKING:
    from django.contrib.auth.models import User

PAGE_SIZE = 50


def _error_text(error: ApplicationError) -> str:
    return error.text(skip=("version", "base_revision"))


# --- inbox ----------------------------------------------------------------------------------------------
@require_GET
@permission_required("orders.view_changerequest", raise_exception=True)
def inbox(request: AuthenticatedRequest) -> HttpResponse:
    """Approvers: pending CRs oldest first. Everyone: their own CRs and the latest ones they may see."""
    show = request.GET.get("show") or ("pending" if allowed(request.user, policies.APPROVE_PERM) else "mine")
    if show == "pending":
        rows = selectors.approver_inbox(user=request.user)
    elif show == "mine":
        rows = selectors.change_requests_visible_to(request.user).filter(requested_by=request.user)
    else:
        show = "all"
        rows = selectors.change_requests_visible_to(request.user)
    context = {
        "show": show,
        "rows": [(cr, [change_lists.describe_change(c) for c in cr.changes]) for cr in rows[:PAGE_SIZE]],
        "can_approve": allowed(request.user, policies.APPROVE_PERM),
    }
    return render(request, "orders/change_requests/inbox.html", context)


# --- create -----------------------------------------------------------------------------------------------
@permission_required("orders.add_changerequest", raise_exception=True)
def create(request: AuthenticatedRequest, number: str) -> HttpResponse:
    order = order_get(user=request.user, number=number)
    if order.status not in policies.CHANGEABLE_STATUSES or order.released_at is None:
        if order.is_editable or order.released_at is None:
            text = _("Order %(number)s is %(status)s: edit it directly, no change request is needed.")
        else:
            text = _("Order %(number)s is %(status)s: it can no longer be changed.")
        messages.info(request, text % {"number": order.number, "status": order.get_status_display()})
        return redirect("orders:order_detail", number=order.number)
    return _proposal_form(request, order)


@permission_required("orders.add_changerequest", raise_exception=True)
def edit(request: AuthenticatedRequest, number: str) -> HttpResponse:
    """The requester edits a draft: the creation form, filled in with the draft (the service checks who)."""
    cr = selectors.change_request_get(user=request.user, number=number)
    if cr.status != ChangeRequestStatus.DRAFT or cr.requested_by_id != request.user.pk:
        messages.info(request, _("Only the requester edits a change request, and only as a draft."))
        return redirect("change_requests:detail", number=cr.number)
    return _proposal_form(request, cr.order, cr=cr)


def _proposal_form(
    request: AuthenticatedRequest, order: SalesOrder, cr: ChangeRequest | None = None
) -> HttpResponse:
    """The CR form: a new CR of `order`, or the draft `cr` being edited (same inputs, same checks)."""
    products = list(products_active())
    row_url = reverse("change_requests:row", args=[order.number])
    data = request.POST if request.method == "POST" else None
    if cr is None:
        header = ChangeRequestForm(data, initial={"base_revision": order.revision})
        rows = change_rows(data, order=order, products=products, row_url=row_url)
    else:
        header = ChangeRequestForm(data, initial={"base_revision": cr.base_revision, "reason": cr.reason})
        rows = (
            change_rows(data, order=order, products=products, row_url=row_url)
            if data is not None
            else rows_from_changes(cr.changes, order=order, products=products, row_url=row_url)
        )
    context: dict[str, Any] = {
        "order": order,
        "cr": cr,
        "header": header,
        "rows": rows,
        "errors": [],
        "row_url": row_url,
        "other_open": selectors.other_open_change_requests(order=order, user=request.user, excluding=cr),
    }
    status = 200
    if data is not None and "add_row" in data:
        rows.append(
            ChangeRowForm(prefix=f"changes-{len(rows)}", order=order, products=products, row_url=row_url)
        )
    elif data is not None and "refresh" not in data:
        # Validate every row (not stopping at the first bad one) so each shows its errors.
        rows_valid = [row.is_valid() for row in rows]
        if header.is_valid() and all(rows_valid):
            proposal = {
                "actor": request.user,
                "base_revision": header.cleaned_data["base_revision"],
                "reason": header.cleaned_data["reason"],
                "changes": [row.change() for row in rows],
                "submit": "submit" in data,
            }
            try:
                if cr is None:
                    saved = proposals.change_request_create(order=order.pk, **proposal)
                else:
                    saved = proposals.change_request_update(change_request=cr.pk, **proposal)
            except Forbidden as exc:
                raise PermissionDenied(exc.message) from exc
            except ApplicationError as exc:
                context["error"] = exc
                context["errors"] = apply_change_errors(exc.fields, header=header, rows=rows)
                if "base_revision" in exc.fields:
                    context["errors"].append(exc.message)
                status = 409 if exc.status_code == 409 else 400
            else:
                text = (
                    _("Change request %(number)s submitted.")
                    if "submit" in data
                    else _("Change request %(number)s saved as a draft.")
                )
                messages.success(request, text % {"number": saved.number})
                return redirect("change_requests:detail", number=saved.number)
        else:
            status = 400
    return render(request, "orders/change_requests/form.html", context, status=status)


@require_GET
@permission_required("orders.add_changerequest", raise_exception=True)
def row(request: AuthenticatedRequest, number: str) -> HttpResponse:
    """One change row re-rendered for the op, line or product just chosen (htmx)."""
    order = order_get(user=request.user, number=number)
    prefix = request.GET.get("prefix", "")
    if not prefix.startswith("changes-") or not prefix.removeprefix("changes-").isdigit():
        raise Http404
    row_url = reverse("change_requests:row", args=[order.number])
    # Unbound, with what was chosen so far as initial values: a row being filled in shows no errors yet.
    initial = {
        key.removeprefix(f"{prefix}-"): value
        for key, value in request.GET.items()
        if key.startswith(f"{prefix}-")
    }
    form = ChangeRowForm(
        initial=initial, prefix=prefix, order=order, products=list(products_active()), row_url=row_url
    )
    return render(request, "orders/change_requests/partials/row.html", {"row": form, "fresh": True})


# --- one CR -----------------------------------------------------------------------------------------------
def _impact_view(cr: ChangeRequest) -> dict[str, Any]:
    impact = cr.impact or {}
    return {
        "impact": impact,
        "manager_reasons": [
            str(MANAGER_REASONS.get(code, code)) for code in impact.get("manager_reasons", [])
        ],
        "disposition_choices": [
            (value, label)
            for value, label in Disposition.choices
            if value in impact.get("disposition_choices", [])
        ],
    }


@require_GET
def detail(request: AuthenticatedRequest, number: str) -> HttpResponse:
    cr = selectors.change_request_get(user=request.user, number=number)
    diff = cr.impact.get("diff") if cr.status != ChangeRequestStatus.DRAFT else None
    if diff is None:
        diff = change_lists.change_diff(order=cr.order, changes=cr.changes)
    schemas = {
        line.line_no: line.product.family.spec_schema or {}
        for line in cr.order.lines.select_related("product__family")
    }
    diff = [diff_row_display(dict(row), schemas) for row in diff]
    actions = decisions.available_actions(cr, request.user)
    context = {
        "cr": cr,
        "order": cr.order,
        "diff": diff,
        "actions": actions,
        "can_edit": cr.status == ChangeRequestStatus.DRAFT and cr.requested_by_id == request.user.pk,
        "labels": {name: str(label) for name, label in decisions.ACTION_LABELS.items()},
        "decision_form": DecisionForm(),
        "other_open": selectors.other_open_change_requests(order=cr.order, user=request.user, excluding=cr)
        if cr.status in OPEN_CR_STATUSES
        else [],
        **_impact_view(cr),
    }
    return render(request, "orders/change_requests/detail.html", context)


@require_POST
def act(request: AuthenticatedRequest, number: str, action: str) -> HttpResponse:
    if action not in decisions.ACTION_LABELS:
        raise Http404
    cr = selectors.change_request_get(user=request.user, number=number)
    form = DecisionForm(request.POST)
    form.is_valid()
    data = form.cleaned_data
    try:
        result = decisions.change_request_act(
            actor=request.user,
            change_request=cr.pk,
            action=action,
            comment=data.get("comment") or "",
            disposition=data.get("disposition") or "",
        )
    except Forbidden as exc:
        if exc.code in ("own_change_request", "needs_manager"):
            messages.error(request, exc.message)
            return redirect("change_requests:detail", number=cr.number)
        raise PermissionDenied(exc.message) from exc
    except ApplicationError as exc:
        messages.error(request, _error_text(exc))
        return redirect("change_requests:detail", number=cr.number)
    label = _(str(decisions.ACTION_LABELS[action]))
    messages.success(
        request, _("%(action)s: done for %(number)s.") % {"action": label, "number": result.number}
    )
    return redirect("change_requests:detail", number=result.number)


# --- the order page's panel -------------------------------------------------------------------------------
def order_panel_context(order: SalesOrder, user: User) -> dict[str, Any] | None:
    if order.released_at is None or not allowed(user, selectors.VIEW_PERM):
        return None  # change requests exist only from release on
    rows = list(selectors.order_change_requests(order=order, user=user)[:20])
    can_request = allowed(user, policies.ADD_PERM) and order.status in policies.CHANGEABLE_STATUSES
    if not rows and not can_request:
        return None
    return {
        "order": order,
        "rows": [(cr, [change_lists.describe_change(c) for c in cr.changes]) for cr in rows],
        "can_request": can_request,
    }


def register_panel() -> None:
    panels.register(
        panels.OrderPanel(
            key="change-requests",
            template="orders/change_requests/partials/order_panel.html",
            context=order_panel_context,
            column="main",
            order=50,
        )
    )
