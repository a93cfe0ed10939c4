from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CrmSyncConfig(AppConfig):
    name = "crm_sync"
    verbose_name = _("Integration")

    def ready(self) -> None:
        from config.kernel import subscribe
        from config.kernel.events import EVENT_TYPES, ProgressReported, ProjectionChanged, WorkOrdersCreated
        from crm_sync import progress
        from crm_sync.outbox import (
            SYNC_HEALTH_SECTION,
            on_work_orders_created,
            outbox_record_order_event,
            outbox_record_order_events,
        )
        from crm_sync.views import order_panel_context
        from orders import panels
        from production import kpis

        # Every integration event gets its outbox row; the work orders production makes join the row of
        # the event that caused them, whichever of the two handlers runs first (crm_sync.outbox.work_orders).
        integration_events = tuple(cls for cls in EVENT_TYPES.values() if cls.integration)
        subscribe(outbox_record_order_event, to=integration_events, bulk=outbox_record_order_events)
        subscribe(on_work_orders_created, to=(WorkOrdersCreated,))
        # The CRM's progress is owed on each report and on a far-moved projection, and sent coalesced.
        subscribe(progress.on_progress_reported, to=(ProgressReported,))
        subscribe(
            progress.on_projection_changed, to=(ProjectionChanged,), bulk=progress.on_projections_changed
        )
        panels.register(
            panels.OrderPanel(
                key="sync-status",
                template="crm_sync/partials/order_panel.html",
                context=order_panel_context,
                column="side",
                order=50,
            )
        )
        # The dashboard's sync-health section (production cannot import crm_sync).
        kpis.register(SYNC_HEALTH_SECTION)
