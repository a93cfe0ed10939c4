"""Reads of orders: each selector owns its joins so that pages and endpoints run a fixed number of queries."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from django.apps import apps
from django.db.models import (
    Count,
    F,
    Model,
    Prefetch,
    Q,
    QuerySet,
    prefetch_related_objects,
)
from django.http import Http404
from django.utils.translation import gettext as _

from config.kernel import message_text
from orders.catalog import spec_text
from orders.catalog.models import Customer, Product
from orders.sales import policies
from orders.sales.models import OrderLine, SalesOrder

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser, User

RowT = TypeVar("RowT", bound=Model)


def visible_to(
    queryset: QuerySet[RowT],
    *,
    user: User | AnonymousUser | None,
    through: str = "",
    or_no_order: bool = False,
) -> QuerySet[RowT]:
    """The one visibility rule, for orders and everything made for them (policies.can_view_order, as a
    query). Deny by default: every row for plant-side roles, customer service and admins, the rows of
    their own orders for sales, nothing otherwise.

    `through` is the path from a row of `queryset` to its order ("" for orders themselves, "work_order__order"
    for a lot); with `or_no_order`, rows that belong to no order (a machine breakdown) stay visible to any
    user who sees some orders.
    """
    if policies.sees_all_orders(user):
        return queryset
    if policies.sees_own_orders(user):
        owned = Q(**{f"{through}__owner" if through else "owner": user})
        if or_no_order:
            owned |= Q(**{f"{through}__isnull": True})
        return queryset.filter(owned)
    return queryset.none()


def orders_visible_to(user: User | AnonymousUser | None) -> QuerySet[SalesOrder]:
    """The orders `user` may see (visible_to)."""
    return visible_to(SalesOrder.objects.select_related("customer", "owner"), user=user)


def order_list(
    *,
    user: User | AnonymousUser | None,
    search: str = "",
    statuses: list[str] | None = None,
    customer: int | None = None,
    date_field: str = "created_at",
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    group: str = "",
    numbers: list[str] | None = None,
) -> QuerySet[SalesOrder]:
    # No line count here: counting per order in this query (GROUP BY, or a subquery per row) costs for every
    # order the page skips too; the view counts the lines of its page alone (orders_with_line_counts).
    queryset = orders_visible_to(user)
    search = (search or "").strip()
    if search:
        # The customers first (a few hundred rows), then their orders by index: an OR across the join
        # made PostgreSQL read every order. On PostgreSQL the order columns have trigram indexes
        # (migration orders 0015) that serve these contains-searches.
        customers = Customer.objects.filter(Q(name__icontains=search) | Q(code__icontains=search)).values(
            "pk"
        )
        queryset = queryset.filter(
            Q(number__icontains=search)
            | Q(crm_id__icontains=search)
            | Q(customer_po__icontains=search)
            | Q(customer_id__in=customers)
        )
    if statuses:
        queryset = queryset.filter(status__in=statuses)
    if customer:
        queryset = queryset.filter(customer_id=customer)
    if date_field not in ("created_at", "requested_date", "promised_date"):
        date_field = "created_at"
    lookup = f"{date_field}__date" if date_field == "created_at" else date_field
    if date_from:
        queryset = queryset.filter(**{f"{lookup}__gte": date_from})
    if date_to:
        queryset = queryset.filter(**{f"{lookup}__lte": date_to})
    if numbers is not None:
        queryset = queryset.filter(number__in=numbers)
    # Grouped, the group comes first and the newest order first within it (the page shows a header per group).
    return queryset.order_by(*GROUP_ORDERING.get(group, ()), "-created_at", "-id")


# How the order list sorts for each grouping; the template starts a group where the key changes.
GROUP_ORDERING: dict[str, tuple[Any, ...]] = {
    "status": ("status",),
    "customer": ("customer__name", "customer_id"),
    "promised_week": (F("promised_date").asc(nulls_last=True),),
}


def orders_with_line_counts(orders: Iterable[SalesOrder]) -> list[SalesOrder]:
    """The orders of one list page, each with `line_count` (one query for the page)."""
    page = list(orders)
    counts = dict(
        OrderLine.objects.filter(order__in=[order.pk for order in page])
        .order_by()
        .values("order")
        .annotate(n=Count("pk"))
        .values_list("order", "n")
    )
    for order in page:
        # What .annotate() would have set, for this page only.
        setattr(order, "line_count", counts.get(order.pk, 0))  # noqa: B010
    return page


def _lines_prefetch() -> Prefetch:
    return Prefetch("lines", queryset=OrderLine.objects.select_related("product__family").order_by("line_no"))


def order_detail_queryset(user: User | AnonymousUser | None) -> QuerySet[SalesOrder]:
    return orders_visible_to(user).prefetch_related(_lines_prefetch())


def order_prefetch_lines(order: SalesOrder) -> SalesOrder:
    """Load the lines of an order already in hand the way order_detail_queryset does (one query)."""
    prefetch_related_objects([order], _lines_prefetch())
    return order


def order_get(*, user: User | AnonymousUser | None, number: str) -> SalesOrder:
    """The order if the user may see it; 404 otherwise (never reveal that a hidden order exists)."""
    order = order_detail_queryset(user).filter(number=number).first()
    if order is None:
        raise Http404(_("No order %(number)s.") % {"number": number})
    return order


def order_id_visible(*, user: User | AnonymousUser | None, number: str) -> int:
    """The id of the order if the user may see it; 404 otherwise. One small query, for writers that lock
    and read the order themselves."""
    order_id = orders_visible_to(user).filter(number=number).values_list("pk", flat=True).first()
    if order_id is None:
        raise Http404(_("No order %(number)s.") % {"number": number})
    return order_id


# --- history ----------------------------------------------------------------------------------------------
@dataclass
class HistoryEntry:
    when: dt.datetime
    user: str
    reason: str
    subject: str  # "order" or "line 2"
    kind: str  # "+" created, "~" changed, "-" deleted
    changes: list[tuple[str, Any, Any]] = field(default_factory=list)
    history_id: int = 0


_HIDDEN_FIELDS = {"version", "updated_at", "status_before_hold", "id", "order"}


def _field_label(model: Any, name: str) -> str:
    try:
        return str(model._meta.get_field(name).verbose_name)
    except Exception:
        return name


def _display(model: Any, name: str, value: Any, related: dict) -> Any:
    if value is None or value == "":
        return "—"
    try:
        model_field = model._meta.get_field(name)
    except Exception:
        return value
    if model_field.choices:
        return dict(model_field.flatchoices).get(value, value)
    if model_field.is_relation:
        return related.get((name, value), value)
    return value


def _entries_for(records: list, model: Any, subject_of, related: dict) -> list[HistoryEntry]:
    """Turn consecutive historical records of each object into entries with field-level changes."""
    entries: list[HistoryEntry] = []
    previous: dict[int, Any] = {}
    for record in sorted(records, key=lambda r: (r.history_date, r.history_id)):
        before = previous.get(record.id)
        changes: list[tuple[str, Any, Any]] = []
        if record.history_type == "~" and before is not None:
            for model_field in model._meta.concrete_fields:
                name = model_field.attname
                base = model_field.name
                if base in _HIDDEN_FIELDS:
                    continue
                old, new = getattr(before, name), getattr(record, name)
                if old != new:
                    changes.append(
                        (
                            _field_label(model, base),
                            _display(model, base, old, related),
                            _display(model, base, new, related),
                        )
                    )
        entries.append(
            HistoryEntry(
                when=record.history_date,
                user=record.history_user.get_username() if record.history_user_id else _("system"),
                reason=message_text(record.history_change_reason),
                subject=subject_of(record),
                kind=record.history_type,
                changes=changes,
                history_id=record.history_id,
            )
        )
        previous[record.id] = record
    return entries


def order_history(*, order: SalesOrder) -> list[HistoryEntry]:
    """The order's timeline, newest first: who changed what, when and why (order, lines, change requests).

    Four queries whatever the length of the history (six once released: its lines' spec schemas and its
    change requests).
    """
    order_records = list(order.history.select_related("history_user").all())
    line_records = list(OrderLine.history.select_related("history_user").filter(order_id=order.pk))
    product_ids = {r.product_id for r in line_records}
    customer_ids = {r.customer_id for r in order_records}
    related: dict = {}
    related.update({("product", p.pk): p.sku for p in Product.objects.filter(pk__in=product_ids)})
    related.update({("customer", c.pk): c.code for c in Customer.objects.filter(pk__in=customer_ids)})
    entries = _entries_for(order_records, SalesOrder, lambda r: _("order"), related)
    entries += _entries_for(line_records, OrderLine, lambda r: _("line %(no)s") % {"no": r.line_no}, related)
    if order.released_at is not None:  # change requests exist only from release on
        entries += _change_request_entries(order)
    # Newest first; within one instant, the later write (higher history id) first.
    entries.sort(key=lambda e: (e.when, e.history_id), reverse=True)
    return entries


def _change_request_entries(order: SalesOrder) -> list[HistoryEntry]:
    """Each step of the order's change requests, with the proposed diff (old → new) on creation and apply."""
    # Change requests are a package above this one (they import it): looked up by name, not imported.
    decision_model = apps.get_model("orders", "ChangeRequestDecision")
    entries = []
    schemas = {
        line.line_no: line.product.family.spec_schema or {}
        for line in OrderLine.objects.filter(order=order).select_related("product__family")
    }
    decisions = decision_model.objects.filter(change_request__order=order).select_related(
        "change_request", "actor"
    )
    for decision in decisions:
        cr = decision.change_request
        changes = []
        if decision.action in ("submitted", "applied"):
            shown = [diff_row_display(row, schemas) for row in cr.impact.get("diff", [])]
            changes = [(f"{row['subject']} · {row['field']}", row["old"], row["new"]) for row in shown]
        reason = str(decision.get_action_display())
        if decision.comment:
            # Old rows stored the comment "Superseded: …" beside the action "Superseded": said once.
            comment = message_text(decision.comment).removeprefix("Superseded: ")
            reason = f"{reason}: {comment}"
        entries.append(
            HistoryEntry(
                when=decision.created_at,
                user=decision.actor.get_username() if decision.actor_id else _("system"),
                reason=reason,
                subject=cr.number,
                kind="+" if decision.action == "created" else "~",
                changes=changes,
                history_id=decision.pk,
            )
        )
    return entries


def diff_row_display(row: dict[str, Any], schemas: dict[int, dict]) -> dict[str, str]:
    """A change request's proposed change (operations.DiffRow) in the reader's language.

    `schemas`: the spec schema of each line by line_no (spec attributes read by their labels). Rows stored
    before diffs were language-neutral keep their text, translated when it is a catalogue text.
    """
    line_no = row.get("line_no")
    subject = str(row.get("subject") or "")
    if line_no is None and subject.startswith("line ") and subject[5:].isdigit():
        line_no = int(subject[5:])
    if line_no is not None:
        subject = _("line %(no)s") % {"no": line_no}
    elif subject:
        subject = _(subject)
    old, new = str(row.get("old", "")), str(row.get("new", ""))
    if "old_spec" in row or "new_spec" in row:
        schema = schemas.get(line_no or 0) or {}
        old = spec_text(schema, row.get("old_spec") or {}) or "—"
        new = spec_text(schema, row.get("new_spec") or {}) or "—"
    return {
        "op": str(row.get("op", "")),
        "subject": subject,
        "field": _(row["field"]) if row.get("field") else "",
        "old": old,
        "new": new,
    }
