"""Saved views of the order list: a user names the filters on screen and gets them back with one click."""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, urlencode

from django.db import transaction
from django.utils.translation import gettext as _

from config.kernel.errors import ValidationFailed
from orders.sales.models import SavedOrderFilter

if TYPE_CHECKING:
    from django.contrib.auth.models import User
    from django.db.models import QuerySet

MAX_SAVED_FILTERS = 30
# What a saved view keeps of the list's query string: its filters and grouping, not the page it was on.
FILTER_KEYS = ("q", "status", "customer", "date_field", "date_from", "date_to", "group")


def filter_query(query_string: str) -> str:
    """The list's query string reduced to its filters, in a stable order."""
    kept = [(key, value) for key, value in parse_qsl(query_string) if key in FILTER_KEYS and value]
    return urlencode(sorted(kept))


def saved_filters_of(user: User) -> QuerySet[SavedOrderFilter]:
    return SavedOrderFilter.objects.filter(owner=user).order_by("name")


@transaction.atomic
def saved_filter_save(*, actor: User, name: str, query_string: str) -> SavedOrderFilter:
    """Save the filters under `name` (the same name again replaces them)."""
    name = (name or "").strip()
    if not name:
        raise ValidationFailed(_("Name this view."), fields={"name": [_("This field is required.")]})
    if len(name) > 80:
        raise ValidationFailed(_("Name this view."), fields={"name": [_("At most 80 characters.")]})
    query = filter_query(query_string)
    if not query:
        raise ValidationFailed(
            _("Set some filters first: this view would show every order."),
            fields={"query": [_("No filter is set.")]},
        )
    if len(query) > 1000:
        raise ValidationFailed(_("These filters are too long to save."), fields={"query": [_("Too long.")]})
    existing = SavedOrderFilter.objects.select_for_update().filter(owner=actor, name=name).first()
    if existing is not None:
        existing.query = query
        existing.save(update_fields=["query"])
        return existing
    if SavedOrderFilter.objects.filter(owner=actor).count() >= MAX_SAVED_FILTERS:
        raise ValidationFailed(
            _("You have %(count)s saved views: delete one first.") % {"count": MAX_SAVED_FILTERS},
            fields={"name": [_("Too many saved views.")]},
        )
    return SavedOrderFilter.objects.create(owner=actor, name=name, query=query)


@transaction.atomic
def saved_filter_delete(*, actor: User, pk: int) -> None:
    """Delete one of the actor's own saved views (another's is not found)."""
    SavedOrderFilter.objects.filter(owner=actor, pk=pk).delete()
