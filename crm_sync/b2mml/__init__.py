"""ISA-95 / B2MML for an MES (MESA's "Version 0701"; V0401 read where real senders still use it).

Modules: schedules (export: our order events as OperationsSchedule, and reading one back), mes_messages
(what the MES sends: acknowledgements, performance), schemas (validation against MESA's XSDs), elements
(the XML plumbing they share). Pure Python, no Django: the MES simulator imports it standalone.
"""

from crm_sync.b2mml.elements import NS, RELEASE_ID, serialize
from crm_sync.b2mml.mes_messages import (
    MES_OPERATION_ID,
    MES_WORK_ORDER_ID,
    acknowledged_bod_ids,
    acknowledged_work_orders,
    acknowledgement_for,
    performance_for,
    performance_read,
)
from crm_sync.b2mml.schedules import (
    REQUEST_STATES,
    VERBS,
    schedule_for_event,
    schedule_read,
    work_order_state,
)
from crm_sync.b2mml.schemas import (
    PERFORMANCE_ENTRY_POINT,
    SCHEDULE_ENTRY_POINT,
    load_schema,
    performance_validation_errors,
    schema_path,
    validation_errors,
)

__all__ = [
    "MES_OPERATION_ID",
    "MES_WORK_ORDER_ID",
    "NS",
    "PERFORMANCE_ENTRY_POINT",
    "RELEASE_ID",
    "REQUEST_STATES",
    "SCHEDULE_ENTRY_POINT",
    "VERBS",
    "acknowledged_bod_ids",
    "acknowledged_work_orders",
    "acknowledgement_for",
    "load_schema",
    "performance_for",
    "performance_read",
    "performance_validation_errors",
    "schedule_for_event",
    "schedule_read",
    "schema_path",
    "serialize",
    "validation_errors",
    "work_order_state",
]
