from django.urls import path

from . import views

app_name = "crm_sync"

urlpatterns = [
    path("<slug:system>/inbound/", views.inbound_webhook, name="inbound"),
]
