"""The KPI dashboard's one-scan aggregates against a straightforward computation in Python.

The dashboard answers from grouped queries that serve several figures at once (percentiles that leave
out the rows a value does not exist on, a per-day histogram bucketed afterwards, causes read through
IN subqueries). Each test builds a small, uneven data set with the factories and recomputes the figures
the plain way, row by row, so a shortcut that changes a definition fails here. They run on SQLite (the
Python percentile fallback) and on PostgreSQL (percentile_cont).
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections import Counter, defaultdict

import pytest
from django.core.cache import cache
from django.db.models import F
from django.utils import timezone

from orders.models import ChangeRequest, SalesOrder
from orders.sales import transitions
from production import work_orders
from production.kpis import (
    LEAD_TIME_BUCKETS,
    KpiFilters,
    SecondsBetween,
    analysis,
    change_response,
    named_percentiles,
    weekly_aggregates,
)
from production.work_orders import ExceptionKind, ProductionException
from tests.factories import CustomerFactory, ProductFactory, make_order
from tests.production.conftest import make_routing, make_work_center

pytestmark = pytest.mark.django_db

MONDAY = dt.date(2026, 11, 2)
PERIOD = KpiFilters(start=MONDAY, end=MONDAY + dt.timedelta(days=27))
HOUR = 3600.0


@pytest.fixture(autouse=True)
def _empty_cache():
    cache.clear()


def at(day: dt.date, hour: int = 12) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour)))


def stamp(order: SalesOrder, **moments) -> None:
    SalesOrder.objects.filter(pk=order.pk).update(**moments)


def reference_percentile(values: list[float], fraction: float) -> float | None:
    """percentile_cont by the standard library (linear interpolation between closest ranks)."""
    if not values:
        return None
    if len(values) == 1:
        return values[0]
    cut = round(fraction * 100)
    return statistics.quantiles(values, n=100, method="inclusive")[cut - 1]


def monday_of(moment: dt.datetime) -> dt.date:
    day = timezone.localtime(moment).date()
    return day - dt.timedelta(days=day.weekday())


# --- the helpers ---------------------------------------------------------------------------------------
@pytest.fixture
def uneven_orders(sales):
    """Orders over three weeks; some never confirmed (their confirmation-based value is NULL)."""
    orders = []
    for i in range(9):
        order = make_order(owner=sales)
        created = at(MONDAY + dt.timedelta(days=2 * i), hour=8 + i)
        stamp(
            order,
            created_at=created,
            confirmed_at=None if i % 3 == 0 else created + dt.timedelta(hours=3 * i + 1),
            production_started_at=created + dt.timedelta(hours=7 * i + 5),
        )
        orders.append(SalesOrder.objects.get(pk=order.pk))
    return orders


def test_named_percentiles_leave_out_the_rows_a_value_does_not_exist_on(uneven_orders):
    to_confirm = SecondsBetween(F("confirmed_at"), F("created_at"))
    to_start = SecondsBetween(F("production_started_at"), F("created_at"))

    result = named_percentiles(
        SalesOrder.objects.all(),
        {"confirm_p50": (to_confirm, 0.5), "confirm_p90": (to_confirm, 0.9), "start_p25": (to_start, 0.25)},
    )

    confirm = [(o.confirmed_at - o.created_at).total_seconds() for o in uneven_orders if o.confirmed_at]
    start = [(o.production_started_at - o.created_at).total_seconds() for o in uneven_orders]
    assert len(confirm) == 6
    assert result["confirm_p50"] == pytest.approx(reference_percentile(confirm, 0.5))
    assert result["confirm_p90"] == pytest.approx(reference_percentile(confirm, 0.9))
    assert result["start_p25"] == pytest.approx(reference_percentile(start, 0.25))


def test_weekly_aggregates_match_a_grouping_by_plant_week_in_python(uneven_orders):
    from django.db.models import Count

    to_confirm = SecondsBetween(F("confirmed_at"), F("created_at"))

    weekly = weekly_aggregates(
        SalesOrder.objects.all(), moment="created_at", spec={"p50": (to_confirm, 0.5)}, n=Count("pk")
    )

    expected: dict[dt.date, list] = defaultdict(list)
    counts: Counter = Counter()
    for order in uneven_orders:
        week = monday_of(order.created_at)
        counts[week] += 1
        if order.confirmed_at:
            expected[week].append((order.confirmed_at - order.created_at).total_seconds())
    assert set(weekly) == set(counts)
    for week, row in weekly.items():
        assert row["n"] == counts[week]
        assert row["p50"] == pytest.approx(reference_percentile(expected[week], 0.5))


# --- change response: every step from one scan ---------------------------------------------------------
STEPS = (
    ("submitted_at", "decided_at"),
    ("decided_at", "applied_at"),
    ("applied_at", "acknowledged_at"),
    ("submitted_at", "acknowledged_at"),
)


def test_change_response_figures_are_of_the_requests_that_reached_each_step(sales, manager):
    order = make_order(owner=sales)
    submitted = at(MONDAY, 8)
    # (decided, applied, acknowledged) hours after submission; None: the step was not reached.
    journeys = [(2, 3, 4), (4, 6, 10), (1, 5, None), (3, None, None), (None, None, None), (7, 8, 20)]
    for number, hours in enumerate(journeys, start=1):
        decided, applied, acknowledged = (
            submitted + dt.timedelta(hours=h) if h is not None else None for h in hours
        )
        ChangeRequest.objects.create(
            order=order,
            number=f"CR-{number:06d}",
            status="applied" if applied else ("approved" if decided else "submitted"),
            requested_by=sales,
            origin="ui",
            base_revision=1,
            reason="customer asked",
            changes={},
            submitted_at=submitted + dt.timedelta(days=number),
            decided_at=decided and decided + dt.timedelta(days=number),
            applied_at=applied and applied + dt.timedelta(days=number),
            acknowledged_at=acknowledged and acknowledged + dt.timedelta(days=number),
            decided_by=manager if decided else None,
        )

    rows = change_response(PERIOD).tables[0].rows

    requests = list(ChangeRequest.objects.all())
    for row, (start, end) in zip(rows, STEPS, strict=True):
        reached = [
            (getattr(r, end) - getattr(r, start)).total_seconds() / HOUR
            for r in requests
            if getattr(r, start) and getattr(r, end)
        ]
        assert row[1] == len(reached)
        assert row[2] == round(reference_percentile(reached, 0.5), 1)
        assert row[3] == round(reference_percentile(reached, 0.9), 1)


# --- analysis: lead-time histogram and late causes from one scan ---------------------------------------
def test_lead_time_buckets_and_late_causes_match_a_row_by_row_computation(sales, planner):
    promised = MONDAY + dt.timedelta(days=10)
    # (days from entry to shipping, days late)
    plan = [(0, -2), (7, 0), (8, 1), (14, 3), (15, -1), (21, 2), (56, 5), (57, 1), (90, 4), (30, 2)]
    orders = []
    for lead, late in plan:
        order = make_order(owner=sales)
        shipped = at(promised + dt.timedelta(days=late), hour=10)
        stamp(
            order,
            status="shipped",
            promised_date=promised,
            shipped_at=shipped,
            created_at=shipped - dt.timedelta(days=lead, hours=1),
        )
        orders.append(order)
    # Production exceptions on work orders of: a late order, a late order with a change request too
    # (the exception is its cause), and an on-time order (not a late cause at all).
    center = make_work_center(planner, "PRESS")
    product = ProductFactory()
    make_routing(planner, product, [(center, 0, "1")])
    for target in (orders[2], orders[3], orders[1]):
        released = transitions.order_release(
            actor=planner, order=make_order(owner=sales, product=product, confirmed=True)
        )
        work_order = released.work_orders.get()
        work_order.__class__.objects.filter(pk=work_order.pk).update(order=target)
        work_orders.exception_raise(
            actor=planner, kind=ExceptionKind.MACHINE_BREAKDOWN, work_order=work_order
        )
    for number, target in enumerate((orders[3], orders[5], orders[6]), start=1):
        ChangeRequest.objects.create(
            order=target,
            number=f"CR-{number:06d}",
            status="submitted",
            requested_by=sales,
            origin="ui",
            base_revision=1,
            reason="customer asked",
            changes={},
            submitted_at=at(MONDAY - dt.timedelta(days=30)),
        )

    tables = {t.key: dict(t.rows) for t in analysis(PERIOD).tables if t.key != "orders_per_customer"}

    shipped = SalesOrder.objects.filter(pk__in=[o.pk for o in orders])
    with_exception = set(ProductionException.objects.values_list("work_order__order_id", flat=True))
    with_change = set(ChangeRequest.objects.values_list("order_id", flat=True))
    buckets: Counter = Counter()
    causes: Counter = Counter()
    for order in shipped:
        shipped_on = timezone.localtime(order.shipped_at).date()
        lead = (shipped_on - timezone.localtime(order.created_at).date()).days
        label = next(
            f"{low}-{high}" if high is not None else f"≥ {low}"
            for low, high in LEAD_TIME_BUCKETS
            if low <= lead and (high is None or lead <= high)
        )
        buckets[label] += 1
        if (shipped_on - order.promised_date).days > 0:
            if order.pk in with_exception:
                causes["Production exception"] += 1
            elif order.pk in with_change:
                causes["Change request"] += 1
            else:
                causes["Capacity or planning (no exception, no change)"] += 1
    assert tables["lead_time_distribution"] == {
        label: buckets[label] for label in tables["lead_time_distribution"]
    }
    assert sum(buckets.values()) == len(plan)
    assert tables["late_causes"] == {
        key: causes[key]
        for key in (
            "Production exception",
            "Change request",
            "Capacity or planning (no exception, no change)",
        )
    }
    assert causes == {
        "Production exception": 2,
        "Change request": 2,
        "Capacity or planning (no exception, no change)": 3,
    }


def test_orders_per_customer_rank_by_changes_then_orders_then_code(sales):
    customers = {code: CustomerFactory(code=code) for code in ("ALPHA", "BRAVO", "CHARLIE", "DELTA")}
    ordered = {"ALPHA": 2, "BRAVO": 3, "CHARLIE": 2, "DELTA": 1}
    changed = {"ALPHA": 1, "BRAVO": 1, "CHARLIE": 1, "DELTA": 2}
    number = 0
    for code, count in ordered.items():
        orders = [make_order(owner=sales, customer=customers[code]) for _ in range(count)]
        for order in orders:
            stamp(order, created_at=at(MONDAY + dt.timedelta(days=1)))
        for _ in range(changed[code]):
            number += 1
            ChangeRequest.objects.create(
                order=orders[0],
                number=f"CR-{number:06d}",
                status="submitted",
                requested_by=sales,
                origin="ui",
                base_revision=1,
                reason="customer asked",
                changes={},
                submitted_at=at(MONDAY + dt.timedelta(days=2)),
            )

    table = next(t for t in analysis(PERIOD).tables if t.key == "orders_per_customer")

    assert [(row[0], row[3], row[4]) for row in table.rows] == [
        ("DELTA", 1, 2),
        ("BRAVO", 3, 1),
        ("ALPHA", 2, 1),
        ("CHARLIE", 2, 1),
    ]
    assert table.rows[0][5] == 2.0
