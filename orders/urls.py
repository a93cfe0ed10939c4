from django.urls import path

from . import views

app_name = "orders"

urlpatterns = [
    path("", views.order_list, name="order_list"),
    path("new/", views.order_create, name="order_create"),
    path("lines/spec-fields/", views.line_spec_fields, name="line_spec_fields"),
    path("lines/new-row/", views.line_row, name="line_row"),
    path("<str:number>/", views.order_detail, name="order_detail"),
    path("<str:number>/edit/", views.order_edit, name="order_edit"),
    path("<str:number>/actions/<slug:action>/", views.order_transition, name="order_transition"),
]
