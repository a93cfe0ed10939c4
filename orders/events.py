"""Domain events published by the orders app.

Apps depend one way (crm_sync → production → orders). When an order change must cause work in a
higher app (an outbox row, work orders), orders publishes an event here and the higher app's handler,
registered in its AppConfig.ready, runs inside the same transaction as the change.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from contextvars import ContextVar
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
    # The actor itself when the publisher has it at hand: handlers that need the user need not read it.
    actor: Any = field(default=None, compare=False, repr=False)


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


# The events held by an open `deferred()` block (None: publish at once).
_held: ContextVar[list[OrderEvent] | None] = ContextVar("orders_events_held", default=None)


def publish(event: OrderEvent) -> None:
    held = _held.get()
    if held is not None:
        held.append(event)
        return
    # Synchronous on purpose: a handler's failure rolls back the change that caused it.
    for handler in list(_handlers):
        handler(event)


@contextlib.contextmanager
def deferred() -> Iterator[None]:
    """Hold the events published in the block and publish them together (publish_many) when it ends.

    For a service that changes one order several times in one transaction (an order entered and released
    at once): every handler still gets every event, in order, and a handler's batch form writes them in
    one go. Use it inside the transaction: the handlers' effects commit or roll back with the changes.
    Each event's data is its own snapshot (taken when published); `event.order` is the order as it is at
    the end of the block. An exception in the block drops the held events (the transaction rolls back).
    """
    if _held.get() is not None:  # nested: the outer block publishes
        yield
        return
    held: list[OrderEvent] = []
    token = _held.set(held)
    try:
        yield
    finally:
        _held.reset(token)
    publish_many(held)


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
