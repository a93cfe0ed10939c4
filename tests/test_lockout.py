"""Login lock-out per address across user names (config/lockout.py), on top of per user name + address."""

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


@pytest.fixture
def lockout(settings):
    settings.AXES_ENABLED = True
    settings.AXES_FAILURE_LIMIT = 3
    settings.AXES_ADDRESS_FAILURE_LIMIT = 5


def spray(client, address: str, count: int) -> None:
    """One password tried against `count` different user names: never twice the same name."""
    for n in range(count):
        client.post(
            reverse("login"), {"username": f"user{n}", "password": "Summer2026!"}, REMOTE_ADDR=address
        )


def log_in(client, address: str):
    return client.post(reverse("login"), {"username": "sally", "password": "pass-w0rd!"}, REMOTE_ADDR=address)


def test_one_password_sprayed_across_user_names_locks_the_address_out(client, sales, lockout):
    spray(client, "10.0.0.5", 5)

    response = log_in(client, "10.0.0.5")

    assert response.status_code == 429
    assert not response.wsgi_request.user.is_authenticated


def test_below_the_address_limit_other_users_still_log_in_from_that_address(client, sales, lockout):
    spray(client, "10.0.0.5", 4)

    response = log_in(client, "10.0.0.5")

    assert response.status_code == 302
    assert response.wsgi_request.user.is_authenticated


def test_the_address_lock_out_does_not_touch_other_addresses(client, sales, lockout):
    spray(client, "10.0.0.5", 5)

    response = log_in(client, "10.0.0.6")

    assert response.status_code == 302
