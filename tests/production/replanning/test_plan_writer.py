"""production.replanning.plan_writer: one plan writer at a time across processes (a PostgreSQL advisory lock),
and the fast request's single flight."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.db import connection
from django.utils import timezone

from production.replanning import (
    SchedulerState,
    fast_claim,
    fast_request_now,
    plan_writer,
    scheduler_state,
)
from tests.services import require_postgresql


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_second_process_waits_for_the_plan_writer_until_the_first_is_done():
    require_postgresql()
    order: list[str] = []
    inside = threading.Event()

    def second() -> None:
        try:
            inside.wait(timeout=10)
            with plan_writer():
                order.append("second")
        finally:
            connection.close()

    thread = threading.Thread(target=second)
    with plan_writer():
        thread.start()
        inside.set()
        thread.join(timeout=0.5)  # it cannot get in while this block holds the lock
        order.append("first done")
    thread.join(timeout=10)

    assert order == ["first done", "second"]


@pytest.mark.django_db
def test_the_first_request_enqueues_the_fast_plan_and_later_ones_only_bump_the_generation(fast_enqueued):
    assert [fast_request_now(trigger=f"event {i}") for i in range(3)] == [True, False, False]
    assert fast_enqueued == [{}]
    assert scheduler_state().generation == 3


@pytest.mark.django_db
def test_a_request_after_the_run_took_the_flag_enqueues_one_more(fast_enqueued):
    fast_request_now(trigger="order.released SO-1")
    assert fast_claim() == "order.released SO-1"
    assert fast_claim() is None  # a duplicate message finds nothing to do
    assert fast_request_now(trigger="order.released SO-2") is True
    assert len(fast_enqueued) == 2


@pytest.mark.django_db
def test_a_fast_request_whose_message_was_lost_is_sent_again_by_a_later_request(fast_enqueued):
    fast_request_now(trigger="order.released SO-1")  # its message never reaches a worker
    SchedulerState.objects.filter(pk=1).update(fast_requested_at=timezone.now() - dt.timedelta(minutes=5))

    assert fast_request_now(trigger="order.released SO-2") is True
    assert fast_request_now(trigger="order.released SO-3") is False  # once, not on every request
    assert len(fast_enqueued) == 2
