"""Inbound webhooks: verified, stored raw under a unique id, answered fast, applied once by a task."""

from __future__ import annotations

import json
import time
import uuid

import pytest
from django.urls import reverse

from crm_sync import inbound, webhooks
from crm_sync.models import Delivery, ExternalSystem, InboundMessage
from orders.models import OrderStatus, SalesOrder
from orders.sales import transitions
from tests.crm_sync.factories import TEST_SECRET, ExternalSystemFactory
from tests.factories import UserFactory, complete_by_hand, make_order

pytestmark = pytest.mark.django_db

URL = reverse("crm_sync:inbound", args=["mes"])
B2MML_ACK = """\ufeff<?xml version="1.0" encoding="UTF-8"?>\r
<AcknowledgeOperationsSchedule xmlns="http://www.mesa.org/xml/B2MML" releaseID="7.01">\r
  <ApplicationArea><CreationDateTime>2026-11-25T10:00:00Z</CreationDateTime></ApplicationArea>\r
  <DataArea><Acknowledge><OriginalApplicationArea><CreationDateTime>2026-11-25T09:59:00Z</CreationDateTime>\r
  <BODID>{bod_id}</BODID></OriginalApplicationArea></Acknowledge></DataArea>\r
</AcknowledgeOperationsSchedule>\r
"""


@pytest.fixture
def mes_system(db):
    return ExternalSystemFactory(
        slug="mes",
        kind=ExternalSystem.Kind.MES,
        service_user=UserFactory(username="mes-bot", role="production_manager"),
    )


def post(
    client, payload, *, secret=TEST_SECRET, msg_id=None, timestamp=None, content_type="application/json"
):
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    headers = webhooks.signed_headers(
        secret=secret, msg_id=msg_id or f"msg_{uuid.uuid4().hex}", body=body, timestamp=timestamp
    )
    return client.post(URL, data=body, content_type=content_type, headers=headers)


def progress(order, state: str) -> dict:
    return {"type": "operations.progress", "subject": order.number, "data": {"state": state}}


def process_all() -> None:
    for pk in inbound.inbound_due():
        inbound.inbound_process(message_pk=pk)


def released_order(sales, planner):
    order = make_order(owner=sales, confirmed=True)
    return transitions.order_release(actor=planner, order=order)


def test_a_signed_message_is_stored_and_accepted_before_it_is_processed(client, mes_system, sales, planner):
    order = released_order(sales, planner)

    response = post(client, progress(order, "running"), msg_id="msg_1")

    assert response.status_code == 202
    message = InboundMessage.objects.get()
    assert (message.message_id, message.state, message.subject) == ("msg_1", "received", order.number)
    assert json.loads(message.body)["data"]["state"] == "running"


def test_the_same_message_twice_is_answered_and_stored_once(client, mes_system, sales, planner):
    order = released_order(sales, planner)

    first = post(client, progress(order, "running"), msg_id="msg_1")
    second = post(client, progress(order, "running"), msg_id="msg_1")

    assert (first.status_code, second.status_code) == (202, 200)
    assert second.json()["status"] == "duplicate"
    assert InboundMessage.objects.count() == 1


def test_a_bad_signature_is_refused_and_nothing_is_stored(client, mes_system):
    response = post(client, {"type": "operations.progress"}, secret="whsec_" + "QUJD" * 8)

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "bad_signature"
    assert not InboundMessage.objects.exists()


def test_an_expired_message_is_refused(client, mes_system):
    response = post(client, {"type": "operations.progress"}, timestamp=int(time.time()) - 600)

    assert response.status_code == 401


def test_an_unsigned_message_is_refused(client, mes_system):
    response = client.post(URL, data=b'{"type": "x"}', content_type="application/json")

    assert response.status_code == 401


def test_a_message_for_an_unknown_system_is_not_found(client, db):
    response = post(client, {"type": "operations.progress"})

    assert response.status_code == 404


def test_a_system_disabled_since_its_last_message_is_not_found(
    client, mes_system, django_capture_on_commit_callbacks
):
    # The hook finds the system among the process's cached enabled systems: the change must reach it.
    assert post(client, {"type": "operations.progress"}).status_code == 202
    mes_system.is_enabled = False
    with django_capture_on_commit_callbacks(execute=True):  # committed: the cache may hold systems again
        mes_system.save()

    response = post(client, {"type": "operations.progress"})

    assert response.status_code == 404


def test_a_signing_secret_changed_since_the_last_message_is_the_one_checked(
    client, mes_system, django_capture_on_commit_callbacks
):
    assert post(client, {"type": "operations.progress"}).status_code == 202
    mes_system.signing_secret = webhooks.generate_secret()
    with django_capture_on_commit_callbacks(execute=True):
        mes_system.save()

    assert post(client, {"type": "operations.progress"}).status_code == 401
    assert post(client, {"type": "operations.progress"}, secret=mes_system.signing_secret).status_code == 202


def test_a_body_without_a_type_is_refused_naming_the_field(client, mes_system):
    response = post(client, {"subject": "SO-1"})

    assert response.status_code == 400
    assert "type" in response.json()["error"]["fields"]


def test_an_order_level_running_report_ahead_of_the_work_orders_is_refused_once(
    client, mes_system, sales, planner
):
    # Production starts with the first work order that starts (orders.sales.overrides), not on the MES's word.
    order = released_order(sales, planner)
    post(client, progress(order, "running"), msg_id="msg_1")
    post(client, progress(order, "running"), msg_id="msg_1")

    process_all()
    process_all()

    assert SalesOrder.objects.get(pk=order.pk).status == OrderStatus.RELEASED
    message = InboundMessage.objects.get()
    assert (message.state, message.result["error"]) == (InboundMessage.State.DEAD, "override_required")
    assert "cannot start yet: No work order has started" in message.result["message"]


def test_a_late_running_report_does_not_roll_a_completed_order_back(client, mes_system, sales, planner):
    order = complete_by_hand(released_order(sales, planner))
    post(client, progress(order, "running"))

    process_all()

    assert SalesOrder.objects.get(pk=order.pk).status == OrderStatus.COMPLETED
    assert InboundMessage.objects.filter(result__ignored="order is completed").count() == 1


def test_a_b2mml_acknowledgement_marks_our_delivery_acknowledged(client, mes_system, sales, planner):
    order = released_order(sales, planner)
    delivery = Delivery.objects.filter(system=mes_system, order=order).latest("sequence")
    document = B2MML_ACK.format(bod_id=delivery.event_id).encode()  # with BOM and CRLF, as real senders do

    response = post(client, document, content_type="application/xml")
    process_all()

    assert response.status_code == 202
    assert Delivery.objects.get(pk=delivery.pk).acknowledged_at is not None


def test_a_message_that_fails_to_process_is_kept_and_retried_then_dead(client, mes_system, settings):
    settings.SYNC_MAX_ATTEMPTS = 2
    post(client, {"type": "operations.progress", "subject": "SO-NOPE", "data": {"state": "running"}})

    process_all()
    after_first = InboundMessage.objects.get()
    process_all()

    assert after_first.state == InboundMessage.State.FAILED
    assert "DoesNotExist" in after_first.last_error
    assert InboundMessage.objects.get().state == InboundMessage.State.DEAD


def test_a_message_nobody_handles_is_a_dead_letter_at_once(client, mes_system):
    post(client, {"type": "operations.teleported", "subject": "SO-1"})

    process_all()

    assert InboundMessage.objects.get().state == InboundMessage.State.DEAD
