"""What the MES gets of materials: per work order and routing operation, the components it consumes."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from decimal import Decimal
from typing import Any, TypedDict

from production.supply_planning import sources


class OperationMaterial(TypedDict):
    sku: str
    quantity: str
    unit: str


def operation_materials(
    work_orders: Iterable[Any],
) -> dict[tuple[int, int], list[OperationMaterial]]:
    """Per (work order id, operation sequence): the leaf components its quantity consumes there (an
    operation the BOM line does not name: the first), exploded with the order line's spec."""
    rows = list(work_orders)
    if not rows:
        return {}
    book = sources.explosions()
    units: dict[int, str] | None = None
    result: dict[tuple[int, int], list[OperationMaterial]] = defaultdict(list)
    for work_order in rows:
        sequences = sorted(op.sequence for op in getattr(work_order, "operations_made", ()))
        if not sequences:
            continue
        spec = work_order.order_line.spec_values if work_order.order_line_id else {}
        needs = book.needs(work_order.product_id, spec)
        if needs and units is None:
            units = sources.item_units()
        for need in needs:
            sequence: int = (
                need.operation_sequence
                if need.operation_sequence is not None and need.operation_sequence in sequences
                else sequences[0]
            )
            quantity = (need.per_unit * Decimal(work_order.quantity)).quantize(Decimal("0.001"))
            result[(work_order.pk, sequence)].append(
                {
                    "sku": need.code,
                    "quantity": format(quantity.normalize(), "f"),
                    "unit": (units or {}).get(need.item, ""),
                }
            )
    return dict(result)
