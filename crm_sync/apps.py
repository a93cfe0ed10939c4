from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CrmSyncConfig(AppConfig):
    name = "crm_sync"
    verbose_name = _("Integration")

    def ready(self) -> None:
        from config.kernel import bus as events
        from crm_sync.outbox import SYNC_HEALTH_SECTION, outbox_record_order_event, outbox_record_order_events
        from crm_sync.views import order_panel_context
        from orders import panels
        from production.kpis import services as kpis

        events.subscribe(outbox_record_order_event, bulk=outbox_record_order_events)
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
