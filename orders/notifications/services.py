"""Notifications: who hears of which event, the inbox, each user's channels, and email/chat delivery.

`on_event` is subscribed to config.kernel.bus for the events it routes (ROUTED_EVENTS, in OrdersConfig.ready)
and runs inside the publishing transaction:
the notice rows and their delivery rows commit with the change that caused them, or not at all. Email and
chat are sent by a Celery task enqueued after commit (never inside a request); a delivery row per channel
makes sending idempotent, and failures are retried with exponential backoff (task retry, beat sweep as the
safety net) until NOTIFY_MAX_ATTEMPTS.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypedDict
from urllib.parse import urlsplit

import httpx
from celery import signature
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from config.kernel.errors import ValidationFailed
from config.kernel.events import MesChangesUnacknowledged, OrderEvent
from config.kernel.messages import Message, defined, message_text
from orders.notifications.models import (
    Channel,
    ChatStyle,
    DeliveryStatus,
    Notification,
    NotificationDelivery,
    NotificationKind,
    NotificationPreference,
    NotificationProfile,
)
from orders.notifications.routes import ROUTES

if TYPE_CHECKING:
    from django.contrib.auth.models import User

    from config.kernel import Actor
    from orders.models import SalesOrder

logger = logging.getLogger("orderbridge.notifications")

APPROVE_PERMISSION = "orders.approve_changerequest"
# The Celery task (orders/tasks.py) that sends one delivery, by its registered name.
DELIVER_TASK = "orders.notification_deliver"
WEBHOOK_TIMEOUT_SECONDS = 10
BACKOFF_BASE_SECONDS = 30
BACKOFF_MAX_SECONDS = 3600


# Who plans and follows work under way (planners and production managers hold it).
PLANNER_PERMISSION = "production.hold_workorder"


# --- routing ----------------------------------------------------------------------------------------------
def users_with_permission(permission: str) -> QuerySet[User]:
    """Active users holding `permission` through a group, directly, or as superusers."""
    app_label, codename = permission.split(".")
    through_group = Q(
        groups__permissions__codename=codename, groups__permissions__content_type__app_label=app_label
    )
    direct = Q(user_permissions__codename=codename, user_permissions__content_type__app_label=app_label)
    return (
        get_user_model()
        .objects.filter(is_active=True)
        .filter(through_group | direct | Q(is_superuser=True))
        .distinct()
    )


def _approver_ids() -> list[int]:
    return list(users_with_permission(APPROVE_PERMISSION).values_list("pk", flat=True))


def _requester_ids(event: OrderEvent) -> list[int]:
    requested_by = (event.data or {}).get("requested_by_id")
    return [requested_by] if requested_by else []


def _audiences(event: OrderEvent) -> list[tuple[str, Sequence[int | None]]]:
    """(route, recipients) pairs of an event; one event may tell different people different things."""
    data = event.data or {}
    was_waiting = data.get("previous_status") == "submitted"
    if event.type == "change_request.submitted":
        # Every approver; a manager-level approval is still an approval they may want to see coming.
        return [(event.type, _approver_ids())]
    if event.type in ("change_request.approved", "change_request.rejected"):
        return [(event.type, _requester_ids(event))]
    if event.type == "change_request.withdrawn":
        # A draft was never announced: its withdrawal concerns nobody but the requester (who did it).
        return [(event.type, _approver_ids())] if was_waiting else []
    if event.type == "change_request.superseded":
        audiences: list[tuple[str, Sequence[int | None]]] = [(event.type, _requester_ids(event))]
        if was_waiting:
            requester = set(_requester_ids(event))
            approvers = [pk for pk in _approver_ids() if pk not in requester]
            audiences.append(("change_request.superseded.approvers", approvers))
        return audiences
    if event.type == MesChangesUnacknowledged.name:
        return [(event.type, list(users_with_permission(PLANNER_PERMISSION).values_list("pk", flat=True)))]
    if event.type == "order.rated":
        # The owner, and whoever sent the customer the link (often customer service, who took the call).
        return [(event.type, [event.order.owner_id, data.get("link_created_by_id")])]
    if event.type == "order.completed" and data.get("override"):
        return [("order.completed.override", [event.order.owner_id])]
    if event.type in ROUTES:
        return [(event.type, [event.order.owner_id])]
    return []


class NoticeParams(TypedDict):
    """What a notice's title and body may name (stored with the notice: re-rendered in the reader's
    language)."""

    order: str
    customer: str
    change_request: str
    exception: str
    severity: str
    work_order: str
    projected: str
    promised: str
    reason: str
    score: str
    comment: str
    system: str
    since: str
    # Codes of the exception's kind and severity: `exception` and `severity` are read from them.
    exception_kind: str
    severity_code: str


def _params(event: OrderEvent) -> NoticeParams:
    data = event.data or {}
    order = event.order
    return {
        "order": order.number,
        "customer": order.customer.name,
        "change_request": str(data.get("change_request_number", "")),
        "exception": str(data.get("kind_label") or data.get("kind") or ""),
        "severity": str(data.get("severity_label") or data.get("severity") or ""),
        "work_order": str(data.get("work_order_number", "")),
        "projected": str(data.get("projected_date") or "—"),
        "promised": str(data.get("promised_date") or "—"),
        # A system's reason as its message (read in each reader's language); a person's words as written.
        "reason": event.reason_message or (event.reason or "")[:500],
        "score": str(data.get("score", "")),
        "comment": str(data.get("comment") or "")[:500],
        "system": str(data.get("system_name") or ""),
        "since": str(data.get("delivered_at") or "")[:19].replace("T", " "),
        "exception_kind": str(data.get("kind") or ""),
        "severity_code": str(data.get("severity") or ""),
    }


# Notices that ask for an action, and the events after which nobody needs to act on them any more.
SETTLED_BY = {
    "change_request.submitted": (
        "change_request.approved",
        "change_request.rejected",
        "change_request.withdrawn",
        "change_request.superseded",
    ),
}


def _settle(event: OrderEvent) -> None:
    """A request that no longer waits for approval: its "waits for your approval" notices are done (read).

    Matched by the request's number among the notices of the same order.
    """
    number = str((event.data or {}).get("change_request_number", ""))
    asking = [asked for asked, settling in SETTLED_BY.items() if event.type in settling]
    if number and asking:
        Notification.objects.filter(
            order_id=event.order.pk, event__in=asking, params__change_request=number, read_at__isnull=True
        ).update(read_at=timezone.now())


def on_event(event: OrderEvent) -> None:
    """Subscriber of config.kernel.bus: one notice per recipient of a routed event, in the event's
    transaction.

    Nobody is told of their own action.
    """
    _settle(event)
    params: NoticeParams | None = None
    for route_name, ids in _audiences(event):
        recipients = [pk for pk in dict.fromkeys(ids) if pk and pk != event.actor_id]
        if not recipients:
            continue
        route = ROUTES[route_name]
        params = params if params is not None else _params(event)
        link = reverse("orders:order_detail", kwargs={"number": event.order.number})
        if route.anchor:
            link += f"#{route.anchor}"
        for user in get_user_model().objects.filter(pk__in=recipients, is_active=True):
            notify(recipient=user, event=route_name, params=params, link=link, order=event.order)


def _readable(params: Mapping[str, object]) -> dict[str, object]:
    """The parameters in the active language: codes by their labels, stored messages rendered; notices
    stored before the codes keep their text, through the catalogue when it is one of its English texts."""
    values = dict(params)
    for key, code_key, prefix in (
        ("exception", "exception_kind", "production.exception_kind."),
        ("severity", "severity_code", "production.severity."),
    ):
        code = str(values.get(code_key) or "")
        if code and defined(prefix + code):
            values[key] = str(Message(prefix + code))
        elif values.get(key):
            values[key] = translation.gettext(str(values[key]))
    if isinstance(values.get("reason"), str):
        values["reason"] = message_text(str(values["reason"]))
    return values


def _fill(template: str, values: Mapping[str, object]) -> str:
    # "Customer Acme Co., Ltd.. Reason" never: a value ending in a full stop takes the template's place.
    for key, value in values.items():
        text = str(value)
        for stop in (".", "。"):
            if text.endswith(stop):
                template = template.replace(f"%({key})s{stop}", f"%({key})s")
    return template % values


def render_text(event: str, params: Mapping[str, object], *, language: str | None = None) -> tuple[str, str]:
    """Title and body of an event's notice, in `language` (or the active one)."""
    route = ROUTES[event]
    with translation.override(language) if language else contextlib.nullcontext():
        values = _readable(params)
        try:
            return _fill(str(route.title), values), _fill(str(route.body), values).strip()
        except (KeyError, TypeError, ValueError):
            return str(route.title), ""


def channels_for(user: User, kind: str) -> dict[str, bool]:
    preference = NotificationPreference.objects.filter(user=user, kind=kind).first()
    if preference is None:
        return dict(NotificationPreference.DEFAULTS)
    return {"in_app": preference.in_app, "email": preference.email, "chat": preference.chat}


def _profile(user: User) -> NotificationProfile | None:
    return NotificationProfile.objects.filter(user=user).first()


def notify(
    *,
    recipient: User,
    event: str,
    params: Mapping[str, object],
    link: str = "",
    order: SalesOrder | None = None,
) -> Notification | None:
    """Write one notice and its email/chat deliveries (caller's transaction); send them after commit."""
    route = ROUTES[event]
    channels = channels_for(recipient, route.kind)
    profile = _profile(recipient)
    outside: list[str] = []
    if channels["email"] and recipient.email:
        outside.append(Channel.EMAIL)
    if channels["chat"] and profile is not None and profile.chat_webhook_url:
        outside.append(Channel.CHAT)
    if not (channels["in_app"] or outside):
        return None
    language = profile.language if profile is not None else settings.LANGUAGE_CODE
    title, body = render_text(event, params, language=language)
    notification = Notification.objects.create(
        recipient=recipient,
        kind=route.kind,
        event=event,
        params=params,
        title=title[:200],
        body=body,
        link=link[:300],
        order=order,
        in_app=channels["in_app"],
    )
    now = timezone.now()
    deliveries = [
        NotificationDelivery.objects.create(notification=notification, channel=channel, next_attempt_at=now)
        for channel in outside
    ]
    for delivery in deliveries:
        transaction.on_commit(functools.partial(_enqueue, delivery.pk))
    return notification


def _enqueue(delivery_id: int) -> None:
    try:
        signature(DELIVER_TASK).delay(delivery_id)
    except Exception:  # the broker is down: the beat sweep finds the pending row
        logger.warning("could not enqueue notification delivery %s", delivery_id, exc_info=True)


# --- sending ---------------------------------------------------------------------------------------------
class DeliveryError(Exception):
    pass


@dataclass(frozen=True)
class SendResult:
    outcome: str  # "sent", "retry", "failed", "skipped"
    retry_in: int = 0


def retry_delay(attempts: int) -> int:
    return min(BACKOFF_MAX_SECONDS, BACKOFF_BASE_SECONDS * 2 ** max(0, attempts - 1))


def delivery_send(*, delivery_id: int) -> SendResult:
    """Send one delivery if it is still pending; safe to call twice or concurrently.

    The row is locked for the send (SKIP LOCKED: a second worker leaves it alone), so a notice goes out
    at most once per successful attempt; a worker that dies mid-send rolls back and the row stays pending.
    """
    with transaction.atomic():
        delivery = (
            NotificationDelivery.objects.select_for_update(skip_locked=True)
            .filter(pk=delivery_id, status=DeliveryStatus.PENDING)
            .first()
        )
        if delivery is None:
            return SendResult("skipped")
        notification = Notification.objects.select_related("recipient").get(pk=delivery.notification_id)
        delivery.attempts += 1
        try:
            if delivery.channel == Channel.EMAIL:
                _send_email(notification)
            else:
                _send_chat(notification)
        except DeliveryError as exc:
            delivery.last_error = str(exc)[:1000]
            if delivery.attempts >= settings.NOTIFY_MAX_ATTEMPTS:
                delivery.status = DeliveryStatus.FAILED
                delivery.save()
                logger.warning("notification delivery %s failed for good: %s", delivery.pk, exc)
                return SendResult("failed")
            wait = retry_delay(delivery.attempts)
            delivery.next_attempt_at = timezone.now() + dt.timedelta(seconds=wait)
            delivery.save()
            return SendResult("retry", wait)
        delivery.status = DeliveryStatus.SENT
        delivery.sent_at = timezone.now()
        delivery.last_error = ""
        delivery.save()
        return SendResult("sent")


def deliveries_due(*, limit: int = 500) -> list[int]:
    return list(
        NotificationDelivery.objects.filter(
            status=DeliveryStatus.PENDING, next_attempt_at__lte=timezone.now()
        )
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )


def _absolute(link: str) -> str:
    return f"{settings.SITE_URL}{link}" if link.startswith("/") else link


def _send_email(notification: Notification) -> None:
    address = notification.recipient.email
    if not address:
        raise DeliveryError("the user has no email address")
    body = "\n\n".join(part for part in (notification.body, _absolute(notification.link)) if part)
    try:
        send_mail(notification.title, body, None, [address])
    except Exception as exc:  # SMTP errors of every kind: retried
        raise DeliveryError(f"email: {exc}") from exc


def chat_payload(style: str, text: str) -> dict[str, object]:
    if style == ChatStyle.SLACK:
        return {"text": text}
    # WeCom and DingTalk group robots take the same "text" message.
    return {"msgtype": "text", "text": {"content": text}}


def _send_chat(notification: Notification) -> None:
    profile = _profile(notification.recipient)
    url = profile.chat_webhook_url if profile is not None else ""
    problems = webhook_url_errors(url)
    if problems or profile is None:  # no profile: no URL, a problem
        raise DeliveryError(f"webhook URL refused: {' '.join(problems)}")
    text = "\n".join(
        part for part in (notification.title, notification.body, _absolute(notification.link)) if part
    )
    try:
        response = httpx.post(
            url, json=chat_payload(profile.chat_style, text), timeout=WEBHOOK_TIMEOUT_SECONDS
        )
    except httpx.HTTPError as exc:
        raise DeliveryError(f"webhook: {exc.__class__.__name__}: {exc}") from exc
    if response.status_code >= 300:
        raise DeliveryError(f"webhook answered HTTP {response.status_code}: {response.text[:200]}")
    # WeCom and DingTalk answer 200 with {"errcode": n, "errmsg": ...}; anything but 0 is a refusal.
    try:
        answer = response.json()
    except ValueError:
        return
    if isinstance(answer, dict) and answer.get("errcode") not in (None, 0):
        raise DeliveryError(f"webhook refused: errcode {answer.get('errcode')} {answer.get('errmsg', '')}")


def webhook_url_errors(url: str) -> list[str]:
    """Why a chat webhook URL is not acceptable (empty list: fine)."""
    if not url:
        return [_("Enter the webhook URL.")]
    parts = urlsplit(url)
    schemes = {"https", "http"} if settings.NOTIFY_WEBHOOK_ALLOW_HTTP else {"https"}
    if parts.scheme not in schemes:
        return [_("The webhook URL must start with https://.")]
    if not parts.hostname:
        return [_("The webhook URL has no host.")]
    if parts.username or parts.password:
        return [_("The webhook URL must not contain a user name or password.")]
    allowed = [host.lower() for host in settings.NOTIFY_WEBHOOK_HOSTS]
    host = parts.hostname.lower()
    if allowed and not any(host == name or host.endswith(f".{name}") for name in allowed):
        return [_("Webhooks may only go to: %(hosts)s.") % {"hosts": ", ".join(allowed)}]
    return []


# --- inbox and preferences ----------------------------------------------------------------------------
def inbox(*, user: User, unread_only: bool = False) -> QuerySet[Notification]:
    queryset = Notification.objects.filter(recipient=user, in_app=True).select_related("order")
    if unread_only:
        queryset = queryset.filter(read_at__isnull=True)
    return queryset.order_by("-created_at", "-id")


def unread_count(*, user: Actor) -> int:
    if not (user and user.is_authenticated):
        return 0
    return Notification.objects.filter(recipient=user, in_app=True, read_at__isnull=True).count()


def notification_mark_read(*, user: User, notification_id: int) -> Notification | None:
    """Mark one of the user's own notices read (idempotent); None if it is not theirs."""
    notification = Notification.objects.filter(pk=notification_id, recipient=user).first()
    if notification is not None and notification.read_at is None:
        Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(read_at=timezone.now())
        notification.refresh_from_db(fields=["read_at"])
    return notification


def notifications_mark_read_before(*, before: dt.datetime) -> int:
    """Mark every notice written before `before` read (the demo's history: nobody starts with 88 unread)."""
    return Notification.objects.filter(created_at__lt=before, read_at__isnull=True).update(read_at=before)


def notifications_mark_all_read(*, user: User) -> int:
    return Notification.objects.filter(recipient=user, read_at__isnull=True).update(read_at=timezone.now())


def preferences_for(*, user: User) -> tuple[NotificationProfile, list[dict[str, Any]]]:
    profile = _profile(user) or NotificationProfile(user=user)
    stored = {p.kind: p for p in NotificationPreference.objects.filter(user=user)}
    rows: list[dict[str, Any]] = []
    for kind in NotificationKind:
        preference = stored.get(kind.value)
        values = (
            {"in_app": preference.in_app, "email": preference.email, "chat": preference.chat}
            if preference
            else dict(NotificationPreference.DEFAULTS)
        )
        rows.append({"kind": kind.value, "label": kind.label, **values})
    return profile, rows


@transaction.atomic
def notification_preferences_save(
    *,
    user: User,
    channels: dict[str, set[str]],
    language: str,
    chat_webhook_url: str = "",
    chat_style: str = ChatStyle.WECOM,
) -> NotificationProfile:
    """Store the user's channels per kind, language and chat webhook. Nothing is saved if anything is wrong.

    `channels` maps a kind to the chosen channels ("in_app", "email", "chat"); kinds not named get none.
    """
    errors: dict[str, list[str]] = {}
    chat_webhook_url = (chat_webhook_url or "").strip()
    wants_chat = any(Channel.CHAT in chosen for chosen in channels.values())
    if chat_webhook_url or wants_chat:
        problems = webhook_url_errors(chat_webhook_url)
        if problems:
            errors["chat_webhook_url"] = problems
    if len(chat_webhook_url) > 500:
        errors["chat_webhook_url"] = [_("At most 500 characters.")]
    if language not in {code for code, _name in settings.LANGUAGES}:
        errors["language"] = [_("Choose a valid language.")]
    if chat_style not in ChatStyle.values:
        errors["chat_style"] = [_("Choose a valid webhook type.")]
    unknown = sorted(set(channels) - set(NotificationKind.values))
    if unknown:
        errors["channels"] = [_("Unknown kind: %(kinds)s.") % {"kinds": ", ".join(unknown)}]
    if any(Channel.EMAIL in chosen for chosen in channels.values()) and not user.email:
        errors["channels"] = [_("Your account has no email address: ask an administrator to add one.")]
    if errors:
        raise ValidationFailed(_("Please correct the errors below."), fields=errors)
    profile, _created = NotificationProfile.objects.update_or_create(
        user=user,
        defaults={"language": language, "chat_webhook_url": chat_webhook_url, "chat_style": chat_style},
    )
    for kind in NotificationKind.values:
        chosen = channels.get(kind, set())
        NotificationPreference.objects.update_or_create(
            user=user,
            kind=kind,
            defaults={
                "in_app": Channel.IN_APP in chosen,
                "email": Channel.EMAIL in chosen,
                "chat": Channel.CHAT in chosen,
            },
        )
    return profile
