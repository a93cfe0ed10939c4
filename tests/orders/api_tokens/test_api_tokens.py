"""API tokens: each user creates, lists and revokes their own; only a hash is stored; expired or revoked
tokens get 401."""

import datetime as dt
import hashlib

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from orders.api_tokens import api_token_create, api_token_revoke
from orders.models import ApiToken

pytestmark = pytest.mark.django_db

ORDERS = "/api/v1/orders/"
PAGE = "/account/api-tokens/"


def bearer(secret: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client


def test_a_user_creates_a_token_and_sees_it_once(client, sales):
    client.force_login(sales)

    response = client.post(PAGE, {"name": "CRM integration", "days": "30"})

    assert response.status_code == 200
    secret = response.context["secret"]
    assert secret.startswith("ob_") and len(secret) > 40
    assert secret in response.content.decode()
    assert response["Cache-Control"] == "no-store"
    token = ApiToken.objects.get(user=sales)
    assert token.name == "CRM integration"
    assert token.expires_at.date() == (timezone.now() + dt.timedelta(days=30)).date()
    assert secret not in client.get(PAGE).content.decode()


def test_only_a_sha256_hash_of_the_secret_is_stored(sales):
    token, secret = api_token_create(user=sales, name="x")

    stored = ApiToken.objects.filter(pk=token.pk).values().get()
    assert secret not in [str(value) for value in stored.values()]
    assert stored["key_hash"] == hashlib.sha256(secret.encode()).hexdigest()
    assert secret.startswith(stored["prefix"])


def test_a_token_without_expiry_days_gets_the_configured_default(sales, settings):
    settings.ORDERBRIDGE_API_TOKEN_DAYS = 7

    token, _ = api_token_create(user=sales, name="x")

    assert token.expires_at - token.created_at == dt.timedelta(days=7)


def test_a_token_without_a_name_or_with_too_many_days_is_refused_with_field_errors(client, sales):
    client.force_login(sales)

    response = client.post(PAGE, {"name": " ", "days": "999"})

    assert response.status_code == 400
    assert set(response.context["form"].errors) == {"name", "days"}
    assert not ApiToken.objects.exists()


def test_the_list_shows_name_prefix_status_and_last_use(client, sales, other_sales):
    mine, secret = api_token_create(user=sales, name="Mine")
    api_token_create(user=other_sales, name="Not mine")
    bearer(secret).get(ORDERS)
    client.force_login(sales)

    page = client.get(PAGE).content.decode()

    assert "Mine" in page and mine.prefix in page and "active" in page
    assert "never" not in page
    assert "Not mine" not in page


def test_the_user_menu_links_to_the_tokens_page(client, planner):
    client.force_login(planner)

    assert PAGE in client.get(reverse("production:planner")).content.decode()


def test_a_token_authenticates_the_api_and_records_its_last_use(sales):
    token, secret = api_token_create(user=sales, name="x")

    response = bearer(secret).get(ORDERS)

    assert response.status_code == 200
    token.refresh_from_db()
    assert token.last_used_at is not None


def test_the_old_token_header_keyword_still_works(sales):
    _, secret = api_token_create(user=sales, name="x")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {secret}")

    assert client.get(ORDERS).status_code == 200


def test_an_expired_token_gets_401(sales):
    _, secret = api_token_create(user=sales, name="x", days=1)

    with time_machine.travel(timezone.now() + dt.timedelta(days=1, seconds=1)):
        response = bearer(secret).get(ORDERS)

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "authentication_failed"


def test_a_user_revokes_a_token_and_it_gets_401(client, sales):
    token, secret = api_token_create(user=sales, name="x")
    client.force_login(sales)

    response = client.post(reverse("api_tokens:revoke", args=[token.pk]))

    assert response.status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert bearer(secret).get(ORDERS).status_code == 401
    assert "revoked" in client.get(PAGE).content.decode()


def test_revoking_needs_a_post(client, sales):
    token, _ = api_token_create(user=sales, name="x")
    client.force_login(sales)

    assert client.get(reverse("api_tokens:revoke", args=[token.pk])).status_code == 405


def test_a_user_cannot_revoke_another_users_token(client, sales, other_sales):
    token, secret = api_token_create(user=other_sales, name="theirs")
    client.force_login(sales)

    client.post(reverse("api_tokens:revoke", args=[token.pk]))

    token.refresh_from_db()
    assert token.revoked_at is None
    assert bearer(secret).get(ORDERS).status_code == 200


def test_revoking_twice_keeps_the_first_revocation_time(sales):
    token, _ = api_token_create(user=sales, name="x")
    assert api_token_revoke(token=token, actor=sales) is True
    first = ApiToken.objects.get(pk=token.pk).revoked_at

    assert api_token_revoke(token=token, actor=sales) is False
    assert ApiToken.objects.get(pk=token.pk).revoked_at == first


def test_an_outsider_is_sent_to_the_login_page(client):
    response = client.get(PAGE)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_an_administrator_lists_and_revokes_any_token_in_the_admin(client, sales, admin_user):
    token, secret = api_token_create(user=sales, name="x")
    client.force_login(admin_user)
    url = reverse("admin:orders_apitoken_changelist")

    assert token.prefix in client.get(url).content.decode()
    client.post(url, {"action": "revoke", "_selected_action": [token.pk]})

    assert bearer(secret).get(ORDERS).status_code == 401
