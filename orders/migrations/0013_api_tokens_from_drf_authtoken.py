"""DRF authtoken keys (plain text, never expiring) become hashed OrderBridge tokens with an expiry.

The old key keeps working (the new authentication accepts `Token <key>` and hashes it), until it expires
after ORDERBRIDGE_API_TOKEN_DAYS; its plain copy is then deleted from authtoken_token.
"""

import datetime as dt
import hashlib

from django.conf import settings
from django.db import migrations
from django.utils import timezone

OLD_TABLE = "authtoken_token"


def forwards(apps, schema_editor):
    connection = schema_editor.connection
    if OLD_TABLE not in connection.introspection.table_names():
        return
    ApiToken = apps.get_model("orders", "ApiToken")
    expires_at = timezone.now() + dt.timedelta(days=settings.ORDERBRIDGE_API_TOKEN_DAYS)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT key, user_id, created FROM {OLD_TABLE}")  # noqa: S608 (a constant)
        rows = cursor.fetchall()
        for key, user_id, created in rows:
            ApiToken.objects.get_or_create(
                key_hash=hashlib.sha256(key.encode()).hexdigest(),
                defaults={
                    "user_id": user_id,
                    "name": "DRF token (migrated)",
                    "prefix": key[:8],
                    "created_at": created,
                    "expires_at": expires_at,
                },
            )
        cursor.execute(f"DELETE FROM {OLD_TABLE}")  # noqa: S608


class Migration(migrations.Migration):
    dependencies = [("orders", "0012_api_tokens")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
