"""Delivering the outbox: claim the head of an order's queue for a system, send it, record the outcome.

Delivery contract (per order and per external system, like one SAP qRFC queue):
- at least once, with the event id as the idempotency key (header webhook-id, B2MML BODID);
- strictly in sequence: an order's later event is not sent to a system before every earlier one has
  been acknowledged by it; a failing or dead event holds back that order for that system only;
- claimed by one worker at a time (SELECT … FOR UPDATE SKIP LOCKED on PostgreSQL, compare-and-set on
  the row everywhere), with a lease so that a worker killed mid-request does not strand its row.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from crm_sync import b2mml, fast_sql, webhooks
from crm_sync.mapping import apply_mapping
from crm_sync.models import Delivery, DeliveryAttempt, ExternalSystem, OutboxEvent
from crm_sync.outbox import http_post, selectors

logger = logging.getLogger("orderbridge.crm_sync")

RESPONSE_EXCERPT_CHARS = 500


# --- claiming -------------------------------------------------------------------------------------------
def _lease_seconds(system: ExternalSystem) -> float:
    # A claim outlives the longest possible request by this margin before another worker may take over.
    return system.connect_timeout + system.read_timeout + settings.SYNC_LEASE_MARGIN_SECONDS


def delivery_claim_next(*, system_id: int, order_id: int) -> Delivery | None:
    """Claim the head of one order's queue for one system, if it is due; None if there is nothing to do.

    The claim is committed before the request goes out, so the lock is never held over the network.
    The head comes with its event and system, ready to send.
    """
    now = timezone.now()
    if fast_sql.claims_in_one_statement():
        return fast_sql.delivery_claim(
            system_id=system_id, order_id=order_id, now=now, lease_margin=settings.SYNC_LEASE_MARGIN_SECONDS
        )
    # The ORM's claim (SQLite): the same conditions as fast_sql.delivery_claim, in four round trips.
    with transaction.atomic():
        candidates = selectors.deliveries_claimable(now=now).filter(system_id=system_id, order_id=order_id)
        if connection.features.has_select_for_update_skip_locked:
            # Another worker holding this row is busy with it: skip rather than wait.
            candidates = candidates.select_for_update(skip_locked=True, of=("self",))
        head = candidates.select_related("event", "system").order_by("sequence").first()
        if head is None:
            return None
        claimed_until = now + dt.timedelta(seconds=_lease_seconds(head.system))
        # Compare-and-set: only one claimer wins even where SKIP LOCKED does not exist (SQLite).
        won = Delivery.objects.filter(pk=head.pk, state=head.state, attempts=head.attempts).update(
            state=Delivery.State.IN_FLIGHT,
            attempts=F("attempts") + 1,
            claimed_until=claimed_until,
            updated_at=now,
        )
        if not won:
            return None
    # What the row now holds (the compare-and-set above proves attempts was head.attempts).
    head.state = Delivery.State.IN_FLIGHT
    head.attempts += 1
    head.claimed_until = claimed_until
    head.updated_at = now
    return head


# --- sending --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SendResult:
    status_code: int | None
    latency_ms: int
    error: str
    response_excerpt: str

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def render_payload(*, system: ExternalSystem, event: OutboxEvent) -> tuple[bytes, str]:
    """The body and content type this system takes for this event."""
    cloudevent = event.as_cloudevent()
    if system.format == ExternalSystem.Format.B2MML:
        return b2mml.schedule_for_event(cloudevent, receiver=system.slug), "application/xml"
    outbound = (system.field_mapping or {}).get("outbound")
    if outbound:
        return json.dumps(apply_mapping(outbound, cloudevent)).encode(), "application/json"
    return json.dumps(cloudevent).encode(), "application/cloudevents+json"


def delivery_send(*, delivery: Delivery) -> SendResult:
    """One signed HTTP request; never raises for transport problems (they are the result)."""
    system = delivery.system
    body, content_type = render_payload(system=system, event=delivery.event)
    headers = {"content-type": content_type, "user-agent": "OrderBridge"}
    msg_id = str(delivery.event_id)
    if system.signing_secret:
        headers.update(webhooks.signed_headers(secret=system.signing_secret, msg_id=msg_id, body=body))
    else:
        headers["webhook-id"] = msg_id
    if system.bearer_token:
        headers["authorization"] = f"Bearer {system.bearer_token}"
    started = time.monotonic()
    try:
        answer = http_post.post(
            system.events_url,
            body=body,
            headers=headers,
            connect_timeout=system.connect_timeout,
            read_timeout=system.read_timeout,
        )
    except http_post.PostError as exc:
        latency = int((time.monotonic() - started) * 1000)
        return SendResult(None, latency, str(exc)[:1000], "")
    latency = int((time.monotonic() - started) * 1000)
    error = "" if 200 <= answer.status_code < 300 else f"HTTP {answer.status_code}"
    return SendResult(answer.status_code, latency, error, answer.text[:RESPONSE_EXCERPT_CHARS])


# --- recording the outcome ------------------------------------------------------------------------------
def retry_delay(*, attempts: int) -> dt.timedelta:
    """Exponential backoff with "equal jitter": half the step fixed, half random, capped."""
    step = min(
        settings.SYNC_RETRY_MAX_SECONDS, settings.SYNC_RETRY_BASE_MS / 1000 * 2 ** max(attempts - 1, 0)
    )
    return dt.timedelta(seconds=step / 2 + random.uniform(0, step / 2))  # noqa: S311 - jitter, not crypto


def _gives_up(delivery: Delivery, now: dt.datetime) -> bool:
    tries = delivery.attempts - delivery.attempts_before_replay
    started = delivery.replayed_at or delivery.created_at
    return (
        tries >= settings.SYNC_MAX_ATTEMPTS
        or (now - started).total_seconds() >= settings.SYNC_MAX_AGE_SECONDS
    )


def delivery_record_result(*, delivery: Delivery, result: SendResult, started_at: dt.datetime) -> Delivery:
    """Log the attempt and move the delivery on: delivered, failed (retry later) or dead (alert).

    Compare-and-set on (state, attempts): a worker whose lease ran out and was overtaken logs its
    attempt but does not overwrite the newer claim's outcome.
    """
    return _record_result(delivery=delivery, result=result, started_at=started_at)[0]


def _record_result(
    *, delivery: Delivery, result: SendResult, started_at: dt.datetime
) -> tuple[Delivery, bool]:
    """delivery_record_result, and whether the order has more to send to the system (for the drain)."""
    now = timezone.now()
    changes: dict[str, Any]
    if result.ok:
        changes = {"state": Delivery.State.DELIVERED.value, "delivered_at": now, "last_error": ""}
    elif _gives_up(delivery, now):
        changes = {"state": Delivery.State.DEAD.value, "last_error": result.error}
    else:
        changes = {
            "state": Delivery.State.FAILED.value,
            "last_error": result.error,
            "next_attempt_at": now
            + retry_delay(attempts=delivery.attempts - delivery.attempts_before_replay),
        }
    changes.update(claimed_until=None, queued_until=None, updated_at=now)
    attempt = {
        "number": delivery.attempts,
        "started_at": started_at,
        "status_code": result.status_code,
        "latency_ms": result.latency_ms,
        "error": result.error,
        "response_excerpt": result.response_excerpt,
    }
    if fast_sql.outcomes_in_one_statement():
        applied, more = fast_sql.delivery_record_outcome(delivery=delivery, changes=changes, attempt=attempt)
    else:
        applied, more = _record_with_orm(delivery=delivery, changes=changes, attempt=attempt)
    if not applied:
        logger.warning("delivery %s was claimed again while in flight; outcome not applied", delivery.pk)
        return delivery, False
    if changes["state"] == Delivery.State.DEAD:
        # The alert: an ERROR log line for the operators' log monitoring, and the admin's dead letters.
        logger.error(
            "dead letter: event %s (%s #%s %s) to %s after %s attempts: %s",
            delivery.event_id,
            delivery.event.subject,
            delivery.sequence,
            delivery.event.type,
            delivery.system.name,
            delivery.attempts,
            result.error,
        )
    if result.ok and delivery.attempts > 1 and not _answered_lately(delivery, now=now):
        # A retry (or a probe) went through after a silence: the system is back, so what waits behind it is
        # due now. A system that fails now and then (its other deliveries go through) is not "back": waking
        # its whole backlog at each retry that succeeds would undo every backoff and flood the relay.
        deliveries_wake_waiting(system_id=delivery.system_id, now=now)
    for key, value in changes.items():
        setattr(delivery, key, value)
    return delivery, more


@transaction.atomic
def _record_with_orm(
    *, delivery: Delivery, changes: dict[str, Any], attempt: dict[str, Any]
) -> tuple[bool, bool]:
    """The ORM's way of fast_sql.delivery_record_outcome (SQLite): the same effects, in one transaction."""
    DeliveryAttempt.objects.create(delivery=delivery, **attempt)
    current = Delivery.objects.filter(
        pk=delivery.pk, state=Delivery.State.IN_FLIGHT, attempts=delivery.attempts
    )
    if not current.update(**changes):
        return False, False
    fast_sql.outbox_event_settle(delivery.event_id)
    return True, _queue_open(system_id=delivery.system_id, order_id=delivery.order_id)


def _answered_lately(delivery: Delivery, *, now: dt.datetime) -> bool:
    """Whether another delivery to the system went through within the probe interval (the system was up)."""
    since = now - dt.timedelta(seconds=settings.SYNC_PROBE_SECONDS)
    return (
        Delivery.objects.filter(system_id=delivery.system_id, delivered_at__gte=since)
        .exclude(pk=delivery.pk)
        .exists()
    )


def deliveries_wake_waiting(*, system_id: int, now: dt.datetime) -> int:
    """The system answered again: every delivery waiting for a later retry to it is due now (the relay's
    next sweep publishes the queues, marking them queued). Returns how many rows were made due."""
    count = Delivery.objects.filter(
        system_id=system_id, state=Delivery.State.FAILED, next_attempt_at__gt=now
    ).update(next_attempt_at=now, queued_until=None)
    if count:
        logger.info("system %s answers again: %s waiting deliveries due now", system_id, count)
    return count


def deliveries_drain(*, system_id: int, order_id: int, limit: int = 100) -> int:
    """Send one order's due events to one system, in sequence, until the queue is empty or one fails.

    Idempotent: safe to run twice at once (the second finds the head claimed) or after a crash.
    Returns how many were delivered.
    """
    delivered = 0
    for _ in range(limit):
        delivery = delivery_claim_next(system_id=system_id, order_id=order_id)
        if delivery is None:
            break
        started_at = timezone.now()
        result = delivery_send(delivery=delivery)
        delivery, more = _record_result(delivery=delivery, result=result, started_at=started_at)
        if delivery.state != Delivery.State.DELIVERED:
            break
        delivered += 1
        # Usually the queue is now empty: recording the outcome says so, for less than a claim costs. An
        # event written after that statement's snapshot has its own wake-up task, which can claim it.
        if not more:
            break
    return delivered


def deliveries_drain_in_turn(
    *, system_id: int, order_ids: list[int], hand_off: Callable[[list[int]], object]
) -> int:
    """deliveries_drain for each order in turn, while the system answers quickly (one task for a batch of
    orders written together). Once one order's drain took longer than SYNC_DELIVERY_HAND_OFF_MS, the orders
    left go to `hand_off` (a wake-up each), so that a slow receiver gets them side by side, not one after
    the other. Returns how many were delivered here."""
    slow = settings.SYNC_DELIVERY_HAND_OFF_MS / 1000
    delivered = 0
    for index, order_id in enumerate(order_ids):
        started = time.monotonic()
        delivered += deliveries_drain(system_id=system_id, order_id=order_id)
        left = order_ids[index + 1 :]
        if left and time.monotonic() - started > slow:
            hand_off(left)
            break
    return delivered


def _queue_open(*, system_id: int, order_id: int) -> bool:
    """Whether the order has any delivery to this system still to send (due or not): called just after the
    outcome of a delivered one was stored, so that one is not counted."""
    return (
        Delivery.objects.filter(system_id=system_id, order_id=order_id)
        .exclude(state__in=[Delivery.State.DELIVERED, Delivery.State.DEAD])
        .exists()
    )
