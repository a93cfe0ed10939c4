from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ProductionConfig(AppConfig):
    name = "production"
    verbose_name = _("Production")

    def ready(self) -> None:
        from orders import events

        from .demo import register_demo
        from .services import on_order_event

        # Work orders follow their order inside the order's own transaction (see production.services).
        events.subscribe(on_order_event)
        # `manage.py setup_demo` (orders) gets production's master data, shop floor and plan.
        register_demo()
