"""Work orders: made from released orders, following their order, moved by users and by the MES's progress
reports, with the shop floor's exceptions, lots and inspections.

Depends on master_data (routings) and replanning (asks for a new plan); the planner sits above it.
"""

from production.work_orders.announce import work_order_announce
from production.work_orders.following import (
    FOLLOWED_EVENTS,
    event_actor,
    on_order_held_resumed_or_cancelled,
    on_order_released,
    on_order_replan,
    on_orders_released,
    order_follow_up,
)
from production.work_orders.lifecycle import (
    order_follow_work,
    order_follow_work_after_change,
    order_follow_work_of,
    order_work,
)
from production.work_orders.making import (
    open_operations,
    operations_create,
    split_quantity,
    work_orders_create_for_order,
    work_orders_take_routing,
)
from production.work_orders.models import (
    CLOSED_STATUSES,
    HOLDABLE_STATUSES,
    SCHEDULABLE_STATUSES,
    ExceptionKind,
    InspectionResult,
    Lot,
    OperationStatus,
    ProductionException,
    ProgressReport,
    QualityInspection,
    Severity,
    WorkOrder,
    WorkOrderOperation,
    WorkOrderStatus,
)
from production.work_orders.progress import (
    LockedWork,
    ProgressCheck,
    ProgressRecorded,
    progress_report_create,
    progress_report_record,
    work_order_lock,
)
from production.work_orders.selectors import (
    ORDER_PATHS,
    change_disposition,
    open_dispositions,
    open_exceptions,
    order_progress,
    order_work_orders,
    records_visible_to,
    work_order_on_floor,
    work_orders,
    work_orders_pending_disposition,
)
from production.work_orders.shop_floor import (
    LOT_STATUSES,
    exception_raise,
    exception_resolve,
    inspection_record,
    lot_create,
)
from production.work_orders.system import SYSTEM_USERNAME, system_actor
from production.work_orders.transitions import (
    WORK_ORDER_LABELS,
    WORK_ORDER_REASON_REQUIRED,
    work_order_transition,
)

__all__ = [
    "CLOSED_STATUSES",
    "FOLLOWED_EVENTS",
    "HOLDABLE_STATUSES",
    "LOT_STATUSES",
    "ORDER_PATHS",
    "SCHEDULABLE_STATUSES",
    "SYSTEM_USERNAME",
    "WORK_ORDER_LABELS",
    "WORK_ORDER_REASON_REQUIRED",
    "ExceptionKind",
    "InspectionResult",
    "LockedWork",
    "Lot",
    "OperationStatus",
    "ProductionException",
    "ProgressCheck",
    "ProgressRecorded",
    "ProgressReport",
    "QualityInspection",
    "Severity",
    "WorkOrder",
    "WorkOrderOperation",
    "WorkOrderStatus",
    "change_disposition",
    "event_actor",
    "exception_raise",
    "exception_resolve",
    "inspection_record",
    "lot_create",
    "on_order_held_resumed_or_cancelled",
    "on_order_released",
    "on_order_replan",
    "on_orders_released",
    "open_dispositions",
    "open_exceptions",
    "open_operations",
    "operations_create",
    "order_follow_up",
    "order_follow_work",
    "order_follow_work_after_change",
    "order_follow_work_of",
    "order_progress",
    "order_work",
    "order_work_orders",
    "progress_report_create",
    "progress_report_record",
    "records_visible_to",
    "split_quantity",
    "system_actor",
    "work_order_announce",
    "work_order_lock",
    "work_order_on_floor",
    "work_order_transition",
    "work_orders",
    "work_orders_create_for_order",
    "work_orders_pending_disposition",
    "work_orders_take_routing",
]
