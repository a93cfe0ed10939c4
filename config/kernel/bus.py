"""The domain event bus: publishers in a lower app, subscribers in a higher one, one transaction.

Apps depend one way (crm_sync → production → orders). When a change in a lower app must cause work in a
higher one (an outbox row, work orders, a notice), the lower app publishes a typed event
(config.kernel.events) and the higher app's handler, subscribed in its AppConfig.ready to the event classes
it cares about, runs inside the same transaction as the change: a handler's failure rolls the change back.

Handlers must not depend on each other's order: what one handler makes for another travels as an event of
its own (production publishes WorkOrdersCreated; the outbox subscribes to it).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, TypeAlias, TypeVar

from config.kernel.events import OrderEvent

# A handler gets one event of the classes it subscribed to (so its parameter may be any of them); what it
# returns is ignored. Its batch form gets a list of them.
Handler: TypeAlias = Callable[[Any], object]
BulkHandler: TypeAlias = Callable[[list[Any]], object]
H = TypeVar("H", bound=Handler)


@dataclass(frozen=True)
class Subscription:
    handler: Handler
    event_types: tuple[type[OrderEvent], ...]
    # The handler's batch form, for publish_many (spreadsheet imports publish thousands of events at once).
    bulk: BulkHandler | None = None

    def wants(self, event: OrderEvent) -> bool:
        return isinstance(event, self.event_types)


_subscriptions: list[Subscription] = []


def subscribe(
    handler: H,
    *,
    to: Sequence[type[OrderEvent]] = (OrderEvent,),
    bulk: BulkHandler | None = None,
) -> H:
    """Register `handler` for events of the classes `to` (and their subclasses). Idempotent per handler.

    `bulk`, if given, must have the same effect as `handler` called on each event of the batch in turn.
    """
    if all(subscription.handler is not handler for subscription in _subscriptions):
        _subscriptions.append(Subscription(handler, tuple(to), bulk))
    return handler


def unsubscribe(handler: Handler) -> None:
    _subscriptions[:] = [each for each in _subscriptions if each.handler is not handler]


def subscriptions() -> list[Subscription]:
    """The current subscriptions, in the order they were made (tests shuffle them)."""
    return list(_subscriptions)


@contextlib.contextmanager
def subscriptions_replaced(replacement: Sequence[Subscription]) -> Iterator[None]:
    """Run the block with other subscriptions (tests: a shuffled order must give the same outcome)."""
    saved = list(_subscriptions)
    _subscriptions[:] = list(replacement)
    try:
        yield
    finally:
        _subscriptions[:] = saved


# The events held by an open `deferred()` block (None: publish at once).
_held: ContextVar[list[OrderEvent] | None] = ContextVar("kernel_events_held", default=None)


def publish(event: OrderEvent) -> None:
    held = _held.get()
    if held is not None:
        held.append(event)
        return
    # Synchronous on purpose: a handler's failure rolls back the change that caused it.
    for subscription in list(_subscriptions):
        if subscription.wants(event):
            subscription.handler(event)


@contextlib.contextmanager
def deferred() -> Iterator[None]:
    """Hold the events published in the block and publish them together (publish_many) when it ends.

    For a service that changes one order several times in one transaction (an order entered and released
    at once): every handler still gets every event, in order, and a handler's batch form writes them in
    one go. Use it inside the transaction. Each event's snapshot is its own (taken when published);
    `event.order` is the order as it is at the end of the block. An exception in the block drops the held
    events (the transaction rolls back).
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


def publish_many(events: Sequence[OrderEvent]) -> None:
    """Publish a batch: the same effects as publish() on each, in order, per handler.

    A handler with a batch form gets the events it wants at once (one query instead of one per event),
    the others get each event in turn.
    """
    if not events:
        return
    for subscription in list(_subscriptions):
        wanted = [event for event in events if subscription.wants(event)]
        if not wanted:
            continue
        if subscription.bulk is not None:
            subscription.bulk(wanted)
            continue
        for event in wanted:
            subscription.handler(event)
