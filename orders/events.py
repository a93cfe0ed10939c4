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


Handler = Callable[[OrderEvent], None]
_handlers: list[Handler] = []


def subscribe(handler: Handler) -> Handler:
    if handler not in _handlers:
        _handlers.append(handler)
    return handler


def publish(event: OrderEvent) -> None:
    # Synchronous on purpose: a handler's failure rolls back the change that caused it.
    for handler in list(_handlers):
        handler(event)
