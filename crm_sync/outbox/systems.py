"""The external systems as the outbox sees them: which take events (kept per process), pause and resume,
and the operators' replay of their dead or failed deliveries."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import TYPE_CHECKING

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from config.kernel import actor_name
from config.process_cache import VersionedProcessCache
from crm_sync import fast_sql
from crm_sync.models import Delivery, ExternalSystem
from crm_sync.outbox import selectors
from crm_sync.outbox.wake_ups import enqueue_on_commit

if TYPE_CHECKING:
    from django.contrib.auth.models import User

logger = logging.getLogger("orderbridge.crm_sync")

# Every order write records an event, and which systems take events changes rarely (an admin's edit): each
# process keeps the enabled systems under a version in the shared cache (config/process_cache.py), replaced
# by every save or delete of a system. A change that bypasses the ORM's signals is read within
# SYSTEMS_MAX_AGE_SECONDS.
SYSTEMS_VERSION_KEY = "crm_sync:systems:version"
SYSTEMS_MAX_AGE_SECONDS = 30.0
_systems = VersionedProcessCache(key=SYSTEMS_VERSION_KEY, max_age_seconds=SYSTEMS_MAX_AGE_SECONDS)
_systems.watch([ExternalSystem], uid="crm_sync_systems")


def enabled_systems() -> tuple[ExternalSystem, ...]:
    """The enabled external systems (shared instances: read them, never change them)."""
    return _systems.get("enabled", lambda: tuple(ExternalSystem.objects.filter(is_enabled=True)))


@transaction.atomic
def deliveries_replay(*, deliveries: Iterable[Delivery], actor: User) -> int:
    """Put dead or failed deliveries back in their queue with a fresh retry budget, due now.

    In-flight and delivered rows are left alone (replaying a delivered event is a re-send the receiver
    would dedupe anyway; that is reconciliation's job). Returns how many were replayed.
    """
    now = timezone.now()
    ids = [delivery.pk for delivery in deliveries]
    rows = list(
        Delivery.objects.select_for_update()
        .filter(pk__in=ids, state__in=[Delivery.State.DEAD, Delivery.State.FAILED])
        .select_related("system")
    )
    for delivery in rows:
        Delivery.objects.filter(pk=delivery.pk).update(
            state=Delivery.State.PENDING,
            next_attempt_at=now,
            replayed_at=now,
            attempts_before_replay=F("attempts"),
            updated_at=now,
        )
        fast_sql.outbox_event_settle(delivery.event_id)
        if not delivery.system.is_paused:
            enqueue_on_commit(system_id=delivery.system_id, order_id=delivery.order_id)
    if rows:
        logger.info("%s replayed %s deliveries", actor_name(actor), len(rows))
    return len(rows)


@transaction.atomic
def external_system_set_paused(*, system: ExternalSystem, paused: bool, actor: User) -> ExternalSystem:
    """Pause (the queue builds up, nothing is sent) or resume (every waiting order is woken up)."""
    system = ExternalSystem.objects.select_for_update().get(pk=system.pk)
    if system.is_paused == paused:
        return system
    system.is_paused = paused
    system.save(update_fields=["is_paused", "updated_at"])
    logger.info("%s %s %s", actor_name(actor), "paused" if paused else "resumed", system.name)
    if not paused:
        for order_id in selectors.orders_waiting(system_id=system.pk):
            enqueue_on_commit(system_id=system.pk, order_id=order_id)
    return system
