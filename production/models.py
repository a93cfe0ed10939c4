"""The models of the production app, for Django: each lives in its package's models module."""

from production.changes.models import ChangeDisposition
from production.floor.models import FloorReport, OperatorBadge, ReasonCode
from production.kpis.models import KpiDashboard
from production.master_data.models import CalendarException, Operation, Plant, Routing, Shift, WorkCenter
from production.replanning.models import SchedulerState
from production.scheduling.models import OrderProjection, Schedule, ScheduleEntry
from production.work_orders.models import (
    Lot,
    ProductionException,
    ProgressReport,
    QualityInspection,
    WorkOrder,
    WorkOrderOperation,
)

__all__ = [
    "CalendarException",
    "ChangeDisposition",
    "FloorReport",
    "KpiDashboard",
    "Lot",
    "Operation",
    "OperatorBadge",
    "OrderProjection",
    "Plant",
    "ProductionException",
    "ProgressReport",
    "QualityInspection",
    "ReasonCode",
    "Routing",
    "Schedule",
    "ScheduleEntry",
    "SchedulerState",
    "Shift",
    "WorkCenter",
    "WorkOrder",
    "WorkOrderOperation",
]
