from django.urls import path

from orders.imports import views as transfer_views
from orders.sales import list_views, views

app_name = "orders"

urlpatterns = [
    path("", views.order_list, name="order_list"),
    path("new/", views.order_create, name="order_create"),
    path("lines/spec-fields/", views.line_spec_fields, name="line_spec_fields"),
    path("lines/new-row/", views.line_row, name="line_row"),
    path("export.<slug:fmt>", views.orders_export, name="orders_export"),
    path("bulk/", list_views.order_bulk, name="order_bulk"),
    path("saved-views/", list_views.saved_filter_create, name="saved_filter_create"),
    path("saved-views/<int:pk>/delete/", list_views.saved_filter_remove, name="saved_filter_remove"),
    path("import/", transfer_views.import_upload, name="import_upload"),
    path("import/template.<slug:fmt>", transfer_views.import_template, name="import_template"),
    path("import/<int:pk>/", transfer_views.import_job, name="import_job"),
    path("import/<int:pk>/commit/", transfer_views.import_commit, name="import_commit"),
    path("import/<int:pk>/retry/", transfer_views.import_retry, name="import_retry"),
    path(
        "import/<int:pk>/confirm-orders/", transfer_views.import_confirm_orders, name="import_confirm_orders"
    ),
    path("<str:number>/", views.order_detail, name="order_detail"),
    path("<str:number>/edit/", views.order_edit, name="order_edit"),
    path("<str:number>/actions/<slug:action>/", views.order_transition, name="order_transition"),
    path("<str:number>/override/<slug:action>/", views.order_override, name="order_override"),
]
