"""Admin for production. Master data is edited here with history; work orders, progress, exceptions and
plans are read-only (their writes go through production.services: API, planner UI, MES)."""

from __future__ import annotations

from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from config.admin import ReadOnlyAdminMixin

from .models import (
    CalendarException,
    Lot,
    Operation,
    OrderProjection,
    ProductionException,
    ProgressReport,
    QualityInspection,
    Routing,
    Schedule,
    Shift,
    WorkCenter,
    WorkOrder,
    WorkOrderOperation,
)


class ShiftInline(admin.TabularInline):
    model = Shift
    extra = 0


class OperationInline(admin.TabularInline):
    model = Operation
    extra = 0


@admin.register(WorkCenter)
class WorkCenterAdmin(SimpleHistoryAdmin):
    list_display = ("code", "name", "units", "efficiency", "is_active")
    search_fields = ("code", "name")
    inlines = [ShiftInline]


@admin.register(CalendarException)
class CalendarExceptionAdmin(SimpleHistoryAdmin):
    list_display = ("date", "work_center", "start", "end", "is_working", "description")
    list_filter = ("is_working", "work_center")


@admin.register(Routing)
class RoutingAdmin(SimpleHistoryAdmin):
    list_display = ("product", "name", "lot_size", "is_active")
    search_fields = ("product__sku", "name")
    inlines = [OperationInline]


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
