from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ProductionConfig(AppConfig):
    name = "production"
    verbose_name = _("Production")

    def ready(self) -> None:
        from config.kernel import bus as events
        from orders import panels, providers
        from production.demo import register_demo
        from production.work_orders import customer_service
        from production.work_orders.panels import work_orders_panel
        from production.work_orders.services import on_order_event

        # Work orders follow their order inside the order's own transaction (see
        # production.work_orders.services).
        events.subscribe(on_order_event)
        # What customer service sees of production: progress, projection, lot search, the order's summary.
        providers.register_progress(customer_service.orders_progress)
        providers.register_search(customer_service.search)
        providers.register_at_risk(customer_service.at_risk)
        panels.register(
            panels.OrderPanel(
                key="at-a-glance",
                template="production/partials/at_a_glance.html",
                context=customer_service.at_a_glance,
                column="main",
                order=5,
            )
        )
        panels.register(
            panels.OrderPanel(
                key="work-orders",
                template="production/panels/work_orders.html",
                context=work_orders_panel,
                column="main",
                order=20,
            )
        )

        from orders.change_requests import register_impact_provider
        from production.changes import analyse_change

        # Change requests show approvers what they would do to work under way (production.changes).
        register_impact_provider(analyse_change)
        # `manage.py setup_demo` (orders) gets production's master data, shop floor and plan.
        register_demo()
