"""Signed messages we cannot take are refused at the door with a 400 and the reason (never a 500, which the
sender would retry for ever); a stored message that cannot be read goes dead at once, with the reason."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from crm_sync import b2mml, inbound
from crm_sync.inbound import common
from crm_sync.models import ExternalSystem, InboundMessage
from orders.sales import transitions
from production import master_data
from production.work_orders import WorkOrder, WorkOrderOperation
from tests.crm_sync.factories import ExternalSystemFactory
from tests.crm_sync.helpers import post_hook, process_all
from tests.factories import ProductFactory, UserFactory, make_order
from tests.production.conftest import make_work_center

pytestmark = pytest.mark.django_db

HOOK = reverse("hooks:mes")


@pytest.fixture
def mes_system(db):
    return ExternalSystemFactory(
        slug="mes",
        kind=ExternalSystem.Kind.MES,
        service_user=UserFactory(username="mes-bot", role="production_manager"),
    )


def deep_json(levels: int) -> bytes:
    return b'{"type": "operations.progress", "data": ' + b"[" * levels + b"]" * levels + b"}"


# --- deep JSON ---------------------------------------------------------------------------------------------
def test_json_nested_100000_levels_is_refused_with_400_and_not_stored(client, mes_system):
    response = post_hook(client, HOOK, deep_json(100_000))

    assert response.status_code == 400
    assert "deeper than" in response.json()["error"]["message"]
    assert not InboundMessage.objects.exists()


def test_json_just_past_the_depth_limit_is_refused_but_at_the_limit_is_taken(client, mes_system):
    # The object is level 1, its "data" list level 2: MAX_JSON_DEPTH - 1 lists fit.
    at_limit = post_hook(client, HOOK, deep_json(common.MAX_JSON_DEPTH - 1))
    past_limit = post_hook(client, HOOK, deep_json(common.MAX_JSON_DEPTH))

    assert (at_limit.status_code, past_limit.status_code) == (202, 400)


def test_a_stored_message_too_deep_to_read_goes_dead_at_once_with_the_reason(mes_system, settings):
    # As stored before the door refused it: the task must not crash and retry it again and again.
    settings.SYNC_MAX_ATTEMPTS = 5
    message = InboundMessage.objects.create(
        system=mes_system,
        message_id="msg_deep",
        content_type="application/json",
        body=deep_json(100_000).decode(),
        kind="operations.progress",
        next_attempt_at="2026-01-01T00:00:00Z",
    )

    inbound.inbound_process(message_pk=message.pk)

    message.refresh_from_db()
    assert (message.state, message.attempts) == (InboundMessage.State.DEAD, 1)
    assert "deeper than" in message.result["message"]


def test_a_stored_xml_body_that_does_not_parse_goes_dead_at_once(mes_system, settings):
    settings.SYNC_MAX_ATTEMPTS = 5
    message = InboundMessage.objects.create(
        system=mes_system,
        message_id="msg_broken",
        content_type="application/xml",
        body="<ProcessOperationsPerformance><DataArea>",
        kind="ProcessOperationsPerformance",
        next_attempt_at="2026-01-01T00:00:00Z",
    )

    inbound.inbound_process(message_pk=message.pk)

    message.refresh_from_db()
    assert (message.state, message.attempts) == (InboundMessage.State.DEAD, 1)
    assert message.last_error.startswith("ParseError")


@pytest.mark.parametrize("escape", ["\\u0000", "\\ud800"])
def test_json_holding_a_nul_or_an_unpaired_surrogate_is_refused_with_400(client, mes_system, escape):
    body = b'{"type": "operations.progress", "subject": "SO-1' + escape.encode() + b'", "data": {}}'

    response = post_hook(client, HOOK, body)

    assert response.status_code == 400
    assert response.json()["error"]["fields"]["body"]
    assert not InboundMessage.objects.exists()


def test_json_that_is_not_utf8_is_refused_with_400(client, mes_system):
    body = json.dumps({"type": "operations.progress", "data": {}}).encode("utf-16")

    response = post_hook(client, HOOK, body)

    assert response.status_code == 400
    assert "UTF-8" in response.json()["error"]["message"]


# --- the webhook-id ----------------------------------------------------------------------------------------
def test_a_webhook_id_longer_than_200_characters_is_refused_with_400_naming_it(client, mes_system):
    response = post_hook(client, HOOK, {"type": "operations.progress"}, msg_id="m" * 201)

    assert response.status_code == 400
    assert response.json()["error"]["fields"]["webhook-id"] == [
        "The webhook-id is longer than 200 characters."
    ]
    assert not InboundMessage.objects.exists()


def test_a_webhook_id_of_200_characters_is_taken(client, mes_system):
    response = post_hook(client, HOOK, {"type": "operations.progress"}, msg_id="m" * 200)

    assert response.status_code == 202
    assert InboundMessage.objects.get().message_id == "m" * 200


# --- XML in its declared encoding ---------------------------------------------------------------------------
@pytest.fixture
def welding(sales, planner):
    """A released order whose one operation has a name outside ASCII, as German MES files use."""
    product = ProductFactory()
    master_data.routing_create(
        actor=planner,
        product=product,
        operations=[
            {
                "sequence": 10,
                "name": "Schweißen",
                "work_center": make_work_center(planner, "WELD"),
                "setup_minutes": 0,
                "run_minutes_per_unit": 1,
            }
        ],
    )
    order = make_order(owner=sales, product=product, confirmed=True)
    transitions.order_release(actor=planner, order=order)
    return WorkOrder.objects.get(order=order)


def latin1_performance(work_order: WorkOrder, operation: str, good: str) -> bytes:
    document = b2mml.performance_for(
        bod_id="perf-1",
        created="2026-11-26T09:00:00Z",
        work_order=work_order.number,
        operation=operation,
        good_quantity=good,
        finished=False,
    ).decode()
    declared = document.replace("encoding='utf-8'", "encoding='ISO-8859-1'", 1)
    assert declared != document
    return declared.encode("latin-1")


def test_xml_declared_iso_8859_1_with_a_non_ascii_byte_is_taken_and_read_as_sent(client, mes_system, welding):
    body = latin1_performance(welding, "Schweißen", "3")
    assert b"Schwei\xdfen" in body

    response = post_hook(client, HOOK, body, content_type="application/xml")
    process_all()

    assert response.status_code == 202
    message = InboundMessage.objects.get()
    assert "Schweißen" in message.body
    assert message.state == InboundMessage.State.PROCESSED, message.result
    operation = WorkOrderOperation.objects.get(work_order=welding, sequence=10)
    assert operation.good_quantity == 3


def test_xml_whose_bytes_are_not_in_the_declared_encoding_is_refused_with_400(client, mes_system):
    body = b'<?xml version="1.0" encoding="UTF-8"?><ConfirmBOD>Schwei\xdfen</ConfirmBOD>'

    response = post_hook(client, HOOK, body, content_type="application/xml")

    assert response.status_code == 400
    assert not InboundMessage.objects.exists()
