"""Production's hand-written SQL, the part its packages share: how a statement names a model's table and
columns and turns a row back into a model instance. The statements themselves live in each package's
fast_sql module (production.work_orders.fast_sql, production.floor.fast_sql, production.materials.fast_sql),
each on a path where the ORM's spelling of a plain read cost the web process more CPU than the statement
cost the database (`make bench`, shopfloor); domain code calls them by name.
tests/production/floor/test_fast_sql.py pins each statement against the ORM's own read.

Table and column names come from the models' _meta, quoted by the backend: the statements follow a renamed
table or column. Values are always parameters.
"""

from __future__ import annotations

import functools
from typing import Any

from django.db import connection
from django.db.models import Model

__all__ = ["instance", "select_list", "table", "width"]


def table(model: type[Model]) -> str:
    """The model's table, quoted."""
    return connection.ops.quote_name(model._meta.db_table)


@functools.cache
def _loading(model: type[Model]) -> tuple[list[str], list[str], list[Any]]:
    """(column names, attnames, each field's from_db_value or None) of the model's concrete fields, in the
    order Model.from_db takes them, worked out once per process."""
    fields = list(model._meta.concrete_fields)
    return (
        [field.column for field in fields],
        [field.attname for field in fields],
        [getattr(field, "from_db_value", None) for field in fields],
    )


def select_list(model: type[Model], alias: str) -> str:
    """Every column of the model, as `alias`.col, in the order `instance` takes them."""
    columns, _attnames, _converters = _loading(model)
    return ", ".join(f"{alias}.{connection.ops.quote_name(column)}" for column in columns)


def width(model: type[Model]) -> int:
    """How many columns select_list names."""
    return len(_loading(model)[0])


def instance(model: type[Model], values: tuple[Any, ...] | list[Any]) -> Any:
    """A model instance from its columns as the database returned them (select_list's order), through the
    ORM's public doors: each field's `from_db_value` (JSON text → Python, as every query does), then
    `Model.from_db` (the instance as loaded, not "adding")."""
    _columns, attnames, converters = _loading(model)
    converted = [
        value if converter is None else converter(value, None, connection)
        for converter, value in zip(converters, values, strict=True)
    ]
    return model.from_db(connection.alias, attnames, converted)
