from django.db import migrations

from orders.roles import grant

# Plant-side roles may look at the sync state (which order is stuck where); only admins change it.
VIEW = [
    "crm_sync.view_externalsystem",
    "crm_sync.view_delivery",
    "crm_sync.view_deliveryattempt",
    "crm_sync.view_inboundmessage",
]
ROLE_PERMISSIONS = {"planner": VIEW, "production_manager": VIEW, "customer_service": VIEW}


def forwards(apps, schema_editor):
    grant(apps, ROLE_PERMISSIONS)


class Migration(migrations.Migration):
    dependencies = [("crm_sync", "0003_delivery"), ("orders", "0002_role_groups")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
