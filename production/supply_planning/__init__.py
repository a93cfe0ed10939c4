"""Supply planning: promises that count materials, shortages, purchase suggestions (MRP).

- The delivery-date quote asks `material_ready` when each line's material is there (BOM exploded with
  the line's spec values) (and may hold it for
  the quote, under per-item advisory locks) and `binding_constraint` what sets its date.
- The scheduler asks `release_minutes` for each work order's material-ready time (its release);
  `shortages_refresh` keeps the shortage list and raises a production exception for a new shortage, once.
- `purchase_suggestions` nets gross requirements against stock and supply; `suggestion_order` makes a
  purchase order of one; `operation_materials` is what the MES message carries per operation
  (`explosions_held`: one BOM read for a batch of them).

Reads materials through its face (production.materials) and the plan's model module; the planner's quote
and problem building call it (it never imports production.scheduling's face).
"""

from production.supply_planning.b2mml import OperationMaterial, operation_materials
from production.supply_planning.holds import holds_expire
from production.supply_planning.models import Shortage
from production.supply_planning.mrp import purchase_suggestions, suggestion_order
from production.supply_planning.netting import ItemPolicy, NettingInput, Suggestion, net_requirements
from production.supply_planning.policies import (
    HOLD_MATERIAL,
    ORDER_SUGGESTION,
    VIEW_SHORTAGES,
    VIEW_SUGGESTIONS,
)
from production.supply_planning.promise import (
    HoldRequest,
    LineMaterial,
    QuoteMaterialLine,
    binding_constraint,
    lock_items,
    material_ready,
)
from production.supply_planning.shortages import material_availability, release_minutes, shortages_refresh
from production.supply_planning.sources import explosions_held
from production.supply_planning.timeline import Supply, Timeline

__all__ = [
    "HOLD_MATERIAL",
    "ORDER_SUGGESTION",
    "VIEW_SHORTAGES",
    "VIEW_SUGGESTIONS",
    "HoldRequest",
    "ItemPolicy",
    "LineMaterial",
    "NettingInput",
    "OperationMaterial",
    "QuoteMaterialLine",
    "Shortage",
    "Suggestion",
    "Supply",
    "Timeline",
    "binding_constraint",
    "explosions_held",
    "holds_expire",
    "lock_items",
    "material_availability",
    "material_ready",
    "net_requirements",
    "operation_materials",
    "purchase_suggestions",
    "release_minutes",
    "shortages_refresh",
    "suggestion_order",
]
