from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ProductionConfig(AppConfig):
    name = "production"
    verbose_name = _("Production")

    def ready(self) -> None:
        from orders import events, panels

        from .panels import work_orders_panel
        from .services import on_order_event

        # Work orders follow their order inside the order's own transaction (see production.services).
        events.subscribe(on_order_event)
        panels.register(
            panels.OrderPanel(
                key="work-orders",
                template="production/panels/work_orders.html",
                context=work_orders_panel,
                column="main",
                order=20,
            )
        )
