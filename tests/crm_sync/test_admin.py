"""The integration admin: secrets masked, dead letters visible, replay and pause through the services."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from crm_sync.models import Delivery, ExternalSystem, InboundMessage
from tests.crm_sync.factories import TEST_SECRET, ExternalSystemFactory
from tests.factories import make_order

pytestmark = pytest.mark.django_db

DELIVERIES = reverse("admin:crm_sync_delivery_changelist")
SYSTEMS = reverse("admin:crm_sync_externalsystem_changelist")


@pytest.fixture
def dead_letter():
    system = ExternalSystemFactory(name="CRM")
    make_order()
    Delivery.objects.filter(system=system).update(
        state=Delivery.State.DEAD, attempts=5, last_error="HTTP 500"
    )
    return Delivery.objects.get(system=system)


def test_the_systems_list_never_shows_a_secret_in_full(client, admin_user):
    ExternalSystemFactory(name="CRM", signing_secret=TEST_SECRET, bearer_token="tok-very-secret")
    client.force_login(admin_user)

    page = client.get(SYSTEMS).content.decode()

    assert "whsec_…LaSw" in page
    assert TEST_SECRET not in page
    assert "tok-very-secret" not in page


def test_the_edit_form_keeps_the_secret_when_left_blank(client, admin_user):
    system = ExternalSystemFactory(name="CRM", slug="crm", signing_secret=TEST_SECRET)
    client.force_login(admin_user)
    url = reverse("admin:crm_sync_externalsystem_change", args=[system.pk])

    page = client.get(url).content.decode()
    response = client.post(
        url,
        {
            "name": "CRM",
            "slug": "crm",
            "kind": "crm",
            "format": "json",
            "is_enabled": "on",
            "base_url": "http://127.0.0.1:8101",
            "events_path": "/events",
            "connect_timeout": "3",
            "read_timeout": "10",
            "bearer_token": "",
            "signing_secret": "",
            "event_types": "[]",
            "field_mapping": "{}",
        },
    )

    assert TEST_SECRET not in page
    assert response.status_code == 302
    assert ExternalSystem.objects.get(pk=system.pk).signing_secret == TEST_SECRET


def test_a_field_mapping_with_a_bad_rule_is_refused_by_the_form(client, admin_user):
    client.force_login(admin_user)

    response = client.post(
        reverse("admin:crm_sync_externalsystem_add"),
        {
            "name": "Acme",
            "slug": "acme",
            "kind": "crm",
            "format": "json",
            "base_url": "http://127.0.0.1:8101",
            "events_path": "/events",
            "connect_timeout": "3",
            "read_timeout": "10",
            "signing_secret": "not-a-secret",
            "event_types": "[]",
            "field_mapping": '{"outbound": {"state": {"map": {}}}}',
        },
    )

    assert response.status_code == 200
    assert "starts with whsec_" in response.content.decode()
    assert "outbound.state" in response.content.decode()
    assert not ExternalSystem.objects.filter(slug="acme").exists()


def test_dead_letters_are_listed_by_state(client, admin_user, dead_letter):
    client.force_login(admin_user)

    page = client.get(DELIVERIES, {"state__exact": "dead"}).content.decode()

    assert dead_letter.event.subject in page
    assert "HTTP 500" in page


def test_a_delivery_page_shows_its_payload(client, admin_user, dead_letter):
    client.force_login(admin_user)

    page = client.get(reverse("admin:crm_sync_delivery_change", args=[dead_letter.pk])).content.decode()

    assert "com.orderbridge.order.created" in page


def test_an_admin_replays_dead_letters_from_the_list(client, admin_user, dead_letter):
    client.force_login(admin_user)

    client.post(DELIVERIES, {"action": "replay", "_selected_action": [dead_letter.pk]})

    assert Delivery.objects.get(pk=dead_letter.pk).state == Delivery.State.PENDING


def test_a_staff_planner_sees_deliveries_but_cannot_replay_them(client, planner, dead_letter):
    planner.is_staff = True
    planner.save()
    client.force_login(planner)

    listing = client.get(DELIVERIES)
    client.post(DELIVERIES, {"action": "replay", "_selected_action": [dead_letter.pk]})

    assert listing.status_code == 200
    assert Delivery.objects.get(pk=dead_letter.pk).state == Delivery.State.DEAD


def test_an_outsider_cannot_see_deliveries(client, outsider, dead_letter):
    client.force_login(outsider)

    response = client.get(DELIVERIES)

    assert response.status_code in (302, 403)
    assert dead_letter.event.subject not in response.content.decode()


def test_an_admin_pauses_a_system_from_the_list(client, admin_user):
    system = ExternalSystemFactory()
    client.force_login(admin_user)

    client.post(SYSTEMS, {"action": "pause", "_selected_action": [system.pk]})

    assert ExternalSystem.objects.get(pk=system.pk).is_paused


def test_an_admin_queues_a_dead_inbound_message_again(client, admin_user):
    system = ExternalSystemFactory()
    message = InboundMessage.objects.create(
        system=system, message_id="msg_1", body="{}", state="dead", attempts=3, next_attempt_at=timezone.now()
    )
    client.force_login(admin_user)

    client.post(
        reverse("admin:crm_sync_inboundmessage_changelist"),
        {"action": "replay", "_selected_action": [message.pk]},
    )

    message.refresh_from_db()
    assert (message.state, message.attempts) == (InboundMessage.State.RECEIVED, 0)
