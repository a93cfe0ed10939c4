"""Signed machine-to-machine endpoints (@machine_endpoint: the CRM's and the MES's webhooks) are answered
by config.middleware.MachineEndpointMiddleware without the pages' middleware, and still get what they need
of the door: the lookup guard, the sender's language, the API's error format."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from config.error_pages import MACHINE_PREFIXES
from crm_sync.models import ExternalSystem, InboundMessage
from tests.crm_sync.factories import ExternalSystemFactory
from tests.crm_sync.helpers import post_hook

pytestmark = pytest.mark.django_db

MESSAGE = {"type": "order.created", "subject": "CRM-1", "data": {"crm_id": "CRM-1"}}


def _views(patterns, prefix: str = "/") -> Iterator[tuple[str, object]]:
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _views(pattern.url_patterns, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            yield prefix + str(pattern.pattern), pattern.callback


@pytest.fixture
def crm(db):
    return ExternalSystemFactory(slug="crm", kind=ExternalSystem.Kind.CRM)


def test_every_machine_endpoint_lies_under_the_prefixes_the_middleware_looks_at():
    marked = [
        route for route, view in _views(get_resolver().url_patterns) if getattr(view, "machine_endpoint", 0)
    ]

    assert "/hooks/crm/" in marked
    assert [route for route in marked if not route.startswith(MACHINE_PREFIXES)] == []


def test_a_webhook_is_answered_without_a_session_a_user_or_a_cookie(client, crm):
    response = post_hook(client, "/hooks/crm/?system=crm", MESSAGE)

    assert response.status_code == 202
    assert not hasattr(response.wsgi_request, "session")
    assert not hasattr(response.wsgi_request, "user")
    assert response.cookies == {}
    assert "Cookie" not in response.get("Vary", "")
    assert int(response["Content-Length"]) == len(response.content)


def test_a_webhook_is_still_stored_before_it_is_answered(client, crm):
    response = post_hook(client, "/hooks/crm/?system=crm", MESSAGE, msg_id="msg-door-1")

    assert response.json() == {"id": "msg-door-1", "status": "accepted"}
    assert InboundMessage.objects.filter(system=crm, message_id="msg-door-1").count() == 1


def test_a_webhook_refusal_is_in_the_senders_language(client, crm):
    response = post_hook(client, "/hooks/crm/?system=crm", MESSAGE, secret="whsec_" + "A" * 32)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "zh-hans"
    in_chinese = post_hook(client, "/hooks/crm/?system=crm", MESSAGE, secret="whsec_" + "A" * 32)

    assert (response.status_code, in_chinese.status_code) == (401, 401)
    assert response.json()["error"]["message"] == "The signature is missing, wrong or expired."
    assert in_chinese.json()["error"]["message"] == "签名缺失、错误或已过期。"
    assert in_chinese["Content-Language"] == "zh-hans"
    assert "Accept-Language" in in_chinese["Vary"]


def test_a_nul_in_a_webhooks_query_string_is_refused_by_the_lookup_guard(client, crm):
    response = post_hook(client, "/hooks/crm/?system=c%00rm", MESSAGE)

    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {"system": ["Null characters are not allowed."]}
    assert not InboundMessage.objects.exists()


def test_a_get_on_a_webhook_goes_the_pages_way_and_is_not_allowed(client, crm):
    response = client.get("/hooks/crm/?system=crm")

    assert response.status_code == 405
