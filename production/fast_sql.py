"""Production's hand-written SQL, the part its packages share: how a statement names a model's table and
columns and turns a row back into a model instance. The statements themselves live in each package's
fast_sql module (production.work_orders.fast_sql, production.floor.fast_sql), each on a path where the ORM's
spelling of a plain read cost the web process more CPU than the statement cost the database (`make bench`,
shopfloor); domain code calls them by name. tests/production/floor/test_fast_sql.py pins each statement
against the ORM's own read.

Table and column names come from the models' _meta, quoted by the backend: the statements follow a renamed
table or column. Values are always parameters.
"""

from __future__ import annotations

import functools
from typing import Any

from django.db import connection
from django.db.models import Model

__all__ = ["column_converters", "convert", "instance", "select_list", "table", "width"]


def table(model: type[Model]) -> str:
    """The model's table, quoted."""
    return connection.ops.quote_name(model._meta.db_table)


@functools.cache
def _loading(model: type[Model], vendor: str) -> tuple[list[str], list[str], list[tuple[Any, list[Any]]]]:
    """(column names, attnames, each column's expression and converters) of the model's concrete fields, in
    the order Model.from_db takes them, worked out once per process and database vendor. The converters are
    the ORM's own for a read of that column: the backend's (SQLite gives decimals as floats, for instance),
    then the field's (its from_db_value: JSON text → Python)."""
    fields = list(model._meta.concrete_fields)
    converting = []
    for field in fields:
        column = field.get_col(model._meta.db_table)
        converters = connection.ops.get_db_converters(column) + column.get_db_converters(connection)
        converting.append((column, converters))
    return [field.column for field in fields], [field.attname for field in fields], converting


def select_list(model: type[Model], alias: str) -> str:
    """Every column of the model, as `alias`.col, in the order `instance` takes them."""
    columns, _attnames, _converting = _loading(model, connection.vendor)
    return ", ".join(f"{alias}.{connection.ops.quote_name(column)}" for column in columns)


def width(model: type[Model]) -> int:
    """How many columns select_list names."""
    return len(_loading(model, connection.vendor)[0])


def convert(column: Any, converters: list[Any], value: Any) -> Any:
    """A column's value as the database returned it, as the ORM would give it."""
    for converter in converters:
        value = converter(value, column, connection)
    return value


def column_converters(model: type[Model], name: str) -> tuple[Any, list[Any]]:
    """The expression and converters of one of the model's fields (`name`), for `convert`."""
    _columns, attnames, converting = _loading(model, connection.vendor)
    fields = model._meta.concrete_fields
    return converting[attnames.index(next(field.attname for field in fields if field.name == name))]


def instance(model: type[Model], values: tuple[Any, ...] | list[Any]) -> Any:
    """A model instance from its columns as the database returned them (select_list's order), through the
    ORM's public doors: each column's converters (as every query applies them), then `Model.from_db` (the
    instance as loaded, not "adding")."""
    _columns, attnames, converting = _loading(model, connection.vendor)
    converted = [
        value if not converters else convert(column, converters, value)
        for (column, converters), value in zip(converting, values, strict=True)
    ]
    return model.from_db(connection.alias, attnames, converted)
