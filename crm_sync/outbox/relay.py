"""The relay's work on the outbox (beat, every SYNC_SWEEP_SECONDS), and recovery when a receiver returns.

- `deliveries_relay`: publish a wake-up for each due queue whose head is not already queued, and mark the
  head queued for SYNC_QUEUED_LEASE_SECONDS: a backlog is published once per lease, never once per sweep.
- `deliveries_probe`: a system whose deliveries all wait for a later retry gets one of them made due now,
  at most once per SYNC_PROBE_SECONDS (a free try: it does not count against the retry budget).
After a retry or probe succeeded, everything waiting for that system is made due (see
delivery.deliveries_wake_waiting) and the next sweep publishes it: recovery follows the receiver coming
back, not each row's backoff.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.db.models import Exists, F, OuterRef, Q

from crm_sync.models import Delivery, ExternalSystem
from crm_sync.outbox import selectors
from crm_sync.outbox.tasks import deliver_order

logger = logging.getLogger("orderbridge.crm_sync")


def _publish(queues: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Publish a delivery task per queue; return those published (the broker may be down)."""
    published = []
    for system_id, order_id in queues:
        try:
            deliver_order.delay(system_id, order_id)
        except Exception:  # the broker is down: not marked queued, so the next sweep tries again
            logger.warning("could not enqueue delivery system=%s order=%s", system_id, order_id)
            break
        published.append((system_id, order_id))
    return published


def deliveries_relay(
    *, now: dt.datetime, lease_seconds: float, grace_seconds: float = 0, limit: int = 500
) -> list[tuple[int, int]]:
    """Publish one wake-up per due (system, order) queue not already queued; return the queues published.

    A head marked queued (queued_until in the future) is skipped: its task is in the broker or running.
    The mark is cleared when an attempt's outcome is recorded, and runs out by itself when the task was
    lost (Redis restarted with its queue): then the next sweep publishes it again.
    """
    heads = list(
        selectors.deliveries_claimable(now=now)
        .filter(Q(attempts__gt=0) | Q(created_at__lte=now - dt.timedelta(seconds=grace_seconds)))
        .filter(Q(queued_until__isnull=True) | Q(queued_until__lte=now))
        .order_by("next_attempt_at")
        .values_list("pk", "system_id", "order_id")[:limit]
    )
    queues = list(dict.fromkeys((system_id, order_id) for _pk, system_id, order_id in heads))
    published = set(_publish(queues))
    marked = [pk for pk, system_id, order_id in heads if (system_id, order_id) in published]
    if marked:
        Delivery.objects.filter(pk__in=marked).update(queued_until=now + dt.timedelta(seconds=lease_seconds))
    return [queue for queue in queues if queue in published]


def deliveries_probe(*, now: dt.datetime, every_seconds: float, lease_seconds: float) -> list[int]:
    """For each enabled, unpaused system whose failing deliveries all wait for a later retry, and which
    had no attempt in the last `every_seconds`, make the oldest waiting queue head due now (without
    counting it against the retry budget) and wake it. Returns the probed delivery ids."""
    recent = now - dt.timedelta(seconds=every_seconds)
    earlier_open = Delivery.objects.filter(
        system_id=OuterRef("system_id"), order_id=OuterRef("order_id"), sequence__lt=OuterRef("sequence")
    ).exclude(state=Delivery.State.DELIVERED)
    busy = Delivery.objects.filter(system_id=OuterRef("pk")).filter(
        Q(state=Delivery.State.IN_FLIGHT)
        | Q(state__in=[Delivery.State.PENDING, Delivery.State.FAILED], next_attempt_at__lte=now)
        | Q(state=Delivery.State.FAILED, updated_at__gt=recent)
    )
    waiting = Delivery.objects.filter(system_id=OuterRef("pk"), state=Delivery.State.FAILED)
    systems = ExternalSystem.objects.filter(is_enabled=True, is_paused=False).filter(
        Exists(waiting), ~Exists(busy)
    )
    probed = []
    for system_id in systems.values_list("pk", flat=True):
        head = (
            Delivery.objects.filter(system_id=system_id, state=Delivery.State.FAILED)
            .filter(~Exists(earlier_open))
            .order_by("next_attempt_at")
            .values_list("pk", "order_id")
            .first()
        )
        if head is None:
            continue
        pk, order_id = head
        # A free try: the budget counts attempts beyond attempts_before_replay (see delivery._gives_up).
        changed = Delivery.objects.filter(pk=pk, state=Delivery.State.FAILED).update(
            next_attempt_at=now,
            attempts_before_replay=F("attempts_before_replay") + 1,
            queued_until=now + dt.timedelta(seconds=lease_seconds),
        )
        if changed and _publish([(system_id, order_id)]):
            probed.append(pk)
    if probed:
        logger.info("probed %s failing systems", len(probed))
    return probed
