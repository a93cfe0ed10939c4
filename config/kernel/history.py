"""Who made a write and why, for django-simple-history: every service stamps before it saves."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from django.contrib.auth.models import User


def stamp(instance: Any, *, actor: User | None, reason: str) -> None:
    """Tell django-simple-history who makes the next save of `instance` and why (its history row)."""
    instance._history_user = actor
    instance._change_reason = reason
