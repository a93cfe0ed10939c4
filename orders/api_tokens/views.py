"""Each user's own API tokens: create (the secret is shown once, on the answer to the POST), list, revoke."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from config.http import AuthenticatedRequest
from config.kernel.errors import ValidationFailed
from orders.api_tokens import selectors, services
from orders.api_tokens.forms import ApiTokenForm


def _page(
    request: AuthenticatedRequest, form: ApiTokenForm, secret: str = "", status: int = 200
) -> HttpResponse:
    context = {"form": form, "tokens": selectors.api_tokens_of(user=request.user), "secret": secret}
    response = render(request, "orders/api_tokens/tokens.html", context, status=status)
    if secret:
        response["Cache-Control"] = "no-store"  # the only copy of the secret must not stay in a cache
    return response


@require_http_methods(["GET", "POST"])
def token_list(request: AuthenticatedRequest) -> HttpResponse:
    if request.method != "POST":
        return _page(request, ApiTokenForm())
    form = ApiTokenForm(request.POST)
    if not form.is_valid():
        return _page(request, form, status=400)
    try:
        token, secret = services.api_token_create(
            user=request.user, name=form.cleaned_data["name"], days=form.cleaned_data["days"]
        )
    except ValidationFailed as exc:
        for field, field_messages in exc.fields.items():
            for message in field_messages:
                form.add_error(field if field in form.fields else None, message)
        return _page(request, form, status=400)
    messages.success(
        request,
        _("Token “%(name)s” created. Copy it now: it will not be shown again.") % {"name": token.name},
    )
    return _page(request, ApiTokenForm(), secret=secret)


@require_POST
def token_revoke(request: AuthenticatedRequest, token_id: int) -> HttpResponse:
    token = selectors.api_token_of(user=request.user, token_id=token_id)
    if token is None:
        messages.error(request, _("This token does not exist."))
    elif services.api_token_revoke(token=token, actor=request.user):
        messages.success(request, _("Token “%(name)s” revoked.") % {"name": token.name})
    else:
        messages.info(request, _("Token “%(name)s” was already revoked.") % {"name": token.name})
    return redirect("api_tokens:list")
