"""Several workers at once, and a real Celery worker against Redis, delivering end to end."""

from __future__ import annotations

import os
import random
import subprocess
import sys
import threading
import time

import pytest
from django.db import connection
from django.utils import timezone

from crm_sync import outbox
from crm_sync.models import Delivery, ExternalSystem
from orders.sales import transitions
from tests.crm_sync.conftest import REPO
from tests.crm_sync.factories import ExternalSystemFactory
from tests.factories import make_order
from tests.services import require_postgresql, require_redis

# Transactional tests flush the database; serialized_rollback restores the role groups migrations made.


def wait_for(condition, *, timeout: float, interval: float = 0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval)
    return condition()


@pytest.mark.django_db
def test_the_sweep_finds_queues_whose_wake_up_task_was_lost(crm, settings):
    settings.SYNC_RETRY_BASE_MS = 60_000
    due = ExternalSystemFactory(base_url=crm.url)
    paused = ExternalSystemFactory(base_url=crm.url, is_paused=True)
    waiting_order = make_order()
    backing_off = make_order()
    crm.control(fail_subjects=[backing_off.number])
    outbox.deliveries_drain(system_id=due.pk, order_id=backing_off.pk)

    queues = outbox.due_queues(now=timezone.now())

    assert queues == [(due.pk, waiting_order.pk)]
    assert (paused.pk, waiting_order.pk) not in queues


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_parallel_workers_deliver_every_event_once_and_in_order(crm, sales):
    require_postgresql()
    # Paused while the orders are written, so that no wake-up task goes to the broker.
    system = ExternalSystemFactory(base_url=crm.url, is_paused=True)
    orders = [make_order(owner=sales) for _ in range(6)]
    for order in orders:
        transitions.order_confirm(actor=sales, order=order)
    ExternalSystem.objects.filter(pk=system.pk).update(is_paused=False)
    # Every queue handed to every worker, in a different order each: they race for the same rows.
    work = [(system.pk, order.pk) for order in orders]
    errors: list[BaseException] = []

    def worker(seed: int) -> None:
        jobs = work * 2
        random.Random(seed).shuffle(jobs)
        try:
            for system_id, order_id in jobs:
                outbox.deliveries_drain(system_id=system_id, order_id=order_id)
        except BaseException as exc:  # surfaced below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(seed,)) for seed in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    snapshot = crm.snapshot()
    assert errors == []
    assert snapshot["duplicates"] == 0  # no event was sent twice: claims never overlapped
    assert snapshot["out_of_order"] == []
    assert sorted(crm.subjects()) == sorted((o.number, s) for o in orders for s in (1, 2))
    assert set(Delivery.objects.values_list("state", flat=True)) == {Delivery.State.DELIVERED}


@pytest.fixture
def redis_broker():
    """Point this process's Celery app at Redis (it may already have a filesystem broker pool)."""
    from config.celery import app

    url = require_redis()
    saved = app.conf.broker_url
    app.conf.broker_url = url
    app._pool = None
    app.amqp._producer_pool = None
    app.control.purge()
    yield url
    app.conf.broker_url = saved
    app._pool = None
    app.amqp._producer_pool = None


@pytest.fixture
def celery_worker(redis_broker, tmp_path):
    require_postgresql()
    db = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": (
            f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
        ),
        "CELERY_BROKER_URL": redis_broker,
        "ORDERBRIDGE_VAR_DIR": str(tmp_path),
        "ORDERBRIDGE_SYNC_RETRY_BASE_MS": "200",
        "ORDERBRIDGE_SYNC_SWEEP_SECONDS": "1",
    }
    process = subprocess.Popen(  # noqa: S603 - fixed arguments
        [
            *(sys.executable, "-m", "celery", "-A", "config", "worker", "-B", "--pool=solo"),
            *("--loglevel=WARNING", "--without-gossip", "--without-mingle", "--without-heartbeat"),
        ],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=open(tmp_path / "worker.log", "w"),  # noqa: SIM115 - closed with the process
    )
    yield process
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_real_celery_worker_delivers_an_order_event_end_to_end(crm, celery_worker, sales):
    system = ExternalSystemFactory(base_url=crm.url)

    order = make_order(owner=sales)  # on commit: a task on Redis; the worker sends it

    assert wait_for(lambda: crm.subjects() == [(order.number, 1)], timeout=30)
    assert wait_for(
        lambda: Delivery.objects.filter(system=system, state=Delivery.State.DELIVERED).count() == 1, timeout=5
    )


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_real_celery_worker_retries_through_the_beat_sweep(crm, celery_worker, sales):
    system = ExternalSystemFactory(base_url=crm.url)
    crm.control(fail_next=2)

    order = make_order(owner=sales)
    transitions.order_confirm(actor=sales, order=order)

    assert wait_for(lambda: crm.subjects() == [(order.number, 1), (order.number, 2)], timeout=30)
    delivery = Delivery.objects.get(system=system, sequence=1)
    assert delivery.attempts == 3
