"""django-simple-history, made cheaper to write: its manager class is built once per model, not per access.

simple_history's HistoryDescriptor.__get__ calls `HistoryManager.from_queryset(HistoricalQuerySet)` on every
`Model.history` access, which builds a new class (it walks every QuerySet method with inspect.getmembers).
Each history row written reads it (post_save, bulk_history_create): on the CRM → MES path that was about a
twentieth of the worker's CPU. The class depends only on the descriptor's two fixed classes, so building
it once per descriptor gives the same manager. Installed from OrdersConfig.ready (see install()).
"""

from __future__ import annotations

from typing import Any

from simple_history.manager import HistoryDescriptor


def _get(self: HistoryDescriptor, instance: Any, owner: Any) -> Any:
    manager_class = self.__dict__.get("_manager_class_built")
    if manager_class is None:
        # A race between two threads builds it twice: harmless, both classes are the same shape.
        manager_class = self.manager_class.from_queryset(self.queryset_class)
        self._manager_class_built = manager_class
    return manager_class(self.model, instance)


def install() -> None:
    """Idempotent; patches the descriptor class, so it covers every model's `history`."""
    HistoryDescriptor.__get__ = _get
