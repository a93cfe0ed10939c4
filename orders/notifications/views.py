"""The notification inbox, the navbar's unread badge (htmx poll) and each user's channel preferences."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from config.http import AuthenticatedRequest
from config.kernel.errors import ValidationFailed
from orders.notifications import services as notifications
from orders.notifications.models import Channel, ChatStyle, NotificationKind

PAGE_SIZE = 30


@require_GET
def inbox(request: AuthenticatedRequest) -> HttpResponse:
    unread_only = request.GET.get("unread") == "1"
    page = Paginator(notifications.inbox(user=request.user, unread_only=unread_only), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    items = []
    for notification in page.object_list:
        title, body = notification.title, notification.body
        if notification.event in notifications.ROUTES and notification.params:
            title, body = notifications.render_text(notification.event, notification.params)
        items.append({"notification": notification, "title": title, "body": body})
    context = {
        "page": page,
        "items": items,
        "unread_only": unread_only,
        "unread": notifications.unread_count(user=request.user),
    }
    return render(request, "notifications/inbox.html", context)


@require_GET
def badge(request: AuthenticatedRequest) -> HttpResponse:
    return render(
        request,
        "notifications/partials/badge.html",
        {"unread": notifications.unread_count(user=request.user)},
    )


@require_POST
def open_notification(request: AuthenticatedRequest, notification_id: int) -> HttpResponse:
    notification = notifications.notification_mark_read(user=request.user, notification_id=notification_id)
    if notification is None:
        messages.error(request, _("This notification does not exist."))
        return redirect("notifications:inbox")
    link = notification.link
    if link and url_has_allowed_host_and_scheme(link, allowed_hosts={request.get_host()}):
        return redirect(link)
    return redirect("notifications:inbox")


@require_POST
def mark_all_read(request: AuthenticatedRequest) -> HttpResponse:
    count = notifications.notifications_mark_all_read(user=request.user)
    messages.success(request, _("%(count)s notifications marked as read.") % {"count": count})
    return redirect("notifications:inbox")


@require_http_methods(["GET", "POST"])
def preferences(request: AuthenticatedRequest) -> HttpResponse:
    profile, rows = notifications.preferences_for(user=request.user)
    error = None
    if request.method == "POST":
        channels = {
            kind: {channel for channel in Channel.values if request.POST.get(f"{kind}__{channel}")}
            for kind in NotificationKind.values
        }
        try:
            notifications.notification_preferences_save(
                user=request.user,
                channels=channels,
                language=request.POST.get("language", ""),
                chat_webhook_url=request.POST.get("chat_webhook_url", ""),
                chat_style=request.POST.get("chat_style", ""),
            )
        except ValidationFailed as exc:
            error = exc
            # Show what the user entered, not what is stored.
            profile.language = request.POST.get("language", profile.language)
            profile.chat_webhook_url = request.POST.get("chat_webhook_url", "")
            profile.chat_style = request.POST.get("chat_style", profile.chat_style)
            for row in rows:
                for channel in Channel.values:
                    row[channel] = channel in channels[row["kind"]]
        else:
            messages.success(request, _("Your notification settings are saved."))
            return redirect("notifications:preferences")
    context = {
        "profile": profile,
        "rows": rows,
        "channels": Channel.choices,
        "chat_styles": ChatStyle.choices,
        "languages": settings.LANGUAGES,
        "error": error,
        "has_email": bool(request.user.email),
    }
    return render(request, "notifications/preferences.html", context, status=400 if error else 200)
