"""Numbers from forms and API payloads, checked with a message per field (services collect them)."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils.translation import gettext as _


def decimal_input(
    value: Any, field: str, errors: dict[str, list[str]], *, minimum: Decimal = Decimal(0)
) -> Decimal:
    """`value` as a Decimal of at least `minimum`; otherwise a message under `field` in `errors` (and 0)."""
    try:
        number = Decimal(str(value))
    except (InvalidOperation, TypeError, ValueError):
        errors.setdefault(field, []).append(_("Enter a number."))
        return Decimal(0)
    if not number.is_finite() or number < minimum:
        errors.setdefault(field, []).append(_("Enter a number of at least %(min)s.") % {"min": minimum})
    return number


def whole_number(value: Any) -> int | None:
    """`value` as an int, or None."""
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
