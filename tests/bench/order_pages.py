"""Order pages bench: the order list and one order's page against 100,000 orders and about a million
history rows on PostgreSQL (the dashboard bench's data).

Usage:
    python -m tests.bench.run --bench order_pages [--quick]

What it does:
 1. creates a database of its own, named for this run (tests/bench/databases.py: two people running it
    against one server never meet), runs `manage.py migrate` and seeds it with
    the dashboard bench's SQL (500 customers, N orders in every status over the past year, one line
    each, 10 history rows per order); it drops that database at the end, and no other;
 2. in a `manage.py shell` process, logs a planner (who sees every order) and a sales representative in
    and GETs, through Django's test client: /orders/ (first page, newest first), /orders/?page=2000 (deep),
    /orders/?q=Bench customer 42 (search), /orders/?status=released (filter), and /orders/<number>/ for
    random orders.

Metrics (case orders100k, or orders5k with --quick): list_p95_ms, list_p50_ms (first page),
deep_page_p95_ms, search_p95_ms, filter_p95_ms, order_page_p95_ms, order_page_p50_ms (wall-clock), and
<case>_cpu_p50_ms / <case>_cpu_p95_ms for list, deep, search, filter, sales, order: the CPU one request took
in this process plus its PostgreSQL backend (/proc, local server only) — steadier than wall-clock on a
shared machine; list_queries, order_page_queries. Goals (issue 20): list p95 < 150 ms, order page p95
< 100 ms on a quiet machine.

Environment: BENCH_ORDER_PAGES_DATABASE_URL (postgres://postgres@127.0.0.1:5432/orderbridge_bench_pages),
BENCH_ORDER_PAGES_ORDERS (100000; --quick 5000), BENCH_ORDER_PAGES_REQUESTS (30; --quick 5),
BENCH_ORDER_PAGES_REUSE=<full database URL>: measure on a database a previous run kept
(BENCH_KEEP_DATABASE=1 keeps it and logs its name) without seeding it again.
"""

from __future__ import annotations

import json
import logging
import os
import random
import time
from collections.abc import Iterator
from typing import Any

from tests.bench.dashboard import PLANNER, backend_cpu, percentile, seed
from tests.bench.intake import BenchError, recreate_database, shell_in_database

log = logging.getLogger("bench.order_pages")

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/orderbridge_bench_pages"
SALES = "bench-sales"


def measure(requests: int) -> None:
    """Run inside `manage.py shell`: time the order pages through the test client, print JSON."""
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from orders.models import SalesOrder

    users = get_user_model().objects
    planner, sales = Client(), Client()
    planner.force_login(users.get(username=PLANNER))
    sales.force_login(users.get(username=SALES))

    cpu: dict[str, list[float]] = {}

    def timed(client: Client, path: str, params: dict | None = None, case: str = "") -> float:
        # CPU too, steadier than wall-clock on a shared machine: this process, and the PostgreSQL backend
        # serving its connection (from /proc: same host only; parallel query workers not counted).
        connection.ensure_connection()
        backend = connection.connection.info.backend_pid
        db_started, app_started = backend_cpu(backend), time.process_time()
        started = time.perf_counter()
        response = client.get(path, params or {})
        elapsed = (time.perf_counter() - started) * 1000
        app_used, db_used = time.process_time() - app_started, backend_cpu(backend)
        if response.status_code != 200:
            raise BenchError(f"GET {path} {params} answered {response.status_code}")
        if case and db_started is not None and db_used is not None:
            cpu.setdefault(case, []).append((app_used + db_used - db_started) * 1000)
        return elapsed

    numbers = list(SalesOrder.objects.order_by("?").values_list("number", flat=True)[: requests * 2])
    rng = random.Random(7)
    timed(planner, "/orders/")  # warm-up: connections, templates, statistics
    timed(planner, f"/orders/{numbers[0]}/")
    cases: dict[str, list[float]] = {
        name: [] for name in ("list", "deep", "search", "filter", "sales", "order")
    }
    for index in range(requests):
        cases["list"].append(timed(planner, "/orders/", case="list"))
        cases["deep"].append(timed(planner, "/orders/", {"page": 2000}, case="deep"))
        search = {"q": f"Bench customer {rng.randint(1, 500)}"}
        cases["search"].append(timed(planner, "/orders/", search, case="search"))
        cases["filter"].append(timed(planner, "/orders/", {"status": "released"}, case="filter"))
        cases["sales"].append(timed(sales, "/orders/", case="sales"))
        cases["order"].append(timed(planner, f"/orders/{numbers[index]}/", case="order"))
    result: dict[str, Any] = {"timings": cases, "cpu": cpu}
    with CaptureQueriesContext(connection) as queries:
        timed(planner, "/orders/")
    result["list_queries"] = len(queries.captured_queries)
    with CaptureQueriesContext(connection) as queries:
        timed(planner, f"/orders/{numbers[-1]}/")
    result["order_page_queries"] = len(queries.captured_queries)
    print(json.dumps(result))


def run(*, quick: bool = False) -> Iterator[dict]:
    orders = int(os.environ.get("BENCH_ORDER_PAGES_ORDERS", "5000" if quick else "100000"))
    requests = int(os.environ.get("BENCH_ORDER_PAGES_REQUESTS", "5" if quick else "30"))
    reuse = os.environ.get("BENCH_ORDER_PAGES_REUSE", "")
    # A run's own database (dropped at its end; BENCH_KEEP_DATABASE=1 keeps it to measure again with REUSE).
    url = reuse or recreate_database(os.environ.get("BENCH_ORDER_PAGES_DATABASE_URL", DEFAULT_DATABASE_URL))
    case = f"orders{orders // 1000}k"
    result = shell_in_database(
        url,
        f"from tests.bench.order_pages import measure; measure({requests})",
        prepare=None if reuse else (lambda created: seed(created, orders=orders)),
    )
    timings = result["timings"]
    log.info("timings (ms): %s", {k: [round(v) for v in vs] for k, vs in timings.items()})
    log.info("load average while measuring: %s", " ".join(f"{x:.1f}" for x in os.getloadavg()))

    def metric(name: str, value: float, unit: str = "ms") -> dict:
        return {"case": case, "metric": name, "value": value, "unit": unit}

    yield metric("list_p95_ms", percentile(timings["list"], 0.95))
    yield metric("list_p50_ms", percentile(timings["list"], 0.5))
    yield metric("deep_page_p95_ms", percentile(timings["deep"], 0.95))
    yield metric("search_p95_ms", percentile(timings["search"], 0.95))
    yield metric("filter_p95_ms", percentile(timings["filter"], 0.95))
    yield metric("sales_list_p95_ms", percentile(timings["sales"], 0.95))
    yield metric("order_page_p95_ms", percentile(timings["order"], 0.95))
    yield metric("order_page_p50_ms", percentile(timings["order"], 0.5))
    for name, values in result["cpu"].items():  # app + PostgreSQL CPU per request
        yield metric(f"{name}_cpu_p50_ms", percentile(values, 0.5))
        yield metric(f"{name}_cpu_p95_ms", percentile(values, 0.95))
    yield metric("list_queries", result["list_queries"], "queries")
    yield metric("order_page_queries", result["order_page_queries"], "queries")
