"""Processing: apply one stored inbound message through DISPATCH, once, in one transaction with marking it
processed, so a message has its effect once however often it arrives or is retried."""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable
from xml.etree.ElementTree import ParseError

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from config.kernel.errors import ApplicationError
from crm_sync import fast_sql, outbox
from crm_sync.inbound import crm as crm_inbound
from crm_sync.inbound import mes as mes_inbound
from crm_sync.models import ExternalSystem, InboundMessage

logger = logging.getLogger("orderbridge.crm_sync")

Handler = Callable[[InboundMessage], dict]
# Failures that retrying cannot mend: dead at once, with the reason. Django's ValidationError is a value
# that does not fit a field (an acknowledged id that is no UUID), ParseError a body that is not XML.
PERMANENT = (ApplicationError, DjangoValidationError, ParseError, RecursionError)
DISPATCH: dict[tuple[str, str], Handler] = {
    (ExternalSystem.Kind.CRM, "order.created"): crm_inbound.order_created,
    (ExternalSystem.Kind.CRM, "order.updated"): crm_inbound.order_updated,
    (ExternalSystem.Kind.CRM, "order.cancelled"): crm_inbound.order_cancelled,
    (ExternalSystem.Kind.MES, "operations.acknowledged"): mes_inbound.acknowledge,
    (ExternalSystem.Kind.MES, "AcknowledgeOperationsSchedule"): mes_inbound.acknowledge,
    (ExternalSystem.Kind.MES, "ConfirmBOD"): mes_inbound.acknowledge,
    (ExternalSystem.Kind.MES, "operations.progress"): mes_inbound.progress,
    (ExternalSystem.Kind.MES, "ProcessOperationsPerformance"): mes_inbound.performance,
    (ExternalSystem.Kind.MES, "SyncOperationsPerformance"): mes_inbound.performance,
    (ExternalSystem.Kind.MES, "SyncProductionPerformance"): mes_inbound.performance,
    (ExternalSystem.Kind.MES, "operations.exception"): mes_inbound.exception,
    (ExternalSystem.Kind.MES, "operations.completed"): mes_inbound.completed,
}
# Handlers with a batch form: the effects of several messages of one system and kind, in order, each
# message's result in its place (inbound_process_waiting).
BatchHandler = Callable[[list[InboundMessage]], list[dict]]
BATCH_DISPATCH: dict[tuple[str, str], BatchHandler] = {
    (ExternalSystem.Kind.CRM, "order.created"): crm_inbound.orders_created,
}


def inbound_process(*, message_pk: int) -> InboundMessage | None:
    """Apply one stored message once. Idempotent: a processed or dead message is left as it is.

    The row lock serialises concurrent runs for one message; the effect and the "processed" mark commit
    together. A failure rolls the whole transaction back (effect and lock) and records the failure on the
    message in a transaction of its own (a retry, then a dead letter): no savepoint on the way that succeeds,
    two queries fewer per message.
    """
    try:
        with transaction.atomic():
            message = _locked(message_pk)
            if message is None or _finished(message):
                return message
            _apply(message)
        return message
    except Exception as exc:  # every failure is recorded on the message, none is lost
        return _record_failure(message_pk, exc)


def inbound_process_waiting(*, message_pk: int) -> None:
    """The inbound task's service: apply this message once (inbound_process) and, when it is a CRM's new
    order with others of the same system waiting untried behind it, those with it (up to
    SYNC_INBOUND_BATCH) in the same transaction, through the handlers' batch form (BATCH_DISPATCH).

    Under a burst the work per order drops (one statement writes the batch's orders, another their work
    orders…); alone, a message costs what it did. The message and those waiting are locked with SKIP LOCKED:
    another worker's batch or message is never waited for (a message another worker holds is left to it:
    it applies it, or records its failure; a worker killed meanwhile releases it to the relay sweep), and
    each message is still applied once. A batch that fails is rolled back as a whole and its messages are
    applied one by one, each recording its own failure: a bad message never takes the others down with it.
    """
    batch: list[InboundMessage] = []
    try:
        with transaction.atomic():
            # Held by another worker (its batch took this message, or it runs it alone): that worker applies
            # it, or records its failure; waiting for its commit would only queue this worker behind it.
            message = _locked(message_pk, skip_locked=True)
            if message is None or _finished(message):
                return
            batch = [message, *_waiting_behind(message)]
            if len(batch) == 1:
                _apply(message)
                return
            _apply_batch(batch)
        return
    except Exception as exc:
        if len(batch) <= 1:  # the single path's failure, recorded as inbound_process records it
            _record_failure(message_pk, exc)
            return
        logger.info("inbound batch of %s failed (%s): applied one by one", len(batch), exc)
    for each in batch:
        inbound_process(message_pk=each.pk)


def inbound_taken_in(message_pk: int) -> bool:
    """True when the message needs no more work here: processed, dead, gone, or held by another worker
    (its batch took it: it applies it or records its failure). One statement, no lock kept. The process task
    asks first: under a burst most of its runs find their message in another's batch.

    A message a batch could take (a CRM's new order, never tried) younger than SYNC_INBOUND_LINGER_MS is
    given the rest of that time first, so that the orders arriving just behind it join its batch: at a steady
    rate batches would otherwise stay at one or two orders, each paying a batch's fixed cost. Then it is
    asked again (a worker that lingered less may have taken it meanwhile).
    """
    if settings.SYNC_INBOUND_LINGER_MS <= 0:  # no lingering (the default): the state alone decides
        state_alone = fast_sql.inbound_message_state_unless_held(message_pk)
        return state_alone in (None, InboundMessage.State.PROCESSED, InboundMessage.State.DEAD)
    look = fast_sql.inbound_message_look_unless_held(message_pk)
    if look is None:
        return True
    state, kind, attempts, received_at, system_kind = look
    if state != InboundMessage.State.RECEIVED:
        return state in (InboundMessage.State.PROCESSED, InboundMessage.State.DEAD)
    wait = _linger_left(kind=kind, system_kind=system_kind, attempts=attempts, received_at=received_at)
    if wait <= 0:
        return False
    time.sleep(wait)
    state_now = fast_sql.inbound_message_state_unless_held(message_pk)
    return state_now in (None, InboundMessage.State.PROCESSED, InboundMessage.State.DEAD)


def _linger_left(*, kind: str, system_kind: str, attempts: int, received_at: dt.datetime) -> float:
    """Seconds still to wait for a batch to gather behind this message (0: none)."""
    linger = settings.SYNC_INBOUND_LINGER_MS / 1000
    batchable = settings.SYNC_INBOUND_BATCH > 1 and not attempts and (system_kind, kind) in BATCH_DISPATCH
    if linger <= 0 or not batchable:
        return 0.0
    age = (timezone.now() - received_at).total_seconds()
    return max(0.0, min(linger, linger - age))


def _finished(message: InboundMessage) -> bool:
    return message.state in (InboundMessage.State.PROCESSED, InboundMessage.State.DEAD)


def _apply(message: InboundMessage) -> None:
    """The message's effect and its "processed" mark, in the caller's transaction."""
    handler = DISPATCH.get((message.system.kind, message.kind))
    if handler is None:
        raise ApplicationError(_("No handler for this kind of message."), code="unhandled")
    # Every outbox event the effect writes carries this system as its origin (no echo back).
    with outbox.acting_for(message.system, received_at=message.received_at):
        message.result = handler(message)
    _mark_processed(message, now=timezone.now())
    # Only what processing changes: not the stored body (sent back whole by a plain save()).
    message.save(update_fields=PROCESSING_FIELDS)


def _mark_processed(message: InboundMessage, *, now: dt.datetime) -> None:
    message.attempts += 1
    message.state = InboundMessage.State.PROCESSED
    message.processed_at = now
    message.last_error = ""


def _waiting_behind(message: InboundMessage) -> list[InboundMessage]:
    """Messages of the same system and kind, never tried, that a batch handler may apply with `message`:
    locked, skipping those another worker holds (none when batches are off or the kind has no batch form)."""
    limit = settings.SYNC_INBOUND_BATCH - 1
    if limit < 1 or message.attempts or (message.system.kind, message.kind) not in BATCH_DISPATCH:
        return []
    waiting = list(
        InboundMessage.objects.select_for_update(skip_locked=True, of=("self",))
        .filter(
            system_id=message.system_id,
            kind=message.kind,
            state=InboundMessage.State.RECEIVED,
            attempts=0,
        )
        .exclude(pk=message.pk)
        .order_by("pk")[:limit]
    )
    for each in waiting:
        each.system = message.system  # with its service user, loaded once
    return waiting


def _apply_batch(batch: list[InboundMessage]) -> None:
    """A batch handler's effect for every message of `batch` and their "processed" marks (one UPDATE)."""
    first = batch[0]
    handler = BATCH_DISPATCH[(first.system.kind, first.kind)]
    # The events' end-to-end latency starts at the earliest receipt of the batch: never flattering.
    with outbox.acting_for(first.system, received_at=min(message.received_at for message in batch)):
        results = handler(batch)
    now = timezone.now()
    for message, result in zip(batch, results, strict=True):
        message.result = result
        _mark_processed(message, now=now)  # never tried before (_waiting_behind): attempts 0 → 1
    # The marks are alike but for each message's result: one UPDATE for them, one for the results.
    InboundMessage.objects.filter(pk__in=[message.pk for message in batch]).update(
        state=InboundMessage.State.PROCESSED, attempts=1, last_error="", processed_at=now
    )
    InboundMessage.objects.bulk_update(batch, ["result"])


def _locked(message_pk: int, *, skip_locked: bool = False) -> InboundMessage | None:
    return (
        InboundMessage.objects.select_for_update(of=("self",), skip_locked=skip_locked)
        # The handlers act as the system's service user: loaded here, not once more per message.
        .select_related("system__service_user")
        .filter(pk=message_pk)
        .first()
    )


def _record_failure(message_pk: int, exc: Exception) -> InboundMessage | None:
    """Count the failed attempt and keep its reason: a retry later, or a dead letter. The message is locked
    again; if another run has processed it meanwhile (a duplicate task), it is left as that run left it."""
    with transaction.atomic():
        message = _locked(message_pk)
        if message is None or message.state in (InboundMessage.State.PROCESSED, InboundMessage.State.DEAD):
            return message
        message.attempts += 1
        message.last_error = f"{type(exc).__name__}: {exc}"[:2000]
        if isinstance(exc, ApplicationError):
            # The refusal names the field as the sender wrote it, for the admin and the sender.
            message.result = {"error": exc.code, "message": exc.message, "fields": exc.fields}
        if message.attempts >= settings.SYNC_MAX_ATTEMPTS or isinstance(exc, PERMANENT):
            # A business refusal, or a body that cannot be read, will not change by retrying; a crash might.
            message.state = InboundMessage.State.DEAD
            logger.error("inbound dead letter %s from %s: %s", message.message_id, message.system, exc)
        else:
            message.state = InboundMessage.State.FAILED
            message.next_attempt_at = timezone.now() + outbox.retry_delay(attempts=message.attempts)
        message.save(update_fields=PROCESSING_FIELDS)
    return message


PROCESSING_FIELDS = ["state", "attempts", "next_attempt_at", "last_error", "result", "processed_at"]


def inbound_due(*, limit: int = 500, grace_seconds: float = 0, hold_seconds: float = 0) -> list[int]:
    """Stored messages whose processing is due (a retry, or a task lost with the broker).

    `grace_seconds`: a message never tried yet is only taken once it is that old (its task is on its way).
    `hold_seconds` (the relay): the messages returned are not due again for that long, so a backlog older
    than the grace is re-published once per hold, not on every sweep (which would flood the queue with
    duplicates while the workers are already behind). Processing does not read next_attempt_at.
    """
    now = timezone.now()
    due = list(
        InboundMessage.objects.filter(
            Q(attempts__gt=0) | Q(received_at__lte=now - dt.timedelta(seconds=grace_seconds)),
            state__in=[InboundMessage.State.RECEIVED, InboundMessage.State.FAILED],
            next_attempt_at__lte=now,
        )
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )
    if due and hold_seconds:
        InboundMessage.objects.filter(
            pk__in=due, state__in=[InboundMessage.State.RECEIVED, InboundMessage.State.FAILED]
        ).update(next_attempt_at=now + dt.timedelta(seconds=hold_seconds))
    return due
