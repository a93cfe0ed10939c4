from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ProductionConfig(AppConfig):
    name = "production"
    verbose_name = _("Production")

    def ready(self) -> None:
        from orders import events

        from .services import on_order_event

        # Work orders follow their order inside the order's own transaction (see production.services).
        events.subscribe(on_order_event)

        from orders.change_requests import register_impact_provider

        from .changes import analyse_change

        # Change requests show approvers what they would do to work under way (production/changes.py).
        register_impact_provider(analyse_change)
