"""Master data: work centers, their shifts and calendar exceptions, routings and their operations.

The bottom of production (it imports no other production package): work orders read routings, the planner
reads everything. Its writes ask work orders for two things through `work_orders_hooks` (set at start-up).
"""

from production.master_data.models import (
    CalendarException,
    FloorLanguage,
    Operation,
    Plant,
    PlantMode,
    Routing,
    Shift,
    Weekday,
    WorkCenter,
)
from production.master_data.plants import (
    default_mode,
    default_plant,
    floor_centers_forget,
    floor_language,
    floor_work_center_ids,
    plant_save,
    work_center_plant,
)
from production.master_data.routings import active_routings, planned_minutes
from production.master_data.selectors import routings, work_centers
from production.master_data.services import (
    WorkOrderHooks,
    calendar_exception_create,
    routing_create,
    routing_set_operations,
    routing_update,
    work_center_create,
    work_center_set_shifts,
    work_center_update,
    work_orders_hooks,
)

__all__ = [
    "CalendarException",
    "FloorLanguage",
    "Operation",
    "Plant",
    "PlantMode",
    "Routing",
    "Shift",
    "Weekday",
    "WorkCenter",
    "WorkOrderHooks",
    "active_routings",
    "calendar_exception_create",
    "default_mode",
    "default_plant",
    "floor_centers_forget",
    "floor_language",
    "floor_work_center_ids",
    "planned_minutes",
    "plant_save",
    "routing_create",
    "routing_set_operations",
    "routing_update",
    "routings",
    "work_center_create",
    "work_center_plant",
    "work_center_set_shifts",
    "work_center_update",
    "work_centers",
    "work_orders_hooks",
]
