"""The materials' hand-written SQL (see production.fast_sql): the backflush's first read, on every report."""

from __future__ import annotations

import functools

from django.db import connection

from production.fast_sql import instance, select_list, table
from production.materials.models import Reservation, ReservationState

__all__ = ["reservations_to_consume"]


@functools.cache
def _reservations_sql(vendor: str, *, first: bool) -> str:
    # Reservations without an operation go with the first operation.
    sequence = "r.operation_sequence = %s"
    if first:
        sequence = f"({sequence} OR r.operation_sequence IS NULL)"
    lock = " FOR NO KEY UPDATE" if vendor == "postgresql" else ""
    return (
        f"SELECT {select_list(Reservation, 'r')} FROM {table(Reservation)} r"  # noqa: S608 - our tables
        f" WHERE r.work_order_id = %s AND r.state = %s AND {sequence} ORDER BY r.item_id, r.id{lock}"
    )


def reservations_to_consume(*, work_order_id: int, sequence: int, first: bool) -> list[Reservation]:
    """The active reservations of the work order that its operation `sequence` consumes (`first`: it is
    the work order's first operation, which also consumes those without an operation), in item order,
    locked (FOR NO KEY UPDATE, until the caller's transaction ends).

    Most reports are on work with nothing reserved, and this read is all they cost the materials: the
    ORM's spelling cost the web process three times the CPU of this one."""
    with connection.cursor() as cursor:
        cursor.execute(
            _reservations_sql(connection.vendor, first=first),
            [work_order_id, ReservationState.ACTIVE.value, sequence],
        )
        return [instance(Reservation, values) for values in cursor.fetchall()]
