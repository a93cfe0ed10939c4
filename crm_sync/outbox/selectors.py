"""Reads of the integration: which deliveries are due, what each order's sync looks like."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Literal, TypedDict

from django.db.models import Count, Exists, Max, Min, OuterRef, Q, QuerySet
from django.db.models.functions import Coalesce

from config.kernel.events import OrderProgressed
from crm_sync.models import Delivery, DeliveryAttempt, ExternalSystem, InboundMessage, TaskReceipt

PROGRESS_EVENT = OrderProgressed.name


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


def due_queues(*, now: dt.datetime, limit: int = 500, grace_seconds: float = 0) -> list[tuple[int, int]]:
    """(system id, order id) pairs with something to send now, most overdue first.

    `grace_seconds`: a delivery never tried yet is only taken once it is that old, because its wake-up
    task is normally on its way (the relay must not flood the broker with duplicates of fresh work).
    """
    rows = (
        deliveries_claimable(now=now)
        .filter(Q(attempts__gt=0) | Q(created_at__lte=now - dt.timedelta(seconds=grace_seconds)))
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


def delivery_attempts(*, delivery: Delivery) -> QuerySet[DeliveryAttempt]:
    return delivery.attempt_log.order_by("number")


def system_health() -> QuerySet[ExternalSystem]:
    """Each system with its backlog, failures and dead letters, for the admin list."""
    return ExternalSystem.objects.annotate(
        backlog=Count("deliveries", filter=~Q(deliveries__state__in=["delivered", "dead"])),
        failing=Count("deliveries", filter=Q(deliveries__state="failed")),
        dead=Count("deliveries", filter=Q(deliveries__state="dead")),
        last_delivered_at=Max("deliveries__delivered_at"),
    )


class SyncCounts(TypedDict):
    delivered: int
    pending: int
    failed: int
    dead: int


class SystemSyncStatus(TypedDict):
    """One system's part of an order's sync panel."""

    system: ExternalSystem
    last: Delivery
    waiting: int
    counts: SyncCounts
    deliveries: list[Delivery]
    # The newest progress event (order.progress) the system was sent, if any.
    progress: Delivery | None


def order_sync_status(*, order_id: int) -> list[SystemSyncStatus]:
    """Per system: the order's last event, its state, how many are still waiting, and the last progress
    event it was sent (order pages)."""
    result: list[SystemSyncStatus] = []
    rows = (
        Delivery.objects.filter(order_id=order_id)
        .select_related("system", "event")
        .order_by("system__name", "-sequence")
    )
    seen: dict[int, SystemSyncStatus] = {}
    for delivery in rows:
        entry = seen.get(delivery.system_id)
        if entry is None:
            entry = {
                "system": delivery.system,
                "last": delivery,
                "waiting": 0,
                "counts": {"delivered": 0, "pending": 0, "failed": 0, "dead": 0},
                "deliveries": [],
                "progress": None,
            }
            seen[delivery.system_id] = entry
            result.append(entry)
        if entry["progress"] is None and delivery.event.type == PROGRESS_EVENT:
            entry["progress"] = delivery  # newest first
        if delivery.state != Delivery.State.DELIVERED:
            entry["waiting"] += 1
        entry["counts"][_COUNT_BUCKET[delivery.state]] += 1
        entry["deliveries"].append(delivery)
    return result


# The panel's three words for five states: in flight is still pending to a person reading it.
_COUNT_BUCKET: dict[str, Literal["delivered", "pending", "failed", "dead"]] = {
    Delivery.State.DELIVERED: "delivered",
    Delivery.State.PENDING: "pending",
    Delivery.State.IN_FLIGHT: "pending",
    Delivery.State.FAILED: "failed",
    Delivery.State.DEAD: "dead",
}


def percentile(values: list[float], fraction: float) -> float | None:
    """Nearest-rank percentile; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


class LatencyWindow(TypedDict):
    """End-to-end delivery latency over one window: how many deliveries, and their percentiles (ms)."""

    count: int
    p50: float | None
    p99: float | None


@dataclass(frozen=True)
class SystemHealthRow:
    """One system on the sync-health page: the system (annotated as `system_health` does) and its latency
    per window ("hour", "day")."""

    system: ExternalSystem
    latency: dict[str, LatencyWindow]


class SyncHealth(TypedDict):
    systems: list[SystemHealthRow]
    dead: list[Delivery]
    inbound_dead: list[InboundMessage]
    poison_tasks: list[TaskReceipt]
    oldest_pending: dt.datetime | None


def sync_health(*, now: dt.datetime) -> SyncHealth:
    """The admins' page: per system backlog, failures, dead letters, and delivery latency percentiles.

    Latency is end to end: from the moment our hook received the message that caused the change (or the
    change was made here) to the receiver's 2xx, over deliveries delivered in the window, first attempt or
    not — queues included: what a person waiting for the MES sees.
    """
    systems = list(system_health().order_by("name"))
    windows = {"hour": now - dt.timedelta(hours=1), "day": now - dt.timedelta(days=1)}
    latency: dict[int, dict[str, LatencyWindow]] = {system.pk: {} for system in systems}
    for name, since in windows.items():
        rows = (
            Delivery.objects.filter(state=Delivery.State.DELIVERED, delivered_at__gte=since)
            .values_list("system_id", "delivered_at", Coalesce("event__caused_at", "event__time"))
            .order_by()[:LATENCY_SAMPLE]
        )
        per_system: dict[int, list[float]] = {}
        for system_id, delivered_at, event_time in rows:
            if delivered_at is None or event_time is None:
                continue
            per_system.setdefault(system_id, []).append((delivered_at - event_time).total_seconds() * 1000)
        for system in systems:
            values = per_system.get(system.pk, [])
            latency[system.pk][name] = {
                "count": len(values),
                "p50": percentile(values, 0.50),
                "p99": percentile(values, 0.99),
            }
    dead = (
        Delivery.objects.filter(state=Delivery.State.DEAD)
        .select_related("system", "event")
        .order_by("-updated_at")[:100]
    )
    inbound_dead = (
        InboundMessage.objects.filter(state__in=[InboundMessage.State.DEAD, InboundMessage.State.FAILED])
        .select_related("system")
        .order_by("-received_at")[:100]
    )
    return {
        "systems": [SystemHealthRow(system=system, latency=latency[system.pk]) for system in systems],
        "dead": list(dead),
        "inbound_dead": list(inbound_dead),
        "poison_tasks": list(TaskReceipt.objects.filter(state=TaskReceipt.State.DEAD)[:50]),
        "oldest_pending": Delivery.objects.exclude(state__in=["delivered", "dead"])
        .order_by("created_at")
        .values_list("created_at", flat=True)
        .first(),
    }


# Percentiles are computed in Python (PostgreSQL and SQLite alike) over at most this many deliveries.
LATENCY_SAMPLE = 100_000
