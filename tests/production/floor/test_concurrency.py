"""Many operators reporting on one work order at once (each in its own transaction and connection): every
report counted once, a copy racing its original counted once, and no more reported than reached the
operation."""

from __future__ import annotations

import threading
import uuid
from decimal import Decimal

import pytest
from django.db import connection

from config.kernel import ApplicationError
from production import floor
from production.work_orders import ProgressReport, WorkOrder, WorkOrderOperation
from tests.services import require_postgresql

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def in_parallel(functions) -> list:
    """Run each function in its own thread (its own database connection), all released at once; the
    results, an ApplicationError standing for a refusal."""
    barrier = threading.Barrier(len(functions))
    results: list = [None] * len(functions)
    errors: list[BaseException] = []

    def run(index, function):
        try:
            barrier.wait()
            results[index] = function()
        except ApplicationError as exc:
            results[index] = exc
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, f)) for i, f in enumerate(functions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    return results


def one_piece(operator, operation: WorkOrderOperation, client_id: uuid.UUID):
    data = floor.FloorInput(
        client_id=client_id, operation_id=operation.pk, action=floor.FloorAction.REPORT, good=Decimal(1)
    )
    return lambda: floor.floor_report_submit(actor=operator, data=data)


def test_parallel_reports_and_their_copies_count_each_piece_once(operator, ops):
    require_postgresql()
    ids = [uuid.uuid4() for _ in range(5)]

    results = in_parallel([one_piece(operator, ops[0], client_id) for client_id in ids + ids[:3]])

    assert sorted(created for _answer, created in results) == [False] * 3 + [True] * 5
    assert WorkOrderOperation.objects.get(pk=ops[0].pk).good_quantity == 5
    assert floor.FloorReport.objects.count() == ProgressReport.objects.count() == 5
    work_order = WorkOrder.objects.get(pk=ops[0].work_order_id)
    assert work_order.status == "in_progress"
    assert work_order.percent_complete == 25  # 5 of 10 on the first of two operations of equal minutes
    assert work_order.order.status == "in_production"


def test_parallel_reports_never_take_an_operation_past_what_reached_it(operator, ops):
    require_postgresql()

    results = in_parallel([one_piece(operator, ops[0], uuid.uuid4()) for _ in range(12)])

    refused = [result for result in results if isinstance(result, ApplicationError)]
    assert [exc.code for exc in refused] == ["over_reported"] * 2
    assert WorkOrderOperation.objects.get(pk=ops[0].pk).good_quantity == 10
    assert floor.FloorReport.objects.count() == ProgressReport.objects.count() == 10


def test_a_copy_racing_a_report_that_took_the_last_pieces_gets_that_reports_answer(operator, ops):
    require_postgresql()
    data = floor.FloorInput(
        client_id=uuid.uuid4(),
        operation_id=ops[0].pk,
        action=floor.FloorAction.REPORT,
        good=Decimal(10),
        finished=True,
    )

    results = in_parallel([lambda: floor.floor_report_submit(actor=operator, data=data)] * 2)

    assert not [result for result in results if isinstance(result, ApplicationError)]
    assert sorted(created for _answer, created in results) == [False, True]
    assert results[0][0] == results[1][0]
    assert WorkOrderOperation.objects.get(pk=ops[0].pk).good_quantity == 10
    assert floor.FloorReport.objects.count() == ProgressReport.objects.count() == 1
