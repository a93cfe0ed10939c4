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

`insert_with_history` / `update_with_history`: a save and its history row in one statement, for the hottest
writes (a floor report writes three rows and their history). Measured on the shop-floor bench: the ORM's
save() plus simple_history's post_save was 42 % of the web process's CPU per report, and two round trips
per row. The history row is the one simple_history writes on that save (same user, reason, date, type,
tracked columns), taken from the row as the database wrote it (RETURNING), in the caller's transaction.
A save written this way sends no pre_save/post_save: the models passed here have no receivers but
simple_history's (tests/config/test_history_writes.py pins both: rows equal to simple_history's, receivers).

`bulk_history_copy`: simple_history's bulk_history_create for rows just inserted, the columns copied by the
database from the rows themselves in one statement (a new order, its lines, work orders and operations).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import DatabaseError, connection, models
from django.utils import timezone
from simple_history import models as simple_history_models
from simple_history.manager import HistoryDescriptor
from simple_history.utils import get_change_reason_from_object


class ManagerBuiltOnceDescriptor(HistoryDescriptor):
    """`Model.history` / `instance.history`: the same manager as simple_history's, from a class built once."""

    def __init__(self, model: Any, manager: Any, queryset: Any, records: HistoricalRecords) -> None:
        super().__init__(model, manager=manager, queryset=queryset)
        self.built_manager_class = manager.from_queryset(queryset)
        self.records = records  # the HistoricalRecords that registered the model (its user, its fields)

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
                    installed.model,
                    manager=installed.manager_class,
                    queryset=installed.queryset_class,
                    records=self,
                ),
            )


# --- a save and its history row in one statement -------------------------------------------------------
_HISTORY_OWN = ("history_date", "history_change_reason", "history_type", "history_user_id")


@dataclass(frozen=True)
class _HistoryTable:
    """How a model's history table is filled from its own row: (history column, row column) pairs."""

    table: str
    copied: tuple[tuple[str, str], ...]
    records: HistoricalRecords


@functools.cache
def _history_table(model: type[models.Model]) -> _HistoryTable | None:
    """The model's history table (None for a model without history of config.history.HistoricalRecords)."""
    descriptor = model.__dict__.get("history")
    if not isinstance(descriptor, ManagerBuiltOnceDescriptor):
        return None
    history_model = descriptor.model
    tracked = {field.attname: field for field in model._meta.concrete_fields}
    copied = []
    for field in history_model._meta.concrete_fields:
        if field.primary_key:
            if not isinstance(field, models.AutoField):
                raise TypeError(
                    f"{history_model.__name__}: only an auto-numbered history id is written here."
                )
            continue
        if field.attname in _HISTORY_OWN:
            continue
        source = tracked.get(field.attname)
        if source is None:  # e.g. history_relation, extra history fields: not written by these helpers
            raise TypeError(f"{history_model.__name__}.{field.attname} is not a column of {model.__name__}.")
        copied.append((field.column, source.column))
    return _HistoryTable(history_model._meta.db_table, tuple(copied), descriptor.records)


def _history_of(instance: models.Model) -> _HistoryTable | None:
    """The history table simple_history would write a row to on this save (None: no row)."""
    if not getattr(settings, "SIMPLE_HISTORY_ENABLED", True) or hasattr(instance, "skip_history_when_saving"):
        return None
    return _history_table(type(instance))


def _history_columns(table: _HistoryTable) -> tuple[str, str]:
    """The history table's columns to insert (copied ones, then its own) and the copied ones of row `r`."""
    qn = connection.ops.quote_name
    columns = ", ".join([*(qn(history) for history, _ in table.copied), *map(qn, _HISTORY_OWN)])
    return columns, ", ".join(f"r.{qn(row)}" for _, row in table.copied)


def _with_history(row_sql: str, table: _HistoryTable, history_type: str, returning: str = "") -> str:
    """`row_sql` (an INSERT or UPDATE of one row) and the history row of what it wrote, in one statement;
    parameters after the row's: history_date, history_change_reason, history_user_id."""
    qn = connection.ops.quote_name
    columns, selected = _history_columns(table)
    return (
        f"WITH r AS ({row_sql} RETURNING *) "  # noqa: S608 - names from the models' metadata
        f"INSERT INTO {qn(table.table)} ({columns}) "
        f"SELECT {selected}, %s, %s, '{history_type}', %s FROM r"
        + (f" RETURNING {qn(returning)}" if returning else "")
    )


def _history_values(instance: models.Model, table: _HistoryTable, history_type: str) -> list[Any]:
    """history_date, history_change_reason, history_user_id: as simple_history's create_historical_record
    takes them (stamp() sets the user and the reason)."""
    history_date = getattr(instance, "_history_date", None) or timezone.now()
    user = table.records.get_history_user(instance)
    reason = table.records.get_change_reason_for_object(instance, history_type, None)
    return [history_date, reason, user.pk if user is not None else None]


def _one_statement() -> bool:
    # Data-modifying WITH is PostgreSQL's; elsewhere (SQLite in development) the ORM's save does it.
    return connection.vendor == "postgresql"


@functools.cache
def _update_sql(model: type[models.Model], fields: tuple[str, ...]) -> tuple[str, tuple[models.Field, ...]]:
    """The UPDATE of `fields` of one row of `model` (its id the last parameter), and those fields."""
    meta = model._meta
    assert meta.pk is not None
    qn = connection.ops.quote_name
    targets = tuple(field for name in fields if isinstance(field := meta.get_field(name), models.Field))
    if len(targets) != len(fields):
        raise TypeError(f"{model.__name__}: update_with_history writes the model's own columns only.")
    assignments = ", ".join(f"{qn(field.column)} = %s" for field in targets)
    return f"UPDATE {qn(meta.db_table)} SET {assignments} WHERE {qn(meta.pk.column)} = %s", targets  # noqa: S608


@functools.cache
def _insert_sql(model: type[models.Model]) -> tuple[str, tuple[models.Field, ...]]:
    """The INSERT of one row of `model` (every concrete field but the auto-numbered id), and those fields."""
    meta = model._meta
    qn = connection.ops.quote_name
    fields = tuple(field for field in meta.concrete_fields if not isinstance(field, models.AutoField))
    if any(field.db_default is not models.NOT_PROVIDED for field in fields):
        raise TypeError(f"{model.__name__}: a field with a database default is not written here.")
    columns = ", ".join(qn(field.column) for field in fields)
    placeholders = ", ".join(["%s"] * len(fields))
    return f"INSERT INTO {qn(meta.db_table)} ({columns}) VALUES ({placeholders})", fields  # noqa: S608


def update_with_history(instance: models.Model, *, fields: Sequence[str]) -> None:
    """`instance.save(update_fields=fields)` and its history row ("~"), in one statement (no save signals).
    Raises DatabaseError when no row was updated, as save(update_fields=…) does."""
    if not _one_statement():
        instance.save(update_fields=fields)
        return
    row_sql, targets = _update_sql(type(instance), tuple(fields))
    pk = instance._meta.pk
    assert pk is not None
    params = [field.get_db_prep_save(field.pre_save(instance, False), connection) for field in targets]
    params.append(pk.get_db_prep_value(instance.pk, connection))
    table = _history_of(instance)
    with connection.cursor() as cursor:
        if table is None:
            cursor.execute(row_sql, params)
        else:
            cursor.execute(
                _with_history(row_sql, table, "~"), [*params, *_history_values(instance, table, "~")]
            )
        if cursor.rowcount != 1:
            raise DatabaseError("Save with update_fields did not affect any rows.")


def insert_with_history(instance: models.Model) -> None:
    """`instance.save()` of a new row (its id set) and its history row ("+"), in one statement (no save
    signals). Every concrete field but the auto-numbered id is written."""
    if not _one_statement():
        instance.save(force_insert=True)
        return
    row_sql, fields = _insert_sql(type(instance))
    pk = instance._meta.pk
    assert pk is not None
    params = [field.get_db_prep_save(field.pre_save(instance, True), connection) for field in fields]
    table = _history_of(instance)
    with connection.cursor() as cursor:
        if table is None:
            cursor.execute(f"{row_sql} RETURNING {connection.ops.quote_name(pk.column)}", params)
        else:
            # The history row's copy of the id is the new row's id.
            id_column = next(history for history, row in table.copied if row == pk.column)
            statement = _with_history(row_sql, table, "+", returning=id_column)
            cursor.execute(statement, [*params, *_history_values(instance, table, "+")])
        row = cursor.fetchone()
    if row is None:
        raise DatabaseError(f"{type(instance).__name__}: the insert returned no row.")
    instance.pk = row[0]
    instance._state.adding = False
    instance._state.db = connection.alias


# --- history rows of rows just inserted, copied by the database -------------------------------------------
@functools.cache
def _copy_sql(model: type[models.Model]) -> str | None:
    """The statement that writes the "+" history rows of rows of `model` given by id, each copied from its
    row as the database holds it (None: the model's history is not of config.history.HistoricalRecords).
    Parameters: arrays of ids, history dates, change reasons and user ids, in the caller's order."""
    table = _history_table(model)
    if table is None:
        return None
    meta = model._meta
    assert meta.pk is not None
    qn = connection.ops.quote_name
    history_model = model.__dict__["history"].model
    user_field = history_model._meta.get_field("history_user")
    id_type = meta.pk.db_type(connection)  # an auto-numbered id: "bigint" or "integer"
    user_type = user_field.target_field.db_type(connection)
    columns, selected = _history_columns(table)
    return (
        f"INSERT INTO {qn(table.table)} ({columns}) "  # noqa: S608 - names from the models' metadata
        f"SELECT {selected}, h.history_date, h.reason, '+', h.user_id "
        f"FROM UNNEST(%s::{id_type}[], %s::timestamptz[], %s::text[], %s::{user_type}[]) "
        "WITH ORDINALITY AS h(id, history_date, reason, user_id, position) "
        f"JOIN {qn(meta.db_table)} r ON r.{qn(meta.pk.column)} = h.id ORDER BY h.position"
    )


def bulk_history_copy(
    model: type[models.Model],
    objs: Sequence[models.Model],
    *,
    default_user: Any = None,
    default_change_reason: str | None = "",
    default_date: Any = None,
) -> None:
    """simple_history's `bulk_history_create(objs, …)` for rows just inserted (ids set, as bulk_create sets
    them on PostgreSQL): the same history rows ("+", each row's own user, reason and date, else the
    defaults), in one statement whose columns the database copies from the rows themselves.

    Why: on the CRM → MES path each new order writes four such batches (order, lines, work orders,
    operations); building a history instance per row and sending every column back cost more of the
    worker's CPU than the rows' own inserts. Elsewhere than PostgreSQL, or for a model whose history is not
    of config.history.HistoricalRecords, simple_history writes them."""
    if not objs or not getattr(settings, "SIMPLE_HISTORY_ENABLED", True):
        return
    statement = _copy_sql(model) if _one_statement() else None
    if statement is None:
        model.history.bulk_history_create(  # type: ignore[attr-defined]
            objs,
            default_user=default_user,
            default_change_reason=default_change_reason,
            default_date=default_date,
        )
        return
    history_model = model.__dict__["history"].model
    now = default_date or timezone.now()
    ids, dates, reasons, users = [], [], [], []
    for instance in objs:
        if instance.pk is None:
            raise ValueError(f"{model.__name__}: history is copied from saved rows only.")
        user = getattr(
            instance, "_history_user", default_user or history_model.get_default_history_user(instance)
        )
        reason = get_change_reason_from_object(instance) or default_change_reason
        ids.append(instance.pk)
        dates.append(getattr(instance, "_history_date", now))
        reasons.append(None if reason is None else str(reason))
        users.append(getattr(user, "pk", None))
    with connection.cursor() as cursor:
        cursor.execute(statement, [ids, dates, reasons, users])
        if cursor.rowcount != len(objs):
            raise DatabaseError(f"{model.__name__}: {cursor.rowcount} history rows for {len(objs)} rows.")
