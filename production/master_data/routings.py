"""Reads of routings: each product's active routing (cached per process), an operation's standard time."""

from __future__ import annotations

import math
from decimal import Decimal

from django.db.models import Prefetch

from config.process_cache import VersionedProcessCache
from production.master_data.models import Operation, Routing, WorkCenter


def planned_minutes(operation: Operation, quantity: Decimal) -> int:
    """Standard minutes of `operation` for `quantity`: setup plus run time per unit, at least one."""
    return max(1, math.ceil(operation.setup_minutes + operation.run_minutes_per_unit * quantity))


# Every release reads its products' routings, which change rarely: each process keeps them (with their
# operations and work centers) under a shared version that every save or delete of a routing, operation or
# work center replaces (config/process_cache.py); the services that write them in bulk replace it too.
_routings = VersionedProcessCache(key="production:routings:version", max_age_seconds=30.0)
_routings.watch([Routing, Operation, WorkCenter], uid="production_routings")


def _load_routings(product_ids: list[int]) -> dict[int, Routing | None]:
    found: dict[int, Routing | None] = dict.fromkeys(product_ids)
    operations = Prefetch("operations", queryset=Operation.objects.select_related("work_center"))
    for routing in Routing.objects.filter(product__in=product_ids, is_active=True).prefetch_related(
        operations
    ):
        found[routing.product_id] = routing
    return found


def active_routings(*, product_ids: set[int]) -> dict[int, Routing]:
    """The active routings of these products by product id, their operations (with work centers) prefetched.

    Shared per process (read them, never change them); a product without an active routing is missing.
    """
    if not product_ids:
        return {}
    found = _routings.get_many(sorted(product_ids), _load_routings)
    return {product_id: routing for product_id, routing in found.items() if routing is not None}
