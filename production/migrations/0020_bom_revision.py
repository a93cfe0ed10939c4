"""BomRevision and the triggers that give it a new token on every write to items, BOMs, lines and variants.

Triggers rather than signals: bulk writes, queryset updates, imports and raw SQL send no signal, and a
cached explosion that outlived a BOM change would reserve and buy the wrong material."""

from django.db import migrations, models

# Table names come from the models, never from input: the f-strings below are ours alone.
# ruff: noqa: S608

WATCHED = ("Item", "Bom", "BomLine", "BomLineVariant")
FUNCTION = "production_bom_revision_bump"


def _tables(apps):
    revision = apps.get_model("production", "BomRevision")._meta.db_table
    watched = [apps.get_model("production", name)._meta.db_table for name in WATCHED]
    return revision, watched


def create_triggers(apps, schema_editor):
    revision, watched = _tables(apps)
    execute = schema_editor.execute
    if schema_editor.connection.vendor == "postgresql":
        execute(
            f"CREATE OR REPLACE FUNCTION {FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            f"INSERT INTO {revision} (id, token) VALUES (1, md5(random()::text || clock_timestamp()::text)) "
            "ON CONFLICT (id) DO UPDATE SET token = excluded.token; RETURN NULL; END $$"
        )
        for table in watched:
            # Once per statement (a bulk write bumps once), TRUNCATE included.
            execute(
                f"CREATE TRIGGER {table}_bom_revision AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table} "
                f"FOR EACH STATEMENT EXECUTE FUNCTION {FUNCTION}()"
            )
    elif schema_editor.connection.vendor == "sqlite":
        for table in watched:
            for event in ("INSERT", "UPDATE", "DELETE"):
                execute(
                    f"CREATE TRIGGER {table}_bom_revision_{event.lower()} AFTER {event} ON {table} BEGIN "
                    f"INSERT OR REPLACE INTO {revision} (id, token) VALUES (1, hex(randomblob(16))); END"
                )
    else:  # no triggers: explosions would be cached forever
        raise RuntimeError(
            f"BOM revision triggers are written for PostgreSQL and SQLite, not {schema_editor.connection.vendor}"
        )


def drop_triggers(apps, schema_editor):
    _, watched = _tables(apps)
    execute = schema_editor.execute
    if schema_editor.connection.vendor == "postgresql":
        for table in watched:
            execute(f"DROP TRIGGER IF EXISTS {table}_bom_revision ON {table}")
        execute(f"DROP FUNCTION IF EXISTS {FUNCTION}()")
    elif schema_editor.connection.vendor == "sqlite":
        for table in watched:
            for event in ("insert", "update", "delete"):
                execute(f"DROP TRIGGER IF EXISTS {table}_bom_revision_{event}")


class Migration(migrations.Migration):
    dependencies = [
        ("production", "0019_plan_objective"),
    ]

    operations = [
        migrations.CreateModel(
            name="BomRevision",
            fields=[
                ("id", models.PositiveSmallIntegerField(default=1, primary_key=True, serialize=False)),
                ("token", models.CharField(max_length=64)),
            ],
            options={
                "verbose_name": "BOM revision",
                "verbose_name_plural": "BOM revisions",
            },
        ),
        migrations.RunPython(create_triggers, drop_triggers),
    ]
