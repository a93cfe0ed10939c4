"""Admin building blocks shared by the apps."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.http import Http404
from simple_history.admin import SimpleHistoryAdmin

from config.kernel.messages import message_text

if TYPE_CHECKING:
    from django.db.models import Model
    from django.http import HttpRequest, HttpResponse


class ReadOnlyAdminMixin:
    """For records written only by services (events, deliveries, plans): the admin shows, never edits."""

    def has_add_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


class HistoryAdmin(SimpleHistoryAdmin):
    """simple_history's admin, whose version page answers 404 for a version id that is not a number (the
    library looks it up as given, and the database refuses it with a server error)."""

    def set_history_delta_changes(self, request: HttpRequest, historical_records: Any, **kwargs: Any) -> None:
        # The page's records are in hand here: a reason stored as a message code (config.kernel.messages)
        # is shown as its text in the reader's language, like on the app's own pages.
        for record in historical_records:
            record.history_change_reason = message_text(record.history_change_reason)
        super().set_history_delta_changes(request, historical_records, **kwargs)

    def history_form_view(
        self, request: HttpRequest, object_id: str, version_id: str, extra_context: Any = None
    ) -> HttpResponse:
        if not str(version_id).isdigit():
            raise Http404
        return super().history_form_view(request, object_id, version_id, extra_context=extra_context)
