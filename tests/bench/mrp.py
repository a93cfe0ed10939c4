"""MRP bench: net requirements (purchase suggestions) for 2,000 open work orders over 500 items.

Usage:
    python -m tests.bench.run --bench mrp [--quick]

Creates a database of its own (orderbridge_bench_mrp_<random>), builds the plant of
tests/bench/promise_materials.py with 500 items (5-level BOMs) and BENCH_MRP_WORK_ORDERS open work orders
(2000; --quick 500), makes one fast plan (operation starts time the needs), then times
`purchase_suggestions` (bulk reads, dict arithmetic) from a cold BOM cache. Drops only its own database.

Metrics: seconds (goal < 5), suggestions (how many it proposed).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator

from tests.bench.promise_materials import build_plant, in_own_database


def measure(*, work_orders: int, items: int) -> None:
    import time

    from django.contrib.auth import get_user_model

    from production.scheduling import schedule_run
    from production.supply_planning import purchase_suggestions

    names = build_plant(orders=work_orders, items=items)
    admin = get_user_model().objects.get(pk=names["admin"])
    schedule_run(actor=admin, trigger="bench")
    profile = None
    if os.environ.get("BENCH_MRP_PROFILE"):  # where the time goes, on stderr
        import cProfile

        profile = cProfile.Profile()
        profile.enable()
    started = time.perf_counter()
    suggestions = purchase_suggestions(actor=admin)
    seconds = time.perf_counter() - started
    if profile is not None:
        import pstats
        import sys

        profile.disable()
        pstats.Stats(profile, stream=sys.stderr).sort_stats("cumulative").print_stats(35)
    print(json.dumps({"seconds": round(seconds, 2), "suggestions": len(suggestions)}))


def run(*, quick: bool = False) -> Iterator[dict]:
    count = int(os.environ.get("BENCH_MRP_WORK_ORDERS", "500" if quick else "2000"))
    result = in_own_database(
        "mrp", f"from tests.bench.mrp import measure; measure(work_orders={count}, items=500)"
    )
    case = f"wo{count}_i500"
    yield {"case": case, "metric": "seconds", "value": result["seconds"], "unit": "s"}
    yield {"case": case, "metric": "suggestions", "value": result["suggestions"], "unit": "suggestions"}
