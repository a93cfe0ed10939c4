"""The MES gets materials: a MaterialRequirement (consumed) per component in each SegmentRequirement of the
work-order message, valid against MESA's B2MML XSDs."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings

from crm_sync import b2mml
from crm_sync.models import OutboxEvent
from orders.sales import transitions
from tests.factories import make_order
from tests.services import unavailable

pytestmark = pytest.mark.django_db


@pytest.fixture
def schema_dir() -> Path:
    folder = Path(settings.B2MML_SCHEMA_DIR)
    if not b2mml.schema_path(folder).exists():
        unavailable(f"needs MESA's B2MML schemas in {folder}/Schema (ORDERBRIDGE_B2MML_SCHEMA_DIR)")
    return folder


def test_each_segment_names_the_components_it_consumes_and_validates(sales, planner, frame, schema_dir):
    order = transitions.order_release(
        actor=planner, order=make_order(owner=sales, product=frame, confirmed=True)
    )
    event = OutboxEvent.objects.get(order=order, type="order.released").as_cloudevent()
    document = b2mml.schedule_for_event(event, receiver="mes")

    assert b2mml.validation_errors(document, schema_dir=schema_dir) == []
    [segment] = b2mml.schedule_read(document)["requests"][0]["segments"]
    consumed = [m for m in segment["materials"] if m["use"] == "Consumed"]
    assert [(m["sku"], m["quantity"]) for m in consumed] == [("AL-6063", "20")]  # 10 frames x 1 arm x 2 m
