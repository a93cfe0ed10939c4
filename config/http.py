"""Request types for views' annotations: what this project's middleware guarantees on HttpRequest.

Every request passes django-htmx's middleware (`request.htmx`), and every view not marked
`login_not_required` sits behind LoginRequiredMiddleware, so its `request.user` is a User, never the
anonymous user. Annotate such a view's request as AuthenticatedRequest and pass `request.user` to services
that take a `User`; public views (tracking links, inbound webhooks) take a plain HtmxRequest. DRF views
behind IsAuthenticated (the API's default) get their user as a User from `request_user(request)`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from django.http import HttpRequest

if TYPE_CHECKING:
    from django.contrib.auth.models import User
    from django_htmx.middleware import HtmxDetails
    from rest_framework.request import Request


class HtmxRequest(HttpRequest):
    htmx: HtmxDetails


class AuthenticatedRequest(HtmxRequest):
    user: User


def request_user(request: HttpRequest | Request) -> User:
    """The user of a request that passed authentication (LoginRequiredMiddleware, DRF's IsAuthenticated).

    Only a type: nothing is checked here, the authentication in front of the view did that.
    """
    return cast("User", request.user)
