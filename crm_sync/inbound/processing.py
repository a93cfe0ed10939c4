"""Processing: apply one stored inbound message through DISPATCH, once, in one transaction with marking it
processed, so a message has its effect once however often it arrives or is retried."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from xml.etree.ElementTree import ParseError

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from config.kernel.errors import ApplicationError
from crm_sync import outbox
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
            if message is None or message.state in (
                InboundMessage.State.PROCESSED,
                InboundMessage.State.DEAD,
            ):
                return message
            handler = DISPATCH.get((message.system.kind, message.kind))
            if handler is None:
                raise ApplicationError(_("No handler for this kind of message."), code="unhandled")
            # Every outbox event the effect writes carries this system as its origin (no echo back).
            with outbox.acting_for(message.system, received_at=message.received_at):
                message.result = handler(message)
            message.attempts += 1
            message.state = InboundMessage.State.PROCESSED
            message.processed_at = timezone.now()
            message.last_error = ""
            # Only what processing changes: not the stored body (sent back whole by a plain save()).
            message.save(update_fields=PROCESSING_FIELDS)
        return message
    except Exception as exc:  # every failure is recorded on the message, none is lost
        return _record_failure(message_pk, exc)


def _locked(message_pk: int) -> InboundMessage | None:
    return (
        InboundMessage.objects.select_for_update(of=("self",))
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
