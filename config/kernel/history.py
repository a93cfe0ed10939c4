"""Who made a write and why, for django-simple-history: every service stamps before it saves."""

from __future__ import annotations

from typing import TYPE_CHECKING

from config.kernel.messages import Message, as_stored

if TYPE_CHECKING:
    from django.contrib.auth.models import User
    from django.db.models import Model
    from django_stubs_ext import StrOrPromise


def stamp(instance: Model, *, actor: User | None, reason: StrOrPromise | Message) -> None:
    """Tell django-simple-history who makes the next save of `instance` and why (its history row).

    A system reason is a `Message`: stored as its code and parameters, read in each reader's language.
    """
    # The two attributes simple-history reads on save; a model declares neither, hence vars().
    vars(instance).update(_history_user=actor, _change_reason=as_stored(reason))
