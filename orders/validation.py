"""Model validation as the services report it: Django's field errors become one ValidationFailed."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, models, transaction
from django.utils.translation import gettext as _

from config.kernel.errors import ValidationFailed


def full_clean(instance: models.Model, *, exclude: list[str] | None = None, prefix: str = "") -> None:
    """Validate `instance`'s fields (unique fields too, not the table constraints: the database decides
    those, see `unique_constraints`); raise ValidationFailed naming each field (`prefix` + name)."""
    try:
        instance.full_clean(exclude=exclude, validate_unique=True, validate_constraints=False)
    except DjangoValidationError as exc:
        fields = {f"{prefix}{key}": [str(m) for m in msgs] for key, msgs in exc.message_dict.items()}
        raise ValidationFailed(_("Please correct the errors below."), fields=fields) from exc


@contextmanager
def unique_constraints(instance: models.Model) -> Iterator[None]:
    """Save `instance` inside this block: a unique constraint of its table that the database refuses
    (a CRM id already taken, also by a concurrent writer) becomes ValidationFailed naming the field.

    The database decides (no query before the save); only once it refuses are the model's unique
    constraints asked which one it was. The savepoint keeps the caller's transaction usable.
    """
    try:
        with transaction.atomic():
            yield
    except IntegrityError as exc:
        fields = _violated_unique_fields(instance)
        if not fields:
            raise
        raise ValidationFailed(_("Please correct the errors below."), fields=fields) from exc


def _violated_unique_fields(instance: models.Model) -> dict[str, list[str]]:
    """The fields of each unique constraint another row already holds `instance`'s values for (a
    constraint's condition is applied to that row: it is written on the constrained fields themselves)."""
    model = type(instance)
    fields: dict[str, list[str]] = {}
    for constraint in model._meta.constraints:
        if not isinstance(constraint, models.UniqueConstraint) or not constraint.fields:
            continue
        names = tuple(constraint.fields)
        same = model._default_manager.filter(**{name: getattr(instance, name) for name in names})
        if constraint.condition is not None:
            same = same.filter(constraint.condition)
        if instance.pk is not None:
            same = same.exclude(pk=instance.pk)
        if same.exists():
            for name in names:
                fields.setdefault(name, []).extend(instance.unique_error_message(model, names).messages)
    return fields
