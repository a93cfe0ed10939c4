"""Owing the CRM a progress event: the per-order marker the reports and the plans set (crm_sync.models
.ProgressFeed), and the wake-up of the one event that pays it.

Why a marker and not an outbox row per report (or one row rewritten while pending): the outbox keeps
every row as written, numbered in the order's sequence and delivered at least once in that sequence. A
row per report would flood the CRM; a pending row rewritten in place would carry a state newer than the
events numbered after it, and could change under a worker that is sending it (its id is the receiver's
dedupe key, so a re-send with other content would be dropped). The marker instead says "owed, not before
T"; the event is written once, when due, from the order's state at that moment, through the ordinary
outbox: a new row at the end of the order's queue, so ordering and at-least-once delivery are the
outbox's as for any event.

Locking: the marker's row is locked (SELECT … FOR UPDATE) by whoever sets it, until their transaction
commits, and by the writer of the event before it reads the order's state. So a report that commits
after the event read the state finds the marker cleared and owes the next event; one that committed
before is in the state read. The writer locks the order first, then the marker, as a report does.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from config.kernel.events import OrderProgressed, ProgressReported, ProjectionChanged
from crm_sync.models import ProgressFeed
from crm_sync.outbox import enabled_systems
from crm_sync.progress.tasks import progress_emit_order

logger = logging.getLogger("orderbridge.crm_sync")


def progress_wanted() -> bool:
    """Whether any enabled system takes progress events (none: nothing is marked or written)."""
    return any(system.takes(OrderProgressed.name) for system in enabled_systems())


def progress_mark_due(*, order_id: int, now: dt.datetime | None = None) -> dt.datetime | None:
    """Owe the order's systems a progress event, in the caller's transaction.

    Returns when it is due if this call made it owed (its task is enqueued after commit, counting down to
    then), None if it was owed already: that event, written when due, reads the newest state anyway.
    Due: now, or when the interval since the last event is over (ORDERBRIDGE_CRM_PROGRESS_INTERVAL_SECONDS).
    """
    now = now or timezone.now()
    feed = ProgressFeed.objects.select_for_update().filter(order_id=order_id).first()
    if feed is None:
        feed, created = ProgressFeed.objects.get_or_create(order_id=order_id, defaults={"due_at": now})
        if created:  # the insert holds the new row's lock until commit, as the FOR UPDATE above would
            _wake_on_commit(order_id=order_id, due=now)
            return now
        feed = ProgressFeed.objects.select_for_update().get(order_id=order_id)
    if feed.due_at is not None:
        return None
    due = max(now, feed.next_allowed_at or now)
    ProgressFeed.objects.filter(order_id=order_id).update(due_at=due)
    _wake_on_commit(order_id=order_id, due=due)
    return due


def _wake_on_commit(*, order_id: int, due: dt.datetime) -> None:
    def enqueue() -> None:
        countdown = max(0.0, (due - timezone.now()).total_seconds())
        try:
            progress_emit_order.apply_async((order_id,), countdown=countdown)
        except Exception:  # the broker is down: the sweep writes it (crm_sync.tasks.progress_sweep)
            logger.warning("could not enqueue progress order=%s", order_id, exc_info=True)

    transaction.on_commit(enqueue)


def on_progress_reported(event: ProgressReported) -> None:
    """Subscriber: a report on one of the order's operations makes its progress owed."""
    if progress_wanted():
        progress_mark_due(order_id=event.order.pk)


def on_projection_changed(event: ProjectionChanged) -> None:
    on_projections_changed([event])


def on_projections_changed(events: Sequence[ProjectionChanged]) -> None:
    """Subscriber (batch form): a plan moved these orders' projected completions. Owed when one moved by
    more than ORDERBRIDGE_PROJECTION_SHIFT_HOURS from the projection the CRM was last given (or, for an
    order never sent one, from the previous plan's), late or not."""
    if not events or not progress_wanted():
        return
    threshold = dt.timedelta(hours=settings.PROJECTION_SHIFT_HOURS)
    sent = dict(
        ProgressFeed.objects.filter(
            order_id__in=[event.order.pk for event in events], projected_sent__isnull=False
        ).values_list("order_id", "projected_sent")
    )
    # In order id order: a plan's transaction locks many markers, always in the same order.
    for event in sorted(events, key=lambda each: each.order.pk):
        base = sent.get(event.order.pk) or event.previous_projected_completion
        moved = event.projected_completion
        if base is not None and moved is not None and abs(moved - base) > threshold:
            progress_mark_due(order_id=event.order.pk)
