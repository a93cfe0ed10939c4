"""What the CRM and MES handlers share: the message as our document, field checks, the sequence cursor."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from django.db.models import F
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _

from config.kernel.errors import ApplicationError, ValidationFailed
from crm_sync import fast_sql
from crm_sync.mapping import MappingError, apply_mapping
from crm_sync.models import ExternalSystem, InboundCursor, InboundMessage

if TYPE_CHECKING:
    from django.contrib.auth.models import User


# Our messages nest four levels (data.lines[0].spec_values.x); a sender's extras may add a few. Deeper is
# refused: the parser and what reads the document (the field mapping, spec-value schemas) recurse.
MAX_JSON_DEPTH = 32


def _unstorable(text: str) -> bool:
    """True for text no PostgreSQL text column holds: a NUL, or an unpaired surrogate ("\\ud800")."""
    if "\x00" in text:
        return True
    if text.isascii():
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def json_document(text: str) -> Any:
    """A message's JSON, checked before anything reads it: at most MAX_JSON_DEPTH levels deep, no string
    (key or value) with a NUL or an unpaired surrogate. Raises ValidationFailed otherwise, so the door
    answers 400 and a stored message goes dead with the reason, never a crash or a retry loop."""
    try:
        parsed = json.loads(text)
    except RecursionError as exc:  # the C parser's own stack guard, far past our depth
        raise _too_deep() from exc
    except ValueError as exc:
        raise ValidationFailed(_("The body is not JSON."), fields={"body": [str(exc)]}) from exc
    # Walked with a list, not recursion: the walk itself must not be the thing that overflows.
    pending: list[tuple[Any, int]] = [(parsed, 1)]
    while pending:
        value, depth = pending.pop()
        if isinstance(value, str):
            if _unstorable(value):
                raise ValidationFailed(
                    _("The message holds a NUL character or an unpaired surrogate, which cannot be stored."),
                    fields={"body": [_("Remove the NUL characters and unpaired surrogates.")]},
                )
        elif isinstance(value, dict | list):
            if depth > MAX_JSON_DEPTH:
                raise _too_deep()
            items = [*value.keys(), *value.values()] if isinstance(value, dict) else value
            pending.extend((item, depth + 1) for item in items)
    return parsed


def _too_deep() -> ValidationFailed:
    message = _("The JSON nests deeper than %(depth)s levels.") % {"depth": MAX_JSON_DEPTH}
    return ValidationFailed(message, fields={"body": [message]})


def map_inbound(system: ExternalSystem, document: Any) -> Any:
    """Their payload in our shape, through the system's configured inbound field mapping (if any)."""
    mapping = (system.field_mapping or {}).get("inbound")
    if not mapping or not isinstance(document, dict):
        return document
    try:
        return apply_mapping(mapping, document)
    except MappingError as exc:
        raise ValidationFailed(
            _("The system's inbound field mapping does not fit this message."),
            fields={"field_mapping.inbound": [str(exc)]},
        ) from exc


def document(message: InboundMessage) -> dict:
    """The JSON message, mapped to our shape: {"type", "subject", "sequence", "data": {...}}."""
    parsed = map_inbound(message.system, json_document(message.body))
    if not isinstance(parsed, dict):
        raise ValidationFailed(_("A JSON object is expected."), fields={"body": [_("Not an object.")]})
    return parsed


def data_of(doc: dict) -> dict:
    data = doc.get("data")
    if not isinstance(data, dict):
        raise ValidationFailed(_("The message has no data."), fields={"data": [_("This field is required.")]})
    return data


def service_user(system: ExternalSystem) -> User:
    if system.service_user is None:
        raise ApplicationError(_("The system has no service user to act for it."), code="no_service_user")
    return system.service_user


def required_text(data: dict, key: str, *, prefix: str = "data.") -> str:
    value = data.get(key)
    if value in (None, "") or not isinstance(value, str | int):
        raise ValidationFailed(
            _("%(field)s is required.") % {"field": prefix + key},
            fields={prefix + key: [_("This field is required.")]},
        )
    return str(value)


def optional_date(data: dict, key: str, errors: dict, *, prefix: str = "data.") -> dt.date | None:
    value = data.get(key)
    if value in (None, ""):
        return None
    parsed = parse_date(value) if isinstance(value, str) else None
    if parsed is None:
        errors[prefix + key] = [_("Enter a date as YYYY-MM-DD.")]
    return parsed


def optional_datetime(value: Any, field: str) -> dt.datetime | None:
    if value in (None, ""):
        return None
    parsed = parse_datetime(value) if isinstance(value, str) else None
    if parsed is None:
        raise ValidationFailed(
            _("Enter a date and time (ISO 8601)."), fields={field: [_("Not a date and time.")]}
        )
    return parsed


def decimal_of(value: Any, field: str, errors: dict) -> Decimal:
    if value in (None, ""):
        return Decimal(0)
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        errors[field] = [_("Enter a number.")]
        return Decimal(0)
    if not number.is_finite() or number < 0:
        errors[field] = [_("Enter a number of zero or more.")]
        return Decimal(0)
    return number


def prefixed(exc: ValidationFailed, prefix: str) -> ValidationFailed:
    """The same refusal with field names as the sender wrote them (e.g. lines[0].quantity → data.lines…)."""
    return ValidationFailed(
        exc.message, code=exc.code, fields={prefix + key: v for key, v in exc.fields.items()}
    )


def sequence_of(doc: dict) -> int | None:
    """The sender's sequence (or version) of the message for its subject; None when it sends none."""
    for value in (doc.get("sequence"), (doc.get("data") or {}).get("sequence")):
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, str) and value.isdigit():
            return int(value)
    return None


def cursor_advance(*, system: ExternalSystem, subject: str, sequence: int | None, message_id: str) -> bool:
    """True if this message is newer than any applied for the subject (the cursor moves on with it).

    False: an older (or equal) sequence after a newer one; the caller must not apply it, and the
    cursor counts it. Runs inside the caller's transaction and leaves the cursor row locked (the upsert
    locks the row it inserts, updates, or finds newer), so messages for one subject are applied one after
    the other and a rolled-back effect rolls the cursor back.

    One statement in the usual case (fast_sql.inbound_cursor_advance) instead of get-or-create, lock and
    update: this runs for every inbound message.
    """
    if sequence is None:
        return True
    now = timezone.now()
    subject = subject[:64]
    if sequence <= 0:  # never newer than a fresh cursor (which starts at 0)
        InboundCursor.objects.bulk_create(
            [InboundCursor(system=system, subject=subject)], ignore_conflicts=True
        )
        advanced = False
    else:
        advanced = fast_sql.inbound_cursor_advance(
            system_id=system.pk, subject=subject, sequence=sequence, message_id=message_id[:200], now=now
        )
    if not advanced:
        InboundCursor.objects.filter(system=system, subject=subject).update(
            stale_ignored=F("stale_ignored") + 1, updated_at=now
        )
    return advanced


def stale(subject: str, sequence: int | None) -> dict:
    return {"ignored": "stale", "subject": subject, "sequence": sequence}
