"""Creating, revoking and checking API tokens. The plain secret leaves this module once, at creation."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import secrets
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from config.kernel.errors import ValidationFailed
from orders.api_tokens.models import ApiToken

if TYPE_CHECKING:
    from django.contrib.auth.models import User

security_log = logging.getLogger("orderbridge.security")
SECRET_PREFIX = "ob_"  # noqa: S105 (a marker, not a secret: lets secret scanners spot our tokens)
PREFIX_LENGTH = 11  # "ob_" and 8 characters of the secret: enough to tell tokens apart, useless to guess
MAX_DAYS = 365
# last_used_at is written at most this often per token: a busy integration must not write a row per call.
LAST_USED_RESOLUTION = dt.timedelta(minutes=1)


def token_digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def api_token_create(*, user: User, name: str, days: int | None = None) -> tuple[ApiToken, str]:
    """Create a token for `user`, valid `days` (default ORDERBRIDGE_API_TOKEN_DAYS). Returns the row and
    the plain secret, which is not stored and cannot be shown again."""
    name = name.strip()
    days = settings.ORDERBRIDGE_API_TOKEN_DAYS if days is None else days
    errors: dict[str, list[str]] = {}
    if not name:
        errors["name"] = [_("Give the token a name, e.g. the system that will use it.")]
    if not 1 <= days <= MAX_DAYS:
        errors["days"] = [_("A token is valid between 1 and %(max)s days.") % {"max": MAX_DAYS}]
    if errors:
        raise ValidationFailed(_("The token was not created."), fields=errors)
    secret = SECRET_PREFIX + secrets.token_urlsafe(32)
    now = timezone.now()
    token = ApiToken.objects.create(
        user=user,
        name=name[:100],
        prefix=secret[:PREFIX_LENGTH],
        key_hash=token_digest(secret),
        created_at=now,
        expires_at=now + dt.timedelta(days=days),
    )
    security_log.info(
        "api_token_created user=%s token=%s prefix=%s days=%s", user.username, token.pk, token.prefix, days
    )
    return token, secret


def api_token_revoke(*, token: ApiToken, actor: User) -> bool:
    """Revoke `token` now (by its owner or an administrator, `actor`; logged). Idempotent: returns False if
    it was already revoked (the first revocation time is kept)."""
    with transaction.atomic():
        done = bool(
            ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
        )
    if done:
        security_log.info(
            "api_token_revoked token=%s prefix=%s by=%s", token.pk, token.prefix, actor.username
        )
    return done


def api_token_authenticate(*, secret: str) -> ApiToken | None:
    """The active token whose secret this is, with its user; None if unknown, expired or revoked.
    Records the use (to the minute)."""
    token = ApiToken.objects.select_related("user").filter(key_hash=token_digest(secret)).first()
    now = timezone.now()
    if token is None or not token.is_active(now):
        return None
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token
