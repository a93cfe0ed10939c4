"""Who may do what in supply planning (Django permissions on supply_planning's Shortage model)."""

VIEW_SHORTAGES = "production.view_shortage"
VIEW_SUGGESTIONS = "production.view_purchase_suggestions"
ORDER_SUGGESTION = "production.order_purchase_suggestion"
HOLD_MATERIAL = "production.hold_material"
