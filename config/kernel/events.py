"""The domain events: one frozen dataclass per event, every name listed in EVENT_TYPES.

An event says what happened to one order, inside the transaction that did it. Publishers build it with the
order's integration snapshot (`snapshot`, the order as the CRM and MES see it, taken when published) and the
event's own typed fields; subscribers read the fields. `data` is what an integration event carries: the
snapshot plus the event's own fields, under the names external systems already know.

Adding an event: a class here with its `name`, its fields, and an entry in EVENT_TYPES.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from decimal import Decimal
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    from django.contrib.auth.models import User

    from orders.models import SalesOrder
    from orders.sales import OrderSnapshot
    from production.work_orders.models import MadeWorkOrder


# The base fields; everything else a subclass declares is the event's own payload.
_BASE_FIELDS = frozenset(
    {"order", "actor", "reason", "reason_message", "order_is_new", "snapshot", "system_actor_id"}
)
# Per event class: its own fields as (name, optional: defaults to None), worked out once (events are built
# on every order change; dataclasses.fields() on each would cost the sync path).
_OWN_FIELDS: dict[type, tuple[tuple[str, bool], ...]] = {}


def _own_fields(cls: type) -> tuple[tuple[str, bool], ...]:
    own = _OWN_FIELDS.get(cls)
    if own is None:
        own = tuple((f.name, f.default is None) for f in fields(cls) if f.name not in _BASE_FIELDS)
        _OWN_FIELDS[cls] = own
    return own


@dataclass(frozen=True, kw_only=True)
class OrderEvent:
    """Something happened to one order. Subclasses name it and add their own fields."""

    name: ClassVar[str] = ""
    # Integration events go to the outbox (CRM, MES); the others are for subscribers inside the hub only.
    integration: ClassVar[bool] = True
    # The kind of external system an integration event is for ("mes"); empty: every system that takes it.
    audience: ClassVar[str] = ""

    order: SalesOrder
    actor: User | None = field(default=None, compare=False, repr=False)
    reason: str = ""
    # A system's reason as a stored message (config.kernel.messages: its code and parameters), for whoever
    # shows it to a person in their language (a notice); `reason` is its English text, for the CRM, the MES
    # and the logs. Empty when the reason is a person's own words.
    reason_message: str = ""
    # The order was created in the publishing transaction: this is its first event.
    order_is_new: bool = False
    # The order as external systems see it, taken when the event was published (None: not taken, as for an
    # event built by hand; `data` is then the event's own fields alone).
    snapshot: OrderSnapshot | None = field(default=None, compare=False, repr=False)
    # Set when the actor is known only by id (the system actor of an automatic follow-up).
    system_actor_id: int | None = None

    @property
    def type(self) -> str:
        return self.name

    @property
    def actor_id(self) -> int | None:
        if self.actor is not None:
            return self.actor.pk
        return self.system_actor_id

    def details(self) -> dict[str, Any]:
        """The event's own fields under their integration names; an optional field left unset is left out."""
        return {
            name: value
            for name, optional in _own_fields(type(self))
            if not ((value := getattr(self, name)) is None and optional)
        }

    @property
    def data(self) -> dict[str, Any]:
        snapshot: Mapping[str, object] = self.snapshot or {}
        return {**snapshot, **self.details()}


# --- the order's life ------------------------------------------------------------------------------------
@dataclass(frozen=True, kw_only=True)
class OrderCreated(OrderEvent):
    name: ClassVar[str] = "order.created"


@dataclass(frozen=True, kw_only=True)
class OrderUpdated(OrderEvent):
    name: ClassVar[str] = "order.updated"
    changed: Sequence[str] = ()


@dataclass(frozen=True, kw_only=True)
class OrderPriorityChanged(OrderEvent):
    name: ClassVar[str] = "order.priority_changed"
    previous_priority: int | None = None


@dataclass(frozen=True, kw_only=True)
class OrderResync(OrderEvent):
    """A full snapshot for one system (the admin's "resync"): the receiver replaces what it holds."""

    name: ClassVar[str] = "order.resync"


@dataclass(frozen=True, kw_only=True)
class OrderTransitioned(OrderEvent):
    """A transition of the order's status. Made by a change request: its id and number are set."""

    transition: ClassVar[str] = ""
    # Left out of `data` when unset: a direct transition carries no change-request keys.
    change_request_id: int | None = None
    change_request_number: str | None = None


@dataclass(frozen=True, kw_only=True)
class OrderConfirmed(OrderTransitioned):
    name: ClassVar[str] = "order.confirmed"
    transition: ClassVar[str] = "confirm"


@dataclass(frozen=True, kw_only=True)
class OrderReleased(OrderTransitioned):
    name: ClassVar[str] = "order.released"
    transition: ClassVar[str] = "release"


@dataclass(frozen=True, kw_only=True)
class OrderProductionStarted(OrderTransitioned):
    name: ClassVar[str] = "order.production_started"
    transition: ClassVar[str] = "start_production"
    # True: a production manager started it by hand before any work order started (left out otherwise).
    override: bool | None = None


@dataclass(frozen=True, kw_only=True)
class OrderCompleted(OrderTransitioned):
    name: ClassVar[str] = "order.completed"
    transition: ClassVar[str] = "complete"
    # True: a production manager completed it by hand with work unfinished (left out otherwise: its work
    # orders completed it).
    override: bool | None = None


@dataclass(frozen=True, kw_only=True)
class OrderShipped(OrderTransitioned):
    name: ClassVar[str] = "order.shipped"
    transition: ClassVar[str] = "ship"


@dataclass(frozen=True, kw_only=True)
class OrderClosed(OrderTransitioned):
    name: ClassVar[str] = "order.closed"
    transition: ClassVar[str] = "close"


@dataclass(frozen=True, kw_only=True)
class OrderHeld(OrderTransitioned):
    name: ClassVar[str] = "order.held"
    transition: ClassVar[str] = "hold"


@dataclass(frozen=True, kw_only=True)
class OrderResumed(OrderTransitioned):
    name: ClassVar[str] = "order.resumed"
    transition: ClassVar[str] = "resume"


@dataclass(frozen=True, kw_only=True)
class OrderCancelled(OrderTransitioned):
    name: ClassVar[str] = "order.cancelled"
    transition: ClassVar[str] = "cancel"


TRANSITION_EVENTS: dict[str, type[OrderTransitioned]] = {
    cls.transition: cls
    for cls in (
        OrderConfirmed,
        OrderReleased,
        OrderProductionStarted,
        OrderCompleted,
        OrderShipped,
        OrderClosed,
        OrderHeld,
        OrderResumed,
        OrderCancelled,
    )
}


@dataclass(frozen=True, kw_only=True)
class OrderChangeApplied(OrderEvent):
    """An approved change request was applied: the order is at a new revision."""

    name: ClassVar[str] = "order.change_applied"
    change_request_id: int
    change_request_number: str
    revision: int
    changes: Sequence[Mapping[str, Any]]
    diff: Sequence[Mapping[str, Any]]
    disposition: str
    removed_line_ids: Sequence[int] = ()
    # Per work order and operation what the change does (rework/scrap flags for the MES).
    work_in_progress: Sequence[Mapping[str, Any]] = ()


@dataclass(frozen=True, kw_only=True)
class OrderAtRisk(OrderEvent):
    """A new plan puts the order past its promise."""

    name: ClassVar[str] = "order.at_risk"
    projected_date: str | None
    promised_date: str | None
    tardiness_minutes: int
    schedule_version: int


@dataclass(frozen=True, kw_only=True)
class OrderProgressed(OrderEvent):
    """Where production of the order stands, for the CRM: sent coalesced, at most one per order per
    ORDERBRIDGE_CRM_PROGRESS_INTERVAL_SECONDS and always with the state at the moment it is written (see
    crm_sync.progress). Quantities are decimal strings, times ISO 8601."""

    name: ClassVar[str] = "order.progress"
    # When the state was read (the event's row may wait in the queue behind earlier events).
    as_of: str
    percent_complete: str
    # Per work order of the order's current revision, each with its operations' quantities against the
    # quantity planned (good, scrap, rework) and their status.
    work_orders: Sequence[Mapping[str, Any]]
    # The current plan's projected completion (None: not in the plan), its day in the plant's time zone,
    # whether that day keeps the promise, and how many days late it is.
    projected_completion: str | None
    projected_date: str | None
    on_time: bool | None
    late_days: int
    # The projection the CRM was given last, and whether this one moved by more than
    # ORDERBRIDGE_PROJECTION_SHIFT_HOURS from it.
    previous_projected_completion: str | None
    projection_shifted: bool


@dataclass(frozen=True, kw_only=True)
class OrderRated(OrderEvent):
    """The customer rated a delivered order. Not an order change: no integration event."""

    name: ClassVar[str] = "order.rated"
    integration: ClassVar[bool] = False
    score: int
    comment: str
    link_created_by_id: int | None


# --- change requests ---------------------------------------------------------------------------------------
@dataclass(frozen=True, kw_only=True)
class ChangeRequestEvent(OrderEvent):
    change_request_id: int
    change_request_number: str
    requested_by_id: int | None


@dataclass(frozen=True, kw_only=True)
class ChangeRequestSubmitted(ChangeRequestEvent):
    name: ClassVar[str] = "change_request.submitted"
    needs_manager: bool = False


@dataclass(frozen=True, kw_only=True)
class ChangeRequestApproved(ChangeRequestEvent):
    name: ClassVar[str] = "change_request.approved"
    decided_by_id: int | None = None


@dataclass(frozen=True, kw_only=True)
class ChangeRequestRejected(ChangeRequestEvent):
    name: ClassVar[str] = "change_request.rejected"
    decided_by_id: int | None = None


@dataclass(frozen=True, kw_only=True)
class ChangeRequestWithdrawn(ChangeRequestEvent):
    name: ClassVar[str] = "change_request.withdrawn"
    decided_by_id: int | None = None
    previous_status: str | None = None


@dataclass(frozen=True, kw_only=True)
class ChangeRequestSuperseded(ChangeRequestEvent):
    name: ClassVar[str] = "change_request.superseded"
    decided_by_id: int | None = None
    previous_status: str | None = None


# --- production ----------------------------------------------------------------------------------------
@dataclass(frozen=True, kw_only=True)
class WorkOrdersCreated(OrderEvent):
    """production made work orders for the order (a release, an applied change, a remake).

    Carries them as made, each with `operations_made` (operations in sequence, work centers loaded), so that
    subscribers need not read back what was just written. Not an integration event of its own: the outbox
    adds them to the event that caused them.
    """

    name: ClassVar[str] = "production.work_orders_created"
    integration: ClassVar[bool] = False
    revision: int
    work_orders: Sequence[MadeWorkOrder]


@dataclass(frozen=True, kw_only=True)
class ProductionExceptionRaised(OrderEvent):
    name: ClassVar[str] = "production.exception_raised"
    exception_id: int
    kind: str
    kind_label: str
    severity: str
    severity_label: str
    work_order_number: str
    expected_delay_minutes: int | None


@dataclass(frozen=True, kw_only=True)
class ProgressReported(OrderEvent):
    """The MES (or a user) reported progress on one operation of the order. Inside the hub only: the CRM
    gets the order's progress coalesced (OrderProgressed)."""

    name: ClassVar[str] = "production.progress_reported"
    integration: ClassVar[bool] = False
    work_order_number: str
    operation_sequence: int
    operation_finished: bool
    # The report itself and its quantities (materials backflush good + scrap, once per report).
    progress_report_id: int | None = None
    good_quantity: Decimal | None = None
    scrap_quantity: Decimal | None = None
    # Where it was reported, so that a subscriber with nothing to do there reads nothing to find out (None:
    # not told, the subscriber reads it).
    work_order_id: int | None = None
    operation_is_first: bool | None = None


@dataclass(frozen=True, kw_only=True)
class ProjectionChanged(OrderEvent):
    """A new plan moved the order's projected completion (or planned it for the first time). Inside the
    hub only: the integration decides whether the move is worth telling the CRM."""

    name: ClassVar[str] = "production.projection_changed"
    integration: ClassVar[bool] = False
    projected_completion: dt.datetime | None
    previous_projected_completion: dt.datetime | None
    schedule_version: int


@dataclass(frozen=True, kw_only=True)
class DispositionDecided(OrderEvent):
    name: ClassVar[str] = "production.disposition_decided"
    change_request_number: str
    disposition_id: int
    kind: str
    decision: str
    quantity: str
    work_order_number: str
    work_order_status: str
    remade_work_order_number: str | None


# --- work under way: one message to the MES per change to one work order ------------------------------------
@dataclass(frozen=True, kw_only=True)
class WorkOrderEvent(OrderEvent):
    """Something happened to one work order under way that the MES must be told, in a message of its own
    (the outbox adds the work order as the MES knows it, with its MES ids)."""

    audience: ClassVar[str] = "mes"
    work_order_number: str
    # Set when a change request did it.
    change_request_number: str | None = None


@dataclass(frozen=True, kw_only=True)
class WorkOrderQuantityChanged(WorkOrderEvent):
    """A work order under way shrinks or grows (an applied change)."""

    name: ClassVar[str] = "work_order.quantity_changed"
    quantity_from: str
    quantity_to: str


@dataclass(frozen=True, kw_only=True)
class WorkOrderCancelled(WorkOrderEvent):
    name: ClassVar[str] = "work_order.cancelled"


@dataclass(frozen=True, kw_only=True)
class WorkOrderHeld(WorkOrderEvent):
    name: ClassVar[str] = "work_order.held"


@dataclass(frozen=True, kw_only=True)
class WorkOrderResumed(WorkOrderEvent):
    name: ClassVar[str] = "work_order.resumed"


@dataclass(frozen=True, kw_only=True)
class WorkOrderDispositionDecided(WorkOrderEvent):
    """What happens to quantity already made that a change made surplus or wrong: to stock or scrap."""

    name: ClassVar[str] = "work_order.disposition_decided"
    disposition: str
    disposition_quantity: str
    disposition_kind: str


@dataclass(frozen=True, kw_only=True)
class WorkOrderReworkRequested(WorkOrderEvent):
    """Parts made to an old spec are reworked: a new request to the MES for the work order's lot, from
    the re-entry operation on, at most `max_rework_rounds` times."""

    name: ClassVar[str] = "work_order.rework_requested"
    rework_number: str
    quantity: str
    lot: str | None
    reentry_operation: int
    operations: Sequence[int]
    rework_round: int
    max_rework_rounds: int


WORK_ORDER_CHANGE_EVENTS: tuple[type[WorkOrderEvent], ...] = (
    WorkOrderQuantityChanged,
    WorkOrderCancelled,
    WorkOrderHeld,
    WorkOrderResumed,
    WorkOrderDispositionDecided,
    WorkOrderReworkRequested,
)


@dataclass(frozen=True, kw_only=True)
class MesChangesUnacknowledged(OrderEvent):
    """Changes to the order's work under way reached the MES but were not acknowledged in time (the
    planner is told once per message)."""

    name: ClassVar[str] = "sync.mes_changes_unacknowledged"
    integration: ClassVar[bool] = False
    system_name: str
    event_types: Sequence[str]
    delivered_at: str
    timeout_seconds: int


# Every event, by name: the one list of what the hub publishes.
_ALL_EVENTS: tuple[type[OrderEvent], ...] = (
    OrderCreated,
    OrderUpdated,
    OrderPriorityChanged,
    OrderResync,
    *TRANSITION_EVENTS.values(),
    OrderChangeApplied,
    OrderAtRisk,
    OrderProgressed,
    OrderRated,
    ChangeRequestSubmitted,
    ChangeRequestApproved,
    ChangeRequestRejected,
    ChangeRequestWithdrawn,
    ChangeRequestSuperseded,
    WorkOrdersCreated,
    ProductionExceptionRaised,
    ProgressReported,
    ProjectionChanged,
    DispositionDecided,
    *WORK_ORDER_CHANGE_EVENTS,
    MesChangesUnacknowledged,
)
EVENT_TYPES: dict[str, type[OrderEvent]] = {cls.name: cls for cls in _ALL_EVENTS}
