"""Planners and production managers run production; customer service and sales read it."""

from django.db import migrations

from orders.roles import grant

MODELS = [
    "workcenter",
    "shift",
    "calendarexception",
    "routing",
    "operation",
    "workorder",
    "workorderoperation",
    "progressreport",
    "productionexception",
    "lot",
    "qualityinspection",
    "schedule",
]
VIEW = [f"production.view_{model}" for model in MODELS]
MANAGE = [
    *VIEW,
    *(f"production.{action}_{model}" for model in MODELS for action in ("add", "change")),
    "production.release_workorder",
    "production.progress_workorder",
    "production.hold_workorder",
    "production.cancel_workorder",
    "production.run_schedule",
    "production.quote_promise",
]
ROLE_PERMISSIONS = {
    "planner": MANAGE,
    "production_manager": MANAGE,
    "customer_service": [*VIEW, "production.quote_promise"],
    "sales": [*VIEW, "production.quote_promise"],
}


def forwards(apps, schema_editor):
    grant(apps, ROLE_PERMISSIONS)


def backwards(apps, schema_editor):
    Permission = apps.get_model("auth", "Permission")
    for group in apps.get_model("auth", "Group").objects.filter(name__in=ROLE_PERMISSIONS):
        group.permissions.remove(*Permission.objects.filter(content_type__app_label="production"))


class Migration(migrations.Migration):
    dependencies = [
        ("production", "0001_initial"),
        ("orders", "0002_role_groups"),
    ]
    operations = [migrations.RunPython(forwards, backwards)]
