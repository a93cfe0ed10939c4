"""What a request that fails outside a view's own handling gets: the API's one error format for machines
(`{"error": {...}}`, config.api), a page for people. Django calls these (config.urls `handler400` ...)
whenever DEBUG is off; the lookup guard (config.middleware.LookupGuardMiddleware) answers through
`invalid_lookup` the same way.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _
from django.views import defaults

from config.api import error_body

# Paths answered by machines' clients: the REST API and the CRM's and MES's webhook addresses.
MACHINE_PREFIXES = ("/api/", "/hooks/")


def is_machine_request(request: HttpRequest) -> bool:
    return request.path_info.startswith(MACHINE_PREFIXES)


def _json(
    status: int, code: str, message: str, fields: Mapping[str, Sequence[str]] | None = None
) -> JsonResponse:
    return JsonResponse(error_body(code, message, fields), status=status)


def invalid_lookup(request: HttpRequest, fields: Mapping[str, Sequence[str]]) -> HttpResponse:
    """400 for a request whose lookup values cannot name anything (a NUL byte, an over-long value)."""
    if is_machine_request(request):
        return _json(400, "invalid", _("Please correct the errors below."), fields)
    return TemplateResponse(request, "400.html", {"fields": fields}, status=400).render()


def bad_request(request: HttpRequest, exception: Exception, template_name: str = "400.html") -> HttpResponse:
    if is_machine_request(request):
        return _json(400, "bad_request", _("The request is not valid."))
    # Django's default renders without the request; the page's layout needs it (menu, language switcher).
    return TemplateResponse(request, template_name, {"fields": {}}, status=400).render()


def permission_denied(
    request: HttpRequest, exception: Exception, template_name: str = "403.html"
) -> HttpResponse:
    if is_machine_request(request):
        return _json(403, "permission_denied", _("You are not allowed to do this."))
    return defaults.permission_denied(request, exception, template_name=template_name)


def page_not_found(
    request: HttpRequest, exception: Exception, template_name: str = "404.html"
) -> HttpResponse:
    if is_machine_request(request):
        return _json(404, "not_found", _("Not found."))
    return defaults.page_not_found(request, exception, template_name=template_name)


def server_error(request: HttpRequest, template_name: str = "500.html") -> HttpResponse:
    # Django has logged the exception (django.request) before calling this: nothing more to log here.
    if is_machine_request(request):
        return _json(500, "server_error", _("Something went wrong on our side. The error was logged."))
    return defaults.server_error(request, template_name=template_name)
