from django.db import migrations

from orders.roles import grant

# The buyer (purchasing) sees materials, buys and receives; planners and managers see materials and keep
# BOMs; managers also move stock. Sales and customer service get nothing here (deny by default).
ROLE_PERMISSIONS = {
    "purchasing": [
        "production.view_materials",
        "production.manage_purchasing",
        "production.manage_stock",
    ],
    "planner": ["production.view_materials", "production.manage_materials"],
    "production_manager": [
        "production.view_materials",
        "production.manage_materials",
        "production.manage_stock",
    ],
}


def grant_materials(apps, schema_editor):
    grant(apps, ROLE_PERMISSIONS)


class Migration(migrations.Migration):
    dependencies = [
        ("production", "0011_materials"),
        ("orders", "0002_role_groups"),
    ]

    operations = [migrations.RunPython(grant_materials, migrations.RunPython.noop)]
