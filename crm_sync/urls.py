from django.urls import path

from crm_sync import views

app_name = "crm_sync"

# Mounted under /api/v1/integration/: machine-to-machine.
urlpatterns = [
    path("<slug:system>/inbound/", views.inbound_webhook, name="inbound"),
]

# Mounted under /sync/: pages for people.
page_urlpatterns = (
    [
        path("health/", views.sync_health, name="health"),
        path("replay/", views.replay, name="replay"),
        path("deliveries/<int:pk>/attempts/", views.delivery_attempts, name="attempts"),
        path("drift/", views.drift_list, name="drift"),
        path("drift/reconcile/", views.reconcile_now, name="reconcile"),
        path("drift/<int:pk>/repair/", views.drift_repair, name="drift_repair"),
    ],
    "sync",
)

# Mounted under /hooks/: the CRM's and the MES's webhook addresses (aliases of the inbound endpoint).
hook_urlpatterns = (
    [
        path("crm/", views.kind_webhook, {"kind": "crm"}, name="crm"),
        path("mes/", views.kind_webhook, {"kind": "mes"}, name="mes"),
    ],
    "hooks",
)
