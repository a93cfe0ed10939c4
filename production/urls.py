from django.urls import path

from production.kpis import views as kpi_views
from production.scheduling import plan_views, quote_views, views
from production.work_orders import exports

app_name = "production"

urlpatterns = [
    path("", views.planner, name="planner"),
    path("reschedule/", views.reschedule_now, name="reschedule"),
    path("work-orders/action/", views.work_order_action, name="work_order_action"),
    path("work-orders/<str:number>/panel/", plan_views.work_order_panel, name="work_order_panel"),
    path("operations/<int:pk>/pin/", plan_views.operation_pin_view, name="operation_pin"),
    path("pins/<int:pk>/unpin/", plan_views.operation_unpin_view, name="operation_unpin"),
    path("release/", plan_views.release_selected, name="release_selected"),
    path("dispositions/<int:pk>/decide/", views.disposition_decide, name="disposition_decide"),
    path("orders/<str:number>/priority/", views.order_priority, name="order_priority"),
    path("quote/", quote_views.order_form_quote, name="order_form_quote"),
    path("work-orders/export.<slug:fmt>", exports.work_orders_export, name="work_orders_export"),
    path("kpis/", kpi_views.dashboard, name="kpi_dashboard"),
    path("kpis/tables/<slug:key>.<slug:fmt>", kpi_views.table_download, name="kpi_table"),
]
