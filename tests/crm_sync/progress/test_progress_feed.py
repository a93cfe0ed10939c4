"""The CRM's progress per order, coalesced: at most one order.progress event per order per interval, with
the newest state when it is written; a far-moved projection is sent even when the order is on time."""

from __future__ import annotations

import datetime as dt
import threading
from decimal import Decimal

import httpx
import pytest
import time_machine
from django.db import connection
from django.utils import timezone

from config.celery import app as celery_app
from crm_sync import outbox, progress
from crm_sync import tasks as crm_sync_tasks
from crm_sync.models import ExternalSystem, OutboxEvent, ProgressFeed
from orders.sales import transitions
from production import tasks as production_tasks
from production import work_orders
from production.scheduling import schedule_run
from production.work_orders import WorkOrderOperation
from tests.crm_sync.factories import ExternalSystemFactory
from tests.crm_sync.progress.conftest import T0
from tests.services import require_postgresql

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def enqueued(monkeypatch):
    """The countdown tasks the markers enqueue after commit, recorded instead of sent to a broker."""
    calls: list[tuple[tuple, dict]] = []
    monkeypatch.setattr(
        progress.progress_emit_order, "apply_async", lambda *args, **kwargs: calls.append((args, kwargs))
    )
    return calls


def operations(order) -> list[WorkOrderOperation]:
    return list(WorkOrderOperation.objects.filter(work_order__order=order).order_by("sequence"))


def report(planner, operation, message_id: str, at: dt.datetime, **quantities) -> None:
    with time_machine.travel(at, tick=False):
        work_orders.progress_report_create(
            actor=planner, operation=operation, message_id=message_id, reported_at=at, **quantities
        )


def progress_events(order) -> list[OutboxEvent]:
    return list(OutboxEvent.objects.filter(order=order, type="order.progress").order_by("sequence"))


def good(event: OutboxEvent, sequence: int) -> str:
    [operation] = [op for op in event.data["work_orders"][0]["operations"] if op["sequence"] == sequence]
    return operation["good_quantity"]


# --- coalescing ------------------------------------------------------------------------------------------
def test_many_reports_in_an_interval_make_one_event_with_the_newest_state(planner, order):
    cut, _ = operations(order)
    report(planner, cut, "m-1", T0, good_quantity=1)
    assert progress.progress_emit_due(now=T0) == 1  # the first goes out at once
    for second, message in ((10, "m-2"), (20, "m-3"), (30, "m-4")):
        report(planner, cut, message, T0 + dt.timedelta(seconds=second), good_quantity=1)

    assert progress.progress_emit_due(now=T0 + dt.timedelta(seconds=59)) == 0
    assert progress.progress_emit_due(now=T0 + dt.timedelta(seconds=60)) == 1
    assert progress.progress_emit_due(now=T0 + dt.timedelta(seconds=61)) == 0

    first, second = progress_events(order)
    assert (good(first, 10), good(second, 10)) == ("1.000", "4.000")


def test_the_next_interval_brings_the_next_event(planner, order):
    cut, _ = operations(order)
    report(planner, cut, "m-1", T0, good_quantity=1)
    progress.progress_emit_due(now=T0)
    report(planner, cut, "m-2", T0 + dt.timedelta(seconds=30), good_quantity=2)
    progress.progress_emit_due(now=T0 + dt.timedelta(seconds=60))
    report(planner, cut, "m-3", T0 + dt.timedelta(seconds=200), good_quantity=3)

    # Quiet for longer than the interval: the next report is due at once.
    assert ProgressFeed.objects.get(order=order).due_at == T0 + dt.timedelta(seconds=200)
    progress.progress_emit_due(now=T0 + dt.timedelta(seconds=200))
    assert [good(event, 10) for event in progress_events(order)] == ["1.000", "3.000", "6.000"]


def test_only_the_report_that_makes_progress_owed_enqueues_its_countdown(
    planner, order, enqueued, django_capture_on_commit_callbacks
):
    cut, _ = operations(order)
    report(planner, cut, "m-1", T0, good_quantity=1)
    progress.progress_emit_due(now=T0)
    with time_machine.travel(T0, tick=False), django_capture_on_commit_callbacks(execute=True):
        for index in range(3):
            work_orders.progress_report_create(
                actor=planner, operation=cut, message_id=f"m-{index + 2}", good_quantity=1
            )

    [(args, kwargs)] = enqueued
    assert args == ((order.pk,),)
    assert kwargs["countdown"] == pytest.approx(60)


def test_the_event_carries_the_state_when_it_is_written_not_when_it_was_owed(planner, order):
    cut, weld = operations(order)
    report(planner, cut, "m-1", T0, good_quantity=1)
    # Reported after it became owed, before it is written.
    report(planner, weld, "m-2", T0 + dt.timedelta(seconds=1), good_quantity=1)

    progress.progress_emit_due(now=T0 + dt.timedelta(seconds=2))

    [event] = progress_events(order)
    assert (good(event, 10), good(event, 20)) == ("1.000", "1.000")


def test_nothing_is_owed_when_no_system_takes_progress(planner, order, crm_system):
    crm_system.event_types = ["order.released"]
    crm_system.save()
    cut, _ = operations(order)

    report(planner, cut, "m-1", T0, good_quantity=1)

    assert not ProgressFeed.objects.filter(order=order).exists()


def test_a_cancelled_order_owes_nothing_more(planner, manager, order):
    cut, _ = operations(order)
    report(planner, cut, "m-1", T0, good_quantity=1)
    transitions.order_cancel(actor=manager, order=order, reason="Customer withdrew")

    assert progress.progress_emit_due(now=T0) == 0
    assert ProgressFeed.objects.get(order=order).due_at is None


# --- what it says -------------------------------------------------------------------------------------------
def test_it_carries_percent_complete_and_quantities_per_operation_against_the_plan(planner, order):
    cut, _ = operations(order)
    report(planner, cut, "m-1", T0, good_quantity=4, scrap_quantity=1, rework_quantity=Decimal("0.5"))

    progress.progress_emit_due(now=T0)

    [event] = progress_events(order)
    data = event.data
    # CUT weighs 50 of 65 planned minutes and has 4 of 10 good: 4/10 * 50/65.
    assert data["percent_complete"] == "30.77"
    assert data["as_of"] == T0.isoformat()
    assert data["number"] == order.number and data["status"] == "in_production"
    [work_order] = data["work_orders"]
    assert (work_order["quantity"], work_order["percent_complete"]) == ("10.000", "30.77")
    assert [
        (op["sequence"], op["status"], op["planned_quantity"], op["good_quantity"], op["scrap_quantity"])
        for op in work_order["operations"]
    ] == [(10, "started", "10.000", "4.000", "1.000"), (20, "pending", "10.000", "0.000", "0.000")]
    assert work_order["operations"][0]["rework_quantity"] == "0.500"


def test_it_carries_the_projection_against_the_promise(planner, order):
    with time_machine.travel(T0, tick=False):
        schedule_run(trigger="test", now=T0)
    cut, _ = operations(order)
    report(planner, cut, "m-1", T0, good_quantity=1)

    progress.progress_emit_due(now=T0)

    [event] = progress_events(order)
    data = event.data
    projected = dt.datetime.fromisoformat(data["projected_completion"])
    assert T0 < projected < T0 + dt.timedelta(days=1)
    assert data["projected_date"] == timezone.localdate(projected).isoformat()
    assert data["promised_date"] == order.promised_date.isoformat()
    assert (data["on_time"], data["late_days"]) == (True, 0)


def test_a_late_projection_says_by_how_many_days(planner, order):
    promised = timezone.localdate(T0) - dt.timedelta(days=6)  # whatever the plan, it is late
    type(order).objects.filter(pk=order.pk).update(promised_date=promised)
    with time_machine.travel(T0, tick=False):
        schedule_run(trigger="test", now=T0)
    cut, _ = operations(order)
    report(planner, cut, "m-1", T0, good_quantity=1)

    progress.progress_emit_due(now=T0)

    [event] = progress_events(order)
    projected = timezone.localdate(dt.datetime.fromisoformat(event.data["projected_completion"]))
    assert (event.data["on_time"], event.data["late_days"]) == (False, (projected - promised).days)
    assert event.data["late_days"] >= 6


# --- projection shifts -----------------------------------------------------------------------------------
def plan_at(now: dt.datetime) -> None:
    with time_machine.travel(now, tick=False):
        schedule_run(trigger="test", now=now)


def test_a_projection_that_moves_more_than_the_threshold_is_sent_though_on_time(order):
    plan_at(T0)
    assert not ProgressFeed.objects.filter(order=order).exists()  # a first projection is no move

    plan_at(T0 + dt.timedelta(days=3))  # nothing made meanwhile: the work slides three days

    progress.progress_emit_due(now=T0 + dt.timedelta(days=3))
    [event] = progress_events(order)
    assert event.data["on_time"] is True
    assert dt.datetime.fromisoformat(event.data["projected_completion"]) > T0 + dt.timedelta(days=3)


def test_a_projection_that_moves_less_than_the_threshold_is_not_sent(order):
    plan_at(T0)
    plan_at(T0 + dt.timedelta(hours=5))

    assert progress.progress_emit_due(now=T0 + dt.timedelta(hours=5)) == 0
    assert progress_events(order) == []


def test_the_shift_is_measured_from_the_projection_the_crm_was_given(planner, order, settings):
    settings.PROJECTION_SHIFT_HOURS = 30
    plan_at(T0)
    cut, _ = operations(order)
    report(planner, cut, "m-1", T0, good_quantity=1)
    progress.progress_emit_due(now=T0)
    [sent] = progress_events(order)

    plan_at(T0 + dt.timedelta(hours=20))  # 20 h from what the CRM has: not yet
    assert progress.progress_emit_due(now=T0 + dt.timedelta(hours=20)) == 0
    plan_at(T0 + dt.timedelta(hours=40))  # 20 h from the last plan, 40 h from what the CRM has
    assert progress.progress_emit_due(now=T0 + dt.timedelta(hours=40)) == 1

    shifted = progress_events(order)[-1]
    assert shifted.data["projection_shifted"] is True
    assert shifted.data["previous_projected_completion"] == sent.data["projected_completion"]


# --- to the CRM ------------------------------------------------------------------------------------------
def test_the_crm_simulator_shows_the_newest_progress_delivered_in_the_orders_sequence(
    planner, order, crm, crm_system
):
    # In real time: the simulator checks the signature's timestamp against its own clock.
    cut, weld = operations(order)
    create = work_orders.progress_report_create
    create(actor=planner, operation=cut, message_id="m-1", good_quantity=10)
    progress.progress_emit_due()
    create(actor=planner, operation=weld, message_id="m-2", good_quantity=3)
    create(actor=planner, operation=weld, message_id="m-3", good_quantity=2, scrap_quantity=1)
    progress.progress_emit_due(now=timezone.now() + dt.timedelta(seconds=60))

    outbox.deliveries_drain(system_id=crm_system.pk, order_id=order.pk)

    held = httpx.get(f"{crm.url}/orders/{order.number}", timeout=5).json()
    newest = progress_events(order)[-1]
    assert held["progress"]["sequence"] == newest.sequence
    assert held["progress"]["percent_complete"] == newest.data["percent_complete"]
    weld_held = held["progress"]["work_orders"][0]["operations"][1]
    assert (weld_held["good_quantity"], weld_held["scrap_quantity"]) == ("5.000", "1.000")
    received = [(i["sequence"], i["type"]) for i in crm.received() if i["subject"] == order.number]
    assert [sequence for sequence, _ in received] == sorted(sequence for sequence, _ in received)
    assert [kind for _, kind in received][-2:] == ["com.orderbridge.order.progress"] * 2
    assert crm.snapshot()["out_of_order"] == []
    page = httpx.get(f"{crm.url}/", timeout=5).text
    assert order.number in page and f"{newest.data['percent_complete']}%" in page


def test_the_order_page_shows_the_last_progress_sent(client, admin_user, planner, order, crm_system):
    cut, _ = operations(order)
    report(planner, cut, "m-1", T0, good_quantity=4)
    progress.progress_emit_due(now=T0)
    client.force_login(admin_user)

    page = client.get(f"/orders/{order.number}/").content.decode()

    assert 'data-testid="sync-progress-crm"' in page
    assert "30.77%" in page


def test_progress_does_not_go_to_a_system_that_does_not_take_it(planner, order, crm_system):
    mes = ExternalSystemFactory(kind=ExternalSystem.Kind.MES, event_types=["order.released"])
    cut, _ = operations(order)
    report(planner, cut, "m-1", T0, good_quantity=1)

    progress.progress_emit_due(now=T0)

    [event] = progress_events(order)
    assert list(event.deliveries.values_list("system", flat=True)) == [crm_system.pk]
    assert mes.pk not in event.deliveries.values_list("system", flat=True)


def test_beat_sweeps_for_progress_whose_countdown_task_was_lost(settings):
    [entry] = [e for e in settings.CELERY_BEAT_SCHEDULE.values() if e["task"] == "crm_sync.progress_sweep"]
    assert entry["schedule"] == float(settings.SYNC_SWEEP_SECONDS)
    assert crm_sync_tasks.progress_sweep.name == entry["task"]
    assert {"crm_sync.progress_sweep", "crm_sync.progress_emit"} <= set(celery_app.tasks)


def test_the_sweep_leaves_an_owed_event_to_its_own_task_for_the_grace_period(planner, order, settings):
    cut, _ = operations(order)
    report(planner, cut, "m-1", T0, good_quantity=1)

    assert progress.progress_emit_due(now=T0 + dt.timedelta(seconds=5), grace_seconds=10) == 0
    assert progress.progress_emit_due(now=T0 + dt.timedelta(seconds=10), grace_seconds=10) == 1


# --- many processes ----------------------------------------------------------------------------------------
def in_parallel(functions) -> list:
    """Run each function in its own thread (its own database connection), all released at once."""
    barrier = threading.Barrier(len(functions))
    results: list = [None] * len(functions)
    errors: list[BaseException] = []

    def run(index, function):
        try:
            barrier.wait()
            results[index] = function()
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, f)) for i, f in enumerate(functions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    return results


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_parallel_reports_and_writers_make_one_event_with_every_report(planner, order, enqueued, monkeypatch):
    require_postgresql()
    monkeypatch.setattr(production_tasks.reschedule, "apply_async", lambda *args, **kwargs: None)
    cut, weld = operations(order)

    def reporter(worker: int):
        def run():
            for index in range(3):
                work_orders.progress_report_create(
                    actor=planner,
                    operation=cut if worker % 2 else weld,
                    message_id=f"w{worker}-{index}",
                    good_quantity=1,
                )

        return run

    in_parallel([reporter(worker) for worker in range(4)])
    later = timezone.now() + dt.timedelta(seconds=1)
    written = in_parallel([lambda: progress.progress_emit_due(now=later) for _ in range(3)])

    assert sorted(written) == [0, 0, 1]
    [event] = progress_events(order)
    assert (good(event, 10), good(event, 20)) == ("6.000", "6.000")
    assert len(enqueued) == 1  # one countdown task for all twelve reports
