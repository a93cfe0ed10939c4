"""Plan after release: how long a released order waits to appear in the current plan, on PostgreSQL + Redis
with real Celery workers, against a plan of about 1,000 work orders (part of the scheduler bench).

What it does:
 1. creates a database of its own (unique per run, dropped at its end: databases.py) from
    BENCH_PLAN_DATABASE_URL, migrates it, and makes
    the plant through the services: 6 work centers (1-3 units, two shifts on weekdays), 12 products with
    routings of 1-4 steps, 40 customers (10% VIP, 25% key), then BENCH_PLAN_WORK_ORDERS orders created,
    confirmed and released one work order each, and one fast plan of them all;
 2. starts a private redis-server and BENCH_PLAN_WORKERS Celery worker processes (prefork, concurrency 1
    each) with the production settings: the plan at once on, the background optimiser on
    (PRODUCTION_OPTIMISE_SECONDS, debounced PRODUCTION_RESCHEDULE_DEBOUNCE_SECONDS) — so the optimiser
    competes for the two cores as it does in production;
 3. case release_n<N>: releases BENCH_PLAN_RELEASES more orders one by one through
    orders.sales.order_release (the service every door calls), 0-2 s apart, each after the previous one
    is planned; case burst_n<N>: BENCH_PLAN_BURST releases back to back.

Latency per order: from the release's commit (an on_commit callback registered first) to the moment an
OrderProjection of the order is in the current Schedule (polled every 20 ms). Metrics per case:
plan_after_release_p50_s, plan_after_release_p95_s (the figure; goal < 5 s), plan_after_release_max_s,
fast_plans (plans written during the case), fast_plan_seconds_p50 (solve of those plans), work_orders
(in the last plan).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from tests.bench.intake import BenchError, _free_port, manage, recreate_database

log = logging.getLogger("bench.plan")

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/orderbridge_bench_plan"
TWO_SHIFTS = [(day, dt.time(6), dt.time(14)) for day in range(5)] + [
    (day, dt.time(14), dt.time(22)) for day in range(5)
]


def _percentile(values: list[float], fraction: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    index = fraction * (len(ordered) - 1)
    low = int(index)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (index - low)


def setup_django_once(env: dict[str, str]) -> None:
    """Load Django in this process with `env` (its settings are read once: the first caller's env wins)."""
    os.environ.update(env)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()


def make_plant(*, work_orders: int, seed: int = 7) -> dict:
    """The plant and its released orders, through the services (the bench process, Django set up)."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    from orders import catalog, sales
    from production import master_data
    from tests.bench.intake import SPEC_SCHEMA, SPEC_VALUES

    rng = random.Random(seed)
    users = get_user_model().objects
    admin = users.create_user("bench-admin", None, None)
    admin.groups.add(Group.objects.get(name="admin"))
    seller = users.create_user("bench-sales", None, None)
    seller.groups.add(Group.objects.get(name="sales"))
    planner = users.create_user("bench-planner", None, None)
    planner.groups.add(Group.objects.get(name="planner"))
    customers = [
        catalog.customer_create(
            actor=admin,
            code=f"PC{n:03d}",
            name=f"Plan customer {n}",
            tier=rng.choices(["vip", "key", "standard"], weights=[10, 25, 65])[0],
        )
        for n in range(40)
    ]
    family = catalog.product_family_create(actor=admin, code="PLAN", name="Plan", spec_schema=SPEC_SCHEMA)
    centers = [
        master_data.work_center_create(
            actor=admin, code=f"WC{i}", name=f"WC{i}", units=rng.randint(1, 3), shifts=TWO_SHIFTS
        )
        for i in range(6)
    ]
    products = []
    for n in range(12):
        product = catalog.product_create(actor=admin, sku=f"PP-{n:03d}", name=f"Plan part {n}", family=family)
        steps = rng.sample(centers, rng.randint(1, 4))
        master_data.routing_create(
            actor=admin,
            product=product,
            operations=[
                {
                    "sequence": 10 * (i + 1),
                    "name": center.code,
                    "work_center": center,
                    "setup_minutes": rng.randint(10, 40),
                    "run_minutes_per_unit": round(rng.uniform(0.5, 3), 1),
                }
                for i, center in enumerate(steps)
            ],
        )
        products.append(product)

    def order(days: int):
        made = sales.order_create(
            actor=seller,
            customer=rng.choice(customers),
            lines=[
                {
                    "product": rng.choice(products).pk,
                    "quantity": rng.choice([5, 10, 20, 40]),
                    "spec_values": rng.choice(SPEC_VALUES),
                }
            ],
            requested_date=dt.date.today() + dt.timedelta(days=days),
            promised_date=dt.date.today() + dt.timedelta(days=days),
        )
        return sales.order_confirm(actor=seller, order=made)

    started = time.perf_counter()
    for n in range(work_orders):
        sales.order_release(actor=planner, order=order(rng.randint(5, 90)))
        if n % 200 == 199:
            log.info("%s orders released (%.0f s)", n + 1, time.perf_counter() - started)
    waiting = [order(rng.randint(5, 90)) for _ in range(200)]
    return {"planner": planner, "waiting": waiting}


@contextlib.contextmanager
def _stopped_at_end(started: list[subprocess.Popen]) -> Iterator[None]:
    try:
        yield
    finally:
        for proc in reversed(started):
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in started:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)


@contextlib.contextmanager
def redis_server(var_dir: Path) -> Iterator[str]:
    """A private redis-server (free port, nothing on disk); yields its URL."""
    redis_binary = shutil.which("redis-server")
    if redis_binary is None:
        raise BenchError("needs redis-server on PATH")
    port = _free_port()
    started = [
        subprocess.Popen(  # noqa: S603 - our own commands
            [redis_binary, "--port", str(port), "--save", "", "--appendonly", "no", "--dir", str(var_dir)],
            stdout=subprocess.DEVNULL,
            start_new_session=True,
        )
    ]
    with _stopped_at_end(started):
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
                break
            time.sleep(0.1)
        yield f"redis://127.0.0.1:{port}/0"


@contextlib.contextmanager
def celery_workers(env: dict[str, str], var_dir: Path, count: int) -> Iterator[None]:
    """`count` Celery worker processes (prefork, one child each), stopped at the end."""
    started: list[subprocess.Popen] = []
    with _stopped_at_end(started):
        for index in range(count):
            out = open(var_dir / f"worker{index}.log", "wb")  # noqa: SIM115 - closed with the process
            started.append(
                subprocess.Popen(  # noqa: S603
                    [
                        sys.executable,
                        "-m",
                        "celery",
                        "-A",
                        "config",
                        "worker",
                        "--pool=prefork",
                        "--concurrency=1",
                        f"--hostname=plan{index}@%h",
                        "--loglevel=INFO",
                        "--without-gossip",
                        "--without-mingle",
                        "--without-heartbeat",
                    ],
                    cwd=ROOT,
                    env=env,
                    stdout=out,
                    stderr=out,
                    start_new_session=True,
                )
            )
        yield


def _release(order, planner) -> float:
    """Release `order` through the service; return the moment its transaction committed."""
    from django.db import transaction

    from orders import sales

    committed: list[float] = []
    with transaction.atomic():
        transaction.on_commit(lambda: committed.append(time.time()))  # registered first: the commit itself
        sales.order_release(actor=planner, order=order)
    return committed[0]


def _wait_planned(released: dict[int, float], *, timeout: float = 120) -> list[float]:
    """Seconds from each release's commit (order id → moment) until the order is in the current plan."""
    from production.scheduling import OrderProjection

    waiting = dict(released)
    latencies = []
    deadline = time.monotonic() + timeout
    while waiting and time.monotonic() < deadline:
        planned = set(
            OrderProjection.objects.filter(order_id__in=list(waiting), schedule__is_current=True).values_list(
                "order_id", flat=True
            )
        )
        now = time.time()
        for order_id in planned:
            latencies.append(now - waiting.pop(order_id))
        time.sleep(0.02)
    if waiting:
        raise BenchError(f"{len(waiting)} released orders not planned within {timeout:.0f} s")
    return latencies


def _figures(case: str, latencies: list[float], since: dt.datetime) -> Iterator[dict]:
    from production.scheduling import Schedule

    plans = list(Schedule.objects.filter(created_at__gte=since, method="fast"))
    last = Schedule.objects.filter(is_current=True).first()
    figures = {
        "plan_after_release_p50_s": _percentile(latencies, 0.5),
        "plan_after_release_p95_s": _percentile(latencies, 0.95),
        "plan_after_release_max_s": max(latencies) if latencies else None,
        "fast_plans": len(plans),
        "fast_plan_seconds_p50": statistics.median([p.solve_seconds for p in plans]) if plans else None,
        "work_orders": last.work_orders if last else None,
    }
    for metric, value in figures.items():
        unit = "s" if metric.endswith("_s") or "seconds" in metric else None
        yield {
            "case": case,
            "metric": metric,
            "value": round(value, 3) if isinstance(value, float) else value,
            **({"unit": unit} if unit else {}),
        }


def run(*, quick: bool) -> Iterator[dict]:
    database_url = os.environ.get("BENCH_PLAN_DATABASE_URL", DEFAULT_DATABASE_URL)
    size = int(os.environ.get("BENCH_PLAN_WORK_ORDERS", "300" if quick else "1000"))
    releases = int(os.environ.get("BENCH_PLAN_RELEASES", "5" if quick else "20"))
    burst = int(os.environ.get("BENCH_PLAN_BURST", "5" if quick else "10"))
    count = int(os.environ.get("BENCH_PLAN_WORKERS", "2"))
    database_url = recreate_database(database_url)
    with tempfile.TemporaryDirectory(prefix="orderbridge-bench-plan-") as var_name:
        var_dir = Path(var_name)
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("CELERY_")},
            "ORDERBRIDGE_ENV": "development",
            "DEBUG": "false",
            "DATABASE_URL": database_url,
            "ORDERBRIDGE_VAR_DIR": str(var_dir),
            "LOG_LEVEL": os.environ.get("BENCH_PLAN_LOG_LEVEL", "INFO"),
            "PYTHONUNBUFFERED": "1",
        }
        manage(env, "migrate", "--noinput", "--verbosity=0")
        with redis_server(var_dir) as broker:
            env["CELERY_BROKER_URL"] = broker
            setup_django_once({**env, "LOG_LEVEL": "WARNING"})
            from production.scheduling import schedule_run

            log.info("making the plant: %s released orders", size)
            plant = make_plant(work_orders=size)
            first = schedule_run(trigger="bench", method="fast")
            log.info("first plan: %s work orders, solve %.2fs", first.work_orders, first.solve_seconds)
            waiting, planner = plant["waiting"], plant["planner"]
            with celery_workers(env, var_dir, count):
                time.sleep(5)  # the workers boot, and take the seeding's leftover requests
                since = dt.datetime.now(dt.UTC)
                latencies: list[float] = []
                rng = random.Random(3)
                for _ in range(releases):  # one by one
                    order = waiting.pop()
                    latencies += _wait_planned({order.pk: _release(order, planner)})
                    time.sleep(rng.uniform(0, 2))
                yield from _figures(f"release_n{size}", latencies, since)
                since = dt.datetime.now(dt.UTC)
                burst_orders = [waiting.pop() for _ in range(burst)]
                released = {order.pk: _release(order, planner) for order in burst_orders}  # back to back
                yield from _figures(f"burst{burst}_n{size}", _wait_planned(released), since)
