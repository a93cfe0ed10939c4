from django.urls import path

from . import views

app_name = "production"

urlpatterns = [
    path("", views.planner, name="planner"),
    path("reschedule/", views.reschedule_now, name="reschedule"),
    path("work-orders/action/", views.work_order_action, name="work_order_action"),
]
