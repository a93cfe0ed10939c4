"""Trigram indexes for the order list's search box (contains-search on number, CRM id, customer PO).

PostgreSQL only (pg_trgm): `icontains` is `UPPER(col::text) LIKE UPPER('%…%')`, which a B-tree cannot
serve; these GIN indexes on the same expression can. Where the extension cannot be created (no
privilege), the search still works, by reading the table, and the migration says so.
"""

import logging

from django.db import DatabaseError, migrations, transaction

log = logging.getLogger(__name__)

COLUMNS = ("number", "crm_id", "customer_po")


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    try:
        with transaction.atomic(using=schema_editor.connection.alias):
            schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    except DatabaseError as exc:
        log.warning("pg_trgm not available (%s): the order search reads the table", exc)
        return
    for column in COLUMNS:
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS order_{column}_trgm_idx ON orders_salesorder "
            f'USING gin ((UPPER("{column}"::text)) gin_trgm_ops)'
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for column in COLUMNS:
        schema_editor.execute(f"DROP INDEX IF EXISTS order_{column}_trgm_idx")


class Migration(migrations.Migration):
    dependencies = [("orders", "0014_saved_order_filters_and_partial_imports")]

    operations = [migrations.RunPython(create, drop)]
