from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CrmSyncConfig(AppConfig):
    name = "crm_sync"
    verbose_name = _("Integration")

    def ready(self) -> None:
        from orders import events
        from production import kpis

        from .kpis import PROVIDER
        from .services import outbox_record_order_event

        events.subscribe(outbox_record_order_event)
        # The dashboard's sync-health section (production cannot import crm_sync).
        kpis.register(PROVIDER)
