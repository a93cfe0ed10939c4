"""Reads of change requests: who may see which, the approvers' inbox, one CR with its decisions."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import Prefetch, Q, QuerySet
from django.http import Http404
from django.utils.translation import gettext as _

from config.kernel import Actor, allowed
from orders.change_requests.models import (
    OPEN_CR_STATUSES,
    ChangeRequest,
    ChangeRequestDecision,
    ChangeRequestStatus,
)
from orders.change_requests.policies import APPROVE_PERM
from orders.sales import visible_to
from orders.sales.models import SalesOrder

if TYPE_CHECKING:
    from django.contrib.auth.models import User

VIEW_PERM = "orders.view_changerequest"


def change_requests_visible_to(user: Actor) -> QuerySet[ChangeRequest]:
    """CRs of the orders the user may see, for users who may read CRs; nothing otherwise."""
    queryset = ChangeRequest.objects.select_related(
        "order__customer", "requested_by", "decided_by", "planner_approved_by", "manager_approved_by"
    )
    if not allowed(user, VIEW_PERM):
        return queryset.none()
    return visible_to(queryset, user=user, through="order")


def change_request_detail_queryset(user: Actor) -> QuerySet[ChangeRequest]:
    decisions = ChangeRequestDecision.objects.select_related("actor").order_by("created_at", "id")
    return (
        change_requests_visible_to(user)
        .select_related("applied_by", "rebased_from")
        .prefetch_related(Prefetch("decisions", queryset=decisions))
    )


def change_request_get(*, user: Actor, number: str) -> ChangeRequest:
    """The CR if the user may see it; 404 otherwise."""
    cr = change_request_detail_queryset(user).filter(number=number).first()
    if cr is None:
        raise Http404(_("No change request %(number)s.") % {"number": number})
    return cr


def approver_inbox(*, user: User) -> QuerySet[ChangeRequest]:
    """Submitted CRs this approver may still decide, oldest first (the queue is worked in order)."""
    if not allowed(user, APPROVE_PERM):
        return ChangeRequest.objects.none()
    return (
        change_requests_visible_to(user)
        .filter(status=ChangeRequestStatus.SUBMITTED)
        .exclude(requested_by=user)
        .exclude(Q(planner_approved_by=user) | Q(manager_approved_by=user))
        .order_by("submitted_at", "id")
    )


def order_change_requests(*, order: SalesOrder, user: Actor) -> QuerySet[ChangeRequest]:
    return change_requests_visible_to(user).filter(order=order).order_by("-created_at", "-id")


def other_open_change_requests(
    *, order: SalesOrder, user: Actor, excluding: ChangeRequest | None = None
) -> list[ChangeRequest]:
    """The order's other change requests that may still change it: applying one supersedes the others
    made on the same revision, so the forms and the approver are told about them."""
    open_requests = order_change_requests(order=order, user=user).filter(status__in=OPEN_CR_STATUSES)
    if excluding is not None:
        open_requests = open_requests.exclude(pk=excluding.pk)
    return list(open_requests.select_related("requested_by"))
