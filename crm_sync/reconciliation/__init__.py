"""Reconciliation: compare what we hold with what each CRM and MES reports, list drift, repair it.

Modules: comparison (what differs, per order for a CRM and per work order for an MES), services
(reconcile, record, repair), selectors (open drifts and their differences as table rows).
"""

from crm_sync.reconciliation.comparison import Finding, order_findings
from crm_sync.reconciliation.selectors import DriftRow, drift_rows, open_drifts
from crm_sync.reconciliation.services import (
    drift_repair,
    read_remote,
    reconcile_all,
    reconcile_system,
)

__all__ = [
    "DriftRow",
    "Finding",
    "drift_repair",
    "drift_rows",
    "open_drifts",
    "order_findings",
    "read_remote",
    "reconcile_all",
    "reconcile_system",
]
