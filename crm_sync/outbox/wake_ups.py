"""Wake-up calls for delivery queues: one task per (system, order) after commit, or collected inline.

The outbox rows are the truth; a wake-up only says "look at this queue now". A lost one (broker down at
commit, Redis restarted with its queue) is made good by the relay sweep (crm_sync.tasks.deliveries_sweep).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from contextvars import ContextVar

from django.conf import settings
from django.db import transaction

from crm_sync.outbox.delivery import deliveries_drain
from crm_sync.outbox.tasks import deliver_order

logger = logging.getLogger("orderbridge.crm_sync")

# The wake-ups of an inbound message's effect, collected by deliveries_inline() instead of published.
_inline: ContextVar[list[tuple[int, int]] | None] = ContextVar("crm_sync_inline_deliveries", default=None)


@contextlib.contextmanager
def deliveries_inline() -> Iterator[list[tuple[int, int]]]:
    """Collect the (system, order) queues that the block's committed changes woke up, instead of publishing
    one delivery task each; the caller drains them itself with deliveries_drain_woken() after the block.

    For a worker's task whose change is an order entered from another system (the CRM's messages): the
    wake-up task would cost more CPU than the delivery. The outbox guarantees do not change: the rows are
    written in the change's transaction, the drain claims them as a delivery task does (in sequence, one
    claimer at a time), and a worker that dies before draining leaves them pending for the relay sweep.
    """
    woken: list[tuple[int, int]] = []
    token = _inline.set(woken)
    try:
        yield woken
    finally:
        _inline.reset(token)


def deliveries_drain_woken(woken: list[tuple[int, int]]) -> None:
    """Drain the queues deliveries_inline() collected; one that fails here is left to its delivery task."""
    for system_id, order_id in dict.fromkeys(woken):
        try:
            deliveries_drain(system_id=system_id, order_id=order_id)
        except Exception:  # e.g. the database went away: the task (or the relay) delivers it later
            logger.warning("inline delivery failed system=%s order=%s", system_id, order_id, exc_info=True)
            _publish(system_id=system_id, order_id=order_id)


def _publish(*, system_id: int, order_id: int) -> None:
    try:
        deliver_order.delay(system_id, order_id)
    except Exception:  # the broker is down: the sweep will find the row
        logger.warning("could not enqueue delivery system=%s order=%s", system_id, order_id, exc_info=True)


def enqueue_on_commit(*, system_id: int, order_id: int) -> None:
    """Wake the (system, order) queue once the caller's transaction commits (nothing if it rolls back)."""
    woken = _inline.get()
    if woken is not None and settings.SYNC_DELIVER_INLINE:
        transaction.on_commit(lambda: woken.append((system_id, order_id)))
        return
    transaction.on_commit(lambda: _publish(system_id=system_id, order_id=order_id))
