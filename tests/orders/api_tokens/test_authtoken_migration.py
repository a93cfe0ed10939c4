"""DRF authtoken keys from before become hashed, expiring tokens that still work; the plain copies go."""

import hashlib
import importlib

import pytest
from django.apps import apps
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from orders.models import ApiToken
from tests.services import require_postgresql

pytestmark = pytest.mark.django_db

migration = importlib.import_module("orders.migrations.0013_api_tokens_from_drf_authtoken")
OLD_KEY = "0123456789abcdef0123456789abcdef01234567"


def test_an_old_drf_token_keeps_working_hashed_with_an_expiry_and_its_plain_copy_is_deleted(sales, settings):
    require_postgresql()  # the old table is made in the test's transaction: SQLite's schema editor cannot
    settings.ORDERBRIDGE_API_TOKEN_DAYS = 30
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TABLE authtoken_token (key varchar(40) PRIMARY KEY, created timestamptz, user_id integer)"
        )
        cursor.execute("INSERT INTO authtoken_token VALUES (%s, %s, %s)", [OLD_KEY, timezone.now(), sales.pk])

    with connection.schema_editor() as schema_editor:
        migration.forwards(apps, schema_editor)

    token = ApiToken.objects.get(user=sales)
    assert token.key_hash == hashlib.sha256(OLD_KEY.encode()).hexdigest()
    assert token.prefix == OLD_KEY[:8]
    assert 29 <= (token.expires_at - timezone.now()).days <= 30
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM authtoken_token")
        assert cursor.fetchone()[0] == 0
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {OLD_KEY}")
    assert client.get("/api/v1/orders/").status_code == 200
