"""What each routed event tells whom: its kind (the user's channel preference), title, body and the order
page's anchor; and the bus events `services.on_event` is subscribed to."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.utils.translation import gettext_lazy

from config.kernel.events import (
    ChangeRequestApproved,
    ChangeRequestRejected,
    ChangeRequestSubmitted,
    ChangeRequestSuperseded,
    ChangeRequestWithdrawn,
    MesChangesUnacknowledged,
    OrderAtRisk,
    OrderCancelled,
    OrderCompleted,
    OrderEvent,
    OrderHeld,
    OrderResumed,
    OrderShipped,
    ProductionExceptionRaised,
)
from orders.notifications.models import NotificationKind

if TYPE_CHECKING:
    from django_stubs_ext import StrPromise


@dataclass(frozen=True)
class Route:
    kind: str
    title: StrPromise  # lazy text with %(name)s parameters
    body: StrPromise
    anchor: str = ""  # where on the order page to land


ROUTES: dict[str, Route] = {
    "change_request.submitted": Route(
        NotificationKind.CR_SUBMITTED,
        gettext_lazy("Change request %(change_request)s on order %(order)s waits for your approval"),
        gettext_lazy("Customer %(customer)s. Reason: %(reason)s"),
        "panel-change-requests",
    ),
    "change_request.approved": Route(
        NotificationKind.CR_DECIDED,
        gettext_lazy("Your change request %(change_request)s on order %(order)s was approved"),
        gettext_lazy("Customer %(customer)s. %(reason)s"),
        "panel-change-requests",
    ),
    "change_request.rejected": Route(
        NotificationKind.CR_DECIDED,
        gettext_lazy("Your change request %(change_request)s on order %(order)s was rejected"),
        gettext_lazy("Customer %(customer)s. Reason: %(reason)s"),
        "panel-change-requests",
    ),
    # The approvers were told the request waits for them: they hear that it no longer does.
    "change_request.withdrawn": Route(
        NotificationKind.CR_SUBMITTED,
        gettext_lazy(
            "Change request %(change_request)s on order %(order)s was withdrawn: no approval needed"
        ),
        gettext_lazy("Customer %(customer)s. %(reason)s"),
        "panel-change-requests",
    ),
    "change_request.superseded.approvers": Route(
        NotificationKind.CR_SUBMITTED,
        gettext_lazy(
            "Change request %(change_request)s on order %(order)s was superseded: no approval needed"
        ),
        gettext_lazy("Customer %(customer)s. %(reason)s"),
        "panel-change-requests",
    ),
    # The requester must re-base the request if the change is still wanted.
    "change_request.superseded": Route(
        NotificationKind.CR_DECIDED,
        gettext_lazy("Your change request %(change_request)s on order %(order)s was superseded"),
        gettext_lazy("Customer %(customer)s. %(reason)s. Re-base it if the change is still needed."),
        "panel-change-requests",
    ),
    "production.exception_raised": Route(
        NotificationKind.EXCEPTION_RAISED,
        gettext_lazy("Production exception on your order %(order)s: %(exception)s"),
        gettext_lazy("Work order %(work_order)s, severity %(severity)s. %(reason)s"),
        "panel-work-orders",
    ),
    "order.at_risk": Route(
        NotificationKind.ORDER_AT_RISK,
        gettext_lazy("Your order %(order)s is at risk of being late"),
        gettext_lazy("Projected %(projected)s, promised %(promised)s. %(reason)s"),
        "panel-at-a-glance",
    ),
    "order.completed": Route(
        NotificationKind.ORDER_COMPLETED,
        gettext_lazy("Your order %(order)s is completed"),
        gettext_lazy("Customer %(customer)s: production has finished the order."),
    ),
    "order.shipped": Route(
        NotificationKind.ORDER_SHIPPED,
        gettext_lazy("Your order %(order)s has shipped"),
        gettext_lazy("Customer %(customer)s: the order has left the plant."),
    ),
    # The owner answers the customer's calls: a hold or a cancellation by someone else must not surprise them.
    "order.held": Route(
        NotificationKind.ORDER_HELD,
        gettext_lazy("Your order %(order)s was put on hold"),
        gettext_lazy("Customer %(customer)s. Reason: %(reason)s"),
    ),
    "order.resumed": Route(
        NotificationKind.ORDER_HELD,
        gettext_lazy("Your order %(order)s was resumed"),
        gettext_lazy("Customer %(customer)s. %(reason)s"),
    ),
    "order.cancelled": Route(
        NotificationKind.ORDER_HELD,
        gettext_lazy("Your order %(order)s was cancelled"),
        gettext_lazy("Customer %(customer)s. Reason: %(reason)s"),
    ),
    # The line may still be making what the hub changed: the planners must chase the MES.
    "sync.mes_changes_unacknowledged": Route(
        NotificationKind.MES_UNACKNOWLEDGED,
        gettext_lazy("The MES has not acknowledged changes to order %(order)s"),
        gettext_lazy("%(system)s, delivered %(since)s: %(reason)s. Check the order's sync status."),
        "panel-sync-status",
    ),
    # Not an order change (no domain event, nothing for the CRM's outbox): tracking.order_rating_submit
    # calls on_event itself. A poor score is a complaint the owner and the link's sender must see.
    "order.rated": Route(
        NotificationKind.ORDER_RATED,
        gettext_lazy("Customer %(customer)s rated order %(order)s: %(score)s of 5"),
        gettext_lazy("%(comment)s"),
        "panel-tracking-link",
    ),
}
# The bus events on_event routes (OrdersConfig.ready subscribes it to these only). OrderRated is routed
# too, but it is no bus event: tracking.order_rating_submit hands it to on_event itself.
ROUTED_EVENTS: tuple[type[OrderEvent], ...] = (
    ChangeRequestSubmitted,
    ChangeRequestApproved,
    ChangeRequestRejected,
    ChangeRequestWithdrawn,
    ChangeRequestSuperseded,
    ProductionExceptionRaised,
    OrderAtRisk,
    OrderCompleted,
    OrderShipped,
    OrderHeld,
    OrderResumed,
    OrderCancelled,
    MesChangesUnacknowledged,
)
