"""The operator endpoint's JSON body, parsed into a FloorInput with a message per bad field (HTTP 400)."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import uuid
from decimal import Decimal, InvalidOperation
from typing import Any

from django import forms
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from config.kernel import ValidationFailed
from production.floor.models import FloorAction
from production.floor.services import FloorInput

MAX_ID = 2**63 - 1  # a bigint: a larger number is no operation (and would be a database error)


class SignInForm(forms.Form):
    badge = forms.CharField(label=gettext_lazy("Badge number"), max_length=32)
    pin = forms.CharField(label=gettext_lazy("PIN"), max_length=12, widget=forms.PasswordInput)


def _decimal(body: dict[str, Any], name: str, errors: dict[str, list[str]]) -> Decimal:
    value = body.get(name, 0)
    if value in (None, ""):
        return Decimal(0)
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        errors[name] = [_("Enter a number.")]
        return Decimal(0)
    if not number.is_finite() or number < 0 or number >= Decimal("1e9"):
        errors[name] = [_("Enter a number of at least %(min)s.") % {"min": 0}]
        return Decimal(0)
    return number


def _text(body: dict[str, Any], name: str, errors: dict[str, list[str]], limit: int) -> str:
    value = body.get(name, "")
    if value is None:
        return ""
    if not isinstance(value, str):
        errors[name] = [_("Enter a text.")]
        return ""
    if len(value) > limit:
        errors[name] = [_("At most %(count)s characters.") % {"count": limit}]
    return value.strip()


def floor_input(body: Any) -> FloorInput:
    """The report in `body` (a decoded JSON object), or ValidationFailed naming each bad field."""
    if not isinstance(body, dict):
        raise ValidationFailed(_("Send a JSON object."), fields={"body": [_("Send a JSON object.")]})
    errors: dict[str, list[str]] = {}
    try:
        client_id = uuid.UUID(str(body.get("client_id", "")))
    except ValueError:
        errors["client_id"] = [_("Send the report's id (a UUID).")]
        client_id = uuid.UUID(int=0)
    operation = body.get("operation")
    if (
        isinstance(operation, bool)
        or not isinstance(operation, (int, str))
        or not str(operation).isdigit()
        or not 0 < int(operation) <= MAX_ID
    ):
        errors["operation"] = [_("Enter the operation's number.")]
        operation = 0
    action = body.get("action")
    if action not in FloorAction.values:
        errors["action"] = [_("Unknown action.")]
    device_time: dt.datetime | None = None
    if body.get("device_time"):
        try:
            device_time = (
                parse_datetime(body["device_time"]) if isinstance(body["device_time"], str) else None
            )
        except ValueError:  # well formed but not a date (month 13)
            device_time = None
        if device_time is None or device_time.tzinfo is None:
            errors["device_time"] = [_("Send the device time as ISO 8601 with its offset.")]
            device_time = None
    finished = body.get("finished", False)
    if not isinstance(finished, bool):
        errors["finished"] = [_("Send true or false.")]
        finished = False
    all_remaining = body.get("all_remaining", False)
    if not isinstance(all_remaining, bool):
        errors["all_remaining"] = [_("Send true or false.")]
        all_remaining = False
    photo = None
    if body.get("photo"):
        raw = body["photo"]
        try:
            photo = base64.b64decode(str(raw).split(",", 1)[-1], validate=True)
        except (binascii.Error, ValueError):
            errors["photo"] = [_("This is not a photo (JPEG, PNG or WebP).")]
    lot_quantity = _decimal(body, "lot_quantity", errors) if action == FloorAction.LOT else None
    data = FloorInput(
        client_id=client_id,
        operation_id=int(operation),
        action=str(action),
        good=_decimal(body, "good_quantity", errors),
        scrap=_decimal(body, "scrap_quantity", errors),
        rework=_decimal(body, "rework_quantity", errors),
        scrap_reason=_text(body, "scrap_reason", errors, 32),
        rework_reason=_text(body, "rework_reason", errors, 32),
        finished=finished,
        all_remaining=all_remaining,
        device_time=device_time,
        exception_kind=_text(body, "exception_kind", errors, 32),
        description=_text(body, "description", errors, 2000),
        photo=photo,
        lot_number=_text(body, "lot_number", errors, 60),
        lot_quantity=lot_quantity,
        inspection_result=_text(body, "inspection_result", errors, 16),
        defect_code=_text(body, "defect_code", errors, 32),
    )
    if errors:
        raise ValidationFailed(_("Please correct the errors below."), fields=errors)
    return data
