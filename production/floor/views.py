"""The operator pages (phone first) and their JSON endpoint.

URL contract (the traveller's QR codes rely on it): /floor/operations/<WorkOrderOperation pk>/ is
`floor:operation`; /floor/ is the operator's home. Every page signs in by badge and PIN, not the password
login (the views are login_not_required and check the operator themselves).
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

from csp.constants import WASM_UNSAFE_EVAL
from csp.decorators import csp_update
from django.conf import settings
from django.contrib.auth import authenticate, login, logout
from django.contrib.auth.decorators import login_not_required
from django.contrib.staticfiles import finders
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from config.api import error_body
from config.kernel import ApplicationError, allowed
from production.floor.auth import BADGE_PREFIX
from production.floor.forms import SignInForm, floor_input
from production.floor.selectors import operation_view, reason_codes
from production.floor.services import floor_report_submit
from production.master_data import default_plant, floor_language
from production.work_orders import ExceptionKind, InspectionResult

MAX_OPERATION_ID = 2**63 - 1


def _operator(request: HttpRequest) -> bool:
    return request.user.is_authenticated and allowed(request.user, "production.use_floor")


def _plant_language(request: HttpRequest, language: str | None = None) -> None:
    """No language chosen on this device yet: the plant's floor language (the only plant's by default)."""
    if settings.LANGUAGE_COOKIE_NAME in request.COOKIES:
        return
    if language is None:
        plant = default_plant()
        if plant is None:
            return
        language = plant.floor_language
    translation.activate(language)
    request.LANGUAGE_CODE = translation.get_language()


def _keep_language(request: HttpRequest, response: HttpResponse) -> HttpResponse:
    """The device keeps the language it was shown (its reports' answers too) until the operator switches."""
    if settings.LANGUAGE_COOKIE_NAME not in request.COOKIES:
        response.set_cookie(
            settings.LANGUAGE_COOKIE_NAME,
            translation.get_language(),
            max_age=settings.LANGUAGE_COOKIE_AGE,
            samesite="Lax",
        )
    return response


def _to_sign_in(request: HttpRequest) -> HttpResponse:
    return redirect(f"{reverse('floor:sign_in')}?{urlencode({'next': request.get_full_path()})}")


@login_not_required
@require_http_methods(["GET", "POST"])
def sign_in(request: HttpRequest) -> HttpResponse:
    """Badge number + PIN; the session lasts ORDERBRIDGE_FLOOR_SESSION_HOURS (a shift)."""
    next_url = request.POST.get("next") or request.GET.get("next") or reverse("floor:home")
    if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
        next_url = reverse("floor:home")
    _plant_language(request)
    form = SignInForm(request.POST or None)
    error = ""
    if request.method == "POST" and form.is_valid():
        badge, pin = form.cleaned_data["badge"].strip(), form.cleaned_data["pin"]
        # `username` is what django-axes counts failures under (per badge and address, like the login).
        user = authenticate(request, username=f"{BADGE_PREFIX}{badge}", badge=badge, pin=pin)
        if user is not None and allowed(user, "production.use_floor"):
            login(request, user, backend="production.floor.auth.BadgeBackend")
            request.session.set_expiry(settings.FLOOR_SESSION_HOURS * 3600)
            return redirect(next_url)
        error = _("Badge number or PIN not recognised.")
    elif request.method == "POST":
        error = _("Enter your badge number and PIN.")
    context = {"form": form, "error": error, "next": next_url}
    return _keep_language(request, render(request, "production/floor/sign_in.html", context))


@login_not_required
@require_POST
def switch_operator(request: HttpRequest) -> HttpResponse:
    """One tap: the operator leaves, the next one signs in and comes back to the same page."""
    next_url = request.POST.get("next") or reverse("floor:home")
    if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
        next_url = reverse("floor:home")
    logout(request)
    return redirect(f"{reverse('floor:sign_in')}?{urlencode({'next': next_url})}")


@login_not_required
@require_GET
# The QR decoder is WebAssembly (zxing-wasm): compiling it needs 'wasm-unsafe-eval', on this page only
# (it allows WebAssembly, not JavaScript's eval).
@csp_update({"script-src": [WASM_UNSAFE_EVAL]})
def home(request: HttpRequest) -> HttpResponse:
    """Scan an operation's QR code or type its number."""
    if not _operator(request):
        return _to_sign_in(request)
    _plant_language(request)
    number = (request.GET.get("operation") or "").strip()
    error = ""
    if number:
        if number.isdigit() and 0 < int(number) <= MAX_OPERATION_ID:
            return redirect("floor:operation", pk=int(number))
        error = _("Enter the operation's number (digits only).")
    return _keep_language(
        request, render(request, "production/floor/home.html", {"error": error, "number": number})
    )


@login_not_required
@require_GET
def operation(request: HttpRequest, pk: int) -> HttpResponse:
    """What to do at this operation, and one-tap Start / Pause / Finish and reports (sent by floor.js)."""
    if not _operator(request):
        return _to_sign_in(request)
    view = operation_view(pk)
    if view is None:
        raise Http404(_("No operation has this number."))
    _plant_language(request, floor_language(view.operation.work_center))
    context: dict[str, Any] = {
        "view": view,
        "reasons": reason_codes(),
        "exception_kinds": ExceptionKind.choices,
        "inspection_results": InspectionResult.choices,
    }
    return _keep_language(request, render(request, "production/floor/operation.html", context))


@login_not_required
@require_POST
def report(request: HttpRequest) -> JsonResponse:
    """POST a JSON report (production.floor.forms): 201 with the operation's state, 200 with the first
    answer for a repeated client_id, 400 with field messages, 409 when the work's state refuses it."""
    if not request.user.is_authenticated:
        return JsonResponse(error_body("not_signed_in", _("Sign in with your badge first.")), status=401)
    try:
        body = json.loads(request.body or b"null")
    except (ValueError, UnicodeDecodeError):
        return JsonResponse(error_body("invalid", _("Send a JSON object.")), status=400)
    try:
        data = floor_input(body)
        answer, created = floor_report_submit(actor=request.user, data=data)
    except ApplicationError as exc:
        return JsonResponse(error_body(exc.code, exc.message, exc.fields), status=exc.status_code)
    return JsonResponse({**answer, "duplicate": not created}, status=201 if created else 200)


@login_not_required
@require_GET
def offline(request: HttpRequest) -> HttpResponse:
    """Kept by the service worker (for the operator signed in when it was last fetched) and shown for a floor
    page not opened on this phone before, while there is no network: the reports waiting here stay listed
    and are sent when the network is back."""
    _plant_language(request)
    response = render(request, "production/floor/offline.html")
    response["Cache-Control"] = "no-cache"
    return response


@login_not_required
@require_GET
def service_worker(request: HttpRequest) -> HttpResponseBase:
    """The service worker, from /floor/ so that its scope is the floor's pages."""
    path = finders.find("js/floor-sw.js")
    if not path:
        raise Http404
    response = FileResponse(open(path, "rb"), content_type="text/javascript")  # noqa: SIM115 - FileResponse closes it
    response["Service-Worker-Allowed"] = "/floor/"
    response["Cache-Control"] = "no-cache"
    return response
