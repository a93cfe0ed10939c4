"""Permission checks with one spelling: `require(actor, policy, action=..., target=...)`.

A policy is a permission name ("production.change_workcenter") or a predicate of the actor. A refusal is
logged to the security log and raised as Forbidden, whichever door (UI, API, admin, task) asked.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeAlias, cast

from django.utils.translation import gettext_lazy as _

from config.kernel.errors import Forbidden

# Actor: whoever asks — a user, the anonymous user of a request, or nobody (the system). Services that write
# take a `User` (`User | None` for the system); checks that may see an anonymous request take an Actor.
# Policy: a permission name ("production.change_workcenter") or a predicate of an active user.
if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser, User

    Actor: TypeAlias = User | AnonymousUser | None
    Policy: TypeAlias = str | Callable[[User], bool]
else:  # the user model cannot be imported before the app registry is ready
    Actor = Any
    Policy = str | Callable[[Any], bool]

security_log = logging.getLogger("orderbridge.security")


def actor_name(actor: Actor) -> str:
    return getattr(actor, "username", "") or "system"


def refused(actor: Actor, action: str, target: str, why: str) -> Forbidden:
    """Log a refused action and return the error to raise."""
    security_log.warning("refused action=%s target=%s user=%s why=%s", action, target, actor_name(actor), why)
    return Forbidden(_("You are not allowed to do this."), code="forbidden")


def allowed(actor: Actor, policy: Policy) -> bool:
    if actor is None or not getattr(actor, "is_active", False):
        return False
    if isinstance(policy, str):
        return bool(actor.has_perm(policy))
    # AnonymousUser is never active: only a User gets here.
    return bool(policy(cast("User", actor)))


def require(actor: Actor, policy: Policy, *, action: str, target: str) -> None:
    """Raise Forbidden (and log it) unless `actor` satisfies `policy`."""
    if not allowed(actor, policy):
        why = (
            f"missing {policy}"
            if isinstance(policy, str)
            else f"policy {getattr(policy, '__name__', policy)}"
        )
        raise refused(actor, action, target, why)
