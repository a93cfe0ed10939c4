"""The models of the production app, for Django: each lives in its package's models module."""

from production.changes.models import ChangeDisposition
from production.floor.models import FloorReport, OperatorBadge, ReasonCode
from production.kpis.models import KpiDashboard
from production.master_data.models import CalendarException, Operation, Plant, Routing, Shift, WorkCenter
from production.materials.models import (
    Bom,
    BomLine,
    BomLineVariant,
    BomRevision,
    Item,
    Location,
    PurchaseOrder,
    PurchaseOrderLine,
    Reservation,
    StockLevel,
    StockMovement,
)
from production.replanning.models import PlanObjectiveChange, SchedulerState
from production.scheduling.models import OperationPin, OrderProjection, Schedule, ScheduleEntry
from production.supply_planning.models import Shortage
from production.travellers.models import Traveller
from production.work_orders.models import (
    Lot,
    ProductionException,
    ProgressReport,
    QualityInspection,
    WorkOrder,
    WorkOrderOperation,
)

# isort: split
# After the work orders: the boards' package reads them, and they load through production.changes first.
from production.boards.models import ShopFloorBoard

__all__ = [
    "Bom",
    "BomLine",
    "BomLineVariant",
    "BomRevision",
    "CalendarException",
    "ChangeDisposition",
    "FloorReport",
    "Item",
    "KpiDashboard",
    "Location",
    "Lot",
    "Operation",
    "OperationPin",
    "OperatorBadge",
    "OrderProjection",
    "PlanObjectiveChange",
    "Plant",
    "ProductionException",
    "ProgressReport",
    "PurchaseOrder",
    "PurchaseOrderLine",
    "QualityInspection",
    "ReasonCode",
    "Reservation",
    "Routing",
    "Schedule",
    "ScheduleEntry",
    "SchedulerState",
    "Shift",
    "ShopFloorBoard",
    "Shortage",
    "StockLevel",
    "StockMovement",
    "Traveller",
    "WorkCenter",
    "WorkOrder",
    "WorkOrderOperation",
]
