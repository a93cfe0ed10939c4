"""Reports check their scrap and rework reasons against the active reason codes kept per process under a
version in the shared cache: read once, and read again whenever a reason code is written (the admin's saves
included)."""

import uuid
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from config.kernel import ValidationFailed
from production import floor
from production.floor import FloorInput, floor_report_submit

pytestmark = pytest.mark.django_db


def scrap(operator, op, reason: str):
    data = FloorInput(
        client_id=uuid.uuid4(),
        operation_id=op.pk,
        action="report",
        good=Decimal(1),
        scrap=Decimal(1),
        scrap_reason=reason,
    )
    return floor_report_submit(actor=operator, data=data)


# Codes committed, as in a plant (a write not committed yet is not cached).
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_reason_once_read_is_checked_without_reading_the_reason_codes(operator, ops, reasons):
    scrap(operator, ops[0], "S-DIM")

    with CaptureQueriesContext(connection) as queries:
        scrap(operator, ops[0], "S-DIM")

    assert not [q["sql"] for q in queries.captured_queries if "production_reasoncode" in q["sql"]]
    assert floor.FloorReport.objects.filter(scrap_reason__code="S-DIM").count() == 2


def test_a_reason_code_made_inactive_is_refused_at_the_next_report(operator, ops, reasons):
    scrap_reason, _rework = reasons
    scrap(operator, ops[0], "S-DIM")
    scrap_reason.is_active = False
    scrap_reason.save()

    with pytest.raises(ValidationFailed) as error:
        scrap(operator, ops[0], "S-DIM")

    assert error.value.fields["scrap_reason"] == ["Choose a reason from the list."]


def test_a_new_reason_code_is_taken_at_the_next_report(operator, ops, reasons):
    scrap(operator, ops[0], "S-DIM")
    floor.ReasonCode.objects.create(
        code="S-SCR", kind=floor.ReasonKind.SCRAP, name_en="Scratched", name_zh_hans="划伤"
    )

    scrap(operator, ops[0], "S-SCR")

    assert floor.FloorReport.objects.filter(scrap_reason__code="S-SCR").exists()


def test_a_rework_code_is_no_scrap_reason(operator, ops, reasons):
    with pytest.raises(ValidationFailed) as error:
        scrap(operator, ops[0], "R-BUR")

    assert "scrap_reason" in error.value.fields
