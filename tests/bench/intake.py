"""Intake bench: orders of 3 lines created and confirmed through the REST API, against gunicorn on PostgreSQL.

Usage:
    python -m tests.bench.run --bench intake [--quick]

What it does:
 1. creates a database of its own (unique per run, dropped at its end: databases.py) from
    BENCH_DATABASE_URL, runs `manage.py migrate` on it, and makes the fixtures through the services
    (a sales user with an API token, 20 customers, one product family with a spec schema, 10 products);
 2. starts gunicorn (`config.wsgi:application`, ORDERBRIDGE_ENV=development, DEBUG=false, access log off)
    on a free port of 127.0.0.1 and waits until it answers; it is always stopped at the end;
 3. for each case cN, N concurrent keep-alive clients (threads spread over a few processes) loop
    POST /api/v1/orders/ then POST /api/v1/orders/{number}/confirm/ for the duration, after a warm-up.
    An order counts when both calls succeeded (2xx) and the confirm finished inside the measured window;
    any other answer or connection failure counts in "errors".

Metrics per case: orders_per_s, p50_ms, p99_ms (one order = create + confirm, as the client sees it), errors,
and server_cpu_ms_per_order / db_cpu_ms_per_order: CPU used by gunicorn and by the database's backends
(read from /proc, so only when PostgreSQL runs on this machine) during the window, per order. On a machine
shared with other work the throughput is noisy; the CPU cost per order is much steadier, and cores divided
by it bounds the throughput (e.g. 2 cores / 50 ms per order = 40 orders/s).
Cases release_cN: the same clients also release each order (as a planner) so that production makes its
work orders; metric released_orders_per_s (one order = create + confirm + release).
Case "all": history_rows_per_order and outbox_rows_per_order, read from the database afterwards, to show
that every order wrote its history and its outbox rows.

Environment (all optional):
    BENCH_DATABASE_URL   postgres://postgres@127.0.0.1:5432/orderbridge_bench
    BENCH_WORKERS        gunicorn workers (2 * cores + 1)
    BENCH_WORKER_CLASS   gthread or sync (gthread: about twice sync's throughput here, thanks to keep-alive
                         and threads that overlap database waits)
    BENCH_THREADS        threads per gthread worker (4)
    BENCH_CLIENTS        the cases, comma-separated client counts (8,32)
    BENCH_RELEASE_CLIENTS  the release cases (8): create, confirm and release (as a planner), each
                         release making the order's work orders; metric released_orders_per_s
    BENCH_CLIENT_PROCS   client processes (2)
    BENCH_DURATION       measured seconds per case (20; --quick 5)
    BENCH_WARMUP         warm-up seconds per case (3; --quick 1)
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import http.client
import json
import logging
import multiprocessing
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.bench.databases import DatabaseError, bench_database

log = logging.getLogger("bench.intake")

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/orderbridge_bench"
BENCH_USERNAME = "bench-sales"
LINES_PER_ORDER = 3

SPEC_SCHEMA = {
    "type": "object",
    "properties": {
        "material": {"type": "string", "title": "Material", "enum": ["steel", "aluminium", "stainless"]},
        "thickness_mm": {"type": "number", "title": "Thickness", "minimum": 0.5, "maximum": 20},
        "finish": {"type": "string", "title": "Finish", "enum": ["raw", "powder", "anodised"]},
    },
    "required": ["material", "thickness_mm"],
    "additionalProperties": False,
}
SPEC_VALUES = [
    {"material": "steel", "thickness_mm": 2, "finish": "powder"},
    {"material": "aluminium", "thickness_mm": 1.5},
    {"material": "stainless", "thickness_mm": 3, "finish": "raw"},
]


class BenchError(Exception):
    """The bench cannot run (no database, server did not start...)."""


@dataclass
class Config:
    database_url: str
    workers: int
    worker_class: str
    threads: int
    clients: list[int]
    release_clients: list[int]
    client_procs: int
    duration: float
    warmup: float

    @classmethod
    def from_env(cls, *, quick: bool) -> Config:
        env = os.environ.get
        return cls(
            database_url=env("BENCH_DATABASE_URL", DEFAULT_DATABASE_URL),
            workers=int(env("BENCH_WORKERS", str(2 * (os.cpu_count() or 1) + 1))),
            worker_class=worker_class_from_env(),
            threads=int(env("BENCH_THREADS", "4")),
            clients=[int(n) for n in env("BENCH_CLIENTS", "8,32").split(",") if n.strip()],
            release_clients=[int(n) for n in env("BENCH_RELEASE_CLIENTS", "8").split(",") if n.strip()],
            client_procs=max(1, int(env("BENCH_CLIENT_PROCS", "2"))),
            duration=float(env("BENCH_DURATION", "5" if quick else "20")),
            warmup=float(env("BENCH_WARMUP", "1" if quick else "3")),
        )


# --- database -------------------------------------------------------------------------------------------
def recreate_database(url: str) -> str:
    """A new database of this run's own (see tests/bench/databases.py): returns its URL. Nothing is dropped
    but what this run created, at its end."""
    try:
        return bench_database(url)
    except DatabaseError as exc:
        raise BenchError(str(exc)) from exc


def worker_class_from_env() -> str:
    """gunicorn's worker class for a bench's server: BENCH_WORKER_CLASS, gthread (the README's) or sync."""
    worker_class = os.environ.get("BENCH_WORKER_CLASS", "gthread")
    if worker_class not in ("gthread", "sync"):
        raise BenchError(f"BENCH_WORKER_CLASS must be gthread or sync, not {worker_class!r}")
    return worker_class


def django_env(config: Config, var_dir: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        ORDERBRIDGE_ENV="development",
        DEBUG="false",
        DATABASE_URL=config.database_url,
        ORDERBRIDGE_VAR_DIR=var_dir,  # file cache and broker folder of this run only
        LOG_LEVEL="WARNING",
        PYTHONUNBUFFERED="1",
    )
    return env


def manage(env: dict[str, str], *args: str) -> str:
    proc = subprocess.run(  # noqa: S603 - our own interpreter and manage.py
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )
    if proc.stderr:
        sys.stderr.write(proc.stderr)
    if proc.returncode != 0:
        raise BenchError(f"manage.py {args[0]} failed ({proc.returncode}): {proc.stderr.strip()[-500:]}")
    return proc.stdout


def shell_in_database(
    url: str, code: str, *, prepare: Callable[[str], object] | None = None
) -> dict[str, Any]:
    """Migrate the database `url` (a run's own, from recreate_database, or one kept to measure again), call
    `prepare(url)` (e.g. seed it), run `code` in `manage.py shell` with a file cache and var folder of its
    own, and return the JSON object its last line printed."""
    with tempfile.TemporaryDirectory(prefix="orderbridge-bench-") as var_dir:
        env = dict(os.environ)
        env.update(
            ORDERBRIDGE_ENV="development",
            DEBUG="false",
            DATABASE_URL=url,
            ORDERBRIDGE_VAR_DIR=var_dir,
            LOG_LEVEL="WARNING",
        )
        (Path(var_dir) / "static").mkdir()
        manage(env, "migrate", "--noinput", "--verbosity=0")
        if prepare is not None:
            prepare(url)
        return json.loads(manage(env, "shell", "--no-startup", "-c", code).strip().splitlines()[-1])


def create_fixtures() -> None:
    """Run inside `manage.py shell`: make the fixtures through the services, print them as JSON."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    from orders import catalog as services
    from orders.api_tokens import api_token_create
    from production import master_data

    user = get_user_model().objects.create_user(BENCH_USERNAME, f"{BENCH_USERNAME}@example.com", None)
    user.groups.add(Group.objects.get(name="sales"))
    _, token = api_token_create(user=user, name="bench")
    # Master data is an administrator's job: the services refuse it to a sales user.
    master = get_user_model().objects.create_user(f"{BENCH_USERNAME}-admin", None, None)
    master.groups.add(Group.objects.get(name="admin"))
    customers = [
        services.customer_create(actor=master, code=f"BC{n:03d}", name=f"Bench customer {n}").code
        for n in range(20)
    ]
    family = services.product_family_create(
        actor=master, code="BENCH", name="Bench panels", spec_schema=SPEC_SCHEMA
    )
    products = [
        services.product_create(actor=master, sku=f"BP-{n:03d}", name=f"Bench panel {n}", family=family)
        for n in range(10)
    ]
    # Released orders get work orders: a planner to release them, and a two-step routing per product.
    planner = get_user_model().objects.create_user(f"{BENCH_USERNAME}-planner", None, None)
    planner.groups.add(Group.objects.get(name="planner"))
    _, planner_token = api_token_create(user=planner, name="bench")
    all_week = [(day, dt.time(0), dt.time(0)) for day in range(7)]
    cut = master_data.work_center_create(actor=master, code="B-CUT", name="Cut", units=2, shifts=all_week)
    bend = master_data.work_center_create(actor=master, code="B-BEND", name="Bend", units=1, shifts=all_week)
    for product in products:
        master_data.routing_create(
            actor=master,
            product=product,
            operations=[
                {
                    "sequence": 10,
                    "name": "Cut",
                    "work_center": cut,
                    "setup_minutes": 15,
                    "run_minutes_per_unit": 2,
                },
                {
                    "sequence": 20,
                    "name": "Bend",
                    "work_center": bend,
                    "setup_minutes": 10,
                    "run_minutes_per_unit": 3,
                },
            ],
        )
    print(
        json.dumps(
            {
                "token": token,
                "planner_token": planner_token,
                "customers": customers,
                "skus": [product.sku for product in products],
            }
        )
    )


def count_rows(url: str) -> dict[str, int]:
    import psycopg

    queries = {
        "orders": "SELECT count(*) FROM orders_salesorder",
        "confirmed": "SELECT count(*) FROM orders_salesorder WHERE status = 'confirmed'",
        "order_history": "SELECT count(*) FROM orders_historicalsalesorder",
        "line_history": "SELECT count(*) FROM orders_historicalorderline",
        "outbox": "SELECT count(*) FROM crm_sync_outboxevent",
        "released": "SELECT count(*) FROM orders_salesorder WHERE status = 'released'",
        "work_orders": "SELECT count(*) FROM production_workorder",
    }
    with psycopg.connect(url, connect_timeout=5) as conn:
        return {key: conn.execute(query).fetchone()[0] for key, query in queries.items()}


# --- server ---------------------------------------------------------------------------------------------
def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def gunicorn(config: Config, env: dict[str, str], log_path: Path) -> Iterator[dict]:
    """Yield {"address": (host, port), "failed": False}; set "failed" to get the server log's tail."""
    port = _free_port()
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "config.wsgi:application",
        f"--bind=127.0.0.1:{port}",
        f"--workers={config.workers}",
        f"--worker-class={config.worker_class}",
        f"--threads={config.threads}",
        "--log-level=warning",
        "--timeout=60",
    ]  # no --access-logfile: gunicorn's access log is off by default
    log.info("server: %s", " ".join(command[2:]))
    with open(log_path, "wb") as server_log:
        proc = subprocess.Popen(  # noqa: S603
            command, cwd=ROOT, env=env, stdout=server_log, stderr=subprocess.STDOUT, start_new_session=True
        )
    server = {"address": ("127.0.0.1", port), "pid": proc.pid, "failed": True}
    try:
        _wait_until_up(proc, port, log_path)
        server["failed"] = False
        yield server
    except BaseException:
        server["failed"] = True
        raise
    finally:
        _stop(proc)
        lines = log_path.read_text(errors="replace").strip().splitlines()
        tail = [line for line in lines if "WARNING django.request" not in line][-30:]  # 4xx: see samples
        if server["failed"] and tail:
            log.info("server log (last lines):\n%s", "\n".join(tail))


def _wait_until_up(proc: subprocess.Popen, port: int, log_path: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise BenchError(
                f"gunicorn exited ({proc.returncode}): {log_path.read_text(errors='replace')[-800:]}"
            )
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        try:
            conn.request("GET", "/api/v1/")
            status = conn.getresponse().status
            if status < 500:
                log.info("server up on port %s (GET /api/v1/ → %s)", port, status)
                return
        except OSError:
            pass
        finally:
            conn.close()
        time.sleep(0.2)
    raise BenchError(f"gunicorn did not answer within {timeout:.0f} s")


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)  # the master stops its workers gracefully
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)  # its own session: the master and its workers only
            proc.wait()
    log.info("server stopped (%s)", proc.returncode)


# --- CPU accounting (Linux /proc): robust where throughput on a shared machine is not ----------------
_CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _process_cpu(pid: int) -> float:
    """User + system CPU seconds of one process (0 if it is gone or there is no /proc)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / _CLOCK_TICKS  # utime, stime


def _children(pid: int) -> list[int]:
    try:
        return [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def cpu_usage(conn, server_pid: int) -> dict[str, float]:
    """CPU seconds used so far by each gunicorn process ("server:<pid>") and each PostgreSQL backend of
    the bench database ("db:<pid>"; only when PostgreSQL runs on this machine). `conn`: psycopg."""
    backends = conn.execute(
        "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
    ).fetchall()
    server = {pid: _process_cpu(pid) for pid in [server_pid, *_children(server_pid)]}
    return {
        **{f"server:{pid}": value for pid, value in server.items()},
        **{f"db:{pid}": _process_cpu(pid) for (pid,) in backends},
    }


def cpu_watch(
    probe: Callable[[], dict[str, float]], done: Callable[[float], bool], every: float = 1.0
) -> dict[str, float]:
    """Poll `probe` every `every` seconds until `done(timeout)` (which may wait up to `timeout`) says the run
    is over; the last reading of every process seen. A PostgreSQL backend that ends during the run (a
    connection past its CONN_MAX_AGE, 60 s by default) keeps the CPU it had at the poll before: one probe at
    the end would leave it out (the database's CPU read a third of what it was)."""
    seen: dict[str, float] = {}
    while True:
        seen.update(probe())
        if done(every):
            seen.update(probe())
            return seen


def cpu_spent(start: dict[str, float], end: dict[str, float]) -> dict[str, float]:
    """CPU seconds per kind ("server", "db") between two probes, process by process: a process that
    started in between counts from zero, one that ended is left out (never a negative figure)."""
    spent: dict[str, float] = {"server": 0.0, "db": 0.0}
    for key, value in end.items():
        kind = key.partition(":")[0]
        spent[kind] += max(0.0, value - start.get(key, 0.0))
    return spent


# --- clients ----------------------------------------------------------------------------------------------
@dataclass
class Tally:
    latencies: list[float] = field(default_factory=list)  # seconds, orders finished in the window
    errors: int = 0
    statuses: dict[str, int] = field(default_factory=dict)  # "create 429" → count, window only
    samples: list[str] = field(default_factory=list)  # a few error bodies, for the log
    # CPU seconds spent in the measured window: "server", "db", "clients"
    cpu: dict[str, float] = field(default_factory=dict)


def _order_body(n: int, customers: list[str], skus: list[str]) -> bytes:
    today = dt.date.today()
    lines = [
        {
            "product": skus[(n + i) % len(skus)],
            "quantity": str(5 + (n + i) % 20),
            "spec_values": SPEC_VALUES[(n + i) % len(SPEC_VALUES)],
        }
        for i in range(LINES_PER_ORDER)
    ]
    return json.dumps(
        {
            "customer": customers[n % len(customers)],
            "customer_po": f"PO-{n}",
            "requested_date": (today + dt.timedelta(days=30)).isoformat(),
            "promised_date": (today + dt.timedelta(days=40)).isoformat(),
            "lines": lines,
        }
    ).encode()


def _client_thread(
    seed: int,
    address: tuple[str, int],
    token: str,
    fixtures: dict,
    window: tuple[float, float],
    tally: Tally,
    release: bool = False,
) -> None:
    start, end = window
    headers = {
        "Authorization": f"Bearer {token}",
        "Content-Type": "application/json",
        "Accept": "application/json",
    }
    planner_headers = {**headers, "Authorization": f"Bearer {fixtures.get('planner_token', '')}"}
    conn = http.client.HTTPConnection(*address, timeout=60)
    lock = threading.Lock()  # tally is shared by the threads of one process
    n = seed * 1_000_000

    def call(path: str, body: bytes, as_planner: bool = False) -> tuple[int, bytes]:
        nonlocal conn
        try:
            conn.request("POST", path, body=body, headers=planner_headers if as_planner else headers)
            response = conn.getresponse()
            return response.status, response.read()
        except (OSError, http.client.HTTPException) as exc:
            conn.close()
            conn = http.client.HTTPConnection(*address, timeout=60)
            return 0, repr(exc).encode()

    def failed(step: str, status: int, body: bytes) -> None:
        if time.time() < start:
            return
        with lock:
            tally.errors += 1
            key = f"{step} {status}"
            tally.statuses[key] = tally.statuses.get(key, 0) + 1
            if len(tally.samples) < 3:
                tally.samples.append(f"{key}: {body[:300]!r}")

    while time.time() < end:
        n += 1
        began = time.perf_counter()
        status, body = call("/api/v1/orders/", _order_body(n, fixtures["customers"], fixtures["skus"]))
        if not 200 <= status < 300:
            failed("create", status, body)
            continue
        number = json.loads(body)["number"]
        status, body = call(f"/api/v1/orders/{number}/confirm/", b'{"reason": ""}')
        if not 200 <= status < 300:
            failed("confirm", status, body)
            continue
        if release:
            status, body = call(f"/api/v1/orders/{number}/release/", b'{"reason": ""}', as_planner=True)
            if not 200 <= status < 300:
                failed("release", status, body)
                continue
        finished = time.time()
        if start <= finished < end:
            with lock:
                tally.latencies.append(time.perf_counter() - began)
    conn.close()


def _client_process(
    first_seed: int,
    threads: int,
    address: tuple[str, int],
    token: str,
    fixtures: dict,
    window: tuple[float, float],
    results: multiprocessing.Queue,
    release: bool = False,
) -> None:
    tally = Tally()
    workers = [
        threading.Thread(
            target=_client_thread, args=(first_seed + i, address, token, fixtures, window, tally, release)
        )
        for i in range(threads)
    ]
    for worker in workers:
        worker.start()
    start, end = window
    time.sleep(max(0.0, start - time.time()))
    cpu_start = time.process_time()
    time.sleep(max(0.0, end - time.time()))
    cpu = time.process_time() - cpu_start
    for worker in workers:
        worker.join()
    results.put((tally.latencies, tally.errors, tally.statuses, tally.samples, cpu))


def drive(
    config: Config,
    clients: int,
    address: tuple[str, int],
    token: str,
    fixtures: dict,
    seed_base: int,
    cpu_probe: Callable[[], dict[str, float]],
    release: bool = False,
) -> Tally:
    """Run `clients` concurrent clients for warm-up + duration; return what the measured window saw."""
    procs = min(config.client_procs, clients)
    start = time.time() + 0.5 + config.warmup  # the measured window, in wall-clock time shared by processes
    window = (start, start + config.duration)
    results: multiprocessing.Queue = multiprocessing.Queue()
    processes = []
    for p in range(procs):
        threads = clients // procs + (1 if p < clients % procs else 0)
        process = multiprocessing.Process(
            target=_client_process,
            args=(seed_base + p * 1000, threads, address, token, fixtures, window, results, release),
            daemon=True,
        )
        process.start()
        processes.append(process)
    time.sleep(max(0.0, window[0] - time.time()))
    cpu_start = cpu_probe()

    def window_over(timeout: float) -> bool:
        time.sleep(max(0.0, min(timeout, window[1] - time.time())))
        return time.time() >= window[1]

    cpu_end = cpu_watch(cpu_probe, window_over)
    tally = Tally(cpu=cpu_spent(cpu_start, cpu_end))
    tally.cpu["clients"] = 0.0
    for _ in processes:
        latencies, errors, statuses, samples, cpu = results.get(timeout=config.warmup + config.duration + 180)
        tally.cpu["clients"] += cpu
        tally.latencies += latencies
        tally.errors += errors
        for key, count in statuses.items():
            tally.statuses[key] = tally.statuses.get(key, 0) + count
        tally.samples += [sample for sample in samples if sample not in tally.samples][
            : 3 - len(tally.samples)
        ]
    for process in processes:
        process.join(timeout=10)
    return tally


def _percentile(ordered: list[float], fraction: float) -> float | None:
    """Nearest-rank percentile of sorted values; None when there are none (JSON has no NaN)."""
    if not ordered:
        return None
    return round(ordered[min(len(ordered) - 1, int(fraction * len(ordered)))], 1)


def case_results(case: str, tally: Tally, duration: float, *, released: bool = False) -> Iterator[dict]:
    latencies_ms = sorted(latency * 1000 for latency in tally.latencies)
    orders_per_s = round(len(latencies_ms) / duration, 1)
    rate_metric = "released_orders_per_s" if released else "orders_per_s"
    yield {"case": case, "metric": rate_metric, "value": orders_per_s, "unit": "orders/s"}
    yield {"case": case, "metric": "p50_ms", "value": _percentile(latencies_ms, 0.5), "unit": "ms"}
    yield {"case": case, "metric": "p99_ms", "value": _percentile(latencies_ms, 0.99), "unit": "ms"}
    yield {"case": case, "metric": "errors", "value": tally.errors, "unit": "count"}
    # CPU per order: what the figures above cost, steadier than them on a machine shared with other work.
    for key in ("server", "db"):
        if latencies_ms and tally.cpu.get(key):  # "db" is 0 when PostgreSQL runs on another machine
            value = round(1000 * tally.cpu[key] / len(latencies_ms), 1)
            yield {"case": case, "metric": f"{key}_cpu_ms_per_order", "value": value, "unit": "ms"}
    if not latencies_ms:
        yield {"case": case, "error": f"no order went through; failures: {tally.statuses}"}


# --- the bench ----------------------------------------------------------------------------------------------
def run(*, quick: bool = False) -> Iterator[dict]:
    config = Config.from_env(quick=quick)
    log.info(
        "config: workers=%s class=%s threads=%s clients=%s client_procs=%s duration=%ss warmup=%ss",
        config.workers,
        config.worker_class,
        config.threads,
        config.clients,
        config.client_procs,
        config.duration,
        config.warmup,
    )
    config.database_url = recreate_database(config.database_url)
    with tempfile.TemporaryDirectory(prefix="orderbridge-bench-") as var_dir:
        env = django_env(config, var_dir)
        (Path(var_dir) / "static").mkdir()  # STATIC_ROOT: whitenoise warns in every worker without it
        manage(env, "migrate", "--noinput", "--verbosity=0")
        code = "from tests.bench.intake import create_fixtures; create_fixtures()"
        fixtures = json.loads(manage(env, "shell", "--no-startup", "-c", code).strip().splitlines()[-1])
        token = fixtures.pop("token")
        log.info("fixtures: %s customers, %s products", len(fixtures["customers"]), len(fixtures["skus"]))

        import psycopg

        with (
            gunicorn(config, env, Path(var_dir) / "gunicorn.log") as server,
            psycopg.connect(config.database_url, autocommit=True) as probe_conn,
        ):
            address = server["address"]
            cpu_probe = functools.partial(cpu_usage, probe_conn, server["pid"])
            cases = [(f"c{clients}", clients, False) for clients in config.clients]
            cases += [(f"release_c{clients}", clients, True) for clients in config.release_clients]
            for index, (case, clients, release) in enumerate(cases):
                seed_base = (index + 1) * 100_000
                tally = drive(config, clients, address, token, fixtures, seed_base, cpu_probe, release)
                log.info(
                    "%s: %s orders in %ss, errors %s %s; CPU s in window: %s (load %s)",
                    case,
                    len(tally.latencies),
                    config.duration,
                    tally.errors,
                    tally.statuses or "",
                    {key: round(value, 2) for key, value in tally.cpu.items()},
                    " ".join(f"{x:.1f}" for x in os.getloadavg()),
                )
                for sample in tally.samples:
                    log.info("%s error sample: %s", case, sample)
                server["failed"] = server["failed"] or bool(tally.errors)
                yield from case_results(case, tally, config.duration, released=release)

    counts = count_rows(config.database_url)
    log.info("rows: %s", counts)
    if counts["orders"]:
        history = counts["order_history"] + counts["line_history"]
        yield {
            "case": "all",
            "metric": "history_rows_per_order",
            "value": round(history / counts["orders"], 2),
            "unit": "rows/order",
        }
        yield {
            "case": "all",
            "metric": "outbox_rows_per_order",
            "value": round(counts["outbox"] / counts["orders"], 2),
            "unit": "rows/order",
        }
    if counts["released"]:
        yield {
            "case": "all",
            "metric": "work_orders_per_released_order",
            "value": round(counts["work_orders"] / counts["released"], 2),
            "unit": "work orders/order",
        }
