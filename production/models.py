"""The models of the production app, for Django: each lives in its package's models module."""

from production.changes.models import ChangeDisposition
from production.kpis.models import KpiDashboard
from production.master_data.models import CalendarException, Operation, Routing, Shift, WorkCenter
from production.materials.models import (
    Bom,
    BomLine,
    BomLineVariant,
    Item,
    Location,
    PurchaseOrder,
    PurchaseOrderLine,
    Reservation,
    StockLevel,
    StockMovement,
)
from production.replanning.models import SchedulerState
from production.scheduling.models import OrderProjection, Schedule, ScheduleEntry
from production.supply_planning.models import Shortage
from production.work_orders.models import (
    Lot,
    ProductionException,
    ProgressReport,
    QualityInspection,
    WorkOrder,
    WorkOrderOperation,
)

__all__ = [
    "Bom",
    "BomLine",
    "BomLineVariant",
    "CalendarException",
    "ChangeDisposition",
    "Item",
    "KpiDashboard",
    "Location",
    "Lot",
    "Operation",
    "OrderProjection",
    "ProductionException",
    "ProgressReport",
    "PurchaseOrder",
    "PurchaseOrderLine",
    "QualityInspection",
    "Reservation",
    "Routing",
    "Schedule",
    "ScheduleEntry",
    "SchedulerState",
    "Shift",
    "Shortage",
    "StockLevel",
    "StockMovement",
    "WorkCenter",
    "WorkOrder",
    "WorkOrderOperation",
]
