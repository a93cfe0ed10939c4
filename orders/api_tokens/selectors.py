from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import QuerySet

from orders.api_tokens.models import ApiToken

if TYPE_CHECKING:
    from django.contrib.auth.models import User


def api_tokens_of(*, user: User) -> QuerySet[ApiToken]:
    return ApiToken.objects.filter(user=user)


def api_token_of(*, user: User, token_id: int) -> ApiToken | None:
    """The user's own token; another user's token is as unknown as a missing one."""
    return ApiToken.objects.filter(user=user, pk=token_id).first()
