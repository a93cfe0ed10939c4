from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OrdersConfig(AppConfig):
    name = "orders"
    verbose_name = _("Orders")

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from config.auth import connect_signals
        from orders import signals  # noqa: F401  (login / failed-login audit log)
        from orders.roles import give_admin_every_permission

        # Runs after every app migrates, so permissions of apps added later reach the admin role too.
        post_migrate.connect(give_admin_every_permission, dispatch_uid="orders_admin_role")
        # Cached permission sets (config.auth) are dropped whenever groups or permissions change.
        connect_signals()

        from config.kernel import bus as events
        from orders import (
            notifications,
            panels,
            tasks,  # noqa: F401  (registers the tasks the services queue by name)
        )
        from orders.tracking.views import panel_context

        # Customer tracking links on the order page; in-app/email/chat notices from the order events.
        panels.register(
            panels.OrderPanel(
                key="tracking-link",
                template="tracking/panel.html",
                context=panel_context,
                column="side",
                order=50,
            )
        )
        events.subscribe(notifications.on_event, to=notifications.ROUTED_EVENTS)

        from orders.change_requests.views import register_panel

        # The order page lists the order's change requests and offers "request a change".
        register_panel()
