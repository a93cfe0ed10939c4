"""Django admin for customers, the catalog and orders. Every write goes through the services of
`orders.catalog` and `orders.sales`."""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from config.admin import HistoryAdmin, ReadOnlyAdminMixin
from config.kernel import unit_label
from config.kernel.errors import ApplicationError
from orders import catalog, change_requests, sales

# API tokens, tracking links, ratings and notification deliveries have their own admin modules; change
# requests below.
from orders.api_tokens import admin as api_tokens_admin  # noqa: F401
from orders.models import (
    ChangeRequest,
    ChangeRequestDecision,
    Customer,
    CustomerContact,
    ImportJob,
    OrderLine,
    Product,
    ProductFamily,
    SalesOrder,
)
from orders.service_desk import admin as customer_service_admin  # noqa: F401


def _report(request, exc: ApplicationError) -> None:
    details = "; ".join(f"{field}: {' '.join(msgs)}" for field, msgs in exc.fields.items())
    messages.error(request, f"{exc.message} {details}".strip())


def _refusal_to_message(request, view):
    """A business rule refused the save: the admin's transaction has rolled back; show why on the form."""
    try:
        return view()
    except ApplicationError as exc:
        _report(request, exc)
        return HttpResponseRedirect(request.get_full_path())


class ServiceAdminMixin(admin.ModelAdmin):
    """Route admin saves through the service layer so admin writes obey the same rules and history."""

    def save_via_service(self, request, obj, form, change):  # pragma: no cover - overridden
        raise NotImplementedError

    def save_model(self, request, obj, form, change):
        saved = self.save_via_service(request, obj, form, change)
        obj.pk = saved.pk

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        return _refusal_to_message(
            request,
            lambda: super(ServiceAdminMixin, self).changeform_view(
                request, object_id, form_url, extra_context
            ),
        )

    def delete_model(self, request, obj):
        messages.error(request, _("Records with history are deactivated, not deleted."))
        raise PermissionDenied

    def has_delete_permission(self, request, obj=None):
        return False


class CustomerContactInline(admin.TabularInline):
    model = CustomerContact
    extra = 0


@admin.register(Customer)
class CustomerAdmin(ServiceAdminMixin, HistoryAdmin):
    list_display = ("code", "name", "tier", "crm_id", "is_active")
    list_filter = ("tier", "is_active")
    search_fields = ("code", "name", "crm_id")
    inlines = [CustomerContactInline]

    def save_via_service(self, request, obj, form, change):
        data = {
            name: form.cleaned_data[name] for name in catalog.CUSTOMER_FIELDS if name in form.cleaned_data
        }
        if change:
            return catalog.customer_update(
                actor=request.user, customer=obj, reason=_("Edited in admin"), **data
            )
        return catalog.customer_create(actor=request.user, reason=_("Created in admin"), **data)

    def save_formset(self, request, form, formset, change):
        # Contacts are plain child records; history is recorded by simple-history with the request user.
        with transaction.atomic():
            formset.save()


@admin.register(ProductFamily)
class ProductFamilyAdmin(ServiceAdminMixin, HistoryAdmin):
    list_display = ("code", "name")
    search_fields = ("code", "name")

    def save_via_service(self, request, obj, form, change):
        data = {
            name: form.cleaned_data[name]
            for name in ("code", "name", "name_zh", "description", "spec_schema")
        }
        if change:
            return catalog.product_family_update(
                actor=request.user, family=obj, reason=_("Edited in admin"), **data
            )
        return catalog.product_family_create(actor=request.user, reason=_("Created in admin"), **data)


@admin.register(Product)
class ProductAdmin(ServiceAdminMixin, HistoryAdmin):
    list_display = ("sku", "name", "name_zh", "family", "unit_text", "is_active")
    list_filter = ("family", "is_active")
    search_fields = ("sku", "name")

    @admin.display(description=_("unit"), ordering="unit")
    def unit_text(self, obj: Product) -> str:
        return unit_label(obj.unit)

    def save_via_service(self, request, obj, form, change):
        data = {
            name: form.cleaned_data[name]
            for name in ("sku", "name", "name_zh", "family", "unit", "is_active")
        }
        if change:
            return catalog.product_update(
                actor=request.user, product=obj, reason=_("Edited in admin"), **data
            )
        return catalog.product_create(actor=request.user, reason=_("Created in admin"), **data)


class OrderLineInline(admin.TabularInline):
    model = OrderLine
    extra = 0
    fields = ("line_no", "product", "quantity", "unit", "spec_values", "due_date")
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        # Lines are edited on the order form of the sales UI, where spec fields come from the schema.
        return False


# The door's answers to a start or completion ahead of the work orders that a production manager may give.
OVERRIDE_CODES = frozenset({"override_required", "override_reason_required"})


def _transition_action(name: str):
    @admin.action(description=sales.TRANSITION_LABELS[name])
    def action(modeladmin, request, queryset):
        done, failed = 0, 0
        for order in queryset:
            try:
                sales.order_transition(
                    actor=request.user, order=order, name=name, reason=str(_("Admin action"))
                )
                done += 1
            except ApplicationError as exc:
                failed += 1
                if exc.code in OVERRIDE_CODES:
                    # Ahead of the work orders: the override needs its reason and confirmation page.
                    url = reverse("orders:order_override", args=[order.number, name])
                    messages.error(
                        request,
                        format_html(
                            '{}: {} <a href="{}">{}</a>', order.number, exc.message, url, _("Override…")
                        ),
                    )
                else:
                    messages.error(request, f"{order.number}: {exc.message}")
        if done:
            messages.success(
                request,
                _("%(count)s order(s): %(action)s done.")
                % {"count": done, "action": sales.TRANSITION_LABELS[name]},
            )

    action.__name__ = f"transition_{name}"
    return action


@admin.register(SalesOrder)
class SalesOrderAdmin(HistoryAdmin):
    list_display = (
        "number",
        "customer",
        "status",
        "priority",
        "requested_date",
        "promised_date",
        "owner",
        "created_at",
    )
    list_filter = ("status", "priority", "customer__tier")
    search_fields = ("number", "crm_id", "customer_po", "customer__name", "customer__code")
    date_hierarchy = "created_at"
    list_select_related = ("customer", "owner")
    readonly_fields = (
        "number",
        "status",
        "revision",
        "version",
        "owner",
        "created_at",
        "updated_at",
        "confirmed_at",
        "released_at",
        "completed_at",
        "shipped_at",
        "priority_overridden",
    )
    fields = (
        "number",
        "status",
        "customer",
        "customer_po",
        "crm_id",
        "owner",
        "requested_date",
        "promised_date",
        "priority",
        "priority_overridden",
        "priority_reason",
        "remarks",
        "revision",
        "version",
        "created_at",
        "updated_at",
        "confirmed_at",
        "released_at",
        "completed_at",
        "shipped_at",
    )
    inlines = [OrderLineInline]
    actions = [_transition_action(name) for name in sales.ORDER_TRANSITIONS]

    def get_queryset(self, request):
        return sales.orders_visible_to(request.user)

    def has_add_permission(self, request):
        # New orders are entered in the sales UI or the API, where lines and spec values are validated.
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def _now(self, obj: SalesOrder) -> SalesOrder:
        """The order as it is now. The revert form (simple-history) is built from an old version of it,
        whose status and version say nothing about what may be edited today."""
        return SalesOrder.objects.get(pk=obj.pk)

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and not self._now(obj).is_editable:
            # Locked from release on: direct edits are refused everywhere, the admin included.
            return list(self.fields)
        return self.readonly_fields

    def revert_disabled(self, request, obj=None):
        # No "Revert" button on a locked order: its old values can come back only by a change request.
        return super().revert_disabled(request, obj) or (obj is not None and not self._now(obj).is_editable)

    def save_model(self, request, obj, form, change):
        # Compared with the order now, not with the form: a revert form starts from an old version.
        now = self._now(obj)
        data = {
            name: value
            for name, value in form.cleaned_data.items()
            if name in self.fields and name not in self.readonly_fields and value != getattr(now, name)
        }
        if "customer" in data:
            messages.error(request, _("The customer of an order cannot be changed."))
            raise PermissionDenied
        reverting = getattr(request.resolver_match, "url_name", "").endswith("_simple_history")
        sales.order_update(
            actor=request.user,
            order=obj.pk,
            expected_version=now.version,
            data=data,
            reason=str(_("Reverted in admin") if reverting else _("Edited in admin")),
        )

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        return _refusal_to_message(
            request,
            lambda: super(SalesOrderAdmin, self).changeform_view(request, object_id, form_url, extra_context),
        )

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        # "Revert" saves through the same service as an edit: a refusal is shown on the form, never a 500.
        return _refusal_to_message(
            request,
            lambda: super(SalesOrderAdmin, self).history_form_view(
                request, object_id, version_id, extra_context
            ),
        )

    def change_view(self, request, object_id, form_url="", extra_context=None):
        order = self.get_object(request, object_id)
        if request.method == "GET" and order is not None and not order.is_editable:
            messages.info(
                request,
                format_html(
                    '{} <a href="{}">{}</a>',
                    _("This order is locked for direct edits."),
                    reverse("change_requests:create", args=[order.number]),
                    _("Request a change"),
                ),
            )
        return super().change_view(request, object_id, form_url, extra_context)

    def save_related(self, request, form, formsets, change):
        # Lines are read-only here: nothing to write, but the admin's change message reads the formsets.
        for formset in formsets:
            formset.save(commit=False)


# --- change requests ---------------------------------------------------------------------------------


class ChangeRequestDecisionInline(admin.TabularInline):
    model = ChangeRequestDecision
    extra = 0
    fields = ("created_at", "action", "role", "actor", "comment")
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


def _change_request_action(name: str):
    """A guarded admin action: the service checks permission, state and the approval matrix."""

    @admin.action(description=change_requests.ACTION_LABELS[name])
    def action(modeladmin, request, queryset):
        done = 0
        for cr in queryset:
            try:
                change_requests.change_request_act(
                    actor=request.user, change_request=cr.pk, action=name, comment=str(_("Admin action"))
                )
                done += 1
            except ApplicationError as exc:
                messages.error(request, f"{cr.number}: {exc.message}")
        if done:
            messages.success(
                request,
                _("%(count)s change request(s): %(action)s done.")
                % {"count": done, "action": change_requests.ACTION_LABELS[name]},
            )

    action.__name__ = f"change_request_{name}"
    return action


@admin.register(ChangeRequest)
class ChangeRequestAdmin(HistoryAdmin):
    """Read-only records with history; transitions as actions through the services. Rejecting needs a
    comment, so it is done on the change request's page, not here."""

    list_display = (
        "number",
        "order",
        "status",
        "requested_by",
        "needs_manager",
        "submitted_at",
        "decided_at",
    )
    list_filter = ("status", "needs_manager", "origin")
    search_fields = ("number", "order__number", "reason")
    list_select_related = ("order", "requested_by")
    date_hierarchy = "created_at"
    inlines = [ChangeRequestDecisionInline]
    actions = [_change_request_action(name) for name in ("submit", "approve", "withdraw", "apply")]

    def get_queryset(self, request):
        return change_requests.change_requests_visible_to(request.user)

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in self.model._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        # The change form only shows the record (history, decisions); writes go through the actions.
        return request.method in ("GET", "HEAD") and super().has_view_permission(request, obj)


@admin.register(ImportJob)
class ImportJobAdmin(ReadOnlyAdminMixin, HistoryAdmin):
    """Imports are made on /orders/import/ (validated, all or nothing); the admin only reads them."""

    list_display = ("filename", "created_by", "status", "rows", "orders_new", "orders_existing", "created_at")
    list_filter = ("status",)
    search_fields = ("filename", "created_by__username")
    exclude = ("content",)
