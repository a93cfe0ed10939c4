"""Admin for production. Master data is edited here through production.master_data (history with a
reason,
a reschedule asked); work orders, progress, exceptions, lots, inspections and plans are read-only (their
writes go through the services too: API, planner UI, MES)."""

from __future__ import annotations

from django.contrib import admin, messages
from django.http import HttpResponseRedirect
from django.utils.translation import gettext as _
from simple_history.admin import SimpleHistoryAdmin

from config.admin import ReadOnlyAdminMixin
from config.http import request_user
from config.kernel import ApplicationError, allowed
from production import master_data
from production.changes.models import ChangeDisposition
from production.master_data import CalendarException, Operation, Routing, Shift, WorkCenter
from production.materials import admin as materials_admin  # noqa: F401 - registers the materials admin
from production.scheduling import OrderProjection, Schedule
from production.work_orders import (
    Lot,
    ProductionException,
    ProgressReport,
    QualityInspection,
    WorkOrder,
    WorkOrderOperation,
)


class ServiceInline(admin.TabularInline):
    """Rows edited with their parent: the parent admin hands the whole set to one service call.

    Editable by whoever may change the parent (the service checks the same permission).
    """

    extra = 1
    parent_permission = ""

    def has_add_permission(self, request, obj=None):
        return obj is not None and allowed(request.user, self.parent_permission)

    def has_change_permission(self, request, obj=None):
        return allowed(request.user, self.parent_permission)

    def has_delete_permission(self, request, obj=None):
        return allowed(request.user, self.parent_permission)


class ShiftInline(ServiceInline):
    model = Shift
    fields = ("weekday", "start", "end")
    parent_permission = "production.change_workcenter"


class OperationInline(ServiceInline):
    model = Operation
    fields = ("sequence", "name", "work_center", "setup_minutes", "run_minutes_per_unit")
    parent_permission = "production.change_routing"


def inline_rows(formset) -> list[dict]:
    """The rows a saved inline formset asks for: kept, changed and added, without the deleted ones."""
    # An untouched extra form has empty cleaned_data (Django skips its validation).
    rows = [form.cleaned_data for form in formset.forms if form.cleaned_data]
    return [row for row in rows if not row.get("DELETE")]


class ServiceAdmin(SimpleHistoryAdmin):
    """Master data written through production.master_data (permission, history with a reason,
    reschedule).

    The header fields and the rows of the inline (shifts, operations) are edited here; the rows go to the
    service as a whole set (it checks them together: overlaps, repeated steps). A refusal of the service is
    shown as a message and nothing is saved.
    """

    service_fields: tuple[str, ...] = ()

    def save_related(self, request, form, formsets, change):
        for formset in formsets:
            if formset.has_changed():
                self.save_rows(request, form.instance, inline_rows(formset))
            # The admin's log message reads these; the rows' own history records each change.
            formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []

    def save_rows(self, request, obj, rows: list[dict]) -> None:
        raise NotImplementedError

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except ApplicationError as exc:
            # Raised from save_model inside the admin's transaction: nothing was saved.
            self.message_user(request, exc.text(), level=messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())

    def changed_values(self, form) -> dict:
        return {name: form.cleaned_data[name] for name in self.service_fields if name in form.changed_data}


@admin.register(WorkCenter)
class WorkCenterAdmin(ServiceAdmin):
    list_display = ("code", "name", "units", "efficiency", "is_active")
    search_fields = ("code", "name")
    fields = ("code", "name", "units", "efficiency", "is_active")
    readonly_fields = ("code",)
    service_fields = ("name", "units", "efficiency", "is_active")
    inlines = [ShiftInline]

    def save_model(self, request, obj, form, change):
        master_data.work_center_update(
            actor=request_user(request),
            work_center=obj.pk,
            reason=_("Changed in the admin"),
            **self.changed_values(form),
        )

    def save_rows(self, request, obj, rows):
        master_data.work_center_set_shifts(
            actor=request_user(request),
            work_center=obj.pk,
            shifts=[(row["weekday"], row["start"], row["end"]) for row in rows],
            reason=_("Changed in the admin"),
        )


@admin.register(CalendarException)
class CalendarExceptionAdmin(SimpleHistoryAdmin):
    """Holidays and extra shifts are added through the service (it asks for a reschedule); a wrong one is
    corrected by adding another, so the plan's history stays explainable."""

    list_display = ("date", "work_center", "start", "end", "is_working", "description")
    list_filter = ("is_working", "work_center")

    def has_change_permission(self, request, obj=None):
        return obj is None and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        created = master_data.calendar_exception_create(
            actor=request_user(request),
            date=data["date"],
            work_center=data.get("work_center"),
            start=data.get("start"),
            end=data.get("end"),
            is_working=data.get("is_working", False),
            description=data.get("description", ""),
            reason=_("Added in the admin"),
        )
        obj.pk = created.pk

    def add_view(self, request, form_url="", extra_context=None):
        try:
            return super().add_view(request, form_url, extra_context)
        except ApplicationError as exc:
            self.message_user(request, exc.text(), level=messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())


@admin.register(Routing)
class RoutingAdmin(ServiceAdmin):
    list_display = ("product", "name", "lot_size", "is_active")
    search_fields = ("product__sku", "name")
    fields = ("product", "name", "lot_size", "is_active")
    readonly_fields = ("product",)
    service_fields = ("name", "lot_size", "is_active")
    inlines = [OperationInline]

    def save_model(self, request, obj, form, change):
        values = self.changed_values(form)
        if "lot_size" in values and values["lot_size"] is None:
            values.pop("lot_size")
            values["clear_lot_size"] = True
        master_data.routing_update(
            actor=request_user(request), routing=obj.pk, reason=_("Changed in the admin"), **values
        )

    def save_rows(self, request, obj, rows):
        fields = ("sequence", "name", "work_center", "setup_minutes", "run_minutes_per_unit")
        master_data.routing_set_operations(
            actor=request_user(request),
            routing=obj.pk,
            operations=[{field: row.get(field) for field in fields} for row in rows],
            reason=_("Changed in the admin"),
        )


class ReadOnlyAdmin(ReadOnlyAdminMixin, SimpleHistoryAdmin):
    pass


class WorkOrderOperationInline(admin.TabularInline):
    model = WorkOrderOperation
    extra = 0
    can_delete = False
    fields = (
        "sequence",
        "name",
        "work_center",
        "planned_minutes",
        "status",
        "scheduled_start",
        "scheduled_end",
        "actual_start",
        "actual_end",
        "good_quantity",
        "scrap_quantity",
        "rework_quantity",
    )
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(WorkOrder)
class WorkOrderAdmin(ReadOnlyAdmin):
    list_display = ("number", "order", "product", "quantity", "status", "percent_complete")
    list_filter = ("status", "routing_missing")
    search_fields = ("number", "order__number")
    inlines = [WorkOrderOperationInline]


class DispositionOpenFilter(admin.SimpleListFilter):
    title = _("decided")
    parameter_name = "decided"

    def lookups(self, request, model_admin):
        return [("no", _("Open (waiting for a decision)")), ("yes", _("Decided"))]

    def queryset(self, request, queryset):
        if self.value() == "no":
            return queryset.filter(decided_at__isnull=True)
        if self.value() == "yes":
            return queryset.filter(decided_at__isnull=False)
        return queryset


@admin.register(ChangeDisposition)
class ChangeDispositionAdmin(ReadOnlyAdmin):
    """Read-only: decisions are made on the planner page or the API (changes.change_disposition_decide)."""

    list_display = (
        "change_request_number",
        "work_order",
        "kind",
        "quantity",
        "disposition",
        "decision",
        "decided_by",
        "decided_at",
        "created_at",
    )
    list_filter = (DispositionOpenFilter, "kind", "decision", "work_order__status")
    search_fields = ("change_request_number", "work_order__number", "work_order__order__number")
    list_select_related = ("work_order", "decided_by")


@admin.register(ProgressReport)
class ProgressReportAdmin(ReadOnlyAdmin):
    list_display = ("message_id", "operation", "good_quantity", "scrap_quantity", "reported_at", "operator")
    search_fields = ("message_id", "operation__work_order__number")


@admin.register(ProductionException)
class ProductionExceptionAdmin(ReadOnlyAdmin):
    list_display = ("kind", "severity", "work_center", "work_order", "raised_at", "resolved_at")
    list_filter = ("kind", "severity")


@admin.register(Lot)
class LotAdmin(ReadOnlyAdmin):
    list_display = ("number", "work_order", "quantity", "produced_at")
    search_fields = ("number", "work_order__number")


@admin.register(QualityInspection)
class QualityInspectionAdmin(ReadOnlyAdmin):
    list_display = ("lot", "result", "defect_code", "inspected_at", "inspector")
    list_filter = ("result",)


class OrderProjectionInline(admin.TabularInline):
    model = OrderProjection
    extra = 0
    can_delete = False
    fields = ("order", "projected_completion", "promised_date", "at_risk", "tardiness_minutes", "why")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Schedule)
class ScheduleAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("version", "is_current", "method", "engine", "weighted_tardiness", "created_at")
    list_filter = ("method", "is_current")
    inlines = [OrderProjectionInline]
