"""Planners and production managers may change the priority of any open order, also after release."""

from django.db import migrations

from orders.roles import grant

ROLE_PERMISSIONS = {
    "planner": ["orders.prioritise_salesorder"],
    "production_manager": ["orders.prioritise_salesorder"],
}


def forwards(apps, schema_editor):
    grant(apps, ROLE_PERMISSIONS)


def backwards(apps, schema_editor):
    Permission = apps.get_model("auth", "Permission")
    for group in apps.get_model("auth", "Group").objects.filter(name__in=ROLE_PERMISSIONS):
        group.permissions.remove(*Permission.objects.filter(codename="prioritise_salesorder"))


class Migration(migrations.Migration):
    dependencies = [
        ("orders", "0003_history_reason_text"),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="salesorder",
            options={
                "ordering": ["-created_at", "-id"],
                "permissions": [
                    ("view_all_salesorders", "Can view every sales order"),
                    ("edit_any_salesorder", "Can edit any sales order, not only own"),
                    ("confirm_salesorder", "Can confirm sales orders"),
                    ("release_salesorder", "Can release sales orders to production"),
                    ("progress_salesorder", "Can record production progress of sales orders"),
                    ("ship_salesorder", "Can ship sales orders"),
                    ("close_salesorder", "Can close sales orders"),
                    ("hold_salesorder", "Can hold and resume sales orders"),
                    ("cancel_salesorder", "Can cancel sales orders"),
                    ("cancel_released_salesorder", "Can cancel sales orders already released to production"),
                    ("prioritise_salesorder", "Can change the priority of any open order"),
                ],
                "verbose_name": "sales order",
                "verbose_name_plural": "sales orders",
            },
        ),
        migrations.RunPython(forwards, backwards),
    ]
