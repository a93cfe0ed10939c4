from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from django.contrib.auth.middleware import LoginRequiredMiddleware as DjangoLoginRequiredMiddleware
from django.http import HttpRequest
from django.http.response import HttpResponseBase

from config.client_ip import client_address

security_log = logging.getLogger("orderbridge.security")


class LoginRequiredMiddleware(DjangoLoginRequiredMiddleware):
    """Deny every page to anonymous users, except the API.

    API requests authenticate per request (token or session) inside DRF, after this middleware has
    run, so DRF's default IsAuthenticated permission guards them instead of a login redirect.
    """

    def process_view(
        self,
        request: HttpRequest,
        view_func: Callable[..., HttpResponseBase],
        view_args: tuple[Any, ...],
        view_kwargs: dict[str, Any],
    ) -> HttpResponseBase | None:
        if request.path_info.startswith("/api/"):
            return None
        return super().process_view(request, view_func, view_args, view_kwargs)


class RefusalLogMiddleware:
    """Log every refused request (403) with who and what, whichever door refused it (UI, API, admin)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        if response.status_code == 403:
            user = getattr(request, "user", None)
            security_log.warning(
                "refused method=%s path=%s user=%s ip=%s",
                request.method,
                request.path,
                user.get_username() if user is not None and user.is_authenticated else "-",
                client_address(request) or "-",
            )
        return response
