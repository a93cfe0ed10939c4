from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Any, TypeVar

from django.contrib.auth.middleware import LoginRequiredMiddleware as DjangoLoginRequiredMiddleware
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.utils.translation import gettext as _

from config import error_pages
from config.client_ip import client_address

_View = TypeVar("_View", bound=Callable[..., Any])

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


# Longer than any number, code, token or message id this project looks up (the longest: 200).
LOOKUP_MAX_LENGTH = 200
# The largest value of a bigint primary key: an <int:...> beyond it names nothing.
LOOKUP_MAX_INT = 2**63 - 1
# A JSON string escape for NUL (\u0000) not itself escaped: an even run of backslashes before it.
_JSON_NUL = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000", re.IGNORECASE)
_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


class LookupGuardMiddleware:
    """One door for the values every route looks things up by, whichever app the route belongs to.

    A URL part (the route's arguments: an order number, a token, an id) with a NUL byte, longer than
    LOOKUP_MAX_LENGTH or an integer beyond a bigint, and a NUL byte in any query-string value, form field
    or JSON string, get a 400 naming the input (the API's error format under /api/, a page otherwise) before
    the view runs: PostgreSQL refuses NUL in text, so such a value would otherwise reach it as a 500. A new
    route is covered without doing anything (tests/test_lookup_guard.py walks every route).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        return self.get_response(request)

    def process_view(
        self,
        request: HttpRequest,
        view_func: Callable[..., HttpResponseBase],
        view_args: tuple[Any, ...],
        view_kwargs: dict[str, Any],
    ) -> HttpResponseBase | None:
        fields = lookup_errors(
            request, view_args, view_kwargs, body=not getattr(view_func, "judges_its_own_body", False)
        )
        if fields:
            security_log.warning(
                "refused lookup method=%s path=%r fields=%s", request.method, request.path, sorted(fields)
            )
            return error_pages.invalid_lookup(request, fields)
        return None


def judges_its_own_body(view: _View) -> _View:
    """Mark a view whose body the guard leaves alone: a signed webhook checks the signature first, then
    refuses what it cannot take (NUL included) with its own reason, which the sender's log must show."""
    view.judges_its_own_body = True  # type: ignore[attr-defined]
    return view


def lookup_errors(
    request: HttpRequest, view_args: tuple[Any, ...], view_kwargs: dict[str, Any], *, body: bool = True
) -> dict[str, list[str]]:
    """What is wrong with the request's lookup values, by input name (empty: nothing). `body`: also the
    form fields and JSON strings of the body."""
    no_nul = _("Null characters are not allowed.")
    fields: dict[str, list[str]] = {}
    parts = [(str(index), value) for index, value in enumerate(view_args)] + list(view_kwargs.items())
    for name, value in parts:
        if isinstance(value, str) and "\x00" in value:
            fields[name] = [no_nul]
        elif isinstance(value, str) and len(value) > LOOKUP_MAX_LENGTH:
            fields[name] = [_("This value is too long.")]
        elif isinstance(value, int) and not -LOOKUP_MAX_INT <= value <= LOOKUP_MAX_INT:
            fields[name] = [_("This number is too large.")]
    for name, values in request.GET.lists():
        if "\x00" in name or any("\x00" in value for value in values):
            fields[name.replace("\x00", "")] = [no_nul]
    content_type = request.content_type or ""
    if not body:
        return fields
    if request.method == "POST" and content_type in _FORM_TYPES:
        for name, values in request.POST.lists():
            if "\x00" in name or any("\x00" in value for value in values):
                fields[name.replace("\x00", "")] = [no_nul]
    elif content_type.endswith(("/json", "+json")) and _JSON_NUL.search(request.body):
        fields["non_field_errors"] = [no_nul]
    return fields
