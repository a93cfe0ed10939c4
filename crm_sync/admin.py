from django.contrib import admin

from .models import OutboxEvent


@admin.register(OutboxEvent)
class OutboxEventAdmin(admin.ModelAdmin):
    list_display = ("subject", "sequence", "type", "state", "time")
    list_filter = ("state", "type")
    search_fields = ("subject", "id")
    readonly_fields = [f.name for f in OutboxEvent._meta.fields]
    list_select_related = ("order",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
