"""Sign-in with a badge number and PIN (production.floor.services.badge_user), as an authentication backend
so that django-axes counts the failures and locks out like the password login (per badge and address)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib.auth.backends import BaseBackend

from production.floor.fast_sql import active_user
from production.floor.services import badge_user

if TYPE_CHECKING:
    from django.contrib.auth.models import User
    from django.http import HttpRequest

# The user name axes counts failures under: a badge is not a user name (both may look alike).
BADGE_PREFIX = "badge:"


class BadgeBackend(BaseBackend):
    def authenticate(
        self, request: HttpRequest | None, badge: str | None = None, pin: str | None = None, **kwargs: Any
    ) -> User | None:
        if badge is None or pin is None:
            return None
        return badge_user(badge=badge, pin=pin)

    def get_user(self, user_id: int) -> User | None:
        # Every signed-in floor request reads its user (each report a phone sends): a statement of its own.
        return active_user(user_id)
