"""Fault tests on real PostgreSQL, a real Redis, a real Celery worker process and the real simulators.

Each ends with every event delivered exactly once in effect (the receiver dedupes on the event id and
counts duplicates; nothing is applied twice) and in order per order (the receiver notes any sequence
that arrives after a higher one), and nothing lost.

Redis here is our own redis-server on a free port, started for this module (never the shared one):
it can be killed and restarted without disturbing anyone. Only processes these tests spawned are killed.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.db import connection
from django.urls import reverse

from crm_sync.models import Delivery, ExternalSystem, InboundMessage, TaskReceipt
from orders.models import SalesOrder
from orders.sales import transitions
from tests.crm_sync.conftest import REPO
from tests.crm_sync.factories import ExternalSystemFactory
from tests.crm_sync.helpers import post_hook
from tests.factories import UserFactory, make_order
from tests.services import require_postgresql, unavailable

# Transactional: the worker process must see what the test commits; serialized_rollback keeps the roles.
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def wait_for(condition, *, timeout: float, interval: float = 0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval)
    return condition()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class OwnRedis:
    """A private redis-server that keeps nothing on disk, as in the issue: a restart loses every message."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            unavailable("needs redis-server on PATH to run a private Redis")
        self.process = subprocess.Popen(  # noqa: S603 - fixed arguments
            [binary, "--port", str(self.port), "--save", "", "--appendonly", "no", "--dir", str(self.folder)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("private redis-server did not start")

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()  # as a crash would: nothing is saved
            self.process.wait(timeout=10)
            self.process = None


class Worker:
    """`celery -A config worker [-B] [-Q queues]` in its own process group, so SIGKILL takes it (and only
    it) down."""

    def __init__(
        self,
        *,
        broker: str,
        folder: Path,
        pool: str = "solo",
        include: str = "",
        queues: str = "",
        beat: bool = True,
        concurrency: int = 1,
    ) -> None:
        self.broker, self.folder, self.pool, self.include = broker, folder, pool, include
        self.concurrency = concurrency
        self.queues, self.beat = queues, beat
        self.process: subprocess.Popen | None = None
        self.starts = 0

    def start(self) -> None:
        db = connection.settings_dict
        self.starts += 1
        env = {
            **{key: value for key, value in os.environ.items() if not key.startswith("CELERY_")},
            "DATABASE_URL": (
                f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
            ),
            "CELERY_BROKER_URL": self.broker,
            "ORDERBRIDGE_VAR_DIR": str(self.folder / f"var{self.starts}"),
            "ORDERBRIDGE_SYNC_RETRY_BASE_MS": "200",
            "ORDERBRIDGE_SYNC_RETRY_MAX_SECONDS": "1",
            "ORDERBRIDGE_SYNC_SWEEP_SECONDS": "1",
            "ORDERBRIDGE_SYNC_LEASE_MARGIN_SECONDS": "1",
            "ORDERBRIDGE_SYNC_RELAY_GRACE_SECONDS": "2",
            "ORDERBRIDGE_CELERY_POISON_MAX_DELIVERIES": "3",
        }
        command = [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            f"--pool={self.pool}",
            "-c",
            str(self.concurrency),
        ]
        command += ["--loglevel=INFO", "--without-gossip", "--without-mingle", "--without-heartbeat"]
        if self.beat:
            command += ["-B"]
        if self.queues:
            command += ["-Q", self.queues]
        if self.include:
            command += ["-I", self.include]
        self.process = subprocess.Popen(  # noqa: S603 - fixed arguments
            command,
            cwd=REPO,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=open(self.folder / f"worker{self.starts}.log", "w"),  # noqa: SIM115 - closed with the process
            start_new_session=True,
        )

    @property
    def log(self) -> Path:
        return self.folder / f"worker{self.starts}.log"

    def wait_ready(self, timeout: float = 60) -> None:
        """Until the worker says it consumes (Django and Celery take seconds to boot on a busy machine)."""
        if not wait_for(lambda: " ready." in self.log.read_text(), timeout=timeout, interval=0.2):
            raise RuntimeError(f"worker did not start: {self.log.read_text()[-2000:]}")

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill(self) -> None:
        """SIGKILL the worker's whole process group (it started it: nothing else is in it)."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)
        self.process = None

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
        self.process = None


@pytest.fixture(scope="module")
def redis_server(django_db_setup, django_db_blocker, tmp_path_factory):
    """One private Redis and one worker for the module (each boot costs seconds); tests restart them."""
    with django_db_blocker.unblock():
        require_postgresql()
    server = OwnRedis(tmp_path_factory.mktemp("redis"))
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def _worker(redis_server, django_db_blocker, tmp_path_factory):
    # prefork with one child: a child killed mid-task is what reject_on_worker_lost redelivers.
    with django_db_blocker.unblock():
        running = Worker(
            broker=redis_server.url,
            folder=tmp_path_factory.mktemp("worker"),
            pool="prefork",
            include="tests.crm_sync.outbox.poison_tasks",
        )
        running.start()
    yield running
    running.kill()


@pytest.fixture
def broker(redis_server):
    """This process's Celery app publishes to the private Redis for the test."""
    from config.celery import app

    if redis_server.process is None:
        redis_server.start()
    saved = app.conf.broker_url
    app.conf.broker_url = redis_server.url
    app._pool = None
    app.amqp._producer_pool = None
    yield redis_server
    app.conf.broker_url = saved
    app._pool = None
    app.amqp._producer_pool = None


@pytest.fixture
def worker(broker, _worker):
    if not _worker.alive():
        _worker.start()
    _worker.wait_ready()
    return _worker


def in_order_and_once(simulator, orders, events_per_order) -> bool:
    snapshot = simulator.snapshot()
    received = sorted((item["subject"], item["sequence"]) for item in snapshot["received"])
    expected = sorted((order.number, seq) for order in orders for seq in range(1, events_per_order + 1))
    return received == expected and snapshot["out_of_order"] == []


def all_delivered() -> bool:
    return set(Delivery.objects.values_list("state", flat=True)) == {Delivery.State.DELIVERED}


def test_a_worker_killed_mid_delivery_is_restarted_and_the_event_arrives_once(crm, worker, sales):
    ExternalSystemFactory(base_url=crm.url)
    crm.control(delay_next_ms=10_000)  # the CRM applies the event, then is slow to answer
    order = make_order(owner=sales)
    assert wait_for(lambda: crm.received(), timeout=30), "the worker never sent the event"

    worker.kill()  # mid-request: the claim stays in flight until its lease ends
    assert Delivery.objects.get().state == Delivery.State.IN_FLIGHT
    worker.start()
    worker.wait_ready()

    assert wait_for(all_delivered, timeout=30)
    snapshot = crm.snapshot()
    assert [(item["subject"], item["sequence"]) for item in snapshot["received"]] == [(order.number, 1)]
    assert snapshot["duplicates"] == 1  # sent again after the crash, applied once
    assert Delivery.objects.get().attempts == 2


def test_redis_restarted_with_an_empty_queue_loses_no_event(crm, worker, broker, sales):
    ExternalSystemFactory(base_url=crm.url)
    first = make_order(owner=sales)
    assert wait_for(lambda: in_order_and_once(crm, [first], 1), timeout=30)

    broker.stop()
    # Committed while the broker is down: the wake-up tasks cannot be sent, the outbox rows stay.
    later = [make_order(owner=sales) for _ in range(2)]
    for order in later:
        transitions.order_confirm(actor=sales, order=order)
    broker.start()  # empty: Redis kept nothing

    expected = [(first.number, 1)] + [(order.number, seq) for order in later for seq in (1, 2)]
    assert wait_for(lambda: sorted(crm.subjects()) == sorted(expected), timeout=40)
    assert crm.snapshot()["out_of_order"] == []
    assert crm.snapshot()["duplicates"] == 0
    assert wait_for(all_delivered, timeout=5)


def test_the_mes_down_for_a_while_then_back_gets_everything_in_order(mes, worker, sales, planner):
    ExternalSystemFactory(kind=ExternalSystem.Kind.MES, base_url=mes.url)
    mes.control(down_for_ms=3000)
    orders = [make_order(owner=sales) for _ in range(2)]
    for order in orders:
        transitions.order_confirm(actor=sales, order=order)

    assert wait_for(lambda: in_order_and_once(mes, orders, 2), timeout=40)
    assert Delivery.objects.filter(attempts__gt=1).exists()  # it really was down
    assert wait_for(all_delivered, timeout=5)


def test_the_mes_answering_500_and_timing_out_still_gets_each_event_once(mes, worker, sales):
    ExternalSystemFactory(kind=ExternalSystem.Kind.MES, base_url=mes.url, read_timeout=1.0)
    mes.control(fail_next=2, fail_status=500)
    order = make_order(owner=sales)
    assert wait_for(lambda: mes.received(), timeout=30)
    mes.control(delay_next_ms=3000)  # longer than the read timeout: applied, but the answer comes too late
    transitions.order_confirm(actor=sales, order=order)

    assert wait_for(lambda: in_order_and_once(mes, [order], 2) and all_delivered(), timeout=40)
    snapshot = mes.snapshot()
    assert snapshot["failed"] == 2
    assert snapshot["duplicates"] >= 1  # the timed-out send was retried and deduplicated
    first = Delivery.objects.get(sequence=1)
    assert first.attempt_log.filter(status_code=500).count() == 2


def test_duplicate_reordered_and_badly_signed_inbound_webhooks_have_one_effect_in_order(client, worker):
    bot = UserFactory(username="crm-bot", role="admin")
    ExternalSystemFactory(slug="crm", kind=ExternalSystem.Kind.CRM, service_user=bot)
    from tests.factories import CustomerFactory, ProductFactory, in_days, valid_spec

    CustomerFactory(crm_id="ACME-1")
    ProductFactory(sku="PANEL-1")

    def message(sequence, po, kind="order.updated"):
        return {
            "type": kind,
            "subject": "CRM-1",
            "sequence": sequence,
            "data": {
                "crm_id": "CRM-1",
                "customer_crm_id": "ACME-1",
                "customer_po": po,
                "requested_date": in_days(20).isoformat(),
                "lines": [{"sku": "PANEL-1", "quantity": "5", "spec_values": valid_spec()}],
            },
        }

    hook = reverse("hooks:crm")
    assert post_hook(client, hook, message(1, "PO-1", "order.created"), msg_id="m1").status_code == 202
    assert wait_for(lambda: SalesOrder.objects.filter(crm_id="CRM-1").exists(), timeout=30)
    # Newest first, then an older one, then the newest again (a duplicate), then a forged one.
    assert post_hook(client, hook, message(3, "PO-3"), msg_id="m3").status_code == 202
    assert wait_for(lambda: SalesOrder.objects.get(crm_id="CRM-1").customer_po == "PO-3", timeout=30)
    assert post_hook(client, hook, message(2, "PO-2"), msg_id="m2").status_code == 202
    assert post_hook(client, hook, message(3, "PO-3"), msg_id="m3").status_code == 200
    forged = post_hook(client, hook, message(4, "PO-FORGED"), msg_id="m4", secret="whsec_" + "QUJD" * 8)

    assert forged.status_code == 401
    assert wait_for(
        lambda: set(InboundMessage.objects.values_list("state", flat=True)) == {"processed"}, timeout=30
    )
    order = SalesOrder.objects.get(crm_id="CRM-1")
    assert order.customer_po == "PO-3"
    assert order.history.filter(customer_po="PO-3").count() == 1
    assert InboundMessage.objects.filter(result__ignored="stale").count() == 1
    assert InboundMessage.objects.count() == 3


def test_a_message_that_kills_its_worker_is_dead_lettered_after_a_few_deliveries(worker):
    from config.celery import app

    task_id = f"poison-{uuid.uuid4().hex}"
    app.send_task("tests.kill_my_worker", task_id=task_id)

    receipt = wait_for(
        lambda: TaskReceipt.objects.filter(task_id=task_id, state=TaskReceipt.State.DEAD).first(), timeout=45
    )
    assert receipt is not None, worker.log.read_text()[-3000:]
    assert receipt.deliveries == 4  # three runs killed the worker's pool process; the fourth was refused
    assert worker.alive()  # the worker itself carries on


def test_a_worker_keeps_its_database_connection_from_one_task_to_the_next(worker, tmp_path):
    from config.celery import app

    noted = tmp_path / "backends.txt"
    for _ in range(3):
        app.send_task("tests.note_db_backend", args=[str(noted)])

    assert wait_for(lambda: noted.exists() and len(noted.read_text().split()) == 3, timeout=30)
    assert len(set(noted.read_text().split())) == 1  # one connection, not one per task
