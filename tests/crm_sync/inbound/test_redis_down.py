"""The CRM hook accepts and stores while the shared cache (Redis) is unreachable; the stored message is
processed once the workers run again (the relay sweep finds it)."""

from __future__ import annotations

import socket

import pytest
from django.core.cache import cache

from crm_sync import inbound
from crm_sync.models import ExternalSystem, InboundMessage
from orders.models import SalesOrder
from tests.crm_sync.factories import ExternalSystemFactory
from tests.crm_sync.helpers import post_hook
from tests.factories import CustomerFactory, ProductFactory, UserFactory, in_days, valid_spec

pytestmark = pytest.mark.django_db


def closed_port() -> int:
    """A port nothing listens on: bound, then released."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def redis_down(settings):
    reachable = settings.CACHES
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{closed_port()}/0",
        }
    }
    with pytest.raises(Exception):  # noqa: B017 - any client error proves the cache is unreachable
        cache.get("anything")

    def redis_returns() -> None:
        settings.CACHES = reachable

    yield redis_returns
    redis_returns()  # the suite's own teardown clears the cache


def created(crm_id: str) -> dict:
    return {
        "type": "order.created",
        "subject": crm_id,
        "sequence": 1,
        "data": {
            "crm_id": crm_id,
            "customer_crm_id": "ACME-1",
            "requested_date": in_days(20).isoformat(),
            "promised_date": in_days(25).isoformat(),
            "lines": [{"line_no": 1, "sku": "PANEL-1", "quantity": "2", "spec_values": valid_spec()}],
        },
    }


@pytest.fixture
def crm_system(db):
    CustomerFactory(crm_id="ACME-1")
    ProductFactory(sku="PANEL-1")
    return ExternalSystemFactory(
        slug="crm", kind=ExternalSystem.Kind.CRM, service_user=UserFactory(role="admin")
    )


def test_it_accepts_and_stores_a_crm_message_while_redis_is_unreachable(client, crm_system, redis_down):
    response = post_hook(client, "/hooks/crm/", created("CRM-R1"), msg_id="msg-redis-down-1")

    assert response.status_code == 202
    stored = InboundMessage.objects.get(message_id="msg-redis-down-1")
    assert stored.system == crm_system
    assert stored.state == InboundMessage.State.RECEIVED


def test_a_message_stored_while_redis_was_down_is_processed_when_the_workers_pick_it_up(
    client, crm_system, redis_down
):
    post_hook(client, "/hooks/crm/", created("CRM-R2"), msg_id="msg-redis-down-2")
    redis_down()  # Redis is back

    # The relay's pick-up (its task was never published): every stored, unprocessed message is due.
    for pk in inbound.inbound_due(grace_seconds=0):
        inbound.inbound_process(message_pk=pk)

    assert InboundMessage.objects.get(message_id="msg-redis-down-2").state == InboundMessage.State.PROCESSED
    assert SalesOrder.objects.filter(crm_id="CRM-R2").exists()
