"""Who made a write and why, for django-simple-history: every service stamps before it saves."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from django.contrib.auth.models import User
    from django.db.models import Model
    from django_stubs_ext import StrOrPromise


def stamp(instance: Model, *, actor: User | None, reason: StrOrPromise) -> None:
    """Tell django-simple-history who makes the next save of `instance` and why (its history row)."""
    # The two attributes simple-history reads on save; a model declares neither, hence vars().
    vars(instance).update(_history_user=actor, _change_reason=reason)
