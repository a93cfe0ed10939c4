"""The analysis section: lead times, late orders by cause, and what the flow looks like per segment."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from django.db.models import (
    Case,
    Count,
    F,
    Value,
    When,
)
from django.db.models.functions import TruncDate
from django.utils.translation import gettext as _

from orders.models import (
    ChangeRequest,
    Customer,
    CustomerTier,
    SalesOrder,
)
from production.kpis.aggregates import (
    DAY,
    DaysBetween,
    SecondsBetween,
    per,
    percentiles,
    ratio,
    rounded,
)
from production.kpis.order_kpis import shipped_orders
from production.kpis.sections import (
    Chart,
    Figure,
    KpiFilters,
    Section,
    Series,
    Table,
)
from production.work_orders import ProductionException

# --- analysis ------------------------------------------------------------------------------------------
LEAD_TIME_BUCKETS = ((0, 7), (8, 14), (15, 21), (22, 28), (29, 42), (43, 56), (57, None))


def analysis(filters: KpiFilters) -> Section:
    entered = filters.orders(SalesOrder.objects.filter(filters.in_period("created_at")))
    # Grouped by the customer id alone (an index-only scan of order_created_kpi_idx); the names of the
    # few hundred customers are read afterwards instead of joined into every order row.
    per_customer = dict(entered.order_by().values_list("customer_id").annotate(orders=Count("pk")))
    changes = dict(
        filters.orders(ChangeRequest.objects.filter(filters.in_period("submitted_at")), order="order")
        .order_by()
        .values_list("order__customer_id")
        .annotate(n=Count("pk"))
    )
    entered_count = sum(per_customer.values())
    customer_rows = []
    for customer in Customer.objects.filter(pk__in=list(per_customer)).values("pk", "code", "name", "tier"):
        orders = per_customer[customer["pk"]]
        n_changes = changes.get(customer["pk"], 0)
        customer_rows.append(
            [
                customer["code"],
                customer["name"],
                str(CustomerTier(customer["tier"]).label),
                orders,
                n_changes,
                rounded(ratio(n_changes, orders), 2),
            ]
        )
    # Who changes most first, then who orders most, then by code.
    customer_rows.sort(key=lambda r: (-r[4], -r[3], r[0]))
    customer_rows = customer_rows[:25]

    shipped = shipped_orders(filters)
    lead_p = percentiles(shipped, SecondsBetween(F("shipped_at"), F("created_at")), (0.5, 0.9))

    # One scan of the shipped orders gives both the lead-time histogram (orders per whole day of lead
    # time, at most a few hundred groups, bucketed below) and the causes of the late ones: a production
    # exception on one of its work orders first, then a change request, else capacity/planning. One
    # cause per order, so the counts add up to the late orders.
    # Uncorrelated IN (subquery): PostgreSQL reads each small table once into a hash, where a correlated
    # EXISTS inside CASE would be re-run per order (and its cost estimate would switch on the JIT).
    cause = Case(
        When(days_late__lte=0, then=Value("")),
        When(pk__in=ProductionException.objects.values("work_order__order_id"), then=Value("exception")),
        When(pk__in=ChangeRequest.objects.values("order_id"), then=Value("change")),
        default=Value("capacity"),
    )
    histogram = (
        shipped.annotate(lead=DaysBetween(TruncDate("shipped_at"), TruncDate("created_at")), cause=cause)
        .order_by()
        .values_list("lead", "cause")
        .annotate(n=Count("pk"))
    )
    buckets = [0] * len(LEAD_TIME_BUCKETS)
    causes: dict[str, int] = defaultdict(int)
    for days, why, n in histogram:
        causes[why] += n
        for i, (low, high) in enumerate(LEAD_TIME_BUCKETS):
            if days is not None and low <= days and (high is None or days <= high):
                buckets[i] += n
                break
    bucket_rows: list[list[Any]] = [
        [f"{low}-{high}" if high is not None else f"≥ {low}", buckets[i]]
        for i, (low, high) in enumerate(LEAD_TIME_BUCKETS)
    ]
    labels = {
        "exception": _("Production exception"),
        "change": _("Change request"),
        "capacity": _("Capacity or planning (no exception, no change)"),
    }
    cause_rows: list[list[Any]] = [
        [str(labels[key]), causes.get(key, 0)] for key in ("exception", "change", "capacity")
    ]
    return Section(
        key="analysis",
        title=_("Analysis"),
        definition=_(
            "Orders entered and change requests submitted in the period per customer (who changes most); "
            "lead time (entered → shipped, days) of orders shipped in the period; causes of the orders "
            "shipped late: a production exception on their work orders, else a change request, else "
            "capacity or planning."
        ),
        figures=[
            Figure(_("Orders entered"), entered_count),
            Figure(_("Median lead time"), rounded(per(lead_p[0.5], DAY), 1), _("days")),
            Figure(_("90th percentile lead time"), rounded(per(lead_p[0.9], DAY), 1), _("days")),
        ],
        charts=[
            Chart(
                _("Lead-time distribution (days)"),
                "bar",
                [Series(_("Orders"), [(r[0], r[1]) for r in bucket_rows])],
            ),
            Chart(
                _("Causes of late orders"), "bar", [Series(_("Orders"), [(r[0], r[1]) for r in cause_rows])]
            ),
        ],
        tables=[
            Table(
                "orders_per_customer",
                _("Orders and changes per customer"),
                [
                    _("Customer code"),
                    _("Customer"),
                    _("Tier"),
                    _("Orders"),
                    _("Change requests"),
                    _("Changes per order"),
                ],
                customer_rows,
            ),
            Table(
                "lead_time_distribution", _("Lead-time distribution"), [_("Days"), _("Orders")], bucket_rows
            ),
            Table("late_causes", _("Causes of late orders"), [_("Cause"), _("Orders")], cause_rows),
        ],
    )
