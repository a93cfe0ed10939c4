"""Who may do what in production, spelled one way for every door (services, pages, API, admin).

A policy is a Django permission name; `config.kernel.require` checks it (and logs a refusal), `allowed`
answers a page that only shows or hides a button. Work-order transitions ask the same names through
django-fsm (`production_permission`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, TypeAlias, cast

from config.kernel.permissions import Actor, allowed

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractUser, AnonymousUser, PermissionsMixin
    from django.db.models import Model

    # Who django-fsm hands a permission callable (its stubs' UserWithPermissions).
    FsmUser: TypeAlias = AbstractUser | AnonymousUser | PermissionsMixin

# The permissions production's pages and endpoints ask for.
RUN_SCHEDULE = "production.run_schedule"
QUOTE_PROMISE = "production.quote_promise"


def production_permission(codename: str) -> Callable[[Model, FsmUser], bool]:
    """A django-fsm `permission=` callable for the production permission `codename`."""

    def check(instance: Model, user: FsmUser) -> bool:
        # django-fsm passes on the actor our services pass it: the project's User, or None (refused).
        return allowed(cast("Actor", user), f"production.{codename}")

    check.__name__ = f"can_{codename}"
    return check
