"""Reconciliation: compare what we hold with what each CRM and MES reports, list drift, repair it."""

from crm_sync.reconciliation.services import (
    drift_repair,
    open_drifts,
    read_remote,
    reconcile_all,
    reconcile_system,
)

__all__ = ["drift_repair", "open_drifts", "read_remote", "reconcile_all", "reconcile_system"]
