from django.urls import path

from production.kpis import views as kpi_views
from production.scheduling import quote_views, views
from production.supply_planning import views as supply_views
from production.work_orders import exports

app_name = "production"

urlpatterns = [
    path("", views.planner, name="planner"),
    path("reschedule/", views.reschedule_now, name="reschedule"),
    path("work-orders/action/", views.work_order_action, name="work_order_action"),
    path("dispositions/<int:pk>/decide/", views.disposition_decide, name="disposition_decide"),
    path("orders/<str:number>/priority/", views.order_priority, name="order_priority"),
    path("quote/", quote_views.order_form_quote, name="order_form_quote"),
    path("work-orders/export.<slug:fmt>", exports.work_orders_export, name="work_orders_export"),
    path("kpis/", kpi_views.dashboard, name="kpi_dashboard"),
    path("kpis/tables/<slug:key>.<slug:fmt>", kpi_views.table_download, name="kpi_table"),
    path("supply/shortages/", supply_views.shortages, name="shortages"),
    path("supply/suggestions/", supply_views.suggestions, name="purchase_suggestions"),
    path("supply/suggestions.xlsx", supply_views.suggestions_export, name="purchase_suggestions_export"),
    path("supply/suggestions/order/", supply_views.suggestion_to_order, name="purchase_suggestion_order"),
]
