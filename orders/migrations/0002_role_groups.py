"""Role groups with exactly the permissions each job needs. Later apps add theirs in their own migrations."""

from django.db import migrations

from orders.roles import ROLES, grant

ORDER_MODELS = ["customer", "customercontact", "productfamily", "product", "salesorder", "orderline"]
VIEW_ORDERS = [f"orders.view_{model}" for model in ORDER_MODELS]

ROLE_PERMISSIONS = {
    "sales": [
        *VIEW_ORDERS,
        "orders.add_salesorder",
        "orders.change_salesorder",
        "orders.add_orderline",
        "orders.change_orderline",
        "orders.delete_orderline",
        "orders.confirm_salesorder",
        "orders.hold_salesorder",
        "orders.cancel_salesorder",
        "orders.close_salesorder",
    ],
    "planner": [
        *VIEW_ORDERS,
        "orders.view_all_salesorders",
        "orders.release_salesorder",
        "orders.progress_salesorder",
        "orders.hold_salesorder",
    ],
    "production_manager": [
        *VIEW_ORDERS,
        "orders.view_all_salesorders",
        "orders.release_salesorder",
        "orders.progress_salesorder",
        "orders.hold_salesorder",
        "orders.ship_salesorder",
        "orders.cancel_salesorder",
        "orders.cancel_released_salesorder",
    ],
    "customer_service": [
        *VIEW_ORDERS,
        "orders.view_all_salesorders",
    ],
}


def forwards(apps, schema_editor):
    grant(apps, ROLE_PERMISSIONS)


def backwards(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=ROLES).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("orders", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]
    operations = [migrations.RunPython(forwards, backwards)]
