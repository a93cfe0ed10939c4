"""One error format for the whole API, and the building blocks every app's API shares.

The error format:

{"error": {"code": "invalid", "message": "...", "fields": {"lines[0].quantity": ["..."]}}}

An error that has somewhere else to go adds "links" (name → URL), e.g. a locked order (409 order_locked):
{"error": {"code": "order_locked", ..., "links": {"change_request_api": "/api/v1/change-requests/",
"change_request_form": "/change-requests/new/SO-2026-000123/"}}}
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, NotRequired, TypedDict

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from rest_framework import exceptions, permissions, serializers, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from config.kernel.errors import ApplicationError


class ErrorDetail(TypedDict):
    code: str
    message: str
    fields: Mapping[str, Sequence[str]]
    links: NotRequired[Mapping[str, str]]


class ErrorBody(TypedDict):
    error: ErrorDetail


def _flatten(detail: object, prefix: str = "") -> dict[str, list[str]]:
    """DRF's nested error details → {"lines[0].quantity": ["..."]}."""
    fields: dict[str, list[str]] = {}
    if isinstance(detail, dict):
        for key, value in detail.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            fields.update(_flatten(value, name))
    elif isinstance(detail, list):
        if all(not isinstance(item, (dict, list)) for item in detail):
            fields[prefix or "non_field_errors"] = [str(item) for item in detail]
        else:
            for index, item in enumerate(detail):
                if item:
                    fields.update(_flatten(item, f"{prefix}[{index}]"))
    else:
        fields[prefix or "non_field_errors"] = [str(detail)]
    return fields


def error_body(
    code: str,
    message: str,
    fields: Mapping[str, Sequence[str]] | None = None,
    links: Mapping[str, str] | None = None,
) -> ErrorBody:
    body: ErrorDetail = {"code": code, "message": message, "fields": fields or {}}
    if links:  # only errors that point elsewhere carry it; clients reading the three keys are unaffected
        body["links"] = links
    return {"error": body}


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, ApplicationError):
        return Response(error_body(exc.code, exc.message, exc.fields, exc.links), status=exc.status_code)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound(str(exc) or _("Not found."))
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is None or not isinstance(exc, exceptions.APIException):  # DRF answers only those
        return response
    if isinstance(exc, exceptions.ValidationError):
        body = error_body("invalid", _("Please correct the errors below."), _flatten(exc.detail))
        response.data = body
        response.status_code = status.HTTP_400_BAD_REQUEST
        return response
    code = getattr(exc, "default_code", "error")
    detail = exc.detail.get("detail", exc.detail) if isinstance(exc.detail, dict) else exc.detail
    message = str(detail)
    response.data = error_body(code, message)
    return response


# --- shared by every app's API ------------------------------------------------------------------------
class ModelPermissions(permissions.DjangoModelPermissions):
    """Django model permissions, reads included: listing customers needs `view_customer`."""

    perms_map = {
        **permissions.DjangoModelPermissions.perms_map,
        "GET": ["%(app_label)s.view_%(model_name)s"],
        "HEAD": ["%(app_label)s.view_%(model_name)s"],
    }


# The error format for the OpenAPI schema (documentation only: exception_handler above writes it).
class ErrorDetailSerializer(serializers.Serializer):
    code = serializers.CharField(
        help_text=gettext_lazy("Machine-readable code, e.g. invalid, stale, order_locked.")
    )
    message = serializers.CharField(help_text=gettext_lazy("What went wrong, in the user's language."))
    links = serializers.DictField(
        child=serializers.CharField(),
        required=False,
        help_text=gettext_lazy(
            "Only some errors: where to go instead, e.g. change_request_api for a locked order."
        ),
    )

    def get_fields(self) -> dict[str, serializers.Field]:
        # The key "fields" is declared here: as a class attribute it would shadow Serializer.fields.
        declared = super().get_fields()
        return {
            "code": declared["code"],
            "message": declared["message"],
            "fields": serializers.DictField(
                child=serializers.ListField(child=serializers.CharField()),
                help_text=gettext_lazy('Messages per input, e.g. {"lines[0].quantity": ["..."]}.'),
            ),
            "links": declared["links"],
        }


class ErrorResponseSerializer(serializers.Serializer):
    error = ErrorDetailSerializer()
