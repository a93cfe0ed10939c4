"""Customer tracking links: create, revoke, resolve a token; what the customer sees; the customer's rating.

A link's URL token is `<public_id>.<signature>`: public_id is 128 random bits stored on the link, the
signature an HMAC of it under SECRET_KEY (django.core.signing, own salt). A tampered or invented token is
refused by the signature check before any query; a stolen database alone yields no working URL; the
URL can still be shown again to staff (copy) because it is derived, not stored. Expiry and revocation
are checked on every request.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING

from django.conf import settings
from django.core import signing
from django.db import IntegrityError, transaction
from django.db.models import F
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from config.kernel import allowed, refused, stamp
from config.kernel.errors import Conflict, ValidationFailed
from config.kernel.events import OrderRated
from orders import notifications, providers
from orders.sales import policies
from orders.sales.models import OrderStatus, SalesOrder
from orders.tracking.models import OrderRating, TrackingLink, TrackingLinkState

if TYPE_CHECKING:
    from django.contrib.auth.models import User

SIGNING_SALT = "orderbridge.orders.tracking-link"
# What the "expires in" choice offers; the service accepts any whole number of days in the range.
EXPIRY_CHOICES = (7, 30, 90, 180)
DEFAULT_EXPIRY_DAYS = 30
# A link should outlive the order's expected completion by this much: the goods still travel after it.
AFTER_COMPLETION_DAYS = 14
MAX_EXPIRY_DAYS = 365
NOT_SHAREABLE = (OrderStatus.DRAFT, OrderStatus.CANCELLED)
RATEABLE = (OrderStatus.SHIPPED, OrderStatus.CLOSED)
COMMENT_MAX = 2000


class LinkNotFound(Exception):
    """Unknown or tampered token: the page says "no such link" (404)."""


class LinkGone(Exception):
    """A real link that expired or was revoked (410)."""

    def __init__(self, state: str) -> None:
        super().__init__(state)
        self.state = state


RATING_FORM_SALT = "orderbridge.orders.tracking-rating-form"
# How long a rendered rating form may be sent: long enough to write a comment on a phone, short enough
# that a copied form is soon worthless.
RATING_FORM_MAX_AGE = dt.timedelta(hours=12)


class RatingFormInvalid(Exception):
    """The rating form's nonce is missing, tampered, made for another link, or too old."""


class RatingFormUsed(RatingFormInvalid):
    """The nonce is genuine, but the order is rated already: this form, or another, was sent before."""


def _signer() -> signing.Signer:
    # "." keeps the token inside the URL-safe alphabet (public_id and signature are base64url).
    return signing.Signer(salt=SIGNING_SALT, sep=".")


def tracking_token(link: TrackingLink) -> str:
    return _signer().sign(link.public_id)


def tracking_path(link: TrackingLink) -> str:
    return reverse("tracking:track", kwargs={"token": tracking_token(link)})


def public_url(path: str, *, request: HttpRequest | None = None) -> str:
    """`path` as an absolute URL customers can open (tracking links shown to staff, sent in emails).

    settings.PUBLIC_URL (ORDERBRIDGE_PUBLIC_URL) when set: behind a proxy, or on an internal host name,
    the request's Host is not the customers' address. Else the request's scheme and host, as staff see
    them; with no request at all (Celery tasks, commands), SITE_URL.
    """
    if settings.PUBLIC_URL:
        return f"{settings.PUBLIC_URL}{path}"
    if request is not None:
        return request.build_absolute_uri(path)
    return f"{settings.SITE_URL}{path}"


def tracking_url(link: TrackingLink, *, request: HttpRequest | None = None) -> str:
    return public_url(tracking_path(link), request=request)


def rating_form_nonce(link: TrackingLink) -> str:
    """A signed, timestamped nonce for one rendered rating form, bound to `link`.

    The rating form works without cookies (phones that block them, browsers inside email apps): instead of
    Django's CSRF cookie, the POST must carry a nonce that only a page of this very link hands out.
    """
    return signing.dumps({"l": link.public_id, "n": secrets.token_urlsafe(8)}, salt=RATING_FORM_SALT)


def rating_form_check(*, link: TrackingLink, nonce: str) -> None:
    """RatingFormInvalid unless `nonce` came from a form of `link` rendered within RATING_FORM_MAX_AGE;
    RatingFormUsed if the order is rated already.

    A nonce is good for one rating: it is bound to "the order has no rating yet". An order takes one
    rating (one-to-one key) and ratings are never deleted (read-only admin), so a nonce that made a rating
    can never make another, and none needs recording: no table of used nonces, no per-process state.
    """
    try:
        payload = signing.loads(nonce or "", salt=RATING_FORM_SALT, max_age=RATING_FORM_MAX_AGE)
    except signing.BadSignature as exc:  # SignatureExpired is a BadSignature too
        raise RatingFormInvalid from exc
    if not isinstance(payload, dict) or payload.get("l") != link.public_id:
        raise RatingFormInvalid
    if OrderRating.objects.filter(order_id=link.order_id).exists():
        raise RatingFormUsed


# --- staff: create and revoke ----------------------------------------------------------------------------
def default_expiry_days(order: SalesOrder) -> int:
    """How long a new link works unless the user says otherwise: past the order's expected completion
    (the latest of its promised, requested and projected dates) plus AFTER_COMPLETION_DAYS, as the
    smallest of the offered choices that covers it (never below DEFAULT_EXPIRY_DAYS)."""
    progress = providers.order_progress(order)
    projected = progress.projected_date if progress else None
    dates = [date for date in (order.promised_date, order.requested_date, projected) if date]
    if not dates:
        return DEFAULT_EXPIRY_DAYS
    needed = max(DEFAULT_EXPIRY_DAYS, (max(dates) - timezone.localdate()).days + AFTER_COMPLETION_DAYS)
    for choice in EXPIRY_CHOICES:
        if choice >= needed:
            return choice
    return min(needed, MAX_EXPIRY_DAYS)


@transaction.atomic
def tracking_link_create(
    *,
    actor: User,
    order: SalesOrder | int,
    expires_in_days: int | str | None = None,
    reason: str = "",
) -> TrackingLink:
    """A new link for the customer of `order`. Several may exist; each expires on its own, by default
    after the order's expected completion (default_expiry_days).

    Needs orders.add_trackinglink and sight of the order; draft and cancelled orders are not shared.
    """
    pk = order.pk if isinstance(order, SalesOrder) else order
    order = SalesOrder.objects.select_related("customer").get(pk=pk)
    if not (policies.can_view_order(actor, order) and allowed(actor, "orders.add_trackinglink")):
        raise refused(actor, "tracking_link_create", order.number, "missing orders.add_trackinglink")
    if expires_in_days is None:
        expires_in_days = default_expiry_days(order)
    try:
        days = int(expires_in_days or 0)
    except (TypeError, ValueError):
        days = 0
    if not 1 <= days <= MAX_EXPIRY_DAYS:
        raise ValidationFailed(
            _("Choose how long the link works."),
            fields={"expires_in_days": [_("Between 1 and %(max)s days.") % {"max": MAX_EXPIRY_DAYS}]},
        )
    if order.status in NOT_SHAREABLE:
        raise Conflict(
            _("Order %(number)s is %(status)s: there is nothing to track for the customer yet.")
            % {"number": order.number, "status": order.get_status_display()},
            code="not_shareable",
        )
    link = TrackingLink(
        order=order,
        public_id=secrets.token_urlsafe(16),
        created_by=actor,
        expires_at=timezone.now() + dt.timedelta(days=days),
    )
    stamp(link, actor=actor, reason=reason or gettext_lazy("Tracking link created"))
    link.save()
    return link


@transaction.atomic
def tracking_link_revoke(*, actor: User, link: TrackingLink | int, reason: str = "") -> TrackingLink:
    """Stop a link working at once. Revoking a revoked link is refused (409), an expired one is allowed."""
    pk = link.pk if isinstance(link, TrackingLink) else link
    link = TrackingLink.objects.select_for_update().select_related("order").get(pk=pk)
    if not (policies.can_view_order(actor, link.order) and allowed(actor, "orders.revoke_trackinglink")):
        raise refused(actor, "tracking_link_revoke", link.order.number, "missing orders.revoke_trackinglink")
    if link.revoked_at is not None:
        raise Conflict(_("This link was already revoked."), code="revoked")
    link.revoked_at = timezone.now()
    link.revoked_by = actor
    stamp(link, actor=actor, reason=reason or gettext_lazy("Tracking link revoked"))
    link.save()
    return link


def tracking_links_for(*, order: SalesOrder) -> list[TrackingLink]:
    return list(order.tracking_links.select_related("created_by", "revoked_by"))


# --- the public side ---------------------------------------------------------------------------------------
def tracking_link_resolve(token: str) -> TrackingLink:
    """The active link of a token, or LinkNotFound (bad signature, unknown) / LinkGone (expired, revoked)."""
    try:
        public_id = _signer().unsign(token or "")
    except signing.BadSignature as exc:
        raise LinkNotFound from exc
    link = TrackingLink.objects.select_related("order__customer").filter(public_id=public_id).first()
    if link is None:
        raise LinkNotFound
    state = link.state()
    if state != TrackingLinkState.ACTIVE:
        raise LinkGone(state)
    return link


def tracking_link_record_open(*, link: TrackingLink) -> None:
    # A counter update, not a history row: reading the page is not a change of the link.
    TrackingLink.objects.filter(pk=link.pk).update(
        open_count=F("open_count") + 1, last_opened_at=timezone.now()
    )


MILESTONES = (
    (OrderStatus.CONFIRMED, gettext_lazy("Order confirmed")),
    (OrderStatus.RELEASED, gettext_lazy("Released to production")),
    (OrderStatus.IN_PRODUCTION, gettext_lazy("In production")),
    (OrderStatus.COMPLETED, gettext_lazy("Production completed")),
    (OrderStatus.SHIPPED, gettext_lazy("Shipped")),
)
# A status reached later implies the earlier milestones were passed, even without a history row for them.
_ORDER: tuple[str, ...] = (*(status for status, _label in MILESTONES), OrderStatus.CLOSED)


@dataclass
class Milestone:
    key: str
    label: str
    reached_at: dt.datetime | None
    done: bool
    current: bool = False


@dataclass
class TrackingLine:
    product: str
    quantity: Decimal
    unit: str


@dataclass
class TrackingView:
    """Everything the customer's page shows, and nothing else: no prices, remarks, names or other orders."""

    number: str
    customer_po: str
    customer_name: str
    status: str
    status_label: str
    percent_complete: Decimal | None
    expected_date: dt.date | None
    expected_is_projection: bool
    promised_date: dt.date | None
    milestones: list[Milestone]
    lines: list[TrackingLine] = field(default_factory=list)
    can_rate: bool = False
    rating: OrderRating | None = None
    expires_at: dt.datetime | None = None


def _milestone_dates(order: SalesOrder) -> dict[str, dt.datetime]:
    """The first time the order reached each status, from its history (one query)."""
    reached: dict[str, dt.datetime] = {}
    rows = order.history.order_by("history_date", "history_id").values_list("status", "history_date")
    for status, when in rows:
        reached.setdefault(status, when)
    return reached


def tracking_view(*, link: TrackingLink) -> TrackingView:
    order = link.order
    reached = _milestone_dates(order)
    effective = order.status_before_hold if order.status == OrderStatus.ON_HOLD else order.status
    position = _ORDER.index(effective) if effective in _ORDER else -1
    milestones = []
    for index, (status, label) in enumerate(MILESTONES):
        done = position >= index
        milestones.append(
            Milestone(
                key=status,
                label=str(label),
                reached_at=reached.get(status) if done else None,
                done=done,
                current=position == index,
            )
        )
    progress = providers.order_progress(order)
    percent = progress.percent_complete if progress is not None else None
    if order.status in (OrderStatus.COMPLETED, OrderStatus.SHIPPED, OrderStatus.CLOSED):
        percent = Decimal(100)
    expected, is_projection = order.promised_date, False
    projected = progress.projected_date if progress is not None else None
    still_making = position < _ORDER.index(OrderStatus.COMPLETED)
    # The customer is told the later of promise and plan: never an earlier date than we promised.
    if projected and still_making and (expected is None or projected > expected):
        expected, is_projection = projected, True
    rating = OrderRating.objects.filter(order=order).first()
    lines = [
        TrackingLine(product=line.product.display_name, quantity=line.quantity, unit=line.unit)
        for line in order.lines.select_related("product").order_by("line_no")
    ]
    return TrackingView(
        number=order.number,
        customer_po=order.customer_po,
        customer_name=order.customer.name,
        status=order.status,
        status_label=order.get_status_display(),
        percent_complete=percent,
        expected_date=expected,
        expected_is_projection=is_projection,
        promised_date=order.promised_date,
        milestones=milestones,
        lines=lines,
        can_rate=order.status in RATEABLE and rating is None,
        rating=rating,
        expires_at=link.expires_at,
    )


@transaction.atomic
def order_rating_submit(*, link: TrackingLink, score: int | str | None, comment: str = "") -> OrderRating:
    """The customer rates a delivered order, once. A second rating is refused (409), never overwrites."""
    errors: dict[str, list[str]] = {}
    try:
        value = int(score or 0)
    except (TypeError, ValueError):
        value = 0
    if not 1 <= value <= 5:
        errors["score"] = [_("Choose from 1 to 5 stars.")]
    comment = (comment or "").strip()
    if len(comment) > COMMENT_MAX:
        errors["comment"] = [_("At most %(max)s characters.") % {"max": COMMENT_MAX}]
    if errors:
        raise ValidationFailed(_("Please correct the errors below."), fields=errors)
    # The order's row lock makes two simultaneous ratings queue; the one-to-one key is the backstop.
    order = SalesOrder.objects.select_for_update(no_key=True).get(pk=link.order_id)
    if order.status not in RATEABLE:
        raise Conflict(_("You can rate the order once it has been delivered."), code="not_delivered")
    if OrderRating.objects.filter(order=order).exists():
        raise Conflict(_("This order has already been rated. Thank you!"), code="already_rated")
    rating = OrderRating(order=order, tracking_link=link, score=value, comment=comment)
    stamp(rating, actor=None, reason=gettext_lazy("Rated by the customer"))
    try:
        with transaction.atomic():
            rating.save()
    except IntegrityError as exc:
        raise Conflict(_("This order has already been rated. Thank you!"), code="already_rated") from exc
    # The owner and the link's sender hear of it (in this transaction, sent after commit). A rating is not an
    # order change, so it is not published to the other apps (no outbox event for the CRM).
    notifications.on_event(
        OrderRated(order=order, score=value, comment=comment, link_created_by_id=link.created_by_id)
    )
    return rating
