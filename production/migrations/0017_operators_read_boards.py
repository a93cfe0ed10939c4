"""Operators read the shop-floor boards of their plant: the board's permission, and sight of the work of
every order (a board shows all the work of a work center, whoever sold it; operators still open no order
page: they lack orders.view_salesorder)."""

from django.db import migrations

from orders.roles import grant

ROLE_PERMISSIONS = {"operator": ["production.view_board", "orders.view_all_salesorders"]}


def grant_permissions(apps, schema_editor):
    grant(apps, ROLE_PERMISSIONS)


class Migration(migrations.Migration):
    dependencies = [
        ("production", "0016_plants_and_shop_floor"),
        ("orders", "0018_sales_order_promised_time"),
    ]

    operations = [migrations.RunPython(grant_permissions, migrations.RunPython.noop)]
