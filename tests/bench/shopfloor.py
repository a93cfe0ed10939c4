"""Shop-floor bench: operators' reports through the operator endpoint (POST /floor/api/reports/), against
gunicorn on PostgreSQL, every report sent twice.

What it does:
 1. creates a database of its own for this run (orderbridge_bench_shopfloor_<random>, on the server of
    BENCH_DATABASE_URL), migrates it, and makes the fixtures through the services (`manage.py shell`): a
    plant in floor mode, released orders whose work orders of 100 pieces have one operation each, and one
    operator (badge + PIN) per client;
 2. starts gunicorn (tests.bench.intake's server: workers 2 x cores + 1, gthread);
 3. each client signs in with its badge (the page's form, CSRF and all) and posts reports of one good
    piece each; every report goes out twice, the copy from another client at another moment, in a seeded
    shuffle, so some copies race the original;
 4. counts what landed: `lost` (reports with no row), `duplicated` (pieces counted beyond the reports that
    landed), `reports_per_s` (distinct reports per second, copies included in the load) and `p95_ms` of a
    request, CPU per report of gunicorn and of PostgreSQL's backends (from /proc; each report with its
    copy); then drops the database it made (only that one).

By default (case `c16`) each client sends its next request as soon as the last is answered: the saturation
point, where a request's time is mostly its wait behind the others (closed loop: 16 / throughput). With
BENCH_SHOPFLOOR_RATE (reports offered per second, case `c16_r<rate>`) the clients send at that rate
(exponential gaps, seeded), open loop: a request's time counts from when it was due, its wait included.

Environment: BENCH_DATABASE_URL (server to use; its database name is ignored), BENCH_SHOPFLOOR_REPORTS
(10000; --quick 1000), BENCH_SHOPFLOOR_CLIENTS (16), BENCH_SHOPFLOOR_RATE (0: as fast as answered),
BENCH_WORKERS, BENCH_THREADS, BENCH_WORKER_CLASS (gthread or sync; see intake).
"""

from __future__ import annotations

import http.client
import json
import logging
import os
import random
import re
import secrets
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode, urlparse, urlunparse

from tests.bench.intake import (
    DEFAULT_DATABASE_URL,
    BenchError,
    Config,
    cpu_spent,
    cpu_usage,
    cpu_watch,
    django_env,
    gunicorn,
    manage,
    worker_class_from_env,
)

log = logging.getLogger("bench.shopfloor")

PIECES_PER_WORK_ORDER = 100
PIN = "246813"
CSRF_INPUT = re.compile(rb'name="csrfmiddlewaretoken" value="([^"]+)"')


def create_fixtures(work_orders: int, operators: int) -> None:
    """Run inside `manage.py shell`: the plant, orders released and their work orders released to the floor,
    the operators; prints the operation ids as JSON."""
    import datetime as dt

    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    from orders import catalog, sales
    from production import floor, master_data
    from production import work_orders as wo
    from production.master_data import Plant, PlantMode

    User = get_user_model()

    def user(name: str, role: str):
        row = User.objects.create_user(name, None, None)
        row.groups.add(Group.objects.get(name=role))
        return row

    admin, planner, seller = (
        user("bench-admin", "admin"),
        user("bench-planner", "planner"),
        user("bench-sales", "sales"),
    )
    master_data.plant_save(
        actor=admin, plant=Plant(code="B", name="Bench", mode=PlantMode.FLOOR), reason="bench"
    )
    all_week = [(day, dt.time(0), dt.time(0)) for day in range(7)]
    center = master_data.work_center_create(
        actor=admin, code="B-ASM", name="Assembly", units=4, shifts=all_week
    )
    customer = catalog.customer_create(actor=admin, code="BC1", name="Bench customer")
    family = catalog.product_family_create(
        actor=admin, code="BF", name="Bench", spec_schema={"type": "object"}
    )
    product = catalog.product_create(actor=admin, sku="BP-1", name="Bench product", family=family)
    master_data.routing_create(
        actor=admin,
        product=product,
        operations=[
            {
                "sequence": 10,
                "name": "Assemble",
                "work_center": center,
                "setup_minutes": 0,
                "run_minutes_per_unit": 1,
            }
        ],
    )
    today = dt.date.today()
    operations = []
    for _ in range(work_orders):
        order = sales.order_create(
            actor=seller,
            customer=customer,
            lines=[{"product": product.pk, "quantity": PIECES_PER_WORK_ORDER, "spec_values": {}}],
            requested_date=today + dt.timedelta(days=30),
            promised_date=today + dt.timedelta(days=40),
        )
        order = sales.order_confirm(actor=seller, order=order)
        order = sales.order_release(actor=planner, order=order)
        for work_order in order.work_orders.all():
            wo.work_order_transition(actor=planner, work_order=work_order, name="release")
            operations.extend(work_order.operations.values_list("pk", flat=True))
    for n in range(operators):
        floor.operator_badge_set(user=user(f"bench-op{n}", "operator"), badge=f"B{n:03d}", pin=PIN)
    print(json.dumps({"operations": operations}))


@dataclass
class Tally:
    latencies: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    samples: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    by_status: dict[int, list[float]] = field(default_factory=dict)  # ms per answer status


class Client:
    """One phone: a keep-alive connection, its cookies, its CSRF token."""

    def __init__(self, address: tuple[str, int]) -> None:
        self.address = address
        self.conn = http.client.HTTPConnection(*address, timeout=60)
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, body: bytes | None = None, headers: dict | None = None):
        headers = {**(headers or {}), "Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        try:
            self.conn.request(method, path, body=body, headers=headers)
            response = self.conn.getresponse()
            data = response.read()
        except (OSError, http.client.HTTPException) as exc:
            self.conn.close()
            self.conn = http.client.HTTPConnection(*self.address, timeout=60)
            return 0, repr(exc).encode()
        for header in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = header.partition("=")
            self.cookies[name.strip()] = rest.split(";", 1)[0]
        return response.status, data

    def sign_in(self, badge: str) -> None:
        status, page = self.request("GET", "/floor/sign-in/")
        match = CSRF_INPUT.search(page)
        if status != 200 or not match:
            raise BenchError(f"sign-in page: {status}")
        form = urlencode({"csrfmiddlewaretoken": match.group(1).decode(), "badge": badge, "pin": PIN})
        status, _ = self.request(
            "POST",
            "/floor/sign-in/",
            form.encode(),
            {
                "Content-Type": "application/x-www-form-urlencoded",
                "Referer": f"http://{self.address[0]}:{self.address[1]}/",
            },
        )
        if status != 302 or "sessionid" not in self.cookies:
            raise BenchError(f"badge {badge} did not sign in ({status})")


def _client(
    address,
    badge: str,
    sends: list[tuple[str, int]],
    tally: Tally,
    ready: threading.Barrier,
    gap: float | None,
    seed: int,
) -> None:
    """One phone sending its share. `gap`: None, each request as soon as the last is answered (the
    saturation case); else the mean seconds between its requests (exponential gaps, seeded): a request's
    time counts from when it was due, so a request sent late because the last one was slow counts its wait."""
    client = Client(address)
    client.sign_in(badge)
    rng = random.Random(seed)
    ready.wait()
    due = time.perf_counter()
    headers = {"Content-Type": "application/json", "X-CSRFToken": client.cookies.get("csrftoken", "")}
    for client_id, operation in sends:
        body = json.dumps(
            {"client_id": client_id, "operation": operation, "action": "report", "good_quantity": "1"}
        ).encode()
        if gap is None:
            began = time.perf_counter()
        else:
            due += rng.expovariate(1 / gap)
            time.sleep(max(0.0, due - time.perf_counter()))
            began = due
        status, answer = client.request("POST", "/floor/api/reports/", body, headers)
        if status == 0:
            # A keep-alive connection the server had closed: a phone resends (the endpoint is idempotent).
            status, answer = client.request("POST", "/floor/api/reports/", body, headers)
        elapsed = time.perf_counter() - began
        with tally.lock:
            tally.latencies.append(elapsed)
            tally.by_status.setdefault(status, []).append(elapsed * 1000)
            tally.statuses[status] = tally.statuses.get(status, 0) + 1
            if status not in (200, 201) and len(tally.samples) < 3:
                tally.samples.append(f"{status}: {answer[:300]!r}")
    client.conn.close()


def _percentile(ordered: list[float], fraction: float) -> float | None:
    if not ordered:
        return None
    return round(ordered[min(len(ordered) - 1, int(fraction * len(ordered)))], 1)


def _admin_url(url: str) -> str:
    return urlunparse(urlparse(url)._replace(path="/postgres"))


def run(*, quick: bool = False) -> Iterator[dict]:
    import psycopg
    from psycopg import sql

    env_get = os.environ.get
    reports = int(env_get("BENCH_SHOPFLOOR_REPORTS", "1000" if quick else "10000"))
    clients = int(env_get("BENCH_SHOPFLOOR_CLIENTS", "16"))
    rate = float(env_get("BENCH_SHOPFLOOR_RATE", "0"))  # reports offered per second; 0: as fast as answered
    base = env_get("BENCH_DATABASE_URL", DEFAULT_DATABASE_URL)
    name = f"orderbridge_bench_shopfloor_{secrets.token_hex(4)}"  # this run's own database
    url = urlunparse(urlparse(base)._replace(path=f"/{name}"))
    config = Config(
        database_url=url,
        workers=int(env_get("BENCH_WORKERS", str(2 * (os.cpu_count() or 1) + 1))),
        worker_class=worker_class_from_env(),
        threads=int(env_get("BENCH_THREADS", "4")),
        clients=[clients],
        release_clients=[],
        client_procs=1,
        duration=0,
        warmup=0,
    )
    try:
        admin = psycopg.connect(_admin_url(base), autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        raise BenchError(f"PostgreSQL unreachable: {exc}") from exc
    with admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    log.info("database %s created; %s reports (each sent twice) by %s clients", name, reports, clients)
    try:
        yield from _measure(config, reports, clients, rate)
    finally:
        with psycopg.connect(_admin_url(base), autocommit=True, connect_timeout=5) as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        log.info("database %s dropped", name)


def _measure(config: Config, reports: int, clients: int, rate: float) -> Iterator[dict]:
    import psycopg

    work_orders = -(-reports // PIECES_PER_WORK_ORDER)
    with tempfile.TemporaryDirectory(prefix="orderbridge-bench-") as var_dir:
        env = django_env(config, var_dir)
        # The debounced/at-once plans would compete with the reports for the two cores: not measured here.
        env.update(PRODUCTION_PLAN_AT_ONCE="false", AXES_ENABLED="false")
        (Path(var_dir) / "static").mkdir()
        manage(env, "migrate", "--noinput", "--verbosity=0")
        code = f"from tests.bench.shopfloor import create_fixtures; create_fixtures({work_orders}, {clients})"
        operations = json.loads(manage(env, "shell", "--no-startup", "-c", code).strip().splitlines()[-1])[
            "operations"
        ]
        log.info("fixtures: %s operations of %s pieces", len(operations), PIECES_PER_WORK_ORDER)
        rng = random.Random(17)
        originals = [
            (str(uuid.UUID(int=rng.getrandbits(128))), operations[n % len(operations)])
            for n in range(reports)
        ]
        sends = originals + originals  # every report twice
        rng.shuffle(sends)
        shares = [sends[i::clients] for i in range(clients)]
        # Each report goes out twice: a client's mean gap between requests at `rate` reports per second.
        gap = clients / (2 * rate) if rate > 0 else None
        tally = Tally()
        with gunicorn(config, env, Path(var_dir) / "gunicorn.log") as server:
            ready = threading.Barrier(clients + 1)
            threads = [
                threading.Thread(
                    target=_client,
                    args=(server["address"], f"B{i:03d}", shares[i], tally, ready, gap, 100 + i),
                )
                for i in range(clients)
            ]
            for thread in threads:
                thread.start()
            with psycopg.connect(config.database_url, autocommit=True, connect_timeout=5) as probe:
                ready.wait(timeout=300)
                began, clients_cpu = time.perf_counter(), time.process_time()
                cpu_start = cpu_usage(probe, server["pid"])

                def clients_done(timeout: float) -> bool:
                    deadline = time.monotonic() + timeout
                    for thread in threads:
                        thread.join(max(0.0, deadline - time.monotonic()))
                    return not any(thread.is_alive() for thread in threads)

                cpu_end = cpu_watch(lambda: cpu_usage(probe, server["pid"]), clients_done)
                duration = time.perf_counter() - began
                cpu = cpu_spent(cpu_start, cpu_end)
                cpu["clients"] = time.process_time() - clients_cpu
            server["failed"] = any(status not in (200, 201) for status in tally.statuses)
        with psycopg.connect(config.database_url, connect_timeout=5) as conn:
            landed = conn.execute("SELECT count(*) FROM production_floorreport").fetchone()[0]
            progress = conn.execute(
                "SELECT count(*) FROM production_progressreport WHERE message_id LIKE 'floor:%%'"
            ).fetchone()[0]
            pieces = conn.execute(
                "SELECT coalesce(sum(good_quantity), 0) FROM production_workorderoperation"
            ).fetchone()[0]
    latencies = sorted(latency * 1000 for latency in tally.latencies)
    for status, values in sorted(tally.by_status.items()):
        values.sort()
        log.info(
            "status %s: %s requests, p50/p95/p99 %s/%s/%s ms",
            status,
            len(values),
            *(_percentile(values, fraction) for fraction in (0.5, 0.95, 0.99)),
        )
    log.info(
        "CPU ms per report: server %.2f, database %.2f, the bench's clients %.2f",
        *(1000 * cpu[kind] / max(1, landed) for kind in ("server", "db", "clients")),
    )
    log.info(
        "%s requests in %.1f s, statuses %s; rows: floor %s, progress %s, pieces %s (load %s)",
        len(latencies),
        duration,
        tally.statuses,
        landed,
        progress,
        pieces,
        " ".join(f"{x:.1f}" for x in os.getloadavg()),
    )
    for sample in tally.samples:
        log.info("error sample: %s", sample)
    case = f"c{clients}" + (f"_r{rate:g}" if rate > 0 else "")
    yield {"case": case, "metric": "reports_per_s", "value": round(landed / duration, 1), "unit": "reports/s"}
    yield {
        "case": case,
        "metric": "requests_per_s",
        "value": round(len(latencies) / duration, 1),
        "unit": "requests/s",
    }
    yield {"case": case, "metric": "p50_ms", "value": _percentile(latencies, 0.5), "unit": "ms"}
    yield {"case": case, "metric": "p95_ms", "value": _percentile(latencies, 0.95), "unit": "ms"}
    yield {"case": case, "metric": "lost", "value": reports - landed, "unit": "reports"}
    yield {
        "case": case,
        "metric": "duplicated",
        "value": int(pieces) - landed + (progress - landed),
        "unit": "reports",
    }
    for kind in ("server", "db"):
        yield {
            "case": case,
            "metric": f"cpu_ms_per_report_{kind}",
            "value": round(1000 * cpu[kind] / max(1, landed), 2),
            "unit": "ms",
        }
    errors = sum(count for status, count in tally.statuses.items() if status not in (200, 201))
    yield {"case": case, "metric": "errors", "value": errors, "unit": "requests"}
