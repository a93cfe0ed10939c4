"""Inbound webhook endpoint: signature checked, raw message stored, answered at once; work happens later."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from config.api import error_body
from config.errors import ApplicationError

from .inbound import inbound_receive
from .models import ExternalSystem


@csrf_exempt  # machine-to-machine: the Standard Webhooks signature is the authentication
@require_POST
def inbound_webhook(request: HttpRequest, system: str) -> JsonResponse:
    found = ExternalSystem.objects.filter(slug=system, is_enabled=True).first()
    if found is None:
        return JsonResponse(error_body("not_found", _("Unknown system.")), status=404)
    try:
        message, created = inbound_receive(system=found, headers=request.headers, body=request.body)
    except ApplicationError as exc:
        return JsonResponse(error_body(exc.code, exc.message, exc.fields), status=exc.status_code)
    return JsonResponse(
        {"id": message.message_id, "status": "accepted" if created else "duplicate"},
        status=202 if created else 200,
    )
