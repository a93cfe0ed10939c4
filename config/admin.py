"""Admin building blocks shared by the apps."""


class ReadOnlyAdminMixin:
    """For records written only by services (events, deliveries, plans): the admin shows, never edits."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
