from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Any, TypeVar

from django.contrib.auth.middleware import LoginRequiredMiddleware as DjangoLoginRequiredMiddleware
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.urls import Resolver404, ResolverMatch, get_resolver, get_urlconf
from django.utils import translation
from django.utils.cache import patch_vary_headers
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
        return lookup_refusal(request, view_func, view_args, view_kwargs)


def lookup_refusal(
    request: HttpRequest,
    view_func: Callable[..., HttpResponseBase],
    view_args: tuple[Any, ...],
    view_kwargs: dict[str, Any],
) -> HttpResponseBase | None:
    """The lookup guard's 400 for this request and view, or None when its lookup values are fine."""
    fields = lookup_errors(
        request, view_args, view_kwargs, body=not getattr(view_func, "judges_its_own_body", False)
    )
    if fields:
        security_log.warning(
            "refused lookup method=%s path=%r fields=%s", request.method, request.path, sorted(fields)
        )
        return error_pages.invalid_lookup(request, fields)
    return None


class MachineEndpointMiddleware:
    """Signed machine-to-machine endpoints (views marked @machine_endpoint: the CRM's and the MES's
    webhooks) are answered here, without the middleware below, which serve people and their sessions.

    A webhook is authenticated by its signature, not a session or a cookie: sessions, CSRF (the views are
    csrf_exempt), authentication and the login check, messages, htmx, history's request user, the lock-out
    of failed logins, the Content-Security-Policy and framing headers of pages (its answer is JSON) have
    nothing to do for it, and cost a third of a request's CPU (the sync bench's web process). What it still
    gets: SecurityMiddleware (above this one), the lookup guard's check of the URL and query string, the
    language LocaleMiddleware would pick (its refusals are translated), and Content-Length. A view that
    needs more is not a machine endpoint. Exceptions go to the error handlers as from any view.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        # Only POSTs under the machines' prefixes are resolved here (pages pay nothing); the mark decides.
        if request.method == "POST" and request.path_info.startswith(error_pages.MACHINE_PREFIXES):
            try:
                match = get_resolver(get_urlconf()).resolve(request.path_info)
            except Resolver404:
                match = None
            if match is not None and getattr(match.func, "machine_endpoint", False):
                return self._answer(request, match)
        return self.get_response(request)

    @staticmethod
    def _answer(request: HttpRequest, match: ResolverMatch) -> HttpResponseBase:
        request.resolver_match = match
        refusal = lookup_refusal(request, match.func, match.args, match.kwargs)
        if refusal is not None:
            return refusal
        language = translation.get_language_from_request(request)
        translation.activate(language)
        request.LANGUAGE_CODE = translation.get_language()
        response = match.func(request, *match.args, **match.kwargs)
        patch_vary_headers(response, ("Accept-Language",))
        response.headers.setdefault("Content-Language", language)
        if not response.streaming and not response.has_header("Content-Length"):
            response.headers["Content-Length"] = str(len(response.content))
        return response


def machine_endpoint(view: _View) -> _View:
    """Mark a signed machine-to-machine view: MachineEndpointMiddleware answers it without the pages'
    middleware (sessions, CSRF, authentication, messages...). Only for views that read nothing of those."""
    view.machine_endpoint = True  # type: ignore[attr-defined]
    return view


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
