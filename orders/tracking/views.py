"""The customer's tracking page (public, no login) and the staff's tracking-link actions on the order page.

Public responses are private and uncacheable, not indexed, and send no Referer (the token is the secret);
every request counts against the client's rate limit; unknown, tampered, expired and revoked links get a
friendly page that shows nothing of any order.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.cache import add_never_cache_headers, patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from config.client_ip import client_address
from config.http import AuthenticatedRequest
from config.kernel import allowed
from config.kernel.errors import ApplicationError, Forbidden
from orders.sales import policies, selectors
from orders.sales.models import SalesOrder
from orders.tracking import ratelimit
from orders.tracking import services as tracking
from orders.tracking.models import OrderRating, TrackingLink, TrackingLinkState

if TYPE_CHECKING:
    from django.contrib.auth.models import User

LANGUAGES = {code for code, _name in settings.LANGUAGES}


def _client(request: HttpRequest) -> str:
    # Behind reverse proxies: the address the trusted proxies saw (settings.TRUSTED_PROXY_COUNT).
    return client_address(request) or "-"


def _language(request: HttpRequest, customer_language: str | None) -> str:
    wanted = (request.GET.get("lang") or request.POST.get("lang") or "").lower()
    if wanted in LANGUAGES:
        return wanted
    if customer_language is not None and customer_language in LANGUAGES:
        return customer_language
    return settings.LANGUAGE_CODE


def _public(response: HttpResponse, language: str) -> HttpResponse:
    add_never_cache_headers(response)
    response["X-Robots-Tag"] = "noindex, nofollow"
    response["Referrer-Policy"] = "no-referrer"
    response["Content-Language"] = language
    patch_vary_headers(response, ("Accept-Language", "Cookie"))
    return response


def _refusal(request: HttpRequest, *, status: int, state: str) -> HttpResponse:
    language = _language(request, None)
    with translation.override(language):
        response = render(
            request,
            "tracking/unavailable.html",
            {"state": state, "language": language, "languages": settings.LANGUAGES},
            status=status,
        )
    return _public(response, language)


def _throttled(request: HttpRequest) -> HttpResponse | None:
    client = _client(request)
    if ratelimit.is_blocked(f"track-bad:{client}"):
        return _refusal(request, status=429, state="throttled")
    if ratelimit.over_limit(f"track:{client}", limit=settings.TRACKING_RATE_PER_MINUTE, window_seconds=60):
        return _refusal(request, status=429, state="throttled")
    return None


def _resolve(request: HttpRequest, token: str) -> TrackingLink | HttpResponse:
    try:
        return tracking.tracking_link_resolve(token)
    except tracking.LinkNotFound:
        # Guessing tokens: the client's limit-th bad token of a clock hour blocks it (every link, even a real
        # one) for an hour from then, so its next request is the first refused.
        key = f"track-bad:{_client(request)}"
        limit = settings.TRACKING_BAD_TOKENS_PER_HOUR - 1  # the limit-th is the first over
        if ratelimit.over_limit(key, limit=limit, window_seconds=3600):
            ratelimit.block(key, seconds=3600)
        return _refusal(request, status=404, state="unknown")
    except tracking.LinkGone as gone:
        return _refusal(request, status=410, state=gone.state)


def _render_tracking(
    request: HttpRequest, link: TrackingLink, token: str, *, status: int = 200, **extra: Any
) -> HttpResponse:
    language = _language(request, link.order.customer.language)
    with translation.override(language):
        context = {
            "view": tracking.tracking_view(link=link),
            "token": token,
            "language": language,
            "languages": settings.LANGUAGES,
            # Made (or cancelled): no expected date to announce any more, the milestones tell the dates.
            "finished_statuses": ("completed", "shipped", "closed", "cancelled"),
            # A fresh nonce per rendering: the rating form needs no CSRF cookie (see rate()).
            "rating_nonce": tracking.rating_form_nonce(link),
            **extra,
        }
        response = render(request, "tracking/track.html", context, status=status)
    return _public(response, language)


@login_not_required
@require_GET
def track(request: HttpRequest, token: str) -> HttpResponse:
    throttled = _throttled(request)
    if throttled is not None:
        return throttled
    link = _resolve(request, token)
    if isinstance(link, HttpResponse):
        return link
    tracking.tracking_link_record_open(link=link)
    return _render_tracking(request, link, token)


# CSRF-exempt on purpose, this view only: customers rate from phones that block cookies and from browsers
# embedded in email apps, where Django's CSRF cookie never arrives. CSRF protects ambient credentials
# (a session cookie a foreign page could ride on); this view reads none. Its credential is the signed,
# expiring, revocable token in the URL, which a foreign page cannot know, and the form must also carry a
# signed nonce bound to this link, at most RATING_FORM_MAX_AGE old and good for one rating only
# (tracking.rating_form_check). The database still takes one rating per order (OrderRating.order is
# one-to-one).
@csrf_exempt
@login_not_required
@require_POST
def rate(request: HttpRequest, token: str) -> HttpResponse:
    throttled = _throttled(request)
    if throttled is not None:
        return throttled
    link = _resolve(request, token)
    if isinstance(link, HttpResponse):
        return link
    language = _language(request, link.order.customer.language)
    with translation.override(language):
        try:
            tracking.rating_form_check(link=link, nonce=request.POST.get("form_nonce", ""))
        except tracking.RatingFormUsed:
            # Sent twice (a double tap, the back button, a replayed form) or after another form: the rating
            # stands as first sent.
            return _render_tracking(
                request,
                link,
                token,
                status=409,
                rating_error=ApplicationError(
                    _("This order has already been rated: this form can no longer be sent. Thank you!")
                ),
            )
        except tracking.RatingFormInvalid:
            return _render_tracking(
                request,
                link,
                token,
                status=400,
                rating_error=ApplicationError(
                    _("This rating form has expired. Please choose your rating again and send it.")
                ),
                rating_comment=request.POST.get("comment", ""),
            )
        try:
            tracking.order_rating_submit(
                link=link, score=request.POST.get("score"), comment=request.POST.get("comment", "")
            )
        except ApplicationError as exc:
            return _render_tracking(
                request,
                link,
                token,
                status=exc.status_code,
                rating_error=exc,
                rating_comment=request.POST.get("comment", ""),
            )
    url = reverse("tracking:track", kwargs={"token": token})
    return redirect(f"{url}?lang={language}&rated=1")


# --- staff: the "tracking-link" panel on the order page --------------------------------------------------
def panel_context(
    order: SalesOrder, user: User, *, new_link: TrackingLink | None = None, error: str = ""
) -> dict[str, Any] | None:
    if not (allowed(user, "orders.add_trackinglink") or allowed(user, "orders.view_trackinglink")):
        return None
    links = [
        {
            "link": link,
            "state": link.state(),
            "path": tracking.tracking_path(link) if link.state() == TrackingLinkState.ACTIVE else "",
        }
        for link in tracking.tracking_links_for(order=order)
    ]
    # "Email to customer" opens the agent's own mail program (replies come back to the agent) with the
    # message written in the customer's language; the URL is added in the template (it needs the host).
    with translation.override(order.customer.language):
        mail_subject = _("Track your order %(number)s") % {"number": order.number}
        mail_body = _(
            "Dear customer,\n\nyou can follow your order %(number)s%(po)s here (no login needed):"
        ) % {
            "number": order.number,
            "po": (_(" (your PO %(po)s)") % {"po": order.customer_po}) if order.customer_po else "",
        }
        mail_body += "\n\n"  # the link follows on its own line
    default_expiry = tracking.default_expiry_days(order)
    return {
        "order": order,
        "links": links,
        "new_link_id": new_link.pk if new_link else None,
        "can_create": allowed(user, "orders.add_trackinglink") and order.status not in tracking.NOT_SHAREABLE,
        "can_revoke": allowed(user, "orders.revoke_trackinglink"),
        "expiry_choices": sorted({*tracking.EXPIRY_CHOICES, default_expiry}),
        "default_expiry": default_expiry,
        "rating": OrderRating.objects.filter(order=order).first(),
        "error": error,
        "customer_language": order.customer.get_language_display(),
        "customer_email": order.customer.email,
        "mail_subject": mail_subject,
        "mail_body": mail_body,
    }


def _panel_response(request: AuthenticatedRequest, order: SalesOrder, **kwargs: Any) -> HttpResponse:
    context = panel_context(order, request.user, **kwargs)
    if context is None:
        raise PermissionDenied
    return render(request, "tracking/panel.html", {"panel": context})


def _after_write(request: AuthenticatedRequest, order: SalesOrder, text: str, **kwargs: Any) -> HttpResponse:
    if request.htmx:
        return _panel_response(request, order, **kwargs)
    messages.success(request, text)
    return redirect("orders:order_detail", number=order.number)


def _refused(request: AuthenticatedRequest, order: SalesOrder, exc: ApplicationError) -> HttpResponse:
    if isinstance(exc, Forbidden):
        raise PermissionDenied(exc.message) from exc
    if request.htmx:
        # htmx swaps 2xx answers only: the panel comes back with the message in it.
        return _panel_response(request, order, error=exc.message)
    messages.error(request, exc.message)
    return redirect("orders:order_detail", number=order.number)


@require_POST
def link_create(request: AuthenticatedRequest, number: str) -> HttpResponse:
    order = selectors.order_get(user=request.user, number=number)
    try:
        link = tracking.tracking_link_create(
            actor=request.user, order=order, expires_in_days=request.POST.get("expires_in_days")
        )
    except ApplicationError as exc:
        return _refused(request, order, exc)
    return _after_write(
        request, order, _("Tracking link created. Copy it and send it to the customer."), new_link=link
    )


@require_http_methods(["POST"])
def link_revoke(request: AuthenticatedRequest, number: str, link_id: int) -> HttpResponse:
    order = selectors.order_get(user=request.user, number=number)
    link = order.tracking_links.filter(pk=link_id).first()
    if link is None or not policies.can_view_order(request.user, order):
        return _refused(request, order, ApplicationError(_("No such link on this order.")))
    try:
        tracking.tracking_link_revoke(actor=request.user, link=link, reason=request.POST.get("reason", ""))
    except ApplicationError as exc:
        return _refused(request, order, exc)
    return _after_write(request, order, _("Tracking link revoked: it no longer opens."))
