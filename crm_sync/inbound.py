"""Inbound messages from the CRM and the MES: verify, store raw under a unique id, answer, process later.

`inbound_receive` runs in the web request and does only what must happen before we answer;
`inbound_process` runs in a task and applies the message through DISPATCH, in one transaction with
marking it processed, so a message has its effect once however often it arrives or is retried.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from config.errors import ApplicationError, ValidationFailed
from orders import services as order_services
from orders.models import OrderStatus, SalesOrder

from . import b2mml, webhooks
from .models import Delivery, ExternalSystem, InboundMessage
from .services import retry_delay

logger = logging.getLogger("orderbridge.crm_sync")
security_log = logging.getLogger("orderbridge.security")


class SignatureRefused(ApplicationError):
    status_code = 401
    default_code = "bad_signature"


# --- receiving ------------------------------------------------------------------------------------------
def _classify(*, content_type: str, body: bytes) -> tuple[str, str]:
    """(kind, subject) of a message, read just enough to route it; a body we cannot read is refused now."""
    if "xml" in content_type:
        try:
            root, _ids = b2mml.acknowledged_bod_ids(body)
        except Exception as exc:  # any XML parser error
            raise ValidationFailed(_("The XML body cannot be read."), fields={"body": [str(exc)]}) from exc
        return root, ""
    try:
        document = json.loads(body)
    except ValueError as exc:
        raise ValidationFailed(_("The body is not JSON."), fields={"body": [str(exc)]}) from exc
    if not isinstance(document, dict) or not isinstance(document.get("type"), str):
        raise ValidationFailed(_("The message has no type."), fields={"type": [_("This field is required.")]})
    subject = document.get("subject")
    return document["type"], subject if isinstance(subject, str) else ""


def inbound_receive(
    *, system: ExternalSystem, headers: Mapping[str, str], body: bytes
) -> tuple[InboundMessage, bool]:
    """Verify and store one message; return it and whether it is new (False: a duplicate, no effect).

    Raises SignatureRefused (401) for an unsigned, badly signed, expired or replayed-too-late message,
    ValidationFailed (400) for a body that cannot be routed. After commit, a processing task is queued.
    """
    if not system.signing_secret:
        raise SignatureRefused(_("This system has no signing secret; inbound messages are refused."))
    try:
        message_id = webhooks.verify(secret=system.signing_secret, headers=headers, body=body)
    except webhooks.WebhookVerificationError as exc:
        security_log.warning("refused inbound system=%s why=%s", system.slug, exc)
        raise SignatureRefused(_("The signature is missing, wrong or expired.")) from exc
    content_type = {k.lower(): v for k, v in headers.items()}.get("content-type", "")
    kind, subject = _classify(content_type=content_type, body=body)
    try:
        with transaction.atomic():
            message = InboundMessage.objects.create(
                system=system,
                message_id=message_id,
                content_type=content_type[:100],
                body=body.decode("utf-8-sig"),
                kind=kind[:100],
                subject=subject[:64],
                next_attempt_at=timezone.now(),
            )
    except IntegrityError:
        return InboundMessage.objects.get(system=system, message_id=message_id), False
    transaction.on_commit(lambda: _enqueue(message.pk), robust=True)
    return message, True


def _enqueue(message_pk: int) -> None:
    from .tasks import process_inbound

    process_inbound.delay(message_pk)


# --- processing -----------------------------------------------------------------------------------------
def _acknowledge(message: InboundMessage) -> dict:
    """The MES confirms it has our message(s): mark those deliveries acknowledged."""
    if "xml" in message.content_type:
        _root, event_ids = b2mml.acknowledged_bod_ids(message.body.encode())
    else:
        data = json.loads(message.body).get("data") or {}
        event_ids = [data["event_id"]] if data.get("event_id") else []
    if not event_ids:
        raise ValidationFailed(_("The acknowledgement names no message of ours."), fields={"event_id": []})
    now = timezone.now()
    count = Delivery.objects.filter(
        system=message.system, event_id__in=event_ids, acknowledged_at__isnull=True
    ).update(acknowledged_at=now)
    return {"acknowledged": count}


# Forward only: a late "running" after "completed" must not roll the order back.
_PROGRESS = {
    "running": ("order_start_production", [OrderStatus.RELEASED]),
    "completed": ("order_complete", [OrderStatus.RELEASED, OrderStatus.IN_PRODUCTION]),
}


def _progress(message: InboundMessage) -> dict:
    """The MES reports production progress on an order: start it, or complete it."""
    document = json.loads(message.body)
    state = (document.get("data") or {}).get("state")
    if state not in _PROGRESS:
        raise ValidationFailed(_("Unknown progress state."), fields={"data.state": [str(state)]})
    actor = message.system.service_user
    if actor is None:
        raise ApplicationError(_("The system has no service user to act for it."), code="no_service_user")
    order = SalesOrder.objects.get(number=message.subject)
    action, from_statuses = _PROGRESS[state]
    if order.status not in from_statuses:
        return {"ignored": f"order is {order.status}"}
    getattr(order_services, action)(actor=actor, order=order, reason=f"{message.system.name}: {state}")
    return {"order": order.number, "state": state}


Handler = Callable[[InboundMessage], dict]
DISPATCH: dict[tuple[str, str], Handler] = {
    (ExternalSystem.Kind.MES, "operations.acknowledged"): _acknowledge,
    (ExternalSystem.Kind.MES, "AcknowledgeOperationsSchedule"): _acknowledge,
    (ExternalSystem.Kind.MES, "ConfirmBOD"): _acknowledge,
    (ExternalSystem.Kind.MES, "operations.progress"): _progress,
}


def inbound_process(*, message_pk: int) -> InboundMessage | None:
    """Apply one stored message once. Idempotent: a processed or dead message is left as it is.

    The row lock serialises concurrent runs for one message; the effect and the "processed" mark commit
    together, and a failure rolls the effect back and schedules a retry (then a dead letter).
    """
    with transaction.atomic():
        message = (
            InboundMessage.objects.select_for_update().select_related("system").filter(pk=message_pk).first()
        )
        if message is None or message.state in (InboundMessage.State.PROCESSED, InboundMessage.State.DEAD):
            return message
        handler = DISPATCH.get((message.system.kind, message.kind))
        message.attempts += 1
        try:
            if handler is None:
                raise ApplicationError(_("No handler for this kind of message."), code="unhandled")
            with transaction.atomic():
                message.result = handler(message)
        except Exception as exc:  # every failure is recorded on the message, none is lost
            message.last_error = f"{type(exc).__name__}: {exc}"[:2000]
            if message.attempts >= settings.SYNC_MAX_ATTEMPTS or isinstance(exc, ApplicationError):
                # A business refusal will not change by retrying; a crash might.
                message.state = InboundMessage.State.DEAD
                logger.error("inbound dead letter %s from %s: %s", message.message_id, message.system, exc)
            else:
                message.state = InboundMessage.State.FAILED
                message.next_attempt_at = timezone.now() + retry_delay(attempts=message.attempts)
        else:
            message.state = InboundMessage.State.PROCESSED
            message.processed_at = timezone.now()
            message.last_error = ""
        message.save()
    return message


def inbound_due(*, limit: int = 500) -> list[int]:
    """Stored messages whose processing is due (a retry, or a task lost with the broker)."""
    return list(
        InboundMessage.objects.filter(
            state__in=[InboundMessage.State.RECEIVED, InboundMessage.State.FAILED],
            next_attempt_at__lte=timezone.now(),
        )
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )


@transaction.atomic
def inbound_replay(*, messages: Iterable[InboundMessage], actor: Any) -> int:
    """Process dead or failed messages again, due now, with a fresh retry budget. Returns how many."""
    ids = [message.pk for message in messages]
    count = InboundMessage.objects.filter(
        pk__in=ids, state__in=[InboundMessage.State.DEAD, InboundMessage.State.FAILED]
    ).update(state=InboundMessage.State.RECEIVED, attempts=0, next_attempt_at=timezone.now())
    for pk in ids:
        transaction.on_commit(lambda pk=pk: _enqueue(pk), robust=True)
    if count:
        logger.info("%s replayed %s inbound messages", getattr(actor, "username", "system"), count)
    return count
