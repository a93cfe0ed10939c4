"""Wake-up calls for delivery queues: one task per (system, order) after commit, on the deliveries queue.

The outbox rows are the truth; a wake-up only says "look at this queue now". A lost one (broker down at
commit, Redis restarted with its queue) is made good by the relay sweep (crm_sync.tasks.deliveries_sweep).
"""

from __future__ import annotations

import logging

from django.db import transaction

from crm_sync.outbox.tasks import deliver_order

logger = logging.getLogger("orderbridge.crm_sync")


def _publish(*, system_id: int, order_id: int) -> None:
    try:
        deliver_order.delay(system_id, order_id)
    except Exception:  # the broker is down: the sweep will find the row
        logger.warning("could not enqueue delivery system=%s order=%s", system_id, order_id, exc_info=True)


def enqueue_on_commit(*, system_id: int, order_id: int) -> None:
    """Wake the (system, order) queue once the caller's transaction commits (nothing if it rolls back)."""
    transaction.on_commit(lambda: _publish(system_id=system_id, order_id=order_id))
