"""Sync bench: orders entered in the CRM simulator, through OrderBridge, to the MES simulator's receipt of
their work orders, on PostgreSQL + Redis with two Celery worker processes.

Usage:
    python -m tests.bench.run --bench sync [--quick]

What it does:
 1. creates a database of its own (unique per run, dropped at its end: databases.py) from
    BENCH_SYNC_DATABASE_URL, migrates it, and makes
    the fixtures through the services: a customer with a CRM id, a product with a two-step routing (so a
    release makes work orders), the CRM and MES simulators as external systems with service users;
 2. starts a private redis-server (free port, nothing on disk), gunicorn, and two Celery workers as the
    README starts them: worker0 (prefork) takes the default queue (inbound processing) and runs beat (the
    relay sweep every second), worker1 (16 threads) the deliveries queue (BENCH_SYNC_SHARED=1: both take
    both queues);
 3. tells the CRM simulator to push BENCH_SYNC_RATE orders/s for BENCH_SYNC_DURATION seconds to
    /hooks/crm/ (each "created" with status "released": create, confirm and release here at once), then
    waits until the MES simulator has every order's work orders (or BENCH_SYNC_TIMEOUT).

Latency per order (p50_ms, p99_ms): from our hook storing the CRM's message (its received_at) to the MES
simulator accepting its B2MML ProcessOperationsSchedule (one clock: everything runs on this machine),
queues and retries included. `sustained`: the backlog when the arrivals ended (`backlog_at_end`) was under
one second of arrivals. `crm_to_hub_p50_ms`/`_p99_ms`: hook receipt → message processed here.
`tasks_per_order`: Celery task messages that did work (their receipts) per order taken in; a process task
that found its message taken in by another's batch returns before its receipt and is not counted. Metrics:
offered_per_s, delivered_per_s, p50_ms, p99_ms (over the orders the MES received before the bench stopped
waiting), lost (answered 2xx by us yet stored nowhere), unfinished (stored here, not at the MES when the
bench stopped waiting: a backlog, not a loss), duplicated (orders whose work orders the MES applied more
than once).

Where the time goes: <stage>_p50_ms / <stage>_p99_ms for hook, inbound_wait (Celery queue), inbound_work,
delivery_wait and delivery_send (see stage_times), and cpu_ms_per_order_<process> (gunicorn, worker0,
worker1, db backends, redis, crm and mes simulators; total: all-in, the simulators left out) between
the first order and the last receipt, divided by the orders processed here. CPU per order is the
figure to compare on a shared machine; it is only clean when the run finishes (unfinished = 0): a
saturated run also counts the relay's work on the backlog.

The production rescheduler is set to its fast method, no plan at once and a long debounce here: the bench
measures the integration path, not the planner (the scheduler bench measures the plan after a release).

Environment (all optional):
    BENCH_SYNC_DATABASE_URL  postgres://postgres@127.0.0.1:5432/orderbridge_bench_sync
    BENCH_SYNC_RATE          orders per second offered (50)
    BENCH_SYNC_DURATION      seconds of arrivals (120; --quick 10)
    BENCH_SYNC_TIMEOUT       seconds to wait for the last order after the arrivals end (60)
    BENCH_SYNC_POOL          the inbound worker's Celery pool (prefork; solo or threads to compare)
    BENCH_SYNC_CONCURRENCY   processes or threads per worker (2)
    BENCH_SYNC_DELIVERY_POOL, BENCH_SYNC_DELIVERY_CONCURRENCY  the deliveries worker's (threads, 16)
    BENCH_SYNC_NEIGHBOUR     1: the bench starts a process keeping one core busy (case suffix _busy)
    BENCH_SYNC_MES_ERRORS, BENCH_SYNC_MES_DELAY_MS  the MES answers that share with 500 and every answer
                             after that delay, e.g. 0.3 and 2000 (case suffix _mesfaults)
    BENCH_SYNC_SHARED        1: both workers take both queues
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
import math
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

from tests.bench.intake import (
    BenchError,
    Config,
    _children,
    _free_port,
    _process_cpu,
    cpu_watch,
    gunicorn,
    manage,
    recreate_database,
)

log = logging.getLogger("bench.sync")

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/orderbridge_bench_sync"
CRM_SECRET = "whsec_YmVuY2gtc3luYy1jcm0tc2VjcmV0LTAx"
MES_SECRET = "whsec_YmVuY2gtc3luYy1tZXMtc2VjcmV0LTAy"
SPEC = {"material": "steel", "thickness_mm": 2}
# The Celery queues as config/settings.py names them (CELERY_TASK_DEFAULT_QUEUE, SYNC_DELIVERY_QUEUE).
DEFAULT_QUEUE = "celery"
DELIVERY_QUEUE = "sync-deliveries"


def create_fixtures(crm_url: str, mes_url: str) -> None:
    """Run inside `manage.py shell`: master data and the two external systems, through the services."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    from crm_sync.models import ExternalSystem
    from orders import catalog as services
    from production import master_data
    from tests.bench.intake import SPEC_SCHEMA

    User = get_user_model()
    admin = User.objects.create_user("bench-admin", None, None)
    admin.groups.add(Group.objects.get(name="admin"))
    crm_bot = User.objects.create_user("crm-bench", None, None)
    # The CRM enters orders and releases them at once here: sales and planner rights.
    crm_bot.groups.add(Group.objects.get(name="sales"), Group.objects.get(name="planner"))
    mes_bot = User.objects.create_user("mes-bench", None, None)
    mes_bot.groups.add(Group.objects.get(name="production_manager"))
    services.customer_create(actor=admin, code="BENCH", name="Bench customer", crm_id="CRM-ACME")
    family = services.product_family_create(actor=admin, code="BENCH", name="Bench", spec_schema=SPEC_SCHEMA)
    product = services.product_create(actor=admin, sku="BP-1", name="Bench panel", family=family)
    centers = [
        master_data.work_center_create(
            actor=admin,
            code=code,
            name=code,
            units=1,
            efficiency="1.00",
            shifts=[(day, dt.time(0), dt.time(0)) for day in range(7)],
        )
        for code in ("CUT", "BEND")
    ]
    master_data.routing_create(
        actor=admin,
        product=product,
        lot_size=None,
        operations=[
            {
                "sequence": 10 * (i + 1),
                "name": c.code,
                "work_center": c,
                "setup_minutes": 5,
                "run_minutes_per_unit": 1,
            }
            for i, c in enumerate(centers)
        ],
    )
    ExternalSystem.objects.create(
        name="CRM (bench)",
        slug="crm-bench",
        kind="crm",
        base_url=crm_url,
        signing_secret=CRM_SECRET,
        service_user=crm_bot,
        connect_timeout=2,
        read_timeout=5,
    )
    ExternalSystem.objects.create(
        name="MES (bench)",
        slug="mes-bench",
        kind="mes",
        base_url=mes_url,
        signing_secret=MES_SECRET,
        format="b2mml",
        event_types=["order.released"],
        service_user=mes_bot,
        connect_timeout=2,
        read_timeout=5,
    )
    print(json.dumps({"ok": True}))


def _wait_port(port: int, proc: subprocess.Popen, what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise BenchError(f"{what} exited ({proc.returncode})")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise BenchError(f"{what} did not listen on {port}")


@contextlib.contextmanager
def processes(env: dict[str, str], var_dir: Path, *, mes_args: tuple[str, ...] = ()) -> Iterator[dict]:
    """The private Redis and both simulators (`mes_args`: more arguments for the MES's); every process
    started here (and through the yielded "spawn") is stopped at the end."""
    started: list[subprocess.Popen] = []
    pids: dict[str, int] = {}  # name → pid, for the CPU accounting

    def spawn(command: list[str], name: str, **kwargs) -> subprocess.Popen:
        out = open(var_dir / f"{name}.log", "wb")  # noqa: SIM115 - closed when the bench ends
        proc = subprocess.Popen(  # noqa: S603 - our own commands
            command,
            cwd=ROOT,
            env=kwargs.pop("env", env),
            stdout=kwargs.pop("stdout", out),
            stderr=out,
            start_new_session=True,
        )
        started.append(proc)
        pids[name] = proc.pid
        return proc

    try:
        redis_binary = shutil.which("redis-server")
        if redis_binary is None:
            raise BenchError("needs redis-server on PATH")
        redis_port = _free_port()
        redis = spawn(
            [
                redis_binary,
                "--port",
                str(redis_port),
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(var_dir),
            ],
            "redis",
        )
        _wait_port(redis_port, redis, "redis-server")
        sims = {}
        for name, secret in (("crm", CRM_SECRET), ("mes", MES_SECRET)):
            port = _free_port()
            proc = spawn(
                [
                    sys.executable,
                    "-m",
                    f"crm_sync.simulators.{name}",
                    "--port",
                    str(port),
                    "--secret",
                    secret,
                    *(mes_args if name == "mes" else ()),
                ],
                name,
            )
            _wait_port(port, proc, f"{name} simulator")
            sims[name] = f"http://127.0.0.1:{port}"
        yield {"redis": f"redis://127.0.0.1:{redis_port}/0", "spawn": spawn, "pids": pids, **sims}
    finally:
        for proc in reversed(started):
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in started:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)


def _tree(pid: int) -> list[int]:
    """A process and all its descendants (gunicorn's workers, the embedded beat of `worker -B`)."""
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(_children(current))
    return found


def cpu_probe(conn, pids: dict[str, int]) -> dict[str, float]:
    """CPU seconds used so far per process (tree) we started, and per PostgreSQL backend of the bench
    database ("db:<pid>"; only when PostgreSQL runs on this machine). `conn`: psycopg, autocommit."""
    usage = {f"{name}:{child}": _process_cpu(child) for name, pid in pids.items() for child in _tree(pid)}
    backends = conn.execute(
        "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
    ).fetchall()
    usage.update({f"db:{pid}": _process_cpu(pid) for (pid,) in backends})
    return usage


def cpu_spent(start: dict[str, float], end: dict[str, float]) -> dict[str, float]:
    """CPU seconds per process name between two probes (a process born in between counts from zero)."""
    spent: dict[str, float] = {}
    for key, value in end.items():
        name = key.partition(":")[0]
        spent[name] = spent.get(name, 0.0) + max(0.0, value - start.get(key, 0.0))
    return spent


def stage_times(conn, sent: dict[str, float], received: dict[str, float]) -> dict[str, list[float]]:
    """Milliseconds each order spent in each stage, read from our own rows (every process stamps with the
    same machine clock as the simulators):

    hook            CRM simulator starts sending → our inbound message row (HTTP, gunicorn)
    inbound_wait    message stored → its process_inbound task starts (Celery queue); a message taken in by
                    another message's batch (crm_sync.inbound: its own task comes later and finds it
                    done) waits until its batch commits, and its work counts as 0
    inbound_work    task starts → message processed (create, confirm, release, work orders, outbox)
    delivery_wait   processed (committed) → first delivery attempt to the MES starts (queue / sweep)
    delivery_send   attempt starts → MES simulator has it (render, sign, HTTP)
    """
    rows = conn.execute(
        """
        SELECT m.message_id, extract(epoch FROM m.received_at), extract(epoch FROM r.first_seen_at),
               extract(epoch FROM m.processed_at), extract(epoch FROM a.started_at), e.subject
        FROM crm_sync_inboundmessage m
        LEFT JOIN LATERAL (
            SELECT min(first_seen_at) AS first_seen_at FROM crm_sync_taskreceipt
            WHERE name = 'crm_sync.process_inbound' AND args = jsonb_build_array(m.id)
        ) r ON true
        LEFT JOIN orders_salesorder o ON o.crm_id = m.subject
        LEFT JOIN crm_sync_outboxevent e ON e.order_id = o.id AND e.type = 'order.released'
        LEFT JOIN crm_sync_delivery d ON d.event_id = e.id
        LEFT JOIN LATERAL (
            SELECT min(started_at) AS started_at FROM crm_sync_deliveryattempt WHERE delivery_id = d.id
        ) a ON true
        """
    ).fetchall()
    stages: dict[str, list[float]] = {
        "hook": [],
        "inbound_wait": [],
        "inbound_work": [],
        "delivery_wait": [],
        "delivery_send": [],
    }
    for message_id, stored, task_start, processed, attempt, number in rows:
        if task_start is not None and processed is not None and task_start > processed:
            task_start = processed  # taken in by another message's batch
        marks = [sent.get(message_id), stored, task_start, processed, attempt, received.get(number)]
        for stage, begin, end in zip(stages, marks, marks[1:], strict=False):
            if begin is not None and end is not None:
                stages[stage].append((float(end) - float(begin)) * 1000)
    return {stage: sorted(values) for stage, values in stages.items()}


def _percentile(ordered: list[float], fraction: float) -> float | None:
    if not ordered:
        return None
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]  # nearest rank


def run(*, quick: bool = False) -> Iterator[dict]:
    database_url = os.environ.get("BENCH_SYNC_DATABASE_URL", DEFAULT_DATABASE_URL)
    rate = float(os.environ.get("BENCH_SYNC_RATE", "50"))
    # Long enough by default for a backlog to show (a 20-s run hid one that kept growing).
    duration = float(os.environ.get("BENCH_SYNC_DURATION", "10" if quick else "120"))
    timeout = float(os.environ.get("BENCH_SYNC_TIMEOUT", "60"))
    count = int(rate * duration)
    # As the README starts them: one worker for the default queue (inbound processing, beat), one for the
    # deliveries (threads). BENCH_SYNC_SHARED=1: both workers take both queues (the old layout, to compare).
    both = f"{DELIVERY_QUEUE},{DEFAULT_QUEUE}"
    shared = os.environ.get("BENCH_SYNC_SHARED", "") == "1"
    pool = os.environ.get("BENCH_SYNC_POOL", "prefork")
    concurrency = int(os.environ.get("BENCH_SYNC_CONCURRENCY", "2"))
    # The deliveries worker as the README starts it: threads (it mostly waits on the receivers).
    delivery_pool = os.environ.get("BENCH_SYNC_DELIVERY_POOL", "threads")
    delivery_concurrency = int(os.environ.get("BENCH_SYNC_DELIVERY_CONCURRENCY", "16"))
    worker_queues = [both, both] if shared else [DEFAULT_QUEUE, DELIVERY_QUEUE]
    # BENCH_SYNC_NEIGHBOUR=1: a process the bench starts keeps one core busy (a hub shares its server).
    neighbour = os.environ.get("BENCH_SYNC_NEIGHBOUR", "") == "1"
    # The MES's faults: a share of 500s and a delay on every answer (e.g. 0.3 and 2000).
    mes_errors = float(os.environ.get("BENCH_SYNC_MES_ERRORS", "0"))
    mes_delay = int(os.environ.get("BENCH_SYNC_MES_DELAY_MS", "0"))
    case = (
        f"r{int(rate)}" + ("_busy" if neighbour else "") + ("_mesfaults" if mes_errors or mes_delay else "")
    )
    database_url = recreate_database(database_url)
    with tempfile.TemporaryDirectory(prefix="orderbridge-bench-sync-") as var_name:
        var_dir = Path(var_name)
        (var_dir / "static").mkdir()
        base_env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("CELERY_")},
            "ORDERBRIDGE_ENV": "development",
            "DEBUG": "false",
            "DATABASE_URL": database_url,
            "ORDERBRIDGE_VAR_DIR": str(var_dir),
            "LOG_LEVEL": "WARNING",
            "PYTHONUNBUFFERED": "1",
            "PRODUCTION_RESCHEDULE_METHOD": "fast",
            "PRODUCTION_PLAN_AT_ONCE": "false",
            "PRODUCTION_RESCHEDULE_DEBOUNCE_SECONDS": "3600",
            "ORDERBRIDGE_SYNC_SWEEP_SECONDS": "1",
            "ORDERBRIDGE_SYNC_RELAY_GRACE_SECONDS": "30",
            "ORDERBRIDGE_SYNC_RETRY_BASE_MS": "200",
        }
        manage(base_env, "migrate", "--noinput", "--verbosity=0")
        with processes(base_env, var_dir) as running:
            env = {**base_env, "CELERY_BROKER_URL": running["redis"]}
            code = (
                "from tests.bench.sync import create_fixtures; "
                f"create_fixtures({running['crm']!r}, {running['mes']!r})"
            )
            manage(env, "shell", "--no-startup", "-c", code)
            for index, queues in enumerate(worker_queues):
                command = [
                    sys.executable,
                    "-m",
                    "celery",
                    "-A",
                    "config",
                    "worker",
                    f"--pool={delivery_pool if queues == DELIVERY_QUEUE else pool}",
                    f"--concurrency={delivery_concurrency if queues == DELIVERY_QUEUE else concurrency}",
                    f"--hostname=bench{index}@%h",
                    "--loglevel=WARNING",
                    "--without-gossip",
                    "--without-mingle",
                    "--without-heartbeat",
                    f"--queues={queues}",
                ]
                running["spawn"](command + (["-B"] if index == 0 else []), f"worker{index}", env=env)
            config = Config(
                database_url=database_url,
                workers=3,
                worker_class="gthread",
                threads=4,
                clients=[],
                release_clients=[],
                client_procs=1,
                duration=duration,
                warmup=0,
            )
            if neighbour:  # not in the CPU accounting: it stands for other work on the machine
                burn = [sys.executable, "-c", "while True: pass"]
                running["spawn"](burn, "neighbour")
                running["pids"].pop("neighbour")
            if mes_errors or mes_delay:
                httpx.post(
                    f"{running['mes']}/_control",
                    json={"error_rate": mes_errors, "latency_ms": mes_delay},
                    timeout=10,
                ).raise_for_status()
            with gunicorn(config, env, var_dir / "gunicorn.log") as server:
                host, port = server["address"]
                running["pids"]["gunicorn"] = server["pid"]
                time.sleep(3)  # the workers boot
                hook = f"http://{host}:{port}/hooks/crm/?system=crm-bench"
                yield from _drive(running, hook, rate, count, duration, timeout, database_url, case)


def _drive(
    running: dict, hook: str, rate: float, count: int, duration: float, timeout: float, url: str, case: str
):
    requested = (dt.date.today() + dt.timedelta(days=30)).isoformat()
    messages = [
        {
            "_id": f"bench-{n}",
            "type": "order.created",
            "subject": f"CRM-B{n:06d}",
            "sequence": 1,
            "data": {
                "crm_id": f"CRM-B{n:06d}",
                "customer_crm_id": "CRM-ACME",
                "requested_date": requested,
                "promised_date": requested,
                "status": "released",
                "lines": [{"line_no": 1, "sku": "BP-1", "quantity": "10", "spec_values": SPEC}],
            },
        }
        for n in range(count)
    ]
    import psycopg

    log.info("offering %s orders at %s/s to %s", count, rate, hook)
    probe = psycopg.connect(url, autocommit=True)
    cpu_start = cpu_probe(probe, running["pids"])
    httpx.post(
        f"{running['crm']}/_push",
        json={"url": hook, "messages": messages, "rate": rate, "concurrency": 16},
        timeout=30,
    )
    deadline = time.monotonic() + duration + timeout
    received: list[dict] = []
    snapshot: dict = {}

    def all_received(wait: float) -> bool:
        nonlocal received, snapshot
        snapshot = httpx.get(f"{running['mes']}/received", timeout=30).json()
        received = snapshot["received"]
        if len({item["subject"] for item in received}) >= count or time.monotonic() >= deadline:
            return True
        time.sleep(wait)
        return False

    # Idle time after the last order (at most the 1 s poll) is in the figures too: a small overcount.
    cpu_seen = cpu_watch(lambda: cpu_probe(probe, running["pids"]), all_received)
    cpu = cpu_spent(cpu_start, {**cpu_start, **cpu_seen})
    probe.close()
    crm = httpx.get(f"{running['crm']}/received", timeout=30).json()
    sent: dict[str, float] = {}
    for item in crm["sent"]:
        sent.setdefault(item["id"], item["started"])
    rejected = [item for item in crm["sent"] if not 200 <= item["status"] < 300]

    first_receipt: dict[str, float] = {}
    for item in received:
        first_receipt.setdefault(item["subject"], item["received_at"])
    with psycopg.connect(url) as conn:
        crm_ids = dict(conn.execute("SELECT number, crm_id FROM orders_salesorder").fetchall())
        stored = {row[0] for row in conn.execute("SELECT message_id FROM crm_sync_inboundmessage").fetchall()}
        stages = stage_times(conn, sent, first_receipt)
        (processed,) = conn.execute(
            "SELECT count(*) FROM crm_sync_inboundmessage WHERE state = 'processed'"
        ).fetchone()
        # Where honest latency starts: our hook stored the message (received_at).
        hook_at = dict(
            conn.execute("SELECT subject, extract(epoch FROM received_at) FROM crm_sync_inboundmessage")
        )
        intake = sorted(
            float(ms)
            for (ms,) in conn.execute(
                "SELECT extract(epoch FROM processed_at - received_at) * 1000 FROM crm_sync_inboundmessage"
                " WHERE processed_at IS NOT NULL"
            )
        )
        (tasks,) = conn.execute("SELECT count(*) FROM crm_sync_taskreceipt").fetchone()
    accepted = {item["id"] for item in crm["sent"] if 200 <= item["status"] < 300}
    latencies = []
    per_order: dict[str, int] = {}
    for item in received:
        per_order[item["subject"]] = per_order.get(item["subject"], 0) + 1
    for number, at in first_receipt.items():
        stored_at = hook_at.get(crm_ids.get(number, ""))
        if stored_at is not None:
            latencies.append((at - float(stored_at)) * 1000)
    latencies.sort()
    offered = sorted(sent.values())
    window = (offered[-1] - offered[0]) if len(offered) > 1 else duration
    delivered_span = (max(first_receipt.values()) - offered[0]) if first_receipt and offered else 0
    log.info(
        "crm sends not accepted: %s; mes duplicates (same id, deduped): %s",
        len(rejected),
        snapshot["duplicates"],
    )
    yield {
        "case": case,
        "metric": "offered_per_s",
        "value": round(len(offered) / window, 1) if window else None,
        "unit": "orders/s",
    }
    yield {
        "case": case,
        "metric": "delivered_per_s",
        "value": round(len(first_receipt) / delivered_span, 1) if delivered_span else None,
        "unit": "orders/s",
    }
    # Sustained: when the arrivals ended, what had arrived and not yet reached the MES was less than one
    # second of arrivals (a backlog that grows for the whole run is not a throughput).
    arrivals_end = offered[-1] if offered else 0.0
    backlog = len(offered) - sum(1 for at in first_receipt.values() if at <= arrivals_end)
    yield {"case": case, "metric": "backlog_at_end", "value": backlog, "unit": "orders"}
    yield {"case": case, "metric": "sustained", "value": backlog < rate, "unit": "bool"}
    # CRM → hub: hook receipt to the message processed here (what a slow MES must not slow down).
    for name, fraction in (("p50", 0.5), ("p99", 0.99)):
        value = _percentile(intake, fraction)
        yield {
            "case": case,
            "metric": f"crm_to_hub_{name}_ms",
            "value": None if value is None else round(value, 1),
            "unit": "ms",
        }
    yield {
        "case": case,
        "metric": "p50_ms",
        "value": round(_percentile(latencies, 0.5) or 0, 1),
        "unit": "ms",
    }
    yield {
        "case": case,
        "metric": "p99_ms",
        "value": round(_percentile(latencies, 0.99) or 0, 1),
        "unit": "ms",
    }
    # Lost: accepted by us (2xx) yet stored nowhere. Unfinished: stored, not yet at the MES when we stopped.
    yield {"case": case, "metric": "lost", "value": len(accepted - stored), "unit": "orders"}
    yield {"case": case, "metric": "unfinished", "value": count - len(first_receipt), "unit": "orders"}
    yield {
        "case": case,
        "metric": "duplicated",
        "value": sum(n - 1 for n in per_order.values()),
        "unit": "orders",
    }
    # Where the time goes (per stage, see stage_times) and what each process spends per order: CPU is the
    # steadier figure on a shared machine, and says which process to make cheaper.
    for stage, values in stages.items():
        for name, fraction in (("p50", 0.5), ("p99", 0.99)):
            value = _percentile(values, fraction)
            yield {
                "case": case,
                "metric": f"{stage}_{name}_ms",
                "value": None if value is None else round(value, 1),
                "unit": "ms",
            }
    # Per order taken in (processed here), not per order delivered: a backlog must not inflate the figure.
    done = processed or 1
    yield {"case": case, "metric": "processed", "value": processed, "unit": "orders"}
    for name in sorted(cpu):
        yield {
            "case": case,
            "metric": f"cpu_ms_per_order_{name}",
            "value": round(cpu[name] * 1000 / done, 2),
            "unit": "ms",
        }
    # All-in: the hub's own processes and its services (web, workers, PostgreSQL backends, Redis); the
    # simulators stand for the other systems and are left out.
    hub = sum(value for name, value in cpu.items() if name not in ("crm", "mes"))
    yield {
        "case": case,
        "metric": "cpu_ms_per_order_total",
        "value": round(hub * 1000 / done, 2),
        "unit": "ms",
    }
    yield {"case": case, "metric": "tasks_per_order", "value": round(tasks / done, 2), "unit": "tasks"}
