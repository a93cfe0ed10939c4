"""Promise-with-materials bench: delivery-date quotes through the API against a plan with material.

Usage:
    python -m tests.bench.run --bench promise_materials [--quick]

What it does: creates a database of its own (orderbridge_bench_promise_<random>, on the server of
BENCH_SUPPLY_DATABASE_URL), migrates it, and in a `manage.py shell` process builds a plant with 200 items
whose BOMs go 5 levels deep (finished product → 3 levels of sub-assemblies → raw material), stock and open
purchase orders for the raw materials, and 500 open orders with one work order each (bulk rows: the
fixture, not what is measured), then one fast plan. Measured: BENCH_PROMISE_QUOTES quotes (200; --quick
50) of 1-3 lines posted to /api/v1/promise/ through Django's whole request stack in-process (DRF,
middleware, sessions; no HTTP socket), and 20 concurrent held quotes (threads, each its own database
connection) for one unit of a product whose only raw material has 10 units in stock and no supply.
Drops the database it created, and only that one.

Metrics: quote_p50_ms, quote_p95_ms (goal < 300), double_promised (units promised from stock beyond the
stock: goal 0), promised_from_stock (should equal the scarce stock, 10).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from urllib.parse import urlparse

from tests.bench.intake import recreate_database, shell_in_database

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/orderbridge_bench_supply"
SCARCE_STOCK = 10


def build_plant(*, orders: int, items: int, seed: int = 7) -> dict:
    """Run inside Django: the plant, items and BOMs, stock, purchase orders and `orders` open work orders in
    bulk; returns names the measurements need."""
    import datetime as dt
    import random
    from decimal import Decimal

    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.utils import timezone

    from orders import catalog
    from orders.models import OrderStatus, SalesOrder
    from production import master_data
    from production.materials import (
        Bom,
        BomLine,
        Item,
        ItemKind,
        Location,
        PurchaseOrder,
        PurchaseOrderLine,
        StockLevel,
    )
    from production.work_orders.models import WorkOrder, WorkOrderOperation, WorkOrderStatus

    rng = random.Random(seed)
    users = get_user_model().objects
    admin = users.create_user("bench-supply-admin", None, None)
    admin.groups.add(Group.objects.get(name="admin"))
    sales = users.create_user("bench-supply-sales", None, None)
    sales.groups.add(Group.objects.get(name="sales"))
    customer = catalog.customer_create(actor=admin, code="BSC", name="Bench customer")
    family = catalog.product_family_create(actor=admin, code="BFR", name="Frames")
    all_week = [(day, dt.time(0), dt.time(0)) for day in range(7)]
    centers = [
        master_data.work_center_create(actor=admin, code=f"WC{n}", name=f"WC {n}", units=2, shifts=all_week)
        for n in range(4)
    ]
    finished_count = max(4, items // 10)
    per_level = max(2, items // 10)
    raw_count = max(4, items - finished_count - 3 * per_level - 1)
    products = []
    for n in range(finished_count):
        product = catalog.product_create(actor=admin, sku=f"BF-{n:03d}", name=f"Frame {n}", family=family)
        master_data.routing_create(
            actor=admin,
            product=product,
            operations=[
                {
                    "sequence": 10 * (k + 1),
                    "name": f"Op {k + 1}",
                    "work_center": centers[(n + k) % 4],
                    "setup_minutes": Decimal(10),
                    "run_minutes_per_unit": Decimal(3),
                }
                for k in range(2)
            ],
        )
        products.append(product)
    finished = Item.objects.bulk_create(
        Item(code=f"BF-{n:03d}", name=f"Frame {n}", kind=ItemKind.FINISHED_PRODUCT, product=products[n])
        for n in range(finished_count)
    )
    levels = [
        Item.objects.bulk_create(
            Item(code=f"BS{level}-{n:03d}", name=f"Sub {level}/{n}", kind=ItemKind.SUB_ASSEMBLY)
            for n in range(per_level)
        )
        for level in range(1, 4)
    ]
    raws = Item.objects.bulk_create(
        Item(
            code=f"BR-{n:03d}",
            name=f"Raw {n}",
            kind=ItemKind.RAW_MATERIAL,
            lead_time_days=rng.randint(3, 20),
            minimum_order_quantity=Decimal(rng.choice([0, 10, 50])),
            order_multiple=Decimal(rng.choice([0, 5, 10])),
            supplier="Bench supplier",
        )
        for n in range(raw_count)
    )
    boms = Bom.objects.bulk_create(Bom(item=item) for item in [*finished, *levels[0], *levels[1], *levels[2]])
    by_item = {bom.item_id: bom for bom in boms}
    lines = []
    parents = [finished, *levels]
    for depth, group in enumerate(parents):
        for item in group:
            children = rng.sample(levels[depth], 2) if depth < 3 else []
            children += rng.sample(raws, 1 if depth < 3 else 2)
            for position, child in enumerate(children, start=1):
                lines.append(
                    BomLine(
                        bom=by_item[item.pk],
                        position=position * 10,
                        component=child,
                        quantity=Decimal(rng.choice([1, 2, 3])),
                        scrap_percent=Decimal(rng.choice([0, 0, 2])),
                    )
                )
    BomLine.objects.bulk_create(lines)
    location = Location.objects.create(code="MAIN", name="Main store")
    StockLevel.objects.bulk_create(
        StockLevel(item=raw, location=location, on_hand=Decimal(rng.randint(0, 3000))) for raw in raws
    )
    today = timezone.localdate()
    for n, raw in enumerate(raws):
        order = PurchaseOrder.objects.create(number=f"PO-{n + 1:06d}", supplier="Bench supplier")
        PurchaseOrderLine.objects.create(
            purchase_order=order,
            item=raw,
            quantity=Decimal(rng.randint(100, 5000)),
            expected_date=today + dt.timedelta(days=rng.randint(1, 40)),
        )
    # The scarce product: one raw material, 10 in stock, nothing coming.
    scarce_product = catalog.product_create(actor=admin, sku="BSCARCE", name="Scarce", family=family)
    master_data.routing_create(
        actor=admin,
        product=scarce_product,
        operations=[
            {
                "sequence": 10,
                "name": "Op",
                "work_center": centers[0],
                "setup_minutes": Decimal(0),
                "run_minutes_per_unit": Decimal(1),
            }
        ],
    )
    scarce = Item.objects.create(
        code="BSCARCE", name="Scarce", kind=ItemKind.FINISHED_PRODUCT, product=scarce_product
    )
    scarce_raw = Item.objects.create(
        code="BSCARCE-RAW", name="Scarce raw", kind=ItemKind.RAW_MATERIAL, lead_time_days=30
    )
    BomLine.objects.create(bom=Bom.objects.create(item=scarce), component=scarce_raw, quantity=Decimal(1))
    StockLevel.objects.create(item=scarce_raw, location=location, on_hand=Decimal(SCARCE_STOCK))
    # Open orders: released, one work order each, planned or released, bulk rows.
    line_model = WorkOrder._meta.get_field("order_line").related_model
    sales_orders = SalesOrder.objects.bulk_create(
        SalesOrder(
            number=f"BSO-{n:05d}",
            customer=customer,
            owner=sales,
            promised_date=today + dt.timedelta(days=rng.randint(5, 90)),
        )
        for n in range(orders)
    )
    SalesOrder.objects.filter(pk__in=[o.pk for o in sales_orders]).update(status=OrderStatus.RELEASED)
    order_lines = line_model.objects.bulk_create(
        line_model(
            order=o, line_no=1, product=products[n % finished_count], quantity=Decimal(rng.randint(1, 20))
        )
        for n, o in enumerate(sales_orders)
    )
    work_orders = WorkOrder.objects.bulk_create(
        WorkOrder(
            number=f"BWO-{n:05d}",
            order=o,
            order_line=line,
            order_revision=1,
            product=line.product,
            quantity=line.quantity,
        )
        for n, (o, line) in enumerate(zip(sales_orders, order_lines, strict=True))
    )
    WorkOrder.objects.filter(pk__in=[w.pk for w in work_orders[: orders // 2]]).update(
        status=WorkOrderStatus.RELEASED
    )
    routing_ops = {
        product.pk: list(product.routing.operations.all())
        for product in products  # type: ignore[attr-defined]
    }
    WorkOrderOperation.objects.bulk_create(
        WorkOrderOperation(
            work_order=w,
            sequence=op.sequence,
            name=op.name,
            work_center=op.work_center,
            planned_minutes=int(op.setup_minutes + op.run_minutes_per_unit * w.quantity),
        )
        for w in work_orders
        for op in routing_ops[w.product_id]
    )
    return {
        "sales": sales.pk,
        "admin": admin.pk,
        "skus": [p.sku for p in products],
        "customer": customer.code,
    }


def measure(*, orders: int, items: int, quotes: int) -> None:
    """Run inside `manage.py shell`: build the plant, plan it, then time quotes; print the result as JSON."""
    import random
    import statistics
    import threading
    import time

    from django.contrib.auth import get_user_model
    from django.db import connection
    from rest_framework.test import APIClient

    from production.scheduling import schedule_run

    names = build_plant(orders=orders, items=items)
    admin = get_user_model().objects.get(pk=names["admin"])
    sales = get_user_model().objects.get(pk=names["sales"])
    schedule_run(actor=admin, trigger="bench")
    client = APIClient()
    client.force_authenticate(sales)
    rng = random.Random(3)
    timings = []
    for n in range(quotes + 5):
        body = {
            "customer": names["customer"],
            "lines": [
                {"product": rng.choice(names["skus"]), "quantity": str(rng.randint(1, 10))}
                for _ in range(rng.randint(1, 3))
            ],
        }
        started = time.perf_counter()
        response = client.post("/api/v1/promise/", body, format="json")
        elapsed = (time.perf_counter() - started) * 1000
        assert response.status_code == 200, response.content[:300]
        if n >= 5:  # the first quotes warm the plan index and the BOM explosions
            timings.append(elapsed)
    timings.sort()
    answers: list[dict] = []
    barrier = threading.Barrier(20)

    def hold_one() -> None:
        local = APIClient()
        local.force_authenticate(sales)
        try:
            barrier.wait()
            body = {
                "customer": names["customer"],
                "lines": [{"product": "BSCARCE", "quantity": "1"}],
                "hold": True,
            }
            answers.append(local.post("/api/v1/promise/", body, format="json").json())
        finally:
            connection.close()

    threads = [threading.Thread(target=hold_one) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    from_stock = sum(1 for answer in answers if not answer["materials"][0]["uncovered"])
    print(
        json.dumps(
            {
                "quote_p50_ms": round(statistics.median(timings), 1),
                "quote_p95_ms": round(timings[int(0.95 * (len(timings) - 1))], 1),
                "double_promised": max(0, from_stock - SCARCE_STOCK),
                "promised_from_stock": from_stock,
                "answers": len(answers),
            }
        )
    )


def in_own_database(prefix: str, code: str) -> dict:
    """Run `code` in `manage.py shell` against a migrated database of this run's own (named from
    BENCH_SUPPLY_DATABASE_URL and `prefix`, dropped at the run's end)."""
    base = urlparse(os.environ.get("BENCH_SUPPLY_DATABASE_URL", DEFAULT_DATABASE_URL))
    url = recreate_database(base._replace(path=f"/orderbridge_bench_{prefix}").geturl())
    return shell_in_database(url, code)


def run(*, quick: bool = False) -> Iterator[dict]:
    quotes = int(os.environ.get("BENCH_PROMISE_QUOTES", "50" if quick else "200"))
    code = (
        f"from tests.bench.promise_materials import measure; measure(orders=500, items=200, quotes={quotes})"
    )
    result = in_own_database("promise", code)
    case = "o500_i200"
    yield {"case": case, "metric": "quote_p50_ms", "value": result["quote_p50_ms"], "unit": "ms"}
    yield {"case": case, "metric": "quote_p95_ms", "value": result["quote_p95_ms"], "unit": "ms"}
    yield {"case": case, "metric": "double_promised", "value": result["double_promised"], "unit": "units"}
    yield {
        "case": case,
        "metric": "promised_from_stock",
        "value": result["promised_from_stock"],
        "unit": "units",
    }
