"""What a change request does to work already under way, and what it leaves to decide.

The package's public face. Inside, by purpose:
- plans: one plan of what a change does to the work orders, a planner per change operation;
- impact: the impact analysis approvers see (registered with orders.change_requests in
  ProductionConfig.ready);
- follow: on "order.change_applied" the work orders follow the plan, in the apply transaction;
- dispositions: deciding what was left open (quantity made that became surplus or wrong).
"""

from production.changes.dispositions import DECIDE_PERM, change_disposition_decide
from production.changes.follow import follow_change_request
from production.changes.impact import analyse_change
from production.changes.plans import PLANNERS

__all__ = [
    "DECIDE_PERM",
    "PLANNERS",
    "analyse_change",
    "change_disposition_decide",
    "follow_change_request",
]
