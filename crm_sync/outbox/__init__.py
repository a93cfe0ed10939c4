"""The outbox: order events recorded as rows, delivered to each external system in sequence.

Modules: recording (event → outbox rows), delivery (claim, send, record the outcome), http_post (the
deliveries' POST: a kept-alive connection per receiver), relay (the
sweep's wake-ups, probes of failing systems), wake_ups (a task per
queue after commit, or per system and few orders for a batch), systems (which systems take events; pause,
resume, replay), selectors (reads), acks (changes the MES has not acknowledged in time), tasks
(deliver_order, deliver_orders),
health (the dashboard's section), origin (where a change came from),
work_orders (the work orders an event carries for the MES: production's WorkOrdersCreated hand-off).
"""

from crm_sync.outbox.acks import mes_acks_overdue_notify, mes_changes_unacknowledged
from crm_sync.outbox.delivery import (
    SendResult,
    deliveries_drain,
    deliveries_drain_in_turn,
    deliveries_wake_waiting,
    delivery_claim_next,
    delivery_record_result,
    delivery_send,
    render_payload,
    retry_delay,
)
from crm_sync.outbox.health import SYNC_HEALTH_SECTION
from crm_sync.outbox.origin import acting_for
from crm_sync.outbox.recording import (
    outbox_record_order_event,
    outbox_record_order_events,
    outbox_record_resync,
)
from crm_sync.outbox.relay import deliveries_probe, deliveries_relay
from crm_sync.outbox.selectors import (
    SyncHealth,
    SystemHealthRow,
    deliveries_claimable,
    delivery_attempts,
    due_queues,
    order_sync_status,
    orders_waiting,
    sync_health,
    system_health,
)
from crm_sync.outbox.systems import deliveries_replay, enabled_systems, external_system_set_paused
from crm_sync.outbox.tasks import deliver_order, deliver_orders
from crm_sync.outbox.work_orders import on_work_orders_created

__all__ = [
    "SYNC_HEALTH_SECTION",
    "SendResult",
    "SyncHealth",
    "SystemHealthRow",
    "acting_for",
    "deliver_order",
    "deliver_orders",
    "deliveries_claimable",
    "deliveries_drain",
    "deliveries_drain_in_turn",
    "deliveries_probe",
    "deliveries_relay",
    "deliveries_replay",
    "deliveries_wake_waiting",
    "delivery_attempts",
    "delivery_claim_next",
    "delivery_record_result",
    "delivery_send",
    "due_queues",
    "enabled_systems",
    "external_system_set_paused",
    "mes_acks_overdue_notify",
    "mes_changes_unacknowledged",
    "on_work_orders_created",
    "order_sync_status",
    "orders_waiting",
    "outbox_record_order_event",
    "outbox_record_order_events",
    "outbox_record_resync",
    "render_payload",
    "retry_delay",
    "sync_health",
    "system_health",
]
