# ruff: noqa: E501  (the seed SQL reads better unwrapped)
"""Dashboard bench: the KPI page against 100,000 orders and about a million history rows on PostgreSQL.

Usage:
    python -m tests.bench.run --bench dashboard [--quick]

What it does:
 1. creates a database of its own (unique per run, dropped at its end: databases.py) from
    BENCH_DASHBOARD_DATABASE_URL,
    runs `manage.py migrate`;
 2. seeds it in the database itself (INSERT ... SELECT generate_series, no services: the point is the
    read side): 500 customers of the three tiers, 3 product families, 30 products, N orders spread over
    the past year in every status with their timestamps, one line each, 10 history rows per order, one
    outbox event, delivery and delivery attempt per order, a work order with one operation and one
    progress report per started order; then VACUUM ANALYZE (a live database is kept vacuumed by
    autovacuum; a freshly bulk-loaded one is not until autovacuum gets to it, which would make the
    index-only scans the dashboard relies on depend on when the bench runs);
 2b. seeds a current plan of BENCH_DASHBOARD_PLAN_OPERATIONS (10,000) scheduled operations on 12 work centers
    (24 lines) over 8 weeks, for the plan page;
 3. in a `manage.py shell` process, logs a planner in and GETs /production/kpis/ (default 13-week period,
    then filtered by tier) repeatedly through Django's test client: uncached (KPI_CACHE_SECONDS=0), and
    with the shared cache on (the file cache of this run), after one request that fills it; then counts
    the queries of one uncached page and times each section's build alone (logged, median of 3).

Metrics (case orders100k, or orders5k with --quick):
 - p95_ms: the UNCACHED page, the headline (what the first viewer of a filter waits for, and every
   viewer once the cache's 60 s are over: a cache must not hide a slow page);
 - uncached_p95_ms (same figure, kept for comparison with older runs), uncached_p50_ms;
 - filtered_uncached_p95_ms, filtered_uncached_p50_ms: the page filtered by tier (VIP), uncached;
 - cached_p95_ms: the page served from the cache;
 - uncached_app_cpu_ms, uncached_db_cpu_ms: CPU per uncached page of the Django process and of its
   PostgreSQL backend (/proc, so only with a local server; parallel query workers are not counted):
   steadier than wall-clock when the machine is shared;
 - queries_per_page: database queries of one uncached page (session and user included);
 - history_rows;
 - case plan10k: plan_day_p95_ms, plan_week_p95_ms (and p50), plan_*_queries, plan_*_html_kb: the planner's
   plan page (/production/) at day and week zoom with the seeded plan; plan_*_app_cpu_ms, plan_*_db_cpu_ms:
   CPU per page of the Django process and of its PostgreSQL backend.

Environment: BENCH_DASHBOARD_DATABASE_URL (postgres://postgres@127.0.0.1:5432/orderbridge_bench_dashboard),
BENCH_DASHBOARD_ORDERS (100000; --quick 5000), BENCH_DASHBOARD_REQUESTS (20; --quick 5),
BENCH_DASHBOARD_REUSE=1: measure again on the database a previous run seeded (no drop, no re-seeding,
which takes minutes at 100k orders; `migrate` still runs, so new indexes are built on it) — the way to
compare code before and after a change on the same data, back to back.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tests.bench.intake import BenchError, manage, recreate_database

log = logging.getLogger("bench.dashboard")

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/orderbridge_bench_dashboard"
PLANNER = "bench-planner"
HISTORY_PER_ORDER = 10

SEED_SQL = """
INSERT INTO auth_user (password, is_superuser, username, first_name, last_name, email, is_staff, is_active,
                       date_joined)
VALUES ('!', false, 'bench-sales', '', '', '', false, true, now()),
       ('!', false, %(planner)s, '', '', '', false, true, now());
INSERT INTO auth_user_groups (user_id, group_id)
SELECT u.id, g.id FROM auth_user u JOIN auth_group g ON (u.username, g.name) IN
    (('bench-sales', 'sales'), (%(planner)s, 'planner'));

INSERT INTO orders_customer (code, name, tier, crm_id, email, phone, address, language, is_active, created_at,
                             updated_at)
SELECT 'BC' || lpad(i::text, 4, '0'), 'Bench customer ' || i,
       CASE WHEN i %% 10 = 0 THEN 'vip' WHEN i %% 4 = 0 THEN 'key' ELSE 'standard' END,
       '', '', '', '', 'en', true, now(), now()
FROM generate_series(1, 500) AS i;

INSERT INTO orders_productfamily (code, name, description, spec_schema)
SELECT 'FAM' || i, 'Family ' || i, '', '{"type": "object", "properties": {}}'::jsonb FROM generate_series(1, 3) i;

INSERT INTO orders_product (sku, name, unit, is_active, family_id)
SELECT 'BP-' || lpad(i::text, 3, '0'), 'Bench panel ' || i, 'pcs', true,
       (SELECT min(id) FROM orders_productfamily) + (i %% 3)
FROM generate_series(1, 30) i;

-- Orders: created over the past year; status by i mod 10 (60%% shipped).
INSERT INTO orders_salesorder (number, crm_id, customer_po, requested_date, promised_date, priority,
    priority_overridden, priority_reason, remarks, status, status_before_hold, revision, version, created_at,
    updated_at, confirmed_at, released_at, completed_at, shipped_at, customer_id, owner_id, external_ref,
    production_started_at)
SELECT 'SO-B-' || lpad(i::text, 7, '0'), '', 'PO-' || i, (c + interval '14 days')::date,
       (c + interval '14 days')::date, 2, false, '', '',
       CASE WHEN i %% 10 < 6 THEN 'shipped' WHEN i %% 10 = 6 THEN 'in_production'
            WHEN i %% 10 = 7 THEN 'released' WHEN i %% 10 = 8 THEN 'confirmed' ELSE 'draft' END,
       '', 1, 5, c, c,
       CASE WHEN i %% 10 < 9 THEN c + interval '1 day' END,
       CASE WHEN i %% 10 < 8 THEN c + interval '2 days' END,
       CASE WHEN i %% 10 < 6 THEN c + ((i %% 9) + 8) * interval '1 day' END,
       CASE WHEN i %% 10 < 6 THEN c + ((i %% 9) + (i %% 7) + 9) * interval '1 day' END,
       (SELECT min(id) FROM orders_customer) + (i * 7 %% 500), (SELECT min(id) FROM auth_user), '',
       CASE WHEN i %% 10 < 7 THEN c + ((i %% 9) + 2) * interval '1 day' END
FROM (SELECT i, now() - ((i * 7919) %% 380) * interval '1 day' - (i %% 24) * interval '1 hour' AS c
      FROM generate_series(1, %(orders)s) AS i) AS s;

INSERT INTO orders_orderline (line_no, quantity, unit, spec_values, due_date, product_id, order_id)
SELECT 1, 10 + o.id %% 90, 'pcs', '{}'::jsonb, o.requested_date,
       (SELECT min(id) FROM orders_product) + (o.id %% 30), o.id
FROM orders_salesorder o;

INSERT INTO orders_historicalsalesorder (id, number, crm_id, customer_po, requested_date, promised_date, priority,
    priority_overridden, priority_reason, remarks, status, status_before_hold, revision, version, created_at,
    confirmed_at, released_at, completed_at, shipped_at, history_date, history_change_reason, history_type,
    customer_id, history_user_id, owner_id, external_ref, production_started_at)
SELECT o.id, o.number, o.crm_id, o.customer_po, o.requested_date, o.promised_date, o.priority,
       o.priority_overridden, o.priority_reason, o.remarks, o.status, '', o.revision, h, o.created_at,
       o.confirmed_at, o.released_at, o.completed_at, o.shipped_at, o.created_at + h * interval '1 hour',
       'bench', CASE WHEN h = 1 THEN '+' ELSE '~' END, o.customer_id, o.owner_id, o.owner_id, '',
       o.production_started_at
FROM orders_salesorder o CROSS JOIN generate_series(1, %(history)s) AS h;

INSERT INTO crm_sync_externalsystem (name, slug, kind, base_url, events_path, bearer_token, signing_secret, format,
    event_types, field_mapping, is_enabled, is_paused, connect_timeout, read_timeout, created_at, updated_at)
VALUES ('Bench MES', 'bench-mes', 'mes', 'http://127.0.0.1:9', '/events', '', '', 'json', '[]', '{}', true, true,
        1, 1, now(), now());

INSERT INTO crm_sync_outboxevent (id, type, source, subject, sequence, time, data, actor_id, reason, origin,
                                  state, created_at, order_id)
SELECT gen_random_uuid(), 'order.created', 'urn:bench', o.number, 1, o.created_at, '{}'::jsonb, NULL, '', '',
       CASE WHEN o.id %% 50 = 0 THEN 'pending' ELSE 'delivered' END, o.created_at, o.id
FROM orders_salesorder o;

INSERT INTO crm_sync_delivery (sequence, state, attempts, next_attempt_at, claimed_until, last_error, delivered_at,
    acknowledged_at, replayed_at, attempts_before_replay, created_at, updated_at, event_id, order_id, system_id)
SELECT 1, CASE WHEN e.state = 'pending' THEN (CASE WHEN e.order_id %% 100 = 0 THEN 'dead' ELSE 'failed' END)
               ELSE 'delivered' END,
       1, e.created_at, NULL, '', CASE WHEN e.state = 'delivered' THEN e.created_at + interval '2 seconds' END,
       NULL, NULL, 0, e.created_at, e.created_at, e.id, e.order_id, (SELECT min(id) FROM crm_sync_externalsystem)
FROM crm_sync_outboxevent e;

INSERT INTO crm_sync_deliveryattempt (number, started_at, status_code, latency_ms, error, response_excerpt,
                                      delivery_id)
SELECT 1, d.created_at + interval '1 second', CASE WHEN d.state = 'delivered' THEN 200 ELSE 503 END,
       20 + d.id %% 400, '', '', d.id
FROM crm_sync_delivery d;

INSERT INTO production_workcenter (code, name, units, efficiency, is_active, updated_at)
VALUES ('PRESS', 'Press', 2, 1.0, true, now());

INSERT INTO production_workorder (number, order_revision, quantity, routing_missing, status, status_before_hold,
    percent_complete, good_quantity, created_at, released_at, completed_at, order_id, order_line_id, product_id,
    mes_id)
SELECT o.number || '-01', 1, l.quantity, false,
       CASE WHEN o.status = 'in_production' THEN 'in_progress' ELSE 'completed' END, '', 100, l.quantity,
       o.released_at, o.released_at, o.completed_at, o.id, l.id, l.product_id, ''
FROM orders_salesorder o JOIN orders_orderline l ON l.order_id = o.id
WHERE o.production_started_at IS NOT NULL;

INSERT INTO production_workorderoperation (sequence, name, planned_minutes, status, actual_start, actual_end,
    good_quantity, scrap_quantity, rework_quantity, work_center_id, work_order_id, mes_id)
SELECT 10, 'Press', 60, 'completed', w.released_at, w.completed_at, w.quantity, w.id %% 3, w.id %% 5,
       (SELECT min(id) FROM production_workcenter), w.id, ''
FROM production_workorder w;

INSERT INTO production_progressreport (message_id, good_quantity, scrap_quantity, rework_quantity, operator,
    reported_at, operation_finished, created_at, created_by_id, operation_id)
SELECT 'bench-' || op.id, op.good_quantity, op.scrap_quantity, op.rework_quantity, '',
       coalesce(op.actual_end, op.actual_start + interval '1 day'), true, now(), (SELECT min(id) FROM auth_user),
       op.id
FROM production_workorderoperation op;
"""

# The plan page's case: 12 work centers (24 lines, two shifts on weekdays) and a current plan of
# %(operations)s scheduled operations spread over 8 weeks from now (operations of started work orders,
# reused in turn when there are fewer: the page reads the entries, not the operations' states), 5 %% of
# the orders in it at risk.
PLAN_SQL = """
INSERT INTO production_workcenter (code, name, units, efficiency, is_active, updated_at)
SELECT 'WC' || lpad(i::text, 2, '0'), 'Work center ' || i, 1 + i %% 3, 1.0, true, now()
FROM generate_series(1, 11) AS i;

INSERT INTO production_shift (work_center_id, weekday, start, "end")
SELECT w.id, d, '06:00', '22:00' FROM production_workcenter w CROSS JOIN generate_series(0, 4) AS d;

INSERT INTO production_schedule (version, is_current, trigger, method, engine, created_at, horizon_start,
    weighted_tardiness, makespan_end, work_orders, operations, late_orders, on_time_rate, solve_seconds,
    generation, details)
VALUES (1, true, 'bench', 'fast', 'bench', now(), date_trunc('hour', now()), 0, now() + interval '8 weeks',
        %(operations)s, %(operations)s, 0, 0.95, 0, 0, '{}'::jsonb);

WITH ops AS (
    SELECT op.id, row_number() OVER (ORDER BY op.id) - 1 AS n, count(*) OVER () AS total
    FROM production_workorderoperation op JOIN production_workorder w ON w.id = op.work_order_id
    WHERE w.status = 'in_progress'
), centers AS (
    SELECT id, units, row_number() OVER (ORDER BY code) - 1 AS n FROM production_workcenter
), slots AS (
    -- operation i: work center i mod 12, a line of it, back to back on that line (90 min each, 30 min gap)
    SELECT i, c.id AS work_center_id, (i / 12) %% c.units AS unit,
           date_trunc('hour', now()) + ((i / 12) / c.units) * interval '2 hours' AS start
    FROM generate_series(0, %(operations)s - 1) AS i JOIN centers c ON c.n = i %% 12
)
INSERT INTO production_scheduleentry (schedule_id, operation_id, work_center_id, unit, start, "end", frozen)
SELECT (SELECT id FROM production_schedule WHERE is_current), o.id, s.work_center_id, s.unit, s.start,
       s.start + interval '90 minutes', s.i < 24
FROM slots s JOIN ops o ON o.n = s.i %% o.total;

INSERT INTO production_orderprojection (schedule_id, order_id, projected_completion, promised_date, at_risk,
    tardiness_minutes, weight, why, why_detail)
SELECT DISTINCT ON (w.order_id) e.schedule_id, w.order_id, e."end", (e."end" - interval '1 day')::date,
       w.order_id %% 20 = 0, CASE WHEN w.order_id %% 20 = 0 THEN 600 ELSE 0 END, 2, '', '{}'::jsonb
FROM production_scheduleentry e JOIN production_workorderoperation op ON op.id = e.operation_id
     JOIN production_workorder w ON w.id = op.work_order_id
ORDER BY w.order_id, e."end" DESC;
"""

COUNT_SQL = {
    "orders": "SELECT count(*) FROM orders_salesorder",
    "order_history": "SELECT count(*) FROM orders_historicalsalesorder",
    "deliveries": "SELECT count(*) FROM crm_sync_delivery",
    "progress_reports": "SELECT count(*) FROM production_progressreport",
    "scheduled_operations": "SELECT count(*) FROM production_scheduleentry",
}


def seed(url: str, *, orders: int, operations: int = 10_000) -> dict[str, int]:
    import psycopg

    started = time.perf_counter()
    with psycopg.connect(url, autocommit=False) as conn:
        conn.execute(
            SEED_SQL % {"orders": int(orders), "history": HISTORY_PER_ORDER, "planner": f"'{PLANNER}'"}
        )
        conn.execute(PLAN_SQL % {"operations": int(operations)})
        conn.commit()
        conn.autocommit = True
        conn.execute("VACUUM ANALYZE")
        counts = {name: conn.execute(sql).fetchone()[0] for name, sql in COUNT_SQL.items()}
    log.info("seeded in %.1f s: %s", time.perf_counter() - started, counts)
    return counts


def count(url: str) -> dict[str, int]:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        return {name: conn.execute(sql).fetchone()[0] for name, sql in COUNT_SQL.items()}


def measure(requests: int) -> None:
    """Run inside `manage.py shell`: time the dashboard through the test client, print the figures as JSON."""
    from django.contrib.auth import get_user_model
    from django.core.cache import cache
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext, override_settings

    client = Client()
    client.force_login(get_user_model().objects.get(username=PLANNER))

    def timed(path: str, params: dict) -> float:
        started = time.perf_counter()
        response = client.get(path, params)
        elapsed = (time.perf_counter() - started) * 1000
        if response.status_code != 200:
            raise BenchError(f"GET {path} answered {response.status_code}")
        return elapsed

    result: dict[str, Any] = {"uncached": [], "filtered": [], "cached": []}
    with override_settings(KPI_CACHE_SECONDS=0):
        timed("/production/kpis/", {})  # warm-up: connections, templates, statistics
        # CPU per page, steadier than wall-clock on a shared machine: this process, and the PostgreSQL
        # backend serving its connection (read from /proc: same host only; parallel workers not counted).
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            backend = cursor.fetchone()[0]
        app_cpu, db_cpu = time.process_time(), backend_cpu(backend)
        for _ in range(requests):
            result["uncached"].append(timed("/production/kpis/", {}))
        result["app_cpu_ms"] = (time.process_time() - app_cpu) * 1000 / requests
        db_used = backend_cpu(backend)
        result["db_cpu_ms"] = (db_used - db_cpu) * 1000 / requests if db_used is not None else None
        for _ in range(requests):
            result["filtered"].append(timed("/production/kpis/", {"tier": "vip"}))
    cache.clear()
    timed("/production/kpis/", {})  # fills the cache (that miss costs what an uncached request costs)
    for _ in range(requests):
        result["cached"].append(timed("/production/kpis/", {}))
    with override_settings(KPI_CACHE_SECONDS=0), CaptureQueriesContext(connection) as queries:
        timed("/production/kpis/", {})
    result["queries"] = len(queries.captured_queries)
    result["sections"] = _section_costs()
    result.update(_plan_page(timed, client, requests))
    print(json.dumps(result))


def _plan_page(timed: Any, client: Any, requests: int) -> dict[str, Any]:
    """The planner's plan page (production:planner) at day and week zoom: timings, queries, HTML size."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    result: dict[str, Any] = {}
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        backend = cursor.fetchone()[0]
    for zoom in ("day", "week"):
        timed("/production/", {"zoom": zoom})  # warm-up
        app_cpu, db_cpu = time.process_time(), backend_cpu(backend)
        result[f"plan_{zoom}"] = [timed("/production/", {"zoom": zoom}) for _ in range(requests)]
        # CPU per page, steadier than wall-clock on a shared machine (as for the KPI page).
        result[f"plan_{zoom}_app_cpu_ms"] = (time.process_time() - app_cpu) * 1000 / requests
        db_used = backend_cpu(backend)
        result[f"plan_{zoom}_db_cpu_ms"] = (
            (db_used - db_cpu) * 1000 / requests if db_used is not None else None
        )
        with CaptureQueriesContext(connection) as queries:
            response = client.get("/production/", {"zoom": zoom})
        result[f"plan_{zoom}_queries"] = len(queries.captured_queries)
        result[f"plan_{zoom}_kb"] = round(len(response.content) / 1024, 1)
    return result


def backend_cpu(pid: int) -> float | None:
    """User + system CPU seconds of a local process, or None when /proc does not show it."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _section_costs() -> dict[str, float]:
    """Milliseconds each dashboard section takes to build alone (median of 3), default filters."""
    from django.utils import translation

    from production import kpis

    translation.activate("en")
    filters, _errors = kpis.parse_filters({})
    costs = {}
    for provider in kpis.providers():
        runs = []
        for _ in range(3):
            started = time.perf_counter()
            provider.build(filters)
            runs.append((time.perf_counter() - started) * 1000)
        costs[provider.key] = round(sorted(runs)[1], 1)
    return costs


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    position = (len(ordered) - 1) * fraction
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return round(ordered[low] + (ordered[high] - ordered[low]) * (position - low), 1)


def run(*, quick: bool = False) -> Iterator[dict]:
    url = os.environ.get("BENCH_DASHBOARD_DATABASE_URL", DEFAULT_DATABASE_URL)
    orders = int(os.environ.get("BENCH_DASHBOARD_ORDERS", "5000" if quick else "100000"))
    requests = int(os.environ.get("BENCH_DASHBOARD_REQUESTS", "5" if quick else "20"))
    case = f"orders{orders // 1000}k"
    # BENCH_DASHBOARD_REUSE=1 measures again on the database a previous run seeded (no re-seeding).
    reuse = os.environ.get("BENCH_DASHBOARD_REUSE") == "1"
    if not reuse:
        url = recreate_database(url)
    with tempfile.TemporaryDirectory(prefix="orderbridge-bench-") as var_dir:
        env = dict(os.environ)
        env.update(
            ORDERBRIDGE_ENV="development",
            DEBUG="false",
            DATABASE_URL=url,
            ORDERBRIDGE_VAR_DIR=var_dir,  # the file cache of this run only
            LOG_LEVEL="WARNING",
        )
        (Path(var_dir) / "static").mkdir()
        manage(env, "migrate", "--noinput", "--verbosity=0")
        operations = int(os.environ.get("BENCH_DASHBOARD_PLAN_OPERATIONS", "10000"))
        counts = count(url) if reuse else seed(url, orders=orders, operations=operations)
        code = f"from tests.bench.dashboard import measure; measure({requests})"
        timings = json.loads(manage(env, "shell", "--no-startup", "-c", code).strip().splitlines()[-1])
    log.info(
        "timings (ms): %s",
        {k: [round(v) for v in vs] for k, vs in timings.items() if k in ("uncached", "filtered", "cached")},
    )
    log.info("queries per uncached page: %s; section build (ms): %s", timings["queries"], timings["sections"])
    log.info(
        "plan page (ms): day %s; week %s",
        [round(v) for v in timings["plan_day"]],
        [round(v) for v in timings["plan_week"]],
    )
    log.info("load average while measuring: %s", " ".join(f"{x:.1f}" for x in os.getloadavg()))

    def metric(name: str, value: float, unit: str = "ms") -> dict:
        return {"case": case, "metric": name, "value": value, "unit": unit}

    yield metric("p95_ms", percentile(timings["uncached"], 0.95))
    yield metric("uncached_p95_ms", percentile(timings["uncached"], 0.95))
    yield metric("uncached_p50_ms", percentile(timings["uncached"], 0.5))
    yield metric("filtered_uncached_p95_ms", percentile(timings["filtered"], 0.95))
    yield metric("filtered_uncached_p50_ms", percentile(timings["filtered"], 0.5))
    yield metric("cached_p95_ms", percentile(timings["cached"], 0.95))
    yield metric("uncached_app_cpu_ms", round(timings["app_cpu_ms"], 1))
    if timings["db_cpu_ms"] is not None:
        yield metric("uncached_db_cpu_ms", round(timings["db_cpu_ms"], 1))
    yield metric("queries_per_page", timings["queries"], "queries")
    # The plan page with the seeded plan (BENCH_DASHBOARD_PLAN_OPERATIONS scheduled operations).
    plan_case = f"plan{counts['scheduled_operations'] // 1000}k"
    for zoom in ("day", "week"):
        figures = [
            (f"plan_{zoom}_p95_ms", percentile(timings[f"plan_{zoom}"], 0.95), "ms"),
            (f"plan_{zoom}_p50_ms", percentile(timings[f"plan_{zoom}"], 0.5), "ms"),
            (f"plan_{zoom}_app_cpu_ms", round(timings[f"plan_{zoom}_app_cpu_ms"], 1), "ms"),
            (f"plan_{zoom}_queries", timings[f"plan_{zoom}_queries"], "queries"),
            (f"plan_{zoom}_html_kb", timings[f"plan_{zoom}_kb"], "KB"),
        ]
        if timings[f"plan_{zoom}_db_cpu_ms"] is not None:
            figures.append((f"plan_{zoom}_db_cpu_ms", round(timings[f"plan_{zoom}_db_cpu_ms"], 1), "ms"))
        for name, value, unit in figures:
            yield {"case": plan_case, "metric": name, "value": value, "unit": unit}
    yield metric("history_rows", counts["order_history"], "rows")
