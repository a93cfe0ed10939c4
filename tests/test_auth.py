"""Deny by default, throttled logins, and an audit trail of logins and refusals."""

import logging

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_anonymous_users_are_sent_to_the_login_page(client):
    response = client.get("/orders/")
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_the_api_refuses_anonymous_requests(client):
    response = client.get("/api/v1/orders/")
    assert response.status_code in (401, 403)


def test_the_api_docs_need_a_login(client):
    assert client.get("/api/schema/").status_code in (401, 403)


def test_a_login_is_logged(client, sales, caplog):
    with caplog.at_level(logging.INFO, logger="orderbridge.security"):
        response = client.post(reverse("login"), {"username": "sally", "password": "pass-w0rd!"})
    assert response.status_code == 302
    assert "login user=sally" in caplog.text


def test_a_failed_login_is_logged(client, sales, caplog):
    with caplog.at_level(logging.INFO, logger="orderbridge.security"):
        client.post(reverse("login"), {"username": "sally", "password": "wrong"})
    assert "login_failed user=sally" in caplog.text


def test_repeated_failed_logins_lock_the_account_out(client, sales, settings):
    settings.AXES_ENABLED = True
    settings.AXES_FAILURE_LIMIT = 3
    for _ in range(3):
        client.post(reverse("login"), {"username": "sally", "password": "wrong"}, REMOTE_ADDR="10.0.0.9")
    response = client.post(
        reverse("login"), {"username": "sally", "password": "pass-w0rd!"}, REMOTE_ADDR="10.0.0.9"
    )
    assert response.status_code == 429
    assert not response.wsgi_request.user.is_authenticated


def test_a_refused_request_is_logged(client, service_agent, customer, caplog):
    client.force_login(service_agent)
    with caplog.at_level(logging.WARNING, logger="orderbridge.security"):
        response = client.post(
            "/api/v1/orders/", {"customer": customer.code, "lines": []}, content_type="application/json"
        )
    assert response.status_code == 403
    assert "refused method=POST path=/api/v1/orders/ user=cass" in caplog.text


def test_behind_a_proxy_the_lock_out_is_per_customer_address_not_per_proxy(client, sales, settings):
    settings.AXES_ENABLED = True
    settings.AXES_FAILURE_LIMIT = 3
    settings.TRUSTED_PROXY_COUNT = 1
    for _ in range(3):
        client.post(
            reverse("login"),
            {"username": "sally", "password": "wrong"},
            REMOTE_ADDR="10.0.0.2",
            HTTP_X_FORWARDED_FOR="203.0.113.7",
        )
    response = client.post(
        reverse("login"),
        {"username": "sally", "password": "pass-w0rd!"},
        REMOTE_ADDR="10.0.0.2",
        HTTP_X_FORWARDED_FOR="198.51.100.20",
    )
    assert response.status_code == 302
    assert response.wsgi_request.user.is_authenticated
