from django.urls import path

from orders.service_desk import views as service_views
from orders.tracking import views as tracking_views

app_name = "service"

urlpatterns = [
    path("", service_views.desk, name="desk"),
    path("orders/<str:number>/tracking-links/", tracking_views.link_create, name="tracking_link_create"),
    path(
        "orders/<str:number>/tracking-links/<int:link_id>/revoke/",
        tracking_views.link_revoke,
        name="tracking_link_revoke",
    ),
]
