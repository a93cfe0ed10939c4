"""The shop floor of a plant without an MES: operators sign in by badge and PIN, open an operation by its QR
code (`floor:operation`, /floor/operations/<pk>/), and report through the production services.

Depends on work_orders (the services reports go through) and master_data (the plant's mode)."""

from production.floor.demo import floor_demo
from production.floor.models import FloorAction, FloorReport, OperatorBadge, ReasonCode, ReasonKind
from production.floor.selectors import paused_operation_ids
from production.floor.services import (
    FloorInput,
    badge_user,
    floor_report_submit,
    occurred_at,
    operator_badge_set,
)

__all__ = [
    "FloorAction",
    "FloorInput",
    "FloorReport",
    "OperatorBadge",
    "ReasonCode",
    "ReasonKind",
    "badge_user",
    "floor_demo",
    "floor_report_submit",
    "occurred_at",
    "operator_badge_set",
    "paused_operation_ids",
]
