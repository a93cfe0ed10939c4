"""Materials: items (物料) and their multi-level, versioned bills of materials; stock on hand per item and
location (a movements ledger with a cached level); expected supply (purchase orders); reservations (for
released work orders, or quote holds with an expiry).

Depends on master_data (the consuming routing operation of a BOM line) and work orders (reservations at
release, backflush with progress reports); the planner, MRP and promises sit above it and read it through
this face: `explode_bom`/`BomBook` for requirements, `on_hand`, `open_supply`, `reserved`, `available`,
`active_reservations` for what there is and what is coming.
"""

from production.materials.boms import (
    BomBook,
    Requirement,
    bom_in_force,
    explode_bom,
    item_for_product,
    leaf_requirements,
)
from production.materials.models import (
    MADE_KINDS,
    OPEN_PURCHASE_STATUSES,
    PURCHASED_KINDS,
    Bom,
    BomLine,
    BomLineVariant,
    Item,
    ItemKind,
    Location,
    MovementKind,
    PurchaseOrder,
    PurchaseOrderLine,
    PurchaseOrderStatus,
    Reservation,
    ReservationState,
    StockLevel,
    StockMovement,
)
from production.materials.selectors import (
    SupplyLine,
    active_reservations,
    available,
    item_boms,
    items,
    on_hand,
    open_supply,
    purchase_orders,
    reserved,
    stock_levels,
    stock_movements,
)

__all__ = [
    "MADE_KINDS",
    "OPEN_PURCHASE_STATUSES",
    "PURCHASED_KINDS",
    "Bom",
    "BomBook",
    "BomLine",
    "BomLineVariant",
    "Item",
    "ItemKind",
    "Location",
    "MovementKind",
    "PurchaseOrder",
    "PurchaseOrderLine",
    "PurchaseOrderStatus",
    "Requirement",
    "Reservation",
    "ReservationState",
    "StockLevel",
    "StockMovement",
    "SupplyLine",
    "active_reservations",
    "available",
    "bom_in_force",
    "explode_bom",
    "item_boms",
    "item_for_product",
    "items",
    "leaf_requirements",
    "on_hand",
    "open_supply",
    "purchase_orders",
    "reserved",
    "stock_levels",
    "stock_movements",
]
