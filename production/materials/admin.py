"""Admin for materials (imported by production.admin). Items and locations are master data edited here
(history with who and why); BOMs are edited in the BOM tree editor, and the stock ledger, levels,
purchase orders and reservations are read-only here: their writes go through production.materials'
services (pages, imports, backflush)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from config.admin import HistoryAdmin, ReadOnlyAdminMixin
from config.kernel import message_text, stamp, unit_label
from production.materials.models import (
    Bom,
    BomLine,
    Item,
    Location,
    PurchaseOrder,
    PurchaseOrderLine,
    Reservation,
    StockLevel,
    StockMovement,
)


class StampedAdmin(HistoryAdmin):
    """Master data without business rules: saved as is, its history row says who and why."""

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        stamp(obj, actor=request.user, reason=_("Changed in the admin"))  # type: ignore[arg-type]
        super().save_model(request, obj, form, change)


@admin.register(Item)
class ItemAdmin(StampedAdmin):
    list_display = ("code", "name", "name_zh", "kind", "unit_text", "lead_time_days", "product", "is_active")
    list_filter = ("kind", "is_active")
    search_fields = ("code", "name", "name_zh")
    list_select_related = ("product",)
    raw_id_fields = ("product",)

    @admin.display(description=gettext_lazy("unit"), ordering="unit")
    def unit_text(self, obj: Item) -> str:
        return unit_label(obj.unit)


@admin.register(Location)
class LocationAdmin(StampedAdmin):
    list_display = ("code", "name", "name_zh", "is_active")


class ReadOnlyHistoryAdmin(ReadOnlyAdminMixin, HistoryAdmin):
    pass


class BomLineInline(admin.TabularInline):
    model = BomLine
    extra = 0
    can_delete = False
    fields = ("position", "component", "quantity", "scrap_percent", "operation", "condition_attribute")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Bom)
class BomAdmin(ReadOnlyHistoryAdmin):
    list_display = ("item", "version", "effective_from", "effective_to", "is_active")
    list_filter = ("is_active",)
    search_fields = ("item__code",)
    inlines = [BomLineInline]


@admin.register(StockMovement)
class StockMovementAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = (
        "occurred_at",
        "item",
        "location",
        "kind",
        "quantity",
        "actor",
        "work_order",
        "reason_text",
    )
    list_filter = ("kind", "location")
    search_fields = ("item__code", "work_order__number", "reason")
    list_select_related = ("item", "location", "actor", "work_order")

    @admin.display(description=gettext_lazy("reason"), ordering="reason")
    def reason_text(self, obj: StockMovement) -> str:
        """The reason in the reader's language (a system's reason is stored as its message)."""
        return message_text(obj.reason)


@admin.register(StockLevel)
class StockLevelAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("item", "location", "on_hand", "updated_at")
    search_fields = ("item__code",)
    list_select_related = ("item", "location")


class PurchaseOrderLineInline(admin.TabularInline):
    model = PurchaseOrderLine
    extra = 0
    can_delete = False
    fields = ("line_number", "item", "quantity", "expected_date", "received_quantity", "location")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(PurchaseOrder)
class PurchaseOrderAdmin(ReadOnlyHistoryAdmin):
    list_display = ("number", "supplier", "status", "source", "created_by", "created_at")
    list_filter = ("status",)
    search_fields = ("number", "supplier")
    inlines = [PurchaseOrderLineInline]


@admin.register(Reservation)
class ReservationAdmin(ReadOnlyHistoryAdmin):
    list_display = ("item", "quantity", "consumed_quantity", "state", "work_order", "reference", "expires_at")
    list_filter = ("state",)
    search_fields = ("item__code", "reference", "work_order__number")
    list_select_related = ("item", "work_order")
