"""One error format for the whole API, and the building blocks every app's API shares.

The error format:

{"error": {"code": "invalid", "message": "...", "fields": {"lines[0].quantity": ["..."]}}}

An error that has somewhere else to go adds "links" (name → URL), e.g. a locked order (409 order_locked):
{"error": {"code": "order_locked", ..., "links": {"change_request_api": "/api/v1/change-requests/",
"change_request_form": "/change-requests/new/SO-2026-000123/"}}}
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, NotRequired, TypedDict

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular import openapi
from drf_spectacular.utils import extend_schema_field
from rest_framework import exceptions, permissions, serializers, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from config.kernel.errors import ApplicationError

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


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


# --- the OpenAPI schema: every operation documents the errors it can answer -----------------------------
# Why each answer can happen, for the operations it applies to (a client reads the body's code for more).
ERROR_ANSWERS: dict[str, StrOrPromise] = {
    "400": gettext_lazy("Invalid input: `fields` names each bad input (or a business rule refused it)."),
    "401": gettext_lazy("Not logged in: send a token (Authorization: Token ...) or a session."),
    "403": gettext_lazy("Your role may not do this."),
    "404": gettext_lazy(
        "Unknown, or not visible to you: an object named in the path or the body, or a page past the end."
    ),
    "409": gettext_lazy(
        "The object's state or version forbids it (code stale, transition_not_allowed, ...)."
    ),
}
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def error_answers(operation: Mapping[str, Any], method: str) -> list[str]:
    """The error statuses an operation can answer, read from its shape: every operation needs a login
    (401) and a role's permission (403); input — a body or query parameters (filters, ordering) — can be
    invalid (400); a path or a write's body names an object that may not exist or be hidden, and a list's
    page may be past its end (404); a write can meet a state or version that forbids it (409)."""
    parameters = operation.get("parameters", [])
    answers = ["401", "403"]
    if "requestBody" in operation or any(p.get("in") == "query" for p in parameters):
        answers.append("400")
    if method in UNSAFE_METHODS or any(
        p.get("in") == "path" or (p.get("in") == "query" and p.get("name") == "page") for p in parameters
    ):
        answers.append("404")
    if method in UNSAFE_METHODS:
        answers.append("409")
    return answers


class AutoSchema(openapi.AutoSchema):
    """drf-spectacular's schema, plus the error answers each operation can give, in the one error format
    (ErrorResponseSerializer): declared once here instead of on every view. An answer a view documents
    itself (with its own description) is kept as it is."""

    def get_operation(
        self, path: str, path_regex: str, path_prefix: str, method: str, registry: Any
    ) -> dict[str, Any] | None:
        operation = super().get_operation(path, path_regex, path_prefix, method, registry)
        if operation is None:
            return None
        error = self.resolve_serializer(ErrorResponseSerializer, "response").ref
        responses = operation["responses"]
        for code in error_answers(operation, self.method):
            responses.setdefault(
                code,
                {"description": str(ERROR_ANSWERS[code]), "content": {"application/json": {"schema": error}}},
            )
        operation["responses"] = dict(sorted(responses.items()))
        return operation


@extend_schema_field(
    {
        "type": "string",
        "pattern": r"^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\.[0-9]{1,6})?)?$",
        "example": "07:00:00",
    }
)
class WallClockTimeField(serializers.TimeField):
    """A time of day on the plant's clock, "HH:MM[:SS]" with no offset (shift starts and ends). The schema
    says so with a pattern: JSON Schema's `time` format demands an offset ("07:00:00Z") that such a time
    has not."""
