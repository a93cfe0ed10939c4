"""django-simple-history, made cheaper to write: each model's history manager class is built once, not per
access. Every model declares `history = HistoricalRecords(...)` with the class below.

simple_history's HistoryDescriptor.__get__ calls `HistoryManager.from_queryset(HistoricalQuerySet)` on every
`Model.history` access, which builds a new class (it walks every QuerySet method with inspect.getmembers).
Each history row written reads it (post_save, bulk_history_create): on the CRM → MES path that was about a
twentieth of the worker's CPU. The class depends only on the descriptor's two fixed classes, so building it
once per descriptor gives the same manager.

Done through the library's extension points, not a patch: a HistoricalRecords subclass whose `finalize`
(the class_prepared hook that installs the descriptor) installs a HistoryDescriptor subclass instead.
Models that still declare simple_history's own HistoricalRecords keep its per-access behaviour
(tests/orders/sales/test_history_manager.py checks that none does).
"""

from __future__ import annotations

from typing import Any

from simple_history import models as simple_history_models
from simple_history.manager import HistoryDescriptor


class ManagerBuiltOnceDescriptor(HistoryDescriptor):
    """`Model.history` / `instance.history`: the same manager as simple_history's, from a class built once."""

    def __init__(self, model: Any, manager: Any, queryset: Any) -> None:
        super().__init__(model, manager=manager, queryset=queryset)
        self.built_manager_class = manager.from_queryset(queryset)

    def __get__(self, instance: Any, owner: Any) -> Any:
        return self.built_manager_class(self.model, instance)


class HistoricalRecords(simple_history_models.HistoricalRecords):
    """simple_history's HistoricalRecords (same options, same history model and table), whose `history`
    descriptor builds its manager class once."""

    def finalize(self, sender: Any, **kwargs: Any) -> None:
        before = sender.__dict__.get(self.manager_name)
        super().finalize(sender, **kwargs)
        # finalize runs for every model class prepared: only one it registered has a new descriptor.
        installed = sender.__dict__.get(self.manager_name)
        if installed is not before and type(installed) is HistoryDescriptor:
            setattr(
                sender,
                self.manager_name,
                ManagerBuiltOnceDescriptor(
                    installed.model, manager=installed.manager_class, queryset=installed.queryset_class
                ),
            )
