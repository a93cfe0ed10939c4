"""Changes bench: change requests of mixed kinds applied to orders with work under way, to the MES
simulator's acknowledgement, on PostgreSQL + Redis with two Celery worker processes and gunicorn.

Usage:
    python -m tests.bench.run --bench changes [--quick]

What it does:
 1. creates a database of its own (unique per run, dropped at its end: databases.py) from
    BENCH_CHANGES_DATABASE_URL, migrates it, and
    makes the fixtures through the services: a product with a two-step routing and lots of 5, the MES
    simulator as an external system (B2MML, the demo's MES event types) with its service user;
 2. starts a private redis-server, the MES simulator (it acknowledges every message to /hooks/mes/ with its
    own ids, and makes nothing on its own), two `celery worker --pool=solo` processes (one also runs beat)
    and gunicorn (the MES's acknowledgements come in over HTTP);
 3. in one driver process: releases BENCH_CHANGES_COUNT / 2 orders and waits until the MES has acknowledged
    their work orders; reports part of the work done (the first lot 4 of 5 at its first operation, the
    second 2); then applies BENCH_CHANGES_COUNT change requests at BENCH_CHANGES_RATE per second, two per
    order in turn (hold → resume; quantity up → promised date; quantity down to stock → spec change with
    rework; quantity down scrapped → cancel; a line removed → quantity up), each created by sales, approved
    by a planner (and a production manager where the approval matrix asks) and applied; waits until every
    delivery to the MES is done and every change acknowledged (or BENCH_CHANGES_TIMEOUT).

Metrics (case r<rate>): applied and errors (change requests refused), offered_per_s, ack_p50_ms /
ack_p99_ms (change applied → the MES's acknowledgement recorded here, ChangeRequest.acknowledged_at -
applied_at), lost (applied changes the MES never received), unacknowledged (received, no acknowledgement
recorded when the bench stopped waiting), duplicated (our messages the MES applied more than once),
<stage>_p50_ms / _p99_ms of the acknowledgement (delivery_wait, mes_answer, ack_processing: see _ack_stages),
mes_consistent_ratio (work orders whose MES state equals ours after the drain, by reconciliation's own
comparison: presence, quantity, ISA-95 status) and drift_work_orders.

Environment (all optional):
    BENCH_CHANGES_DATABASE_URL  postgres://postgres@127.0.0.1:5432/orderbridge_bench_changes
    BENCH_CHANGES_COUNT         change requests (200; --quick 40)
    BENCH_CHANGES_RATE          change requests per second (10)
    BENCH_CHANGES_TIMEOUT       seconds to wait for the MES after the last change (60)
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import math
import os
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from pathlib import Path

import httpx

from tests.bench.intake import Config, gunicorn, manage, recreate_database
from tests.bench.sync import DEFAULT_QUEUE, DELIVERY_QUEUE, MES_SECRET, processes

log = logging.getLogger("bench.changes")

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/orderbridge_bench_changes"
MES_SLUG = "mes-bench"
SPEC = {"material": "steel", "thickness_mm": 2, "finish": "powder"}
RESULT = "BENCH-RESULT "
# The two changes each order gets, in turn: (op list, disposition) for the first, then the second.
PLANS = [
    ([{"op": "hold"}], ""),
    ([{"op": "resume"}], ""),
    ([{"op": "set_quantity", "line_no": 1, "quantity": "13"}], ""),
    ([{"op": "set_date", "field": "promised_date", "value": "+60"}], ""),
    ([{"op": "set_quantity", "line_no": 1, "quantity": "3"}], "stock"),
    ([{"op": "set_spec", "line_no": 1, "spec_values": {"finish": "anodised"}}], "rework"),
    ([{"op": "set_quantity", "line_no": 1, "quantity": "3"}], "scrap"),
    ([{"op": "cancel"}], "scrap"),
    ([{"op": "remove_line", "line_no": 2}], "scrap"),
    ([{"op": "set_quantity", "line_no": 1, "quantity": "12"}], ""),
]
KINDS = len(PLANS) // 2


def create_fixtures(mes_url: str, secret: str) -> None:
    """Run inside `manage.py shell`: users, master data and the MES as an external system."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    from crm_sync.management.commands.crm_sync_setup_demo import MES_EVENTS
    from crm_sync.models import ExternalSystem
    from orders import catalog
    from production import master_data
    from tests.bench.intake import SPEC_SCHEMA

    users = get_user_model().objects
    people = {}
    for username, group in (
        ("bench-admin", "admin"),
        ("bench-sales", "sales"),
        ("bench-planner", "planner"),
        ("bench-manager", "production_manager"),
        ("bench-mes", "production_manager"),
    ):
        people[username] = users.create_user(username, None, None)
        people[username].groups.add(Group.objects.get(name=group))
    admin = people["bench-admin"]
    catalog.customer_create(actor=admin, code="BENCH", name="Bench customer")
    family = catalog.product_family_create(actor=admin, code="BENCH", name="Bench", spec_schema=SPEC_SCHEMA)
    product = catalog.product_create(actor=admin, sku="BP-1", name="Bench panel", family=family)
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
        lot_size=Decimal(5),
        operations=[
            {
                "sequence": 10 * (i + 1),
                "name": center.code,
                "work_center": center,
                "setup_minutes": 5,
                "run_minutes_per_unit": 1,
            }
            for i, center in enumerate(centers)
        ],
    )
    ExternalSystem.objects.create(
        name="MES (bench)",
        slug=MES_SLUG,
        kind="mes",
        base_url=mes_url,
        signing_secret=secret,
        format="b2mml",
        event_types=MES_EVENTS,
        service_user=people["bench-mes"],
        connect_timeout=2,
        read_timeout=5,
    )
    print(json.dumps({"ok": True}))


def _wait(condition, *, timeout: float, what: str) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.5)
    log.warning("gave up waiting for %s", what)
    return False


def drive(mes_url: str, count: int, rate: float, timeout: float) -> None:
    """Run inside `manage.py shell`: the orders, the work under way, the changes, the figures (printed)."""
    from django.contrib.auth import get_user_model
    from django.db import connection

    from crm_sync.models import Delivery, ExternalSystem
    from orders import change_requests as crs
    from orders.models import ChangeRequest, Customer, Product, SalesOrder
    from orders.sales import order_create, transitions
    from production import work_orders
    from production.work_orders import WorkOrder

    users = {user.username: user for user in get_user_model().objects.all()}
    sales, planner, manager = users["bench-sales"], users["bench-planner"], users["bench-manager"]
    mes_bot = users["bench-mes"]
    system = ExternalSystem.objects.get(slug=MES_SLUG)
    customer = Customer.objects.get(code="BENCH")
    product = Product.objects.get(sku="BP-1")
    today = dt.date.today()

    orders_count = math.ceil(count / 2)
    orders: list[SalesOrder] = []
    for index in range(orders_count):
        lines = 2 if index % KINDS == KINDS - 1 else 1
        order = order_create(
            actor=sales,
            customer=customer,
            lines=[
                {"product": product.pk, "quantity": Decimal(10), "spec_values": SPEC} for _ in range(lines)
            ],
            requested_date=today + dt.timedelta(days=30),
            promised_date=today + dt.timedelta(days=35),
        )
        order = transitions.order_confirm(actor=sales, order=order)
        orders.append(transitions.order_release(actor=planner, order=order))
    ids = [order.pk for order in orders]

    def delivered() -> bool:
        return not Delivery.objects.filter(system=system).exclude(state=Delivery.State.DELIVERED).exists()

    def all_taken() -> bool:  # the MES acknowledged every work order with its own id
        return delivered() and not WorkOrder.objects.filter(order_id__in=ids, mes_id="").exists()

    _wait(all_taken, timeout=timeout, what="the MES to take the released work orders")
    for order in orders:  # work under way: each line's first lot 4 of 5 at its first operation, the second 2
        for index, work_order in enumerate(WorkOrder.objects.filter(order=order).order_by("number")):
            good = 4 if index % 2 == 0 else 2
            operation = work_order.operations.get(sequence=10)
            work_orders.progress_report_create(
                actor=mes_bot, operation=operation, message_id=f"wip-{operation.pk}", good_quantity=good
            )
    _wait(delivered, timeout=timeout, what="the progress events")

    # Each order's second change comes orders_count / rate seconds after its first.
    plan = [(ids[index % orders_count], index // orders_count) for index in range(count)]
    applied: list[int] = []
    errors: list[str] = []
    started: list[float] = []
    lock = threading.Lock()

    def apply_one(order_id: int, step: int) -> None:
        order = SalesOrder.objects.get(pk=order_id)
        changes, disposition = PLANS[2 * (ids.index(order_id) % KINDS) + step]
        changes = [
            {**change, "value": (today + dt.timedelta(days=60)).isoformat()}
            if change.get("value")
            else change
            for change in changes
        ]
        try:
            cr = crs.change_request_create(
                actor=sales,
                order=order,
                base_revision=order.revision,
                reason="Bench change",
                changes=changes,
                submit=True,
            )
            cr = crs.change_request_approve(actor=planner, change_request=cr, disposition=disposition)
            if cr.needs_manager:
                cr = crs.change_request_approve(actor=manager, change_request=cr, disposition=disposition)
            cr = crs.change_request_apply(actor=manager, change_request=cr)
        except Exception as exc:  # counted: the bench measures the path, it does not stop on one refusal
            with lock:
                errors.append(f"{changes[0]['op']}: {exc}")
        else:
            with lock:
                applied.append(cr.pk)
        finally:
            connection.close()

    begin = time.time()
    # A few threads keep the offered rate when one apply takes longer than the gap between two.
    with ThreadPoolExecutor(max_workers=4) as pool:
        for index, (order_id, step) in enumerate(plan):
            wait = begin + index / rate - time.time()
            if wait > 0:
                time.sleep(wait)
            started.append(time.time())
            pool.submit(apply_one, order_id, step)
    last_applied = time.time()

    def acknowledged() -> bool:
        waiting = ChangeRequest.objects.filter(pk__in=applied, acknowledged_at__isnull=True).exists()
        return delivered() and not waiting

    _wait(acknowledged, timeout=timeout, what="the MES's acknowledgements")
    if errors:  # on stderr, which the bench's log shows: what was refused, a few of each kind
        kinds: dict[str, list[str]] = {}
        for error in errors:
            kinds.setdefault(error.partition(":")[0], []).append(error)
        for examples in kinds.values():
            sys.stderr.write(f"refused ({len(examples)}): {examples[0]}\n")
    for result in figures(mes_url, system, ids, applied, errors, started, last_applied, rate):
        print(RESULT + json.dumps(result), flush=True)


def figures(mes_url, system, ids, applied, errors, started, last_applied, rate) -> Iterator[dict]:
    from crm_sync import reconciliation
    from orders.models import ChangeRequest, SalesOrder
    from production.work_orders import WorkOrder

    case = f"r{int(rate)}"
    received = httpx.get(f"{mes_url}/received", timeout=30).json()["received"]
    held = httpx.get(f"{mes_url}/orders", timeout=30).json()["orders"]
    taken: dict[str, int] = {}
    for item in received:
        body = item.get("body") or {}
        key = str(body.get("bod_id") or item["id"]) if isinstance(body, dict) else str(item["id"])
        taken[key] = taken.get(key, 0) + 1
    crs = list(ChangeRequest.objects.filter(pk__in=applied).values("pk", "applied_at", "acknowledged_at"))
    events = {
        pk: str(event_id)
        for pk, event_id in system.deliveries.filter(
            event__type="order.change_applied", event__data__change_request_id__in=applied
        ).values_list("event__data__change_request_id", "event_id")
    }
    lost = sum(1 for cr in crs if events.get(cr["pk"]) not in taken)
    latencies = sorted(
        (cr["acknowledged_at"] - cr["applied_at"]).total_seconds() * 1000
        for cr in crs
        if cr["acknowledged_at"] and cr["applied_at"]
    )
    total = consistent = drifting_orders = 0
    for order in SalesOrder.objects.filter(pk__in=ids):
        numbers = set(WorkOrder.objects.filter(order=order).values_list("number", flat=True))
        found = reconciliation.order_findings(system, order, held.get(order.number))
        drifting_orders += bool(found)
        total += len(numbers)
        if not any(finding.kind == "missing_there" and not finding.work_order for finding in found):
            consistent += len(numbers - {finding.work_order for finding in found})
    stages = _ack_stages(system, {pk: events.get(pk) for pk in applied}, crs)
    span = (started[-1] - started[0]) if len(started) > 1 else 0
    yield {"case": case, "metric": "applied", "value": len(applied), "unit": "changes"}
    yield {"case": case, "metric": "errors", "value": len(errors), "unit": "changes"}
    yield {
        "case": case,
        "metric": "offered_per_s",
        "value": round((len(started) - 1) / span, 1) if span else None,
        "unit": "changes/s",
    }
    for name, fraction in (("ack_p50_ms", 0.5), ("ack_p99_ms", 0.99)):
        value = _percentile(latencies, fraction)
        yield {
            "case": case,
            "metric": name,
            "value": None if value is None else round(value, 1),
            "unit": "ms",
        }
    # Where the acknowledgement time goes (see _ack_stages).
    for stage, values in stages.items():
        for name, fraction in (("p50", 0.5), ("p99", 0.99)):
            value = _percentile(values, fraction)
            yield {
                "case": case,
                "metric": f"{stage}_{name}_ms",
                "value": None if value is None else round(value, 1),
                "unit": "ms",
            }
    yield {"case": case, "metric": "lost", "value": lost, "unit": "changes"}
    unacknowledged = sum(1 for cr in crs if not cr["acknowledged_at"])
    yield {"case": case, "metric": "unacknowledged", "value": unacknowledged, "unit": "changes"}
    duplicated = sum(n - 1 for n in taken.values() if n > 1)
    yield {"case": case, "metric": "duplicated", "value": duplicated, "unit": "messages"}
    yield {
        "case": case,
        "metric": "mes_consistent_ratio",
        "value": round(consistent / total, 4) if total else None,
        "unit": "ratio",
    }
    yield {"case": case, "metric": "drift_work_orders", "value": total - consistent, "unit": "work orders"}
    yield {"case": case, "metric": "drift_orders", "value": drifting_orders, "unit": "orders"}
    yield {
        "case": case,
        "metric": "drain_s",
        "value": round(time.time() - last_applied, 1),
        "unit": "s",
    }


def _percentile(ordered: list[float], fraction: float) -> float | None:
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)] if ordered else None


def _ack_stages(system, events: dict[int, str | None], crs: list[dict]) -> dict[str, list[float]]:
    """Milliseconds per stage of each change's acknowledgement, from our own rows (one machine clock):

    delivery_wait   change applied (committed) → first attempt to send its event to the MES (queue)
    mes_answer      attempt starts → the MES's acknowledgement stored here (send, MES, its callback)
    ack_processing  acknowledgement stored → processed (Celery queue and the acknowledge service)
    """
    from crm_sync.models import DeliveryAttempt, InboundMessage

    applied = {cr["pk"]: cr["applied_at"] for cr in crs}
    stages: dict[str, list[float]] = {"delivery_wait": [], "mes_answer": [], "ack_processing": []}
    acks = list(
        InboundMessage.objects.filter(system=system, kind__icontains="acknowledge").values_list(
            "body", "received_at", "processed_at"
        )
    )
    for pk, event_id in events.items():
        if not event_id or applied.get(pk) is None:
            continue
        attempt = (
            DeliveryAttempt.objects.filter(delivery__system=system, delivery__event_id=event_id)
            .order_by("started_at")
            .values_list("started_at", flat=True)
            .first()
        )
        ack = next(((received, done) for body, received, done in acks if event_id in body), None)
        if attempt is not None:
            stages["delivery_wait"].append((attempt - applied[pk]).total_seconds() * 1000)
        if attempt is not None and ack is not None:
            stages["mes_answer"].append((ack[0] - attempt).total_seconds() * 1000)
        if ack is not None and ack[1] is not None:
            stages["ack_processing"].append((ack[1] - ack[0]).total_seconds() * 1000)
    return {stage: sorted(values) for stage, values in stages.items()}


def run(*, quick: bool = False) -> Iterator[dict]:
    database_url = os.environ.get("BENCH_CHANGES_DATABASE_URL", DEFAULT_DATABASE_URL)
    count = int(os.environ.get("BENCH_CHANGES_COUNT", "40" if quick else "200"))
    rate = float(os.environ.get("BENCH_CHANGES_RATE", "10"))
    timeout = float(os.environ.get("BENCH_CHANGES_TIMEOUT", "60"))
    database_url = recreate_database(database_url)
    with tempfile.TemporaryDirectory(prefix="orderbridge-bench-changes-") as var_name:
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
            "PRODUCTION_RESCHEDULE_DEBOUNCE_SECONDS": "3600",
            "ORDERBRIDGE_SYNC_SWEEP_SECONDS": "1",
            "ORDERBRIDGE_SYNC_RELAY_GRACE_SECONDS": "30",
            "ORDERBRIDGE_SYNC_RETRY_BASE_MS": "200",
        }
        manage(base_env, "migrate", "--noinput", "--verbosity=0")
        # The MES makes nothing on its own (its progress would finish the work under way): acknowledgements.
        quiet_mes = ("--step-ms", "3600000", "--exception-rate", "0")
        with processes(base_env, var_dir, mes_args=quiet_mes) as running:
            env = {**base_env, "CELERY_BROKER_URL": running["redis"]}
            code = (
                "from tests.bench.changes import create_fixtures; "
                f"create_fixtures({running['mes']!r}, {MES_SECRET!r})"
            )
            manage(env, "shell", "--no-startup", "-c", code)
            both = f"{DELIVERY_QUEUE},{DEFAULT_QUEUE}"
            for index in range(2):
                command = [
                    *(sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=solo"),
                    *(f"--hostname=changes{index}@%h", "--loglevel=WARNING", f"--queues={both}"),
                    *("--without-gossip", "--without-mingle", "--without-heartbeat"),
                ]
                running["spawn"](command + (["-B"] if index == 0 else []), f"worker{index}", env=env)
            config = Config(
                database_url=database_url,
                workers=2,
                worker_class="gthread",
                threads=4,
                clients=[],
                release_clients=[],
                client_procs=1,
                duration=0,
                warmup=0,
            )
            with gunicorn(config, env, var_dir / "gunicorn.log") as server:
                host, port = server["address"]
                hook = f"http://{host}:{port}/hooks/mes/?system={MES_SLUG}"
                httpx.post(f"{running['mes']}/_control", json={"callback_url": hook}, timeout=10)
                time.sleep(3)  # the workers boot
                code = (
                    "from tests.bench.changes import drive; "
                    f"drive({running['mes']!r}, {count}, {rate}, {timeout})"
                )
                output = manage(env, "shell", "--no-startup", "-c", code)
    for line in output.splitlines():
        if line.startswith(RESULT):
            yield json.loads(line.removeprefix(RESULT))
