"""The stored plan: versions, projections and at-risk flags, frozen operations, debounce and the lease."""

import datetime as dt
import threading

import pytest
from django.db import connection
from django.utils import timezone

from config.kernel.errors import Conflict
from orders.models import Priority
from orders.sales import transitions
from production import work_orders
from production.replanning import lease_acquire, lease_release, request_now
from production.scheduling import OrderProjection, Schedule, promise_quote, schedule_run
from production.work_orders import WorkOrderOperation
from tests.factories import CustomerFactory, ProductFactory, in_days, make_order
from tests.production.conftest import make_routing, make_work_center
from tests.services import require_postgresql

pytestmark = pytest.mark.django_db


@pytest.fixture
def press(planner):
    center = make_work_center(planner, "PRESS")
    product = ProductFactory()
    make_routing(planner, product, [(center, 0, "60")])  # 60 minutes per piece: an order of 10 takes 10 h
    return product


def release(sales, planner, product, **kwargs):
    order = make_order(owner=sales, product=product, confirmed=True, **kwargs)
    return transitions.order_release(actor=planner, order=order)


def test_a_run_stores_a_new_current_version_with_its_figures(sales, planner, press):
    release(sales, planner, press)
    first = schedule_run(actor=planner, trigger="test")
    second = schedule_run(actor=planner, trigger="test")
    assert (first.version + 1, second.version) == (second.version, second.version)
    assert list(Schedule.objects.filter(is_current=True)) == [second]
    assert (second.work_orders, second.operations, second.created_by) == (1, 1, planner)
    assert second.entries.count() == 1


def test_each_order_gets_its_projected_completion_and_is_not_at_risk_when_in_time(sales, planner, press):
    order = release(sales, planner, press)
    now = timezone.now().replace(second=0, microsecond=0)
    schedule_run(actor=planner, trigger="test", now=now)
    projection = OrderProjection.objects.get(order=order, schedule__is_current=True)
    assert projection.projected_completion == now + dt.timedelta(hours=10)
    assert not projection.at_risk


def test_an_order_projected_after_its_promised_date_is_at_risk_with_why(sales, planner, press):
    release(sales, planner, press, lines=3, promised_date=in_days(40))  # 10 + 20 + 30 pieces: 60 hours
    # Planning starts after the promise of the late order, whatever the time of day the test runs.
    late = release(sales, planner, press, promised_date=in_days(1))
    schedule_run(actor=planner, trigger="test", now=timezone.now() + dt.timedelta(days=3))
    projection = OrderProjection.objects.get(order=late, schedule__is_current=True)
    assert projection.at_risk and projection.tardiness_minutes > 0
    assert "PRESS" in projection.why


def test_a_vip_order_is_planned_before_a_standard_order_with_the_same_promise(sales, planner, press):
    standard = release(sales, planner, press)
    vip = release(sales, planner, press, customer=CustomerFactory(tier="vip"))
    schedule_run(actor=planner, trigger="test")
    start = {
        order: WorkOrderOperation.objects.get(work_order__order=order).scheduled_start
        for order in (standard, vip)
    }
    assert start[vip] < start[standard]


def test_a_started_operation_keeps_its_place_when_an_urgent_order_arrives(sales, planner, press):
    first = release(sales, planner, press)
    schedule_run(actor=planner, trigger="test")
    work_order = first.work_orders.get()
    work_orders.work_order_transition(actor=planner, work_order=work_order, name="release")
    op = WorkOrderOperation.objects.get(work_order=work_order)
    work_orders.progress_report_create(actor=planner, operation=op, message_id="m-1", good_quantity=1)
    op = WorkOrderOperation.objects.get(pk=op.pk)
    before = (op.scheduled_start, op.scheduled_end, op.scheduled_unit)
    release(sales, planner, press, customer=CustomerFactory(tier="vip"), priority=Priority.URGENT)
    schedule_run(actor=planner, trigger="test", now=timezone.now() + dt.timedelta(minutes=5))
    op = WorkOrderOperation.objects.get(pk=op.pk)
    assert (op.scheduled_start, op.scheduled_end, op.scheduled_unit) == before


def test_a_burst_of_requests_enqueues_one_delayed_run(enqueued, settings):
    settings.PRODUCTION_RESCHEDULE_DEBOUNCE_SECONDS = 30
    results = [request_now(trigger=f"event {i}") for i in range(5)]
    assert results == [True, False, False, False, False]
    assert enqueued == [{"countdown": 30}]


def test_releasing_orders_asks_for_a_reschedule_only_after_commit(
    sales, planner, press, enqueued, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        release(sales, planner, press)
        assert enqueued == []
    assert len(enqueued) == 1


def test_an_optimiser_run_clears_the_pending_request_so_the_queued_task_does_nothing(planner):
    from production.scheduling import schedule_run_pending

    request_now(trigger="event")
    schedule_run(actor=planner, trigger="manual", method="optimised", time_limit=1)
    assert schedule_run_pending() is None


def test_an_optimiser_run_is_refused_while_another_holds_the_lease(planner):
    assert lease_acquire(holder="other-worker", seconds=60)
    with pytest.raises(Conflict):
        schedule_run(actor=planner, trigger="manual", method="optimised", time_limit=1)
    lease_release(holder="other-worker")
    assert schedule_run(actor=planner, trigger="manual", method="optimised", time_limit=1).version == 1


def test_a_fast_run_is_not_held_up_by_a_running_optimiser(planner):
    assert lease_acquire(holder="optimiser-worker", seconds=60)
    assert schedule_run(actor=planner, trigger="manual").version == 1


def test_an_expired_lease_can_be_taken_over():
    assert lease_acquire(holder="crashed-worker", seconds=-1)
    assert lease_acquire(holder="me", seconds=60)


def test_sales_cannot_reschedule(sales):
    from config.kernel.errors import Forbidden

    with pytest.raises(Forbidden):
        schedule_run(actor=sales, trigger="manual")


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_only_one_of_two_concurrent_processes_gets_the_lease():
    require_postgresql()
    barrier = threading.Barrier(2)
    results = []

    def contend(name):
        try:
            barrier.wait()
            results.append(lease_acquire(holder=name, seconds=60))
        finally:
            connection.close()

    threads = [threading.Thread(target=contend, args=(f"worker-{i}",)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [False, True]


def test_a_quote_on_an_idle_line_is_now_plus_the_work(sales, planner, press):
    customer = CustomerFactory()
    schedule_run(actor=planner, trigger="test")
    answer = promise_quote(actor=sales, customer=customer, lines=[{"product": press.pk, "quantity": "5"}])
    expected = timezone.now() + dt.timedelta(hours=5)
    assert abs((answer["completion"] - expected).total_seconds()) < 120
    assert answer["delays"] == []


def test_a_vip_quote_overtakes_a_standard_order_and_names_it(sales, planner, press, settings):
    settings.PRODUCTION_FROZEN_HOURS = 0  # nothing frozen: all of the standard order may be overtaken
    standard = release(sales, planner, press)  # 10 h on the only press
    schedule_run(actor=planner, trigger="test")
    answer = promise_quote(
        actor=sales, customer=CustomerFactory(tier="vip"), lines=[{"product": press.pk, "quantity": "2"}]
    )
    assert [delay["order"] for delay in answer["delays"]] == [standard.number]
    assert answer["completion"] < answer["completion_without_overtaking"]


def test_a_quote_for_a_product_without_routing_names_the_product(sales):
    from config.kernel.errors import ValidationFailed

    product = ProductFactory()
    with pytest.raises(ValidationFailed) as caught:
        promise_quote(
            actor=sales, customer=CustomerFactory(), lines=[{"product": product.pk, "quantity": "1"}]
        )
    assert product.sku in caught.value.fields["lines[0].product"][0]


def test_the_task_runs_the_pending_reschedule_once(planner):
    from production.tasks import reschedule

    request_now(trigger="order.released SO-1")
    assert reschedule.apply().get() == 1
    assert reschedule.apply().get() is None  # nothing pending any more
    assert Schedule.objects.get().trigger == "order.released SO-1"


def test_the_task_retries_later_while_another_run_holds_the_lease(planner, monkeypatch, settings):
    from production.tasks import reschedule

    settings.PRODUCTION_RESCHEDULE_DEBOUNCE_SECONDS = 30
    retries = []

    class Retry(Exception):
        pass

    def retry(**kwargs):
        retries.append(kwargs["countdown"])
        return Retry()

    monkeypatch.setattr(reschedule, "retry", retry)
    request_now(trigger="event")
    lease_acquire(holder="other-worker", seconds=60)
    with pytest.raises(Retry):
        reschedule.run()
    assert retries == [30]
    assert not Schedule.objects.exists()
