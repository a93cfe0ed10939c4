from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ProductionConfig(AppConfig):
    name = "production"
    verbose_name = _("Production")

    def ready(self) -> None:
        from config.kernel import subscribe
        from config.kernel.events import (
            OrderCancelled,
            OrderChangeApplied,
            ProgressReported,
            WorkOrderCancelled,
            WorkOrdersCreated,
        )
        from orders import panels, providers
        from orders.change_requests import register_impact_provider
        from production import (
            customer_service,
            master_data,
            materials,
            tasks,  # noqa: F401 - registers the reschedule task (see the end)
            work_orders,
        )
        from production.changes import analyse_change, follow_change_request
        from production.demo import register_demo
        from production.panels import work_orders_panel

        # Work orders follow their order inside the order's own transaction (work_orders.following); an
        # applied change request is followed case by case (production.changes).
        subscribe(
            work_orders.on_order_released,
            to=work_orders.FOLLOWED_EVENTS["released"],
            bulk=work_orders.on_orders_released,
        )
        subscribe(
            work_orders.on_order_held_resumed_or_cancelled,
            to=work_orders.FOLLOWED_EVENTS["held_resumed_cancelled"],
        )
        subscribe(work_orders.on_order_replan, to=work_orders.FOLLOWED_EVENTS["replan"])
        subscribe(follow_change_request, to=(OrderChangeApplied,))
        # Materials follow work orders: reserved when made at a release, backflushed with progress reports,
        # let go when cancelled (production.materials.consumption).
        subscribe(
            materials.on_work_orders_created,
            to=(WorkOrdersCreated,),
            bulk=materials.on_work_orders_created_many,
        )
        subscribe(materials.on_progress_reported, to=(ProgressReported,))
        subscribe(materials.on_work_order_cancelled, to=(WorkOrderCancelled,))
        subscribe(materials.on_order_cancelled, to=(OrderCancelled,))
        # Master data sits below work orders: what its writes need of them, handed down here.
        master_data.work_orders_hooks(
            master_data.WorkOrderHooks(
                open_operations=work_orders.open_operations,
                routing_arrived=work_orders.work_orders_take_routing,
            )
        )
        # What customer service sees of production: progress, projection, lot search, the order's summary.
        providers.register_progress(customer_service.orders_progress)
        providers.register_search(customer_service.search)
        providers.register_at_risk(customer_service.at_risk)
        # The order's door asks whether its work earns a start or a completion (orders.sales.overrides).
        providers.register_work(work_orders.order_work)
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
        # Change requests show approvers what they would do to work under way (production.changes).
        register_impact_provider(analyse_change)
        # `manage.py setup_demo` (orders) gets production's master data, shop floor and plan.
        register_demo()
        # Materials' demo after production's (its BOM lines name the routings' operations).
        materials.register_demo()
        # Importing production.tasks above registers the reschedule task in every process, not only in workers
        # (which discover it), so replanning's enqueue by name reaches the task itself (eager mode in tests).
