"""Domain events published by the orders app.

Apps depend one way (crm_sync → production → orders). When an order change must cause work in a
higher app (an outbox row, work orders), orders publishes an event here and the higher app's handler,
registered in its AppConfig.ready, runs inside the same transaction as the change.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class OrderEvent:
    type: str  # e.g. "order.confirmed"
    order: Any  # SalesOrder, saved, inside the publishing transaction
    actor_id: int | None
    reason: str = ""
    data: dict = field(default_factory=dict)
    # The order was created in the publishing transaction: this is its first event (sequence 1 in the
    # outbox, without reading the last one).
    order_is_new: bool = False


Handler = Callable[[OrderEvent], None]
BulkHandler = Callable[[list[OrderEvent]], None]
_handlers: list[Handler] = []
# A handler's batch form, for publish_many (spreadsheet imports publish thousands of events at once).
_bulk_handlers: dict[Handler, BulkHandler] = {}


def subscribe(handler: Handler, *, bulk: BulkHandler | None = None) -> Handler:
    """Register a handler; `bulk`, if given, must have the same effect as `handler` called per event."""
    if handler not in _handlers:
        _handlers.append(handler)
    if bulk is not None:
        _bulk_handlers[handler] = bulk
    return handler


def publish(event: OrderEvent) -> None:
    # Synchronous on purpose: a handler's failure rolls back the change that caused it.
    for handler in list(_handlers):
        handler(event)


def publish_many(events: list[OrderEvent]) -> None:
    """Publish a batch of events: the same effects as publish() on each, in order, per handler.

    Handlers run one after another as in publish(); a handler with a batch form gets the whole list at
    once (one query instead of one per event), the others get each event in turn.
    """
    if not events:
        return
    for handler in list(_handlers):
        bulk = _bulk_handlers.get(handler)
        if bulk is not None:
            bulk(list(events))
            continue
        for event in events:
            handler(event)
