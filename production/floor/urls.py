from django.urls import path

from production.floor import views

app_name = "floor"

# /floor/operations/<pk>/ is the traveller's QR code target: keep this path and name.
urlpatterns = [
    path("", views.home, name="home"),
    path("sign-in/", views.sign_in, name="sign_in"),
    path("switch/", views.switch_operator, name="switch"),
    path("operations/<int:pk>/", views.operation, name="operation"),
    path("api/reports/", views.report, name="report"),
    path("sw.js", views.service_worker, name="service_worker"),
    # What the service worker shows for a floor page this phone never opened, while offline.
    path("offline/", views.offline, name="offline"),
]
