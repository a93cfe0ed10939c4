"""Reads of the integration: which deliveries are due, what each order's sync looks like."""

from __future__ import annotations

import datetime as dt

from django.db.models import Count, Exists, Max, Min, OuterRef, Q, QuerySet

from .models import Delivery, ExternalSystem


def deliveries_claimable(*, now: dt.datetime) -> QuerySet[Delivery]:
    """Heads of (order, system) queues that may be sent now.

    Due pending/failed rows, and in-flight rows whose lease ran out (their worker died), of enabled,
    unpaused systems, with no earlier undelivered event of the same order for the same system: that
    last condition is the ordering guarantee, and it makes a dead letter hold back its order.
    """
    earlier_open = Delivery.objects.filter(
        system_id=OuterRef("system_id"), order_id=OuterRef("order_id"), sequence__lt=OuterRef("sequence")
    ).exclude(state=Delivery.State.DELIVERED)
    return Delivery.objects.filter(
        Q(state__in=[Delivery.State.PENDING, Delivery.State.FAILED], next_attempt_at__lte=now)
        | Q(state=Delivery.State.IN_FLIGHT, claimed_until__lt=now),
        system__is_enabled=True,
        system__is_paused=False,
    ).filter(~Exists(earlier_open))


def due_queues(*, now: dt.datetime, limit: int = 500) -> list[tuple[int, int]]:
    """(system id, order id) pairs with something to send now, most overdue first."""
    rows = (
        deliveries_claimable(now=now)
        .values("system_id", "order_id")
        .annotate(due=Min("next_attempt_at"))
        .order_by("due")[:limit]
    )
    return [(row["system_id"], row["order_id"]) for row in rows]


def orders_waiting(*, system_id: int) -> list[int]:
    return list(
        Delivery.objects.filter(system_id=system_id)
        .exclude(state__in=[Delivery.State.DELIVERED, Delivery.State.DEAD])
        .values_list("order_id", flat=True)
        .distinct()
    )


def delivery_attempts(*, delivery: Delivery):
    return delivery.attempt_log.order_by("number")


def system_health() -> QuerySet[ExternalSystem]:
    """Each system with its backlog, failures and dead letters, for the admin list."""
    return ExternalSystem.objects.annotate(
        backlog=Count("deliveries", filter=~Q(deliveries__state__in=["delivered", "dead"])),
        failing=Count("deliveries", filter=Q(deliveries__state="failed")),
        dead=Count("deliveries", filter=Q(deliveries__state="dead")),
        last_delivered_at=Max("deliveries__delivered_at"),
    )


def order_sync_status(*, order_id: int) -> list[dict]:
    """Per system: the order's last event, its state, and how many are still waiting (order pages)."""
    result = []
    rows = (
        Delivery.objects.filter(order_id=order_id)
        .select_related("system", "event")
        .order_by("system__name", "-sequence")
    )
    seen: dict[int, dict] = {}
    for delivery in rows:
        entry = seen.get(delivery.system_id)
        if entry is None:
            entry = {"system": delivery.system, "last": delivery, "waiting": 0}
            seen[delivery.system_id] = entry
            result.append(entry)
        if delivery.state != Delivery.State.DELIVERED:
            entry["waiting"] += 1
    return result
