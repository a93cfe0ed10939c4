from django.urls import path

from orders.notifications import views as notification_views

app_name = "notifications"

urlpatterns = [
    path("", notification_views.inbox, name="inbox"),
    path("badge/", notification_views.badge, name="badge"),
    path("read-all/", notification_views.mark_all_read, name="mark_all_read"),
    path("settings/", notification_views.preferences, name="preferences"),
    path("<int:notification_id>/open/", notification_views.open_notification, name="open"),
]
