"""Receiving: verify an inbound message, store it raw under its unique id, answer; its task does the rest.

`inbound_receive` runs in the web request and does only what must happen before we answer; the message
is applied later by the process_inbound task (processing.py). Operators' replays come through here too.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING
from xml.etree import ElementTree as ET

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from config.kernel import actor_name
from config.kernel.errors import ApplicationError, ValidationFailed
from crm_sync import b2mml, fast_sql, webhooks
from crm_sync.inbound.common import json_document, map_inbound
from crm_sync.inbound.tasks import process_inbound
from crm_sync.models import ExternalSystem, InboundMessage

if TYPE_CHECKING:
    from django.contrib.auth.models import User

logger = logging.getLogger("orderbridge.crm_sync")
security_log = logging.getLogger("orderbridge.security")


class SignatureRefused(ApplicationError):
    status_code = 401
    default_code = "bad_signature"


def _read(*, system: ExternalSystem, content_type: str, body: bytes) -> tuple[str, str, str]:
    """(text, kind, subject) of a message: its body as the text we store, read just enough to route it.
    A body we cannot read or store is refused now (400), never stored to fail later."""
    if "xml" in content_type:
        try:
            # The bytes, so that the parser honours the declared encoding; then the same text to store.
            root, _ids = b2mml.acknowledged_bod_ids(body)
            text = b2mml.document_text(body)
        except (ET.ParseError, ValueError) as exc:
            raise ValidationFailed(_("The XML body cannot be read."), fields={"body": [str(exc)]}) from exc
        return text, root, ""
    try:
        # JSON between systems is UTF-8 (RFC 8259), a byte-order mark tolerated.
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValidationFailed(_("The body is not UTF-8 text."), fields={"body": [str(exc)]}) from exc
    document = map_inbound(system, json_document(text))
    if not isinstance(document, dict) or not isinstance(document.get("type"), str):
        raise ValidationFailed(_("The message has no type."), fields={"type": [_("This field is required.")]})
    subject = document.get("subject")
    return text, document["type"], subject if isinstance(subject, str) else ""


def _check_message_id(message_id: str) -> None:
    """An id we cannot store is refused with the reason (400), not left to fail the insert (a 500, which
    the sender would retry for ever)."""
    limit = InboundMessage._meta.get_field("message_id").max_length or 0
    if len(message_id) > limit:
        message = _("The webhook-id is longer than %(limit)s characters.") % {"limit": limit}
    elif "\x00" in message_id:
        message = _("The webhook-id holds a NUL character.")
    else:
        return
    raise ValidationFailed(message, fields={"webhook-id": [message]})


def inbound_receive(
    *, system: ExternalSystem, headers: Mapping[str, str], body: bytes
) -> tuple[InboundMessage, bool]:
    """Verify and store one message; return it and whether it is new (False: a duplicate, no effect).

    Raises SignatureRefused (401) for an unsigned, badly signed, expired or replayed-too-late message,
    ValidationFailed (400) for a body that cannot be routed or stored, or an id longer than its column.
    After commit, a processing task is queued.
    """
    if not system.signing_secret:
        raise SignatureRefused(_("This system has no signing secret; inbound messages are refused."))
    try:
        message_id = webhooks.verify(secret=system.signing_secret, headers=headers, body=body)
    except webhooks.WebhookVerificationError as exc:
        security_log.warning("refused inbound system=%s why=%s", system.slug, exc)
        raise SignatureRefused(_("The signature is missing, wrong or expired.")) from exc
    content_type = {k.lower(): v for k, v in headers.items()}.get("content-type", "")
    _check_message_id(message_id)
    text, kind, subject = _read(system=system, content_type=content_type, body=body)
    # One statement, committed at once outside a transaction: the row exists before we answer, and a
    # duplicate id finds the stored one (no second row, no second effect).
    message = fast_sql.inbound_message_store(
        system_id=system.pk,
        message_id=message_id,
        content_type=content_type[:100],
        body=text,
        kind=kind[:100],
        subject=subject[:64],
        now=timezone.now(),
    )
    if message is None:
        return InboundMessage.objects.get(system=system, message_id=message_id), False
    # The row's system is the caller's instance (no query when a caller reads message.system).
    message.system = system
    pk = message.pk
    transaction.on_commit(lambda: inbound_enqueue(pk), robust=True)
    return message, True


def inbound_enqueue(message_pk: int) -> None:
    """Queue the processing of a stored message (called after commit: the task must find the row)."""
    # The arguments' text for monitoring, given: Celery's safe repr of them cost more than the rest of the
    # message's building (it is the same text).
    process_inbound.apply_async((message_pk,), argsrepr=f"({message_pk!r},)", kwargsrepr="{}")


@transaction.atomic
def inbound_replay(*, messages: Iterable[InboundMessage], actor: User) -> int:
    """Process dead or failed messages again, due now, with a fresh retry budget. Returns how many."""
    ids = [message.pk for message in messages]
    count = InboundMessage.objects.filter(
        pk__in=ids, state__in=[InboundMessage.State.DEAD, InboundMessage.State.FAILED]
    ).update(state=InboundMessage.State.RECEIVED, attempts=0, next_attempt_at=timezone.now())
    for pk in ids:
        transaction.on_commit(functools.partial(inbound_enqueue, pk), robust=True)
    if count:
        logger.info("%s replayed %s inbound messages", actor_name(actor), count)
    return count
