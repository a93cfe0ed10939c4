"""Quantities as the database holds them: three decimal places (order lines, work orders, progress)."""

from __future__ import annotations

from decimal import Decimal

QUANTITY_PLACES = Decimal("0.001")


def quantize(value: Decimal | int | str) -> Decimal:
    """`value` rounded to the places a quantity column keeps: an object in memory reads like a fresh one."""
    return Decimal(value).quantize(QUANTITY_PLACES)
