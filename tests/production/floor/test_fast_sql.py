"""The hand-written statements of a floor report's path (production.work_orders.fast_sql,
production.floor.fast_sql, production.materials.fast_sql): each gives what the ORM's own read gives, and the
work order's read locks it."""

from __future__ import annotations

import threading
import uuid
from decimal import Decimal

import pytest
from django.db import DatabaseError, connection, transaction
from django.test.utils import CaptureQueriesContext

from production import floor
from production.floor import fast_sql as floor_sql
from production.materials import Reservation
from production.materials import fast_sql as materials_sql
from production.materials.models import ReservationState
from production.work_orders import WorkOrder, WorkOrderOperation
from production.work_orders import fast_sql as work_orders_sql
from tests.production.materials.factories import ItemFactory
from tests.services import require_postgresql

pytestmark = pytest.mark.django_db


def columns(instance) -> dict:
    return {field.attname: getattr(instance, field.attname) for field in type(instance)._meta.concrete_fields}


def one_piece(operator, operation: WorkOrderOperation) -> dict:
    data = floor.FloorInput(
        client_id=uuid.uuid4(), operation_id=operation.pk, action=floor.FloorAction.REPORT, good=Decimal(1)
    )
    answer, _created = floor.floor_report_submit(actor=operator, data=data)
    return answer


# --- the work order's locked read -------------------------------------------------------------------------
def test_the_locked_read_gives_the_work_order_its_order_and_its_operations_as_the_orm_does(operator, ops):
    one_piece(operator, ops[0])  # a started operation, an order in production: values in every column

    with transaction.atomic():
        work_order, operations = work_orders_sql.work_order_locked_with_operations(ops[1].pk)

    expected = WorkOrder.objects.select_related("order").get(pk=ops[0].work_order_id)
    assert columns(work_order) == columns(expected)
    assert columns(work_order.order) == columns(expected.order)
    in_sequence = WorkOrderOperation.objects.filter(work_order=expected).order_by("sequence")
    assert [columns(op) for op in operations] == [columns(op) for op in in_sequence]
    assert not work_order._state.adding


def test_the_locked_read_is_two_statements_and_its_relations_need_no_more(ops):
    with transaction.atomic(), CaptureQueriesContext(connection) as queries:
        work_order, operations = work_orders_sql.work_order_locked_with_operations(ops[0].pk)
        assert work_order.order.number
        assert all(op.work_order is work_order for op in operations)

    assert len([q for q in queries.captured_queries if q["sql"].startswith("SELECT")]) == 2


def test_the_locked_read_of_no_operation_is_none(db):
    with transaction.atomic():
        assert work_orders_sql.work_order_locked_with_operations(2**62) is None


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_locked_read_holds_the_work_orders_row_until_its_transaction_ends(ops):
    require_postgresql()
    work_order_id = ops[0].work_order_id
    tried: list[str] = []

    def other_connection_tries():
        try:
            with transaction.atomic():
                WorkOrder.objects.select_for_update(no_key=True, nowait=True).get(pk=work_order_id)
            tried.append("locked it")
        except DatabaseError:
            tried.append("refused")
        finally:
            connection.close()

    with transaction.atomic():
        work_orders_sql.work_order_locked_with_operations(ops[0].pk)
        thread = threading.Thread(target=other_connection_tries)
        thread.start()
        thread.join()
    after = threading.Thread(target=other_connection_tries)
    after.start()
    after.join()

    assert tried == ["refused", "locked it"]


# --- the resend's answer, the session's user ----------------------------------------------------------------
def test_the_answer_of_a_client_id_is_the_one_kept_and_none_for_an_unknown_id(operator, ops):
    answer = one_piece(operator, ops[0])
    kept = floor.FloorReport.objects.get()

    assert floor_sql.floor_report_answer(kept.client_id) == kept.answer == answer
    assert floor_sql.floor_report_answer(uuid.uuid4()) is None


def test_the_active_user_is_the_orms_and_an_inactive_or_unknown_one_is_none(operator, planner):
    assert columns(floor_sql.active_user(operator.pk)) == columns(type(operator).objects.get(pk=operator.pk))
    planner.is_active = False
    planner.save(update_fields=["is_active"])

    assert floor_sql.active_user(planner.pk) is None
    assert floor_sql.active_user(2**62) is None


# --- the backflush's reservations ---------------------------------------------------------------------------
def test_the_reservations_to_consume_are_the_operations_active_ones_in_item_order(ops):
    work_order = ops[0].work_order
    tube, bolt = ItemFactory(code="TUBE"), ItemFactory(code="BOLT")
    cut_bolt = Reservation.objects.create(item=bolt, quantity=4, work_order=work_order, operation_sequence=10)
    unassigned = Reservation.objects.create(item=tube, quantity=2, work_order=work_order)
    Reservation.objects.create(item=tube, quantity=3, work_order=work_order, operation_sequence=20)  # BEND's
    Reservation.objects.filter(
        pk=Reservation.objects.create(item=tube, quantity=1, work_order=work_order, operation_sequence=10).pk
    ).update(state=ReservationState.RELEASED)

    with transaction.atomic():
        first = materials_sql.reservations_to_consume(work_order_id=work_order.pk, sequence=10, first=True)
        later = materials_sql.reservations_to_consume(work_order_id=work_order.pk, sequence=10, first=False)

    in_item_order = sorted([cut_bolt, unassigned], key=lambda r: (r.item_id, r.pk))
    assert [columns(r) for r in first] == [columns(Reservation.objects.get(pk=r.pk)) for r in in_item_order]
    assert [r.pk for r in later] == [cut_bolt.pk]
