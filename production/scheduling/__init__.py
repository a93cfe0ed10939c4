"""Production scheduling: the engines (ATC dispatching, CP-SAT), the plan in the database (the fast plan at
once, the optimiser's only when better: runs.py), its reads and the delivery-date quote (capable-to-promise).
The planner pages (views, quote_views) are wired by production.urls.

The top of production's packages: it reads master data and work orders. When to plan again is
production.replanning's.
"""

from production.scheduling.calendar import Calendar, HorizonExceeded, build_calendar
from production.scheduling.engines import solve
from production.scheduling.models import (
    OperationPin,
    OptimiserStop,
    OrderProjection,
    Schedule,
    ScheduleEntry,
    ScheduleMethod,
    why_text,
)
from production.scheduling.pins import active_pins, operation_pin, operation_unpin
from production.scheduling.problem import (
    Job,
    Op,
    Placement,
    Plan,
    Problem,
    ProblemError,
    WorkCenterSpec,
    job_weight,
)
from production.scheduling.quote import Quote, QuoteLine, capable_to_promise
from production.scheduling.runs import (
    OptimiserOutcome,
    optimiser_outcome,
    schedule_optimise,
    schedule_run,
    schedule_run_fast_pending,
    schedule_run_pending,
)
from production.scheduling.selectors import (
    QUOTE_HORIZON_DAYS,
    at_risk_orders,
    current_schedule,
    order_projection,
    plan_details,
    plan_index,
    promise_quote,
    work_center_calendar,
    work_center_load,
)
from production.scheduling.service import (
    PROBLEM_MESSAGES,
    build_problem,
    calendar_exceptions,
    exception_rows,
    promise_due,
)

__all__ = [
    "PROBLEM_MESSAGES",
    "QUOTE_HORIZON_DAYS",
    "Calendar",
    "HorizonExceeded",
    "Job",
    "Op",
    "OperationPin",
    "OptimiserOutcome",
    "OptimiserStop",
    "OrderProjection",
    "Placement",
    "Plan",
    "Problem",
    "ProblemError",
    "Quote",
    "QuoteLine",
    "Schedule",
    "ScheduleEntry",
    "ScheduleMethod",
    "WorkCenterSpec",
    "active_pins",
    "at_risk_orders",
    "build_calendar",
    "build_problem",
    "calendar_exceptions",
    "capable_to_promise",
    "current_schedule",
    "exception_rows",
    "job_weight",
    "operation_pin",
    "operation_unpin",
    "optimiser_outcome",
    "order_projection",
    "plan_details",
    "plan_index",
    "promise_due",
    "promise_quote",
    "schedule_optimise",
    "schedule_run",
    "schedule_run_fast_pending",
    "schedule_run_pending",
    "solve",
    "why_text",
    "work_center_calendar",
    "work_center_load",
]
