from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CrmSyncConfig(AppConfig):
    name = "crm_sync"
    verbose_name = _("Integration")

    def ready(self) -> None:
        from orders import events, panels
        from production import kpis

        from .kpis import PROVIDER
        from .services import outbox_record_order_event, outbox_record_order_events
        from .views import order_panel_context

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
        kpis.register(PROVIDER)
