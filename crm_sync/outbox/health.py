"""The "sync health" section of the KPI dashboard (production.kpis is the registry; crm_sync adds
itself in
its AppConfig.ready because production must not import crm_sync).

Backlog, failing and dead-letter figures are the state now; attempts and latencies are of the period.
"""

from __future__ import annotations

from django.db.models import Case, Count, F, Min, Q, When
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from crm_sync.models import Delivery, DeliveryAttempt
from crm_sync.outbox.acks import mes_changes_unacknowledged
from production.kpis import (
    Chart,
    Figure,
    KpiFilters,
    SecondsBetween,
    Section,
    SectionProvider,
    Series,
    Table,
    percent,
    percentiles,
    rounded,
    weekly_aggregates,
    weeks_of,
)

OPEN_STATES = (Delivery.State.PENDING, Delivery.State.IN_FLIGHT, Delivery.State.FAILED)
SUCCESS = Q(status_code__gte=200, status_code__lt=300)


def sync_health(filters: KpiFilters) -> Section:
    deliveries = filters.orders(Delivery.objects.all(), order="order")
    # Only undelivered rows (a small share, found through the state index) make the "now" figures.
    per_system_rows = list(
        deliveries.filter(state__in=[*OPEN_STATES, Delivery.State.DEAD])
        .values("system__name")
        .annotate(
            backlog=Count("pk", filter=Q(state__in=OPEN_STATES)),
            failing=Count("pk", filter=Q(state=Delivery.State.FAILED)),
            dead=Count("pk", filter=Q(state=Delivery.State.DEAD)),
            oldest=Min("created_at", filter=Q(state__in=OPEN_STATES)),
        )
        .order_by("system__name")
    )
    now_state = {key: sum(row[key] for row in per_system_rows) for key in ("backlog", "failing", "dead")}
    now_state["oldest"] = min((row["oldest"] for row in per_system_rows if row["oldest"]), default=None)
    attempts = filters.orders(
        DeliveryAttempt.objects.filter(filters.in_period("started_at")), order="delivery__order"
    )
    latency = percentiles(attempts.filter(SUCCESS), F("latency_ms"), (0.5, 0.95))
    delivered = deliveries.filter(filters.in_period("delivered_at"))
    # From the hook's receipt of the message that caused the change (or the change made here) to the
    # receiver's 2xx: the queues are part of the latency. Events older than caused_at: the row's creation.
    end_to_end = SecondsBetween(F("delivered_at"), Coalesce(F("event__caused_at"), F("created_at")))
    e2e = percentiles(delivered, end_to_end, (0.5, 0.95))
    # Attempts, failures and the latency of the successful ones per week in one grouped scan: a failed
    # attempt's latency is NULL here, and percentiles leave NULLs out.
    weekly_attempts = weekly_aggregates(
        attempts,
        moment="started_at",
        spec={"p95": (Case(When(SUCCESS, then=F("latency_ms"))), 0.95)},
        n=Count("pk"),
        failed=Count("pk", filter=~SUCCESS),
    )
    attempt_stats = {key: sum(row[key] for row in weekly_attempts.values()) for key in ("n", "failed")}
    rows = []
    for week in weeks_of(filters):
        row = weekly_attempts.get(week) or {"n": 0, "failed": 0, "p95": None}
        rows.append([week, row["n"], row["failed"], percent(row["failed"], row["n"]), rounded(row["p95"], 0)])
    per_system = [
        [row["system__name"], row["backlog"], row["failing"], row["dead"]] for row in per_system_rows
    ]
    # Changes to work under way the MES has not acknowledged in time (now, whatever the period).
    unacknowledged = filters.orders(mes_changes_unacknowledged(now=timezone.now()), order="order").count()
    oldest_minutes = (
        round((timezone.now() - now_state["oldest"]).total_seconds() / 60) if now_state["oldest"] else None
    )
    return Section(
        key="sync_health",
        title=_("Sync health"),
        definition=_(
            "Now: deliveries to the CRM and the MES still waiting (backlog), failing and retrying, dead "
            "letters, and changes to work under way the MES has not acknowledged in time. In the period: "
            "delivery attempts and the share that failed, the HTTP latency of "
            "successful attempts, and the end-to-end latency from the moment the hook received the message "
            "that caused the change (or the change was made here) to the receiver's acknowledgement."
        ),
        figures=[
            Figure(_("Backlog"), now_state["backlog"]),
            Figure(_("Failing, retrying"), now_state["failing"]),
            Figure(_("Dead letters"), now_state["dead"]),
            Figure(_("Oldest waiting"), oldest_minutes, _("min")),
            Figure(_("Not acknowledged by the MES"), unacknowledged),
            Figure(_("Failed attempts"), percent(attempt_stats["failed"], attempt_stats["n"]), "%"),
            Figure(_("Attempt latency, 95th percentile"), rounded(latency[0.95], 0), "ms"),
            Figure(_("Change to delivery, median"), rounded(e2e[0.5], 1), "s"),
        ],
        charts=[
            Chart(
                _("Attempt latency per week (95th percentile)"),
                "line",
                [Series(_("Latency"), [(r[0], r[4]) for r in rows])],
                "ms",
            ),
            Chart(
                _("Failed attempts per week"),
                "line",
                [Series(_("Failed"), [(r[0], r[3]) for r in rows])],
                "%",
            ),
        ],
        tables=[
            Table(
                "sync_weekly",
                _("Delivery attempts per week"),
                [_("Week"), _("Attempts"), _("Failed"), _("Failed (%)"), _("Latency p95 (ms)")],
                rows,
            ),
            Table(
                "sync_systems",
                _("Sync state per system"),
                [_("System"), _("Backlog"), _("Failing"), _("Dead letters")],
                per_system,
            ),
        ],
    )


SYNC_HEALTH_SECTION = SectionProvider("sync_health", sync_health, order=60)
