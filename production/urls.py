from django.urls import path

from . import quote_views, views

app_name = "production"

urlpatterns = [
    path("", views.planner, name="planner"),
    path("reschedule/", views.reschedule_now, name="reschedule"),
    path("work-orders/action/", views.work_order_action, name="work_order_action"),
    path("orders/<str:number>/priority/", views.order_priority, name="order_priority"),
    path("quote/", quote_views.order_form_quote, name="order_form_quote"),
]
