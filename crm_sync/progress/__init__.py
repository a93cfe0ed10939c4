"""The CRM's progress per order, coalesced: at most one "order.progress" event per order per
ORDERBRIDGE_CRM_PROGRESS_INTERVAL_SECONDS, always with the state when it is written.

Modules: marking (the marker progress reports and moved projections set, in their transaction; why a
marker), emission (the one event per due marker, through the ordinary outbox), tasks (the countdown task
per marker; crm_sync.tasks.progress_sweep is the relay for lost ones), selectors (the last one sent).
"""

from crm_sync.progress.emission import PROGRESS_STATUSES, progress_emit, progress_emit_due
from crm_sync.progress.marking import (
    on_progress_reported,
    on_projection_changed,
    on_projections_changed,
    progress_mark_due,
    progress_wanted,
)
from crm_sync.progress.tasks import progress_emit_order

__all__ = [
    "PROGRESS_STATUSES",
    "on_progress_reported",
    "on_projection_changed",
    "on_projections_changed",
    "progress_emit",
    "progress_emit_due",
    "progress_emit_order",
    "progress_mark_due",
    "progress_wanted",
]
