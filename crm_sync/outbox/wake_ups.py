"""Wake-up calls for delivery queues: a task per (system, order) after commit, on the deliveries queue (the
orders of one outbox write woken together: a task per system and WAKE_UP_CHUNK orders).

The outbox rows are the truth; a wake-up only says "look at this queue now". A lost one (broker down at
commit, Redis restarted with its queue) is made good by the relay sweep (crm_sync.tasks.deliveries_sweep).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable

from django.db import transaction

from crm_sync.outbox.tasks import deliver_order, deliver_orders

logger = logging.getLogger("orderbridge.crm_sync")

# Orders per wake-up task when many are woken at once: few enough that the deliveries workers share a batch
# (and an order waits behind at most this many sends), enough that a burst costs a handful of task messages.
WAKE_UP_CHUNK = 8


def _publish(*, system_id: int, order_id: int) -> None:
    try:
        deliver_order.delay(system_id, order_id)
    except Exception:  # the broker is down: the sweep will find the row
        logger.warning("could not enqueue delivery system=%s order=%s", system_id, order_id, exc_info=True)


def enqueue_on_commit(*, system_id: int, order_id: int) -> None:
    """Wake the (system, order) queue once the caller's transaction commits (nothing if it rolls back)."""
    transaction.on_commit(lambda: _publish(system_id=system_id, order_id=order_id))


def _publish_many(*, system_id: int, order_ids: list[int]) -> None:
    try:
        deliver_orders.delay(system_id, order_ids)
    except Exception:  # the broker is down: the sweep will find the rows
        logger.warning(
            "could not enqueue deliveries system=%s orders=%s", system_id, order_ids, exc_info=True
        )


def enqueue_many_on_commit(queues: Iterable[tuple[int, int]]) -> None:
    """Wake these (system id, order id) queues once the caller's transaction commits: one task per system and
    WAKE_UP_CHUNK orders (a single queue: deliver_order, as enqueue_on_commit)."""
    by_system: dict[int, dict[int, None]] = defaultdict(dict)  # order ids in order, once each
    for system_id, order_id in queues:
        by_system[system_id][order_id] = None

    def publish() -> None:
        for system_id, woken in by_system.items():
            order_ids = list(woken)
            for start in range(0, len(order_ids), WAKE_UP_CHUNK):
                chunk = order_ids[start : start + WAKE_UP_CHUNK]
                if len(chunk) == 1:
                    _publish(system_id=system_id, order_id=chunk[0])
                else:
                    _publish_many(system_id=system_id, order_ids=chunk)

    if by_system:
        transaction.on_commit(publish)
