"""Admin views of tracking links, ratings and notification deliveries: read-only, writes through services."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from config.admin import HistoryAdmin, ReadOnlyAdminMixin
from config.http import request_user
from config.kernel import allowed
from config.kernel.errors import ApplicationError
from orders.notifications.models import NotificationDelivery
from orders.tracking import services as tracking
from orders.tracking.models import OrderRating, TrackingLink


@admin.register(TrackingLink)
class TrackingLinkAdmin(ReadOnlyAdminMixin, HistoryAdmin):
    list_display = ("order", "created_by", "created_at", "expires_at", "revoked_at", "open_count")
    list_filter = ("revoked_at", "expires_at")
    search_fields = ("order__number", "order__customer__code")
    list_select_related = ("order", "created_by")
    actions = ["revoke"]

    @admin.action(description=_("Revoke the selected links"), permissions=["revoke"])
    def revoke(self, request: HttpRequest, queryset: QuerySet[TrackingLink]) -> None:
        done = 0
        for link in queryset.filter(revoked_at__isnull=True):
            try:
                tracking.tracking_link_revoke(
                    actor=request_user(request), link=link, reason=str(_("Revoked in the admin"))
                )
            except ApplicationError as exc:
                messages.error(request, f"{link.order}: {exc.message}")
            else:
                done += 1
        messages.success(request, _("%(count)s links revoked.") % {"count": done})

    def has_revoke_permission(self, request: HttpRequest) -> bool:
        return allowed(request.user, "orders.revoke_trackinglink")


@admin.register(OrderRating)
class OrderRatingAdmin(ReadOnlyAdminMixin, HistoryAdmin):
    list_display = ("order", "score", "comment", "created_at")
    list_filter = ("score",)
    search_fields = ("order__number", "order__customer__code", "comment")
    list_select_related = ("order",)


@admin.register(NotificationDelivery)
class NotificationDeliveryAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = (
        "notification",
        "channel",
        "status",
        "attempts",
        "next_attempt_at",
        "sent_at",
        "last_error",
    )
    list_filter = ("status", "channel")
    list_select_related = ("notification",)
