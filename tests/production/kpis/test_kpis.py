"""KPI definitions against small hand-computed fixtures, and the dashboard page and downloads.

Orders are made through the services; the moments the KPIs measure (confirmed, production started,
shipped) are then set to known values, because a test cannot wait days between two transitions.
"""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import openpyxl
import pytest
from django.core.cache import cache
from django.utils import timezone

from orders.models import ChangeRequest, CustomerTier, OrderRating, SalesOrder
from orders.sales import transitions
from production import work_orders
from production.kpis import (
    Figure,
    KpiFilters,
    analysis,
    dashboard,
    flow_time,
    on_time,
    parse_filters,
    percentiles,
    quality,
)
from production.scheduling import schedule_run
from production.work_orders import ExceptionKind
from tests.factories import (
    CustomerFactory,
    ProductFactory,
    ProductFamilyFactory,
    UserFactory,
    make_order,
    start_by_hand,
)
from tests.production.conftest import make_routing, make_work_center

pytestmark = pytest.mark.django_db

MONDAY = dt.date(2026, 11, 2)
PERIOD = KpiFilters(start=MONDAY, end=MONDAY + dt.timedelta(days=27))


@pytest.fixture(autouse=True)
def _empty_cache():
    # The dashboard caches its figures; the test process's memory cache outlives one test.
    cache.clear()


def at(day: dt.date, hour: int = 12) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour)))


def figure(section, label: str):
    return next(f.value for f in section.figures if f.label == label)


def stamp(order: SalesOrder, **moments) -> None:
    SalesOrder.objects.filter(pk=order.pk).update(**moments)


# --- order flow time -----------------------------------------------------------------------------------
@pytest.fixture
def started_orders(sales):
    """Confirmed on MONDAY noon; production started 1, 2 and 4 days later."""
    orders = [make_order(owner=sales) for _ in range(3)]
    for order, days in zip(orders, (1, 2, 4), strict=True):
        stamp(
            order,
            confirmed_at=at(MONDAY),
            production_started_at=at(MONDAY) + dt.timedelta(days=days),
            status="in_production",
        )
    return orders


def test_flow_time_median_and_90th_percentile_are_hand_computed(started_orders):
    section = flow_time(PERIOD)

    assert figure(section, "Orders started") == 3
    assert figure(section, "Median") == 2.0
    assert figure(section, "90th percentile") == 3.6  # 2 + 0.8 x (4 - 2)
    assert figure(section, "Mean") == 2.3


def test_flow_time_counts_from_entry_when_an_order_was_never_confirmed(sales):
    order = make_order(owner=sales)
    stamp(order, created_at=at(MONDAY), production_started_at=at(MONDAY + dt.timedelta(days=3)))

    assert figure(flow_time(PERIOD), "Median") == 3.0


def test_flow_time_ignores_orders_started_outside_the_period(started_orders):
    stamp(started_orders[0], production_started_at=at(MONDAY - dt.timedelta(days=30)))

    assert figure(flow_time(PERIOD), "Orders started") == 2


def test_flow_time_weekly_chart_has_one_point_per_week_of_the_period(started_orders):
    [chart] = flow_time(PERIOD).charts
    points = chart.series[0].points

    assert [week for week, _value in points] == [MONDAY + dt.timedelta(weeks=i) for i in range(4)]
    assert points[0][1] == 2.0 and points[1][1] is None


def test_starting_production_stamps_the_order(sales, planner):
    order = transitions.order_release(actor=planner, order=make_order(owner=sales, confirmed=True))

    order = start_by_hand(order)

    assert order.production_started_at is not None


# --- on-time delivery ----------------------------------------------------------------------------------
@pytest.fixture
def shipped_orders(sales):
    """Promised MONDAY+7; shipped a day early, on the day, 2 days late and 4 days late (a VIP order)."""
    vip = CustomerFactory(tier=CustomerTier.VIP)
    promised = MONDAY + dt.timedelta(days=7)
    orders = []
    for offset, customer in ((-1, None), (0, None), (2, None), (4, vip)):
        order = make_order(owner=sales, customer=customer)
        stamp(
            order,
            promised_date=promised,
            shipped_at=at(promised + dt.timedelta(days=offset)),
            status="shipped",
        )
        orders.append(order)
    return orders


def test_on_time_rate_vip_rate_and_average_lateness_are_hand_computed(shipped_orders):
    section = on_time(PERIOD)

    assert figure(section, "Orders shipped") == 4
    assert figure(section, "On-time delivery rate") == 50.0
    assert figure(section, "On-time delivery rate, VIP customers") == 0.0
    assert figure(section, "Shipped late") == 2
    assert figure(section, "Average lateness") == 3.0


def test_shipping_late_in_the_evening_counts_by_the_plant_date(settings, sales):
    settings.TIME_ZONE = "Asia/Shanghai"
    timezone.activate("Asia/Shanghai")
    order = make_order(owner=sales)
    promised = MONDAY + dt.timedelta(days=7)
    # 23:30 in Shanghai on the promised day is 15:30 UTC: on time, whatever the database's time zone.
    shipped = timezone.make_aware(dt.datetime.combine(promised, dt.time(23, 30)))
    stamp(order, promised_date=promised, shipped_at=shipped, status="shipped")

    assert figure(on_time(PERIOD), "On-time delivery rate") == 100.0
    timezone.deactivate()


def test_the_customer_filter_keeps_only_that_customers_orders(shipped_orders):
    vip_only = KpiFilters(start=PERIOD.start, end=PERIOD.end, customer_id=shipped_orders[3].customer_id)

    assert figure(on_time(vip_only), "Orders shipped") == 1


def test_the_tier_filter_keeps_only_orders_of_that_tier(shipped_orders):
    standard = KpiFilters(start=PERIOD.start, end=PERIOD.end, tier=CustomerTier.STANDARD)

    assert figure(on_time(standard), "On-time delivery rate") == pytest.approx(66.7)


def test_the_family_filter_keeps_orders_with_a_line_of_that_family(sales, shipped_orders):
    family = ProductFamilyFactory()
    order = make_order(owner=sales, product=ProductFactory(family=family))
    stamp(order, promised_date=MONDAY, shipped_at=at(MONDAY), status="shipped")

    section = on_time(KpiFilters(start=PERIOD.start, end=PERIOD.end, family_id=family.pk))

    assert figure(section, "Orders shipped") == 1


# --- rework and scrap ----------------------------------------------------------------------------------
@pytest.fixture
def reported(sales, planner):
    """A work order of 100: the MES reports 90 good, 4 scrap, 6 rework; one inspection of two fails."""
    center = make_work_center(planner, "PRESS")
    product = ProductFactory()
    make_routing(planner, product, [(center, 0, "1")])
    order = transitions.order_release(
        actor=planner, order=make_order(owner=sales, product=product, confirmed=True)
    )
    work_order = order.work_orders.get()
    operation = work_order.operations.get()
    work_orders.work_order_transition(actor=planner, work_order=work_order, name="release")
    for index, (good, scrap, rework) in enumerate(((50, 4, 0), (40, 0, 6))):
        work_orders.progress_report_create(
            actor=planner,
            operation=operation,
            message_id=f"msg-{index}",
            good_quantity=good,
            scrap_quantity=scrap,
            rework_quantity=rework,
            reported_at=at(MONDAY + dt.timedelta(days=index)),
        )
    lot = work_orders.lot_create(actor=planner, work_order=work_order, number="LOT-1", quantity=Decimal(90))
    work_orders.inspection_record(actor=planner, lot=lot, result="pass")
    work_orders.inspection_record(actor=planner, lot=lot, result="rework", defect_code="SCRATCH")
    return work_order


def test_rework_and_scrap_rates_are_hand_computed(reported, settings):
    section = quality(PERIOD)

    assert figure(section, "Quantity reported") == 100.0
    assert figure(section, "Rework rate") == 6.0
    assert figure(section, "Scrap rate") == 4.0


def test_inspection_rejection_rate_counts_failed_and_rework_results(reported):
    today = timezone.localdate()
    section = quality(KpiFilters(start=today, end=today))

    assert figure(section, "Inspection rejection rate") == 50.0


# --- load and analysis ---------------------------------------------------------------------------------
def test_load_section_says_so_when_there_is_no_plan_yet():
    [section] = [s for s in dashboard(PERIOD, use_cache=False) if s.key == "load"]

    assert section.unavailable.startswith("No plan yet")


def test_load_section_reuses_the_planners_load_per_work_center(sales, planner):
    center = make_work_center(planner, "PRESS")
    product = ProductFactory()
    make_routing(planner, product, [(center, 0, "60")])
    transitions.order_release(actor=planner, order=make_order(owner=sales, product=product, confirmed=True))
    schedule_run(actor=planner, trigger="test")

    [section] = [s for s in dashboard(PERIOD, use_cache=False) if s.key == "load"]

    rows = section.tables[0].rows
    assert {row[0] for row in rows} == {"PRESS"}
    assert sum(row[2] for row in rows) == 10.0  # 10 pieces x 60 min = 10 hours planned


def test_late_orders_are_blamed_on_an_exception_before_capacity(sales, planner, shipped_orders):
    late_with_exception = shipped_orders[2]
    center = make_work_center(planner, "PRESS")
    product = ProductFactory()
    make_routing(planner, product, [(center, 0, "1")])
    released = transitions.order_release(
        actor=planner, order=make_order(owner=sales, product=product, confirmed=True)
    )
    # The exception is on a work order of the late order (moved over for the test).
    work_order = released.work_orders.get()
    work_order.__class__.objects.filter(pk=work_order.pk).update(order=late_with_exception)
    work_orders.exception_raise(actor=planner, kind=ExceptionKind.MACHINE_BREAKDOWN, work_order=work_order)

    causes = dict(next(t for t in analysis(PERIOD).tables if t.key == "late_causes").rows)

    assert causes["Production exception"] == 1
    assert causes["Capacity or planning (no exception, no change)"] == 1


def test_lead_time_distribution_puts_each_shipped_order_in_one_bucket(shipped_orders):
    for order in shipped_orders:
        stamp(order, created_at=at(MONDAY - dt.timedelta(days=10)))

    rows = dict(next(t for t in analysis(PERIOD).tables if t.key == "lead_time_distribution").rows)

    # Shipped 6, 7, 9 and 11 days after promised-7... i.e. 16, 17, 19 and 21 days after entry.
    assert rows["15-21"] == 4
    assert sum(rows.values()) == 4


def test_orders_per_customer_counts_orders_entered_in_the_period(sales):
    busy = CustomerFactory(code="BUSY")
    for _ in range(3):
        stamp(make_order(owner=sales, customer=busy), created_at=at(MONDAY))
    stamp(make_order(owner=sales), created_at=at(MONDAY))

    table = next(t for t in analysis(PERIOD).tables if t.key == "orders_per_customer")

    assert table.rows[0][0] == "BUSY" and table.rows[0][3] == 3


# --- percentiles: the SQLite fallback matches percentile_cont ------------------------------------------
def test_percentiles_interpolate_between_ranks_like_percentile_cont(started_orders):
    from production.kpis import FLOW_SECONDS

    result = percentiles(
        SalesOrder.objects.filter(production_started_at__isnull=False), FLOW_SECONDS, (0.25, 0.5)
    )

    assert result[0.25] / 86400 == pytest.approx(1.5)
    assert result[0.5] / 86400 == pytest.approx(2.0)


# --- change requests and ratings -------------------------------------------------------------------------
def test_change_response_stages_are_hand_computed(sales, manager):
    order = make_order(owner=sales)
    submitted = at(MONDAY, 8)
    for number, (decide, apply, ack) in enumerate(((2, 3, 4), (4, 6, 10)), start=1):
        ChangeRequest.objects.create(
            order=order,
            number=f"CR-{number:06d}",
            status="applied",
            requested_by=sales,
            origin="ui",
            base_revision=1,
            reason="customer asked",
            changes={},
            submitted_at=submitted,
            decided_at=submitted + dt.timedelta(hours=decide),
            applied_at=submitted + dt.timedelta(hours=apply),
            acknowledged_at=submitted + dt.timedelta(hours=ack),
            decided_by=manager,
        )
    [section] = [s for s in dashboard(PERIOD, use_cache=False) if s.key == "change_response"]

    assert figure(section, "Submitted") == 2
    assert figure(section, "Median to decision") == 3.0  # (2 + 4) / 2
    assert figure(section, "Median, submitted → acknowledged") == 7.0  # (4 + 10) / 2


def test_satisfaction_mean_and_share_of_4_and_5_are_hand_computed(sales):
    for score in (5, 4, 3, 2):
        rating = OrderRating.objects.create(order=make_order(owner=sales), score=score, comment="")
        OrderRating.objects.filter(pk=rating.pk).update(created_at=at(MONDAY))
    [section] = [s for s in dashboard(PERIOD, use_cache=False) if s.key == "satisfaction"]

    assert figure(section, "Mean score") == 3.5
    assert figure(section, "Rated 4 or 5") == 50.0


# --- filters -------------------------------------------------------------------------------------------
def test_a_bad_filter_is_named_and_replaced_by_its_default():
    filters, errors = parse_filters({"start": "yesterday", "tier": "gold", "customer": "abc"})

    assert set(errors) == {"start", "tier", "customer"}
    assert filters.tier == "" and filters.customer_id is None


def test_an_end_before_the_start_is_refused():
    _filters, errors = parse_filters({"start": "2026-11-10", "end": "2026-11-01"})

    assert "end" in errors


# --- the page and its downloads ------------------------------------------------------------------------
def test_a_planner_reads_every_section_with_its_definition(client, planner, shipped_orders):
    client.force_login(planner)

    response = client.get("/production/kpis/", {"start": PERIOD.start, "end": PERIOD.end})

    assert response.status_code == 200
    content = response.content.decode()
    for key in ("flow_time", "change_response", "on_time", "quality", "satisfaction", "sync_health", "load"):
        assert f'data-testid="kpi-section-{key}"' in content
    assert "shipping date (plant time) is on or before the promised date" in content
    assert "<svg" in content


def test_customer_service_may_read_the_dashboard(client, service_agent):
    client.force_login(service_agent)

    assert client.get("/production/kpis/").status_code == 200


def test_sales_and_outsiders_may_not_read_the_dashboard(client, sales, outsider):
    for user in (sales, outsider):
        client.force_login(user)
        assert client.get("/production/kpis/").status_code == 403


def test_bad_filters_are_shown_on_the_page_not_a_500(client, planner):
    client.force_login(planner)

    response = client.get("/production/kpis/", {"start": "31.02.2026", "family": "999999"})

    assert response.status_code == 200
    assert "Enter a valid date" in response.content.decode()


def test_a_kpi_table_downloads_as_csv_with_the_filters_applied(client, planner, shipped_orders):
    client.force_login(planner)

    response = client.get(
        "/production/kpis/tables/on_time_weekly.csv", {"start": PERIOD.start, "end": PERIOD.end}
    )

    text = b"".join(response.streaming_content).decode("utf-8-sig")
    lines = text.splitlines()
    assert lines[0].startswith("Week,Shipped,On time (%)")
    # The order shipped a day early fell on Sunday of the week before.
    assert lines[1:3] == ["2026-11-02,1,100.00,0,,", "2026-11-09,3,33.30,1,0,3.00"]


def test_a_kpi_table_downloads_as_xlsx(client, planner, shipped_orders):
    client.force_login(planner)

    response = client.get(
        "/production/kpis/tables/late_causes.xlsx", {"start": PERIOD.start, "end": PERIOD.end}
    )

    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    assert [cell.value for cell in sheet[1]] == ["Cause", "Orders"]
    assert sheet.max_row == 4


def test_an_unknown_table_is_a_404(client, planner):
    client.force_login(planner)

    assert client.get("/production/kpis/tables/nope.csv").status_code == 404


def test_the_dashboard_is_cached_briefly_for_the_same_filters(sales, started_orders):
    first = dashboard(PERIOD)
    make_order(owner=sales)
    stamp(SalesOrder.objects.latest("pk"), confirmed_at=at(MONDAY), production_started_at=at(MONDAY))

    assert figure(dashboard(PERIOD)[0], "Orders started") == figure(first[0], "Orders started") == 3
    assert figure(dashboard(PERIOD, use_cache=False)[0], "Orders started") == 4


def test_the_sync_section_counts_backlog_and_dead_letters():
    from crm_sync.models import Delivery
    from tests.crm_sync.factories import ExternalSystemFactory

    system = ExternalSystemFactory(is_paused=True)
    order = make_order(owner=UserFactory(role="sales"))
    Delivery.objects.filter(system=system, order=order).update(state="dead")
    make_order(owner=UserFactory(role="sales"))

    [section] = [s for s in dashboard(PERIOD, use_cache=False) if s.key == "sync_health"]

    assert figure(section, "Backlog") == 1
    assert figure(section, "Dead letters") == 1


def test_a_figure_shows_a_count_grouped_without_decimals_and_a_rate_with_one():
    assert Figure("Quantity reported", 9801825.0).text == "9,801,825"
    assert Figure("On-time delivery rate", 50.0, "%").text == "50.0"
    assert Figure("Median", 9.04, "days").text == "9.0"
    assert Figure("Nothing", None).text == ""
