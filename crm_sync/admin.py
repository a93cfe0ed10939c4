"""Admin of the integration: systems (pause/resume), deliveries by state with payload and attempts, replay."""

from __future__ import annotations

import json

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from config.admin import ReadOnlyAdminMixin
from config.http import request_user
from config.kernel import allowed
from config.kernel.errors import ApplicationError
from crm_sync import inbound, outbox, reconciliation
from crm_sync.mapping import mapping_errors
from crm_sync.models import (
    Delivery,
    DeliveryAttempt,
    Drift,
    ExternalSystem,
    InboundCursor,
    InboundMessage,
    OutboxEvent,
    TaskReceipt,
)
from crm_sync.webhooks import SECRET_PREFIX, secret_key


def mask(secret: str) -> str:
    """Enough to tell two secrets apart, never enough to use one."""
    if not secret:
        return "—"
    return f"{secret[:6]}…{secret[-4:]}" if len(secret) > 14 else "…"


class ExternalSystemForm(forms.ModelForm):
    # Secrets are write-only here: a blank field on change keeps the stored value.
    bearer_token = forms.CharField(
        label=_("bearer token"), required=False, widget=forms.PasswordInput(render_value=False)
    )
    signing_secret = forms.CharField(
        label=_("signing secret"),
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text=_("whsec_ followed by base64. Leave blank to keep the current secret."),
    )

    base_url = forms.URLField(label=_("base URL"), max_length=300, assume_scheme="https")

    class Meta:
        model = ExternalSystem
        fields = (
            "name",
            "slug",
            "kind",
            "format",
            "is_enabled",
            "is_paused",
            "base_url",
            "events_path",
            "connect_timeout",
            "read_timeout",
            "bearer_token",
            "signing_secret",
            "event_types",
            "field_mapping",
            "service_user",
        )

    def clean_signing_secret(self) -> str:
        value = self.cleaned_data["signing_secret"].strip()
        if not value:
            return self.instance.signing_secret if self.instance.pk else ""
        if not value.startswith(SECRET_PREFIX):
            raise forms.ValidationError(_("A signing secret starts with whsec_."))
        try:
            secret_key(value)
        except ValueError as exc:
            raise forms.ValidationError(_("After whsec_ comes base64.")) from exc
        return value

    def clean_bearer_token(self) -> str:
        value = self.cleaned_data["bearer_token"].strip()
        return value or (self.instance.bearer_token if self.instance.pk else "")

    def clean_field_mapping(self):
        mapping = self.cleaned_data["field_mapping"] or {}
        problems = mapping_errors(mapping)
        if problems:
            raise forms.ValidationError(problems)
        return mapping

    def clean_event_types(self):
        value = self.cleaned_data["event_types"] or []
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise forms.ValidationError(_('A list of event types, e.g. ["order.released"].'))
        return value


@admin.register(ExternalSystem)
class ExternalSystemAdmin(admin.ModelAdmin):
    form = ExternalSystemForm
    list_display = (
        "name",
        "kind",
        "format",
        "base_url",
        "is_enabled",
        "is_paused",
        "masked_secret",
        "backlog",
        "failing",
        "dead_letters",
        "last_delivered_at",
    )
    list_filter = ("kind", "is_enabled", "is_paused")
    search_fields = ("name", "slug", "base_url")
    prepopulated_fields = {"slug": ("name",)}
    autocomplete_fields = ("service_user",)
    actions = ["pause", "resume"]
    # Pausing and resuming go through the service (resuming wakes every waiting order): the actions only.
    readonly_fields = ("is_paused",)
    fieldsets = (
        (None, {"fields": ("name", "slug", "kind", "format", "is_enabled", "is_paused")}),
        (_("Endpoint"), {"fields": ("base_url", "events_path", "connect_timeout", "read_timeout")}),
        (_("Authentication"), {"fields": ("bearer_token", "signing_secret", "service_user")}),
        (_("What and how"), {"fields": ("event_types", "field_mapping")}),
    )

    def get_queryset(self, request):
        return outbox.system_health()

    @admin.display(description=_("signing secret"))
    def masked_secret(self, obj: ExternalSystem) -> str:
        return mask(obj.signing_secret)

    @admin.display(description=_("backlog"), ordering="backlog")
    def backlog(self, obj) -> int:
        return obj.backlog

    @admin.display(description=_("failing"), ordering="failing")
    def failing(self, obj) -> int:
        return obj.failing

    @admin.display(description=_("dead letters"), ordering="dead")
    def dead_letters(self, obj):
        if not obj.dead:
            return 0
        url = reverse("admin:crm_sync_delivery_changelist") + f"?state__exact=dead&system__id__exact={obj.pk}"
        return format_html('<a href="{}" style="color:#ba2121;font-weight:bold">{}</a>', url, obj.dead)

    @admin.display(description=_("last delivered"), ordering="last_delivered_at")
    def last_delivered_at(self, obj):
        return obj.last_delivered_at

    @admin.action(description=_("Pause delivery to the selected systems"), permissions=["change"])
    def pause(self, request: HttpRequest, queryset: QuerySet[ExternalSystem]) -> None:
        for system in queryset:
            outbox.external_system_set_paused(system=system, paused=True, actor=request_user(request))
        self.message_user(request, _("Paused."), messages.SUCCESS)

    @admin.action(description=_("Resume delivery to the selected systems"), permissions=["change"])
    def resume(self, request: HttpRequest, queryset: QuerySet[ExternalSystem]) -> None:
        for system in queryset:
            outbox.external_system_set_paused(system=system, paused=False, actor=request_user(request))
        self.message_user(request, _("Resumed."), messages.SUCCESS)


class DeliveryAttemptInline(admin.TabularInline):
    model = DeliveryAttempt
    fields = ("number", "started_at", "status_code", "latency_ms", "error", "response_excerpt")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Delivery)
class DeliveryAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = (
        "subject",
        "sequence",
        "event_type",
        "system",
        "state",
        "attempts",
        "next_attempt_at",
        "short_error",
        "delivered_at",
    )
    list_filter = ("state", "system", "event__type")
    search_fields = ("event__subject", "=event__id")
    list_select_related = ("event", "system")
    date_hierarchy = "created_at"
    actions = ["replay"]
    inlines = [DeliveryAttemptInline]
    fields = (
        "event",
        "system",
        "sequence",
        "state",
        "attempts",
        "next_attempt_at",
        "claimed_until",
        "last_error",
        "delivered_at",
        "replayed_at",
        "created_at",
        "payload",
    )
    readonly_fields = fields

    @admin.display(description=_("order"), ordering="event__subject")
    def subject(self, obj: Delivery) -> str:
        return obj.event.subject

    @admin.display(description=_("type"), ordering="event__type")
    def event_type(self, obj: Delivery) -> str:
        return obj.event.type

    @admin.display(description=_("last error"))
    def short_error(self, obj: Delivery) -> str:
        return obj.last_error[:80]

    @admin.display(description=_("payload as sent"))
    def payload(self, obj: Delivery):
        body, content_type = outbox.render_payload(system=obj.system, event=obj.event)
        text = body.decode("utf-8")
        if content_type.endswith("json"):
            text = json.dumps(json.loads(text), indent=2, ensure_ascii=False)
        return format_html("<pre style='white-space:pre-wrap'>{}</pre>", text)

    @admin.action(description=_("Replay the selected dead or failed deliveries"), permissions=["replay"])
    def replay(self, request: HttpRequest, queryset: QuerySet[Delivery]) -> None:
        count = outbox.deliveries_replay(deliveries=queryset, actor=request_user(request))
        self.message_user(
            request,
            ngettext("%(count)d delivery replayed.", "%(count)d deliveries replayed.", count)
            % {"count": count},
            messages.SUCCESS,
        )

    def has_replay_permission(self, request) -> bool:
        return allowed(request.user, "crm_sync.change_delivery")


@admin.register(OutboxEvent)
class OutboxEventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("subject", "sequence", "type", "state", "origin", "time")
    list_filter = ("state", "type", "origin")
    search_fields = ("subject", "id")
    readonly_fields = [f.name for f in OutboxEvent._meta.fields]
    list_select_related = ("order",)


@admin.register(InboundMessage)
class InboundMessageAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = (
        "message_id",
        "system",
        "kind",
        "subject",
        "state",
        "attempts",
        "received_at",
        "processed_at",
    )
    list_filter = ("state", "system", "kind")
    search_fields = ("=message_id", "subject")
    list_select_related = ("system",)
    date_hierarchy = "received_at"
    actions = ["replay"]
    readonly_fields = [f.name for f in InboundMessage._meta.fields]

    @admin.action(description=_("Process the selected dead or failed messages again"), permissions=["replay"])
    def replay(self, request: HttpRequest, queryset: QuerySet[InboundMessage]) -> None:
        count = inbound.inbound_replay(messages=queryset, actor=request_user(request))
        self.message_user(
            request,
            ngettext("%(count)d message queued again.", "%(count)d messages queued again.", count)
            % {"count": count},
            messages.SUCCESS,
        )

    def has_replay_permission(self, request) -> bool:
        return allowed(request.user, "crm_sync.change_inboundmessage")


@admin.register(Drift)
class DriftAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = (
        "subject",
        "system",
        "kind",
        "differences",
        "detected_at",
        "last_seen_at",
        "resolved_at",
        "resolution",
    )
    list_filter = ("kind", "system", ("resolved_at", admin.EmptyFieldListFilter))
    search_fields = ("subject", "work_order", "order__number")
    list_select_related = ("system",)
    # Shown as one table (field, ours, theirs) rather than two raw JSON values.
    exclude = ("ours", "theirs")
    readonly_fields = [f.name for f in Drift._meta.fields if f.name not in ("ours", "theirs")]
    readonly_fields += ["differences"]
    actions = ["repair"]

    @admin.display(description=_("Differences"))
    def differences(self, obj: Drift) -> str:
        """Field, ours, theirs: the drift page's table."""
        rows = format_html_join(
            "",
            "<tr><th>{}</th><td>{}</td><td>{}</td></tr>",
            ((row.label, row.ours, row.theirs) for row in reconciliation.drift_rows(obj)),
        )
        return format_html(
            "<table><thead><tr><th>{}</th><th>{}</th><th>{}</th></tr></thead><tbody>{}</tbody></table>",
            _("Field"),
            _("Ours"),
            _("Theirs"),
            rows,
        )

    @admin.action(description=_("Repair the selected drifts (re-send or pull)"), permissions=["repair"])
    def repair(self, request: HttpRequest, queryset: QuerySet[Drift]) -> None:
        actor = request_user(request)
        for drift in queryset.filter(resolved_at__isnull=True).select_related("system", "order"):
            if not Drift.objects.filter(pk=drift.pk, resolved_at__isnull=True).exists():
                continue  # repaired with another drift of its order just now (one re-send repairs them all)
            try:
                self.message_user(
                    request, reconciliation.drift_repair(drift=drift, actor=actor), messages.SUCCESS
                )
            except ApplicationError as exc:
                self.message_user(request, f"{drift.subject}: {exc.message}", messages.ERROR)

    def has_repair_permission(self, request) -> bool:
        return allowed(request.user, "crm_sync.change_drift")


@admin.register(InboundCursor)
class InboundCursorAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("subject", "system", "last_sequence", "stale_ignored", "updated_at")
    list_filter = ("system",)
    search_fields = ("subject",)
    readonly_fields = [f.name for f in InboundCursor._meta.fields]


@admin.register(TaskReceipt)
class TaskReceiptAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("name", "task_id", "deliveries", "state", "first_seen_at", "last_seen_at")
    list_filter = ("state", "name")
    search_fields = ("=task_id",)
    readonly_fields = [f.name for f in TaskReceipt._meta.fields]
