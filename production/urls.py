from django.urls import path

from production.kpis import views as kpi_views
from production.materials import views as material_views
from production.scheduling import plan_views, quote_views, views
from production.supply_planning import views as supply_views
from production.travellers import views as traveller_views
from production.work_orders import exports

app_name = "production"

urlpatterns = [
    path("", views.planner, name="planner"),
    path("reschedule/", views.reschedule_now, name="reschedule"),
    path("objective/", views.objective_set, name="plan_objective"),
    path("work-orders/action/", views.work_order_action, name="work_order_action"),
    path("work-orders/<str:number>/panel/", plan_views.work_order_panel, name="work_order_panel"),
    path("operations/<int:pk>/pin/", plan_views.operation_pin_view, name="operation_pin"),
    path("pins/<int:pk>/unpin/", plan_views.operation_unpin_view, name="operation_unpin"),
    path("release/", plan_views.release_selected, name="release_selected"),
    path("dispositions/<int:pk>/decide/", views.disposition_decide, name="disposition_decide"),
    path("orders/<str:number>/priority/", views.order_priority, name="order_priority"),
    path("quote/", quote_views.order_form_quote, name="order_form_quote"),
    path("work-orders/export.<slug:fmt>", exports.work_orders_export, name="work_orders_export"),
    path(
        "travellers/work-orders/<str:number>/",
        traveller_views.work_order_traveller,
        name="work_order_traveller",
    ),
    path("travellers/orders/<str:number>/", traveller_views.order_traveller, name="order_traveller"),
    path("travellers/shift/", traveller_views.shift_print, name="shift_travellers"),
    path("kpis/", kpi_views.dashboard, name="kpi_dashboard"),
    path("kpis/tables/<slug:key>.<slug:fmt>", kpi_views.table_download, name="kpi_table"),
    path("supply/shortages/", supply_views.shortages, name="shortages"),
    path("supply/suggestions/", supply_views.suggestions, name="purchase_suggestions"),
    path("supply/suggestions.xlsx", supply_views.suggestions_export, name="purchase_suggestions_export"),
    path("supply/suggestions/order/", supply_views.suggestion_to_order, name="purchase_suggestion_order"),
    path("materials/", material_views.item_list, name="material_items"),
    path("materials/items/<int:pk>/", material_views.item_detail, name="material_item"),
    path("materials/items/<int:pk>/new-bom/", material_views.bom_new_version, name="material_bom_new"),
    path("materials/boms/<int:pk>/", material_views.bom_version, name="material_bom_version"),
    path("materials/boms/<int:pk>/lines/", material_views.bom_line, name="material_bom_line_add"),
    path("materials/boms/<int:pk>/lines/<int:line_pk>/", material_views.bom_line, name="material_bom_line"),
    path(
        "materials/boms/<int:pk>/lines/<int:line_pk>/remove/",
        material_views.bom_line_remove,
        name="material_bom_line_remove",
    ),
    path("materials/stock/", material_views.stock_page, name="material_stock"),
    path("materials/supply/", material_views.supply_page, name="material_supply"),
    path("materials/supply/lines/<int:pk>/receive/", material_views.receive, name="material_receive"),
    path("materials/import/", material_views.import_page, name="material_import"),
    path(
        "materials/import/<slug:kind>.<slug:fmt>",
        material_views.import_template,
        name="material_import_template",
    ),
]
