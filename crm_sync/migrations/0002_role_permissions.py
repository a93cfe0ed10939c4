from django.db import migrations

from orders.roles import grant

ROLE_PERMISSIONS = {
    "planner": ["crm_sync.view_outboxevent"],
    "production_manager": ["crm_sync.view_outboxevent"],
    "customer_service": ["crm_sync.view_outboxevent"],
}


def forwards(apps, schema_editor):
    grant(apps, ROLE_PERMISSIONS)


class Migration(migrations.Migration):
    dependencies = [("crm_sync", "0001_initial"), ("orders", "0002_role_groups")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
