"""Model validation as the services report it: Django's field errors become one ValidationFailed."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import models
from django.utils.translation import gettext as _

from config.kernel.errors import ValidationFailed


def full_clean(instance: models.Model, *, exclude: list[str] | None = None, prefix: str = "") -> None:
    """Validate `instance`'s fields (unique fields too, not the table constraints: the database decides
    those); raise ValidationFailed naming each field (`prefix` + name)."""
    try:
        instance.full_clean(exclude=exclude, validate_unique=True, validate_constraints=False)
    except DjangoValidationError as exc:
        fields = {f"{prefix}{key}": [str(m) for m in msgs] for key, msgs in exc.message_dict.items()}
        raise ValidationFailed(_("Please correct the errors below."), fields=fields) from exc
