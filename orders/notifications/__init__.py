"""Notifications: what other packages may call.

`on_event` turns the events in ROUTED_EVENTS (routes.py: what each tells whom) into notices
(OrdersConfig.ready subscribes it to them); `delivery_send` and `deliveries_due` are the work of the Celery
tasks in orders/tasks.py. The inbox and preference services are for this package's own views. Models:
`orders.models` (or `orders.notifications.models`).
"""

from orders.notifications.routes import ROUTED_EVENTS
from orders.notifications.services import (
    deliveries_due,
    delivery_send,
    notifications_mark_read_before,
    on_event,
)

__all__ = ["ROUTED_EVENTS", "deliveries_due", "delivery_send", "notifications_mark_read_before", "on_event"]
