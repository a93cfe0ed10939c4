"""A CRM whose JSON looks different is connected by configuration alone."""

from __future__ import annotations

import pytest

from crm_sync.mapping import apply_mapping, mapping_errors
from crm_sync.models import ExternalSystem
from crm_sync.outbox import deliveries_drain
from orders.sales import transitions
from tests.crm_sync.conftest import start_simulator
from tests.crm_sync.factories import TEST_SECRET, ExternalSystemFactory
from tests.factories import make_order

# "Acme CRM" wants its own field names and status codes, and items instead of lines.
ACME_MAPPING = {
    "outbound": {
        "eventId": "id",
        "orderRef": "subject",
        "seq": "sequence",
        "header.state": {
            "from": "data.status",
            "map": {"draft": "NEW", "confirmed": "OPEN", "released": "IN_WORK"},
            "default": "OTHER",
        },
        "header.customer": "data.customer.code",
        "source": {"const": "orderbridge"},
        "items": {"each": "data.lines", "fields": {"article": "sku", "qty": "quantity", "attrs": "spec"}},
    }
}


@pytest.mark.django_db
def test_a_second_crm_payload_shape_is_connected_through_field_mapping_alone(sales):
    acme = start_simulator(
        "crm_sync.simulators.crm",
        "--secret",
        TEST_SECRET,
        "--subject-path",
        "orderRef",
        "--sequence-path",
        "seq",
    )
    try:
        system = ExternalSystemFactory(name="Acme CRM", base_url=acme.url, field_mapping=ACME_MAPPING)
        order = make_order(owner=sales)
        transitions.order_confirm(actor=sales, order=order)

        deliveries_drain(system_id=system.pk, order_id=order.pk)

        bodies = [item["body"] for item in acme.received()]
        assert [(b["orderRef"], b["seq"], b["header"]["state"]) for b in bodies] == [
            (order.number, 1, "NEW"),
            (order.number, 2, "OPEN"),
        ]
        assert bodies[0]["items"][0]["attrs"]["material"] == "steel"
        assert bodies[0]["header"]["customer"] == order.customer.code
        assert bodies[0]["source"] == "orderbridge"
    finally:
        acme.stop()


def test_an_unmapped_status_takes_the_default():
    mapping = {"state": {"from": "status", "map": {"draft": "NEW"}, "default": "OTHER"}}

    assert apply_mapping(mapping, {"status": "shipped"}) == {"state": "OTHER"}


def test_a_missing_source_field_is_left_out():
    assert apply_mapping({"po": "data.customer_po", "id": "id"}, {"id": "e1", "data": {}}) == {"id": "e1"}


def test_the_same_vocabulary_maps_their_message_to_our_fields():
    inbound = {"number": "orderRef", "status": {"from": "header.state", "map": {"OPEN": "confirmed"}}}

    assert apply_mapping(inbound, {"orderRef": "SO-1", "header": {"state": "OPEN"}}) == {
        "number": "SO-1",
        "status": "confirmed",
    }


def test_a_malformed_mapping_is_reported_before_it_is_used():
    problems = mapping_errors({"outbound": {"x": {"map": {}}, "y": 3}, "sideways": {}})

    assert len(problems) == 3


@pytest.mark.parametrize(
    ("system_format", "event_type", "taken"),
    [
        (ExternalSystem.Format.B2MML, "change_request.submitted", False),
        (ExternalSystem.Format.B2MML, "order.change_applied", True),
        (ExternalSystem.Format.JSON, "change_request.submitted", True),
    ],
)
def test_a_b2mml_system_without_a_filter_takes_all_but_approval_steps(system_format, event_type, taken):
    system = ExternalSystem(kind=ExternalSystem.Kind.MES, format=system_format, event_types=[])

    assert system.takes(event_type) is taken
