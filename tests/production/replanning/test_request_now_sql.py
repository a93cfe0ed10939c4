"""production.replanning.request_now: its one hand-written statement, pinned on PostgreSQL (skipped elsewhere
unless ORDERBRIDGE_REQUIRE_SERVICES=1). The same statement runs on SQLite; tests/production/scheduling covers
the debounce there too."""

from __future__ import annotations

import datetime as dt
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from production.replanning import SchedulerState, request_now
from tests.services import require_postgresql

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _postgresql():
    require_postgresql()


def stored() -> dict:
    state = SchedulerState.objects.get(pk=1)
    return {field.attname: getattr(state, field.attname) for field in SchedulerState._meta.concrete_fields}


def test_the_request_is_one_statement(enqueued):
    with CaptureQueriesContext(connection) as queries:
        assert request_now(trigger="order.released SO-1") is True

    assert len(queries) == 1
    assert queries[0]["sql"].startswith("INSERT") and "ON CONFLICT" in queries[0]["sql"]
    assert len(enqueued) == 1


def test_a_missing_state_row_is_made_pending_with_the_trigger(enqueued):
    before = timezone.now()

    assert request_now(trigger="order.released SO-1") is True

    state = stored()
    assert before <= state.pop("requested_at") <= timezone.now()
    assert state == {
        "id": 1,
        "pending": True,
        "pending_triggers": ["order.released SO-1"],
        "lease_holder": "",
        "lease_expires_at": None,
        "last_run_at": None,
        "generation": 0,
        "last_request_at": None,
        "fast_pending": False,
        "fast_trigger": "",
        "fast_requested_at": None,
        "optimiser_outcome": {},
        "objective": "",
    }
    assert len(enqueued) == 1


def test_an_idle_row_is_flipped_and_its_triggers_replaced_leaving_the_lease_and_last_run(enqueued):
    earlier = timezone.now() - dt.timedelta(hours=1)
    SchedulerState.objects.create(
        pk=1,
        pending=False,
        pending_triggers=["old"],
        requested_at=earlier,
        lease_holder="worker-1",
        lease_expires_at=earlier + dt.timedelta(minutes=5),
        last_run_at=earlier,
    )

    assert request_now(trigger="new") is True

    state = stored()
    assert state["requested_at"] > earlier
    assert (state["pending"], state["pending_triggers"]) == (True, ["new"])
    assert (state["lease_holder"], state["lease_expires_at"], state["last_run_at"]) == (
        "worker-1",
        earlier + dt.timedelta(minutes=5),
        earlier,
    )
    assert len(enqueued) == 1


def test_a_pending_row_is_left_as_it_is_and_nothing_is_enqueued(enqueued):
    earlier = timezone.now() - dt.timedelta(minutes=1)
    SchedulerState.objects.create(pk=1, pending=True, pending_triggers=["first"], requested_at=earlier)
    before = stored()

    assert request_now(trigger="second") is False

    assert stored() == before
    assert enqueued == []


def test_the_trigger_is_kept_to_200_characters(enqueued):
    request_now(trigger="x" * 250)

    assert stored()["pending_triggers"] == ["x" * 200]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.parametrize("row", ["missing", "idle"])
def test_a_request_waits_for_an_uncommitted_flip_and_then_changes_nothing(enqueued, row):
    """Concurrent requests serialise on the row (or on its uncommitted insert): only the one that flipped it
    enqueues the task."""
    if row == "idle":
        SchedulerState.objects.create(pk=1, pending=False)

    def theirs() -> bool:
        try:
            return request_now(trigger="theirs")
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=1) as pool:
        with transaction.atomic():
            assert request_now(trigger="mine") is True
            waiting = pool.submit(theirs)
            assert _someone_waits_for_a_lock(), "the other request did not wait for the row"
        assert waiting.result(timeout=20) is False

    assert (stored()["pending"], stored()["pending_triggers"]) == (True, ["mine"])
    assert len(enqueued) == 1


def _someone_waits_for_a_lock(seconds: float = 10) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with connection.cursor() as cursor:
            # Inside a transaction the activity view is a snapshot taken at first read: take a new one.
            cursor.execute("SELECT pg_stat_clear_snapshot()")
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
            )
            if cursor.fetchone()[0]:
                return True
        time.sleep(0.05)
    return False
