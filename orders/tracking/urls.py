"""Public URLs: the customer's tracking page. Each view is marked login_not_required (no account needed)."""

from django.urls import path

from orders.tracking import views as tracking_views

app_name = "tracking"

urlpatterns = [
    path("<str:token>/", tracking_views.track, name="track"),
    path("<str:token>/rating/", tracking_views.rate, name="rate"),
]
