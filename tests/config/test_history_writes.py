"""A save and its history row in one statement (config.history): the same history row as simple_history
writes on that save, and the same refusals."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

import pytest
from django.db import DatabaseError, connection, transaction
from django.db.models.signals import post_save, pre_save
from django.forms.models import model_to_dict
from django.utils import timezone

from config.history import bulk_history_copy, insert_with_history, update_with_history
from config.kernel import stamp
from production.floor import FloorReport
from production.work_orders import ProgressReport, WorkOrder, WorkOrderOperation

pytestmark = pytest.mark.django_db

# Columns a history row has of its own, or that differ between two saves by design.
VARYING = {"history_id", "history_date"}


def history_row(model, pk) -> dict:
    row = model.history.filter(id=pk).order_by("-history_id").first()
    return {key: value for key, value in model_to_dict(row).items() if key not in VARYING} | {
        "history_user_id": row.history_user_id,
        "history_type": row.history_type,
        "history_change_reason": row.history_change_reason,
    }


def test_an_update_writes_the_history_row_simple_history_writes(ops, planner):
    op = ops[0]
    op.good_quantity = Decimal("3")
    op.start()
    stamp(op, actor=planner, reason="Counted at the line")
    op.save(update_fields=["good_quantity", "status"])
    by_simple_history = history_row(WorkOrderOperation, op.pk)

    stamp(op, actor=planner, reason="Counted at the line")
    update_with_history(op, fields=["good_quantity", "status"])

    assert history_row(WorkOrderOperation, op.pk) == by_simple_history
    assert WorkOrderOperation.history.filter(id=op.pk).count() == 3  # created, and one row per save


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="PostgreSQL's one statement; elsewhere simple-history's save"
)
def test_an_update_writes_the_columns_named_and_records_the_row_as_the_database_holds_it(ops, planner):
    op = ops[0]
    WorkOrderOperation.objects.filter(pk=op.pk).update(name="Cut to length")  # another writer's column
    op.good_quantity = Decimal("4")
    stamp(op, actor=planner, reason="Counted")

    update_with_history(op, fields=["good_quantity"])

    saved = WorkOrderOperation.objects.get(pk=op.pk)
    latest = WorkOrderOperation.history.filter(id=op.pk).latest("history_id")
    assert (saved.good_quantity, saved.name) == (Decimal("4"), "Cut to length")
    assert (latest.good_quantity, latest.name) == (Decimal("4"), "Cut to length")
    assert (latest.history_user, latest.history_change_reason, latest.history_type) == (
        planner,
        "Counted",
        "~",
    )


def test_an_update_of_a_row_that_is_gone_fails_and_writes_no_history(released, planner):
    ghost = WorkOrder.objects.get(pk=released.pk)
    ghost.pk = 10**9
    stamp(ghost, actor=planner, reason="Nothing there")
    before = WorkOrder.history.count()

    with pytest.raises(DatabaseError), transaction.atomic():
        update_with_history(ghost, fields=["percent_complete"])

    assert WorkOrder.history.count() == before


def test_an_insert_writes_the_row_and_the_history_row_simple_history_writes(ops, planner):
    def new_report(message_id: str) -> ProgressReport:
        report = ProgressReport(
            message_id=message_id,
            operation=ops[0],
            good_quantity=Decimal("2"),
            operator="olivia",
            reported_at=dt.datetime(2026, 12, 7, 9, 30, tzinfo=dt.UTC),
            created_by=planner,
        )
        stamp(report, actor=planner, reason="Reported")
        return report

    by_orm = new_report("mes-1")
    by_orm.save()
    written = new_report("mes-2")

    insert_with_history(written)

    assert written.pk is not None and not written._state.adding
    saved = ProgressReport.objects.get(pk=written.pk)
    assert (saved.message_id, saved.good_quantity, saved.created_by) == ("mes-2", Decimal("2"), planner)
    assert saved.created_at is not None
    ignore = {"id", "message_id", "created_at"}
    theirs, ours = history_row(ProgressReport, by_orm.pk), history_row(ProgressReport, written.pk)
    assert {k: v for k, v in ours.items() if k not in ignore} == {
        k: v for k, v in theirs.items() if k not in ignore
    }
    assert (ours["id"], ours["message_id"], ours["history_type"]) == (written.pk, "mes-2", "+")


def test_an_insert_of_a_model_without_history_writes_the_row_alone(ops, operator_user):
    report = FloorReport(
        client_id=uuid.uuid4(),
        action="report",
        operation=ops[0],
        operator=operator_user,
        received_at=timezone.now(),
        occurred_at=timezone.now(),
        answer={"ok": True},
    )

    insert_with_history(report)

    assert FloorReport.objects.get(pk=report.pk).answer == {"ok": True}


def test_with_history_switched_off_no_history_row_is_written(ops, planner, settings):
    settings.SIMPLE_HISTORY_ENABLED = False
    op = ops[0]
    op.good_quantity = Decimal("1")
    before = WorkOrderOperation.history.filter(id=op.pk).count()

    update_with_history(op, fields=["good_quantity"])

    assert WorkOrderOperation.objects.get(pk=op.pk).good_quantity == Decimal("1")
    assert WorkOrderOperation.history.filter(id=op.pk).count() == before


def new_operations(ops, *, count: int, start: int = 100) -> list[WorkOrderOperation]:
    """`count` unsaved operations like the work order's first, each its own sequence."""
    first = ops[0]
    return [
        WorkOrderOperation(
            work_order=first.work_order,
            sequence=start + index,
            name=f"Extra {index}",
            work_center=first.work_center,
            planned_minutes=Decimal("12.5"),
        )
        for index in range(count)
    ]


def history_rows(model, rows) -> list[dict]:
    ignore = {"id", "sequence", "name"}  # the rows' own (compared between two sets of rows)
    return [{k: v for k, v in history_row(model, row.pk).items() if k not in ignore} for row in rows]


def test_history_copied_for_new_rows_is_the_history_simple_history_writes(ops, planner, manager):
    by_simple_history, copied = new_operations(ops, count=2), new_operations(ops, count=2, start=200)
    for rows in (by_simple_history, copied):
        stamp(rows[0], actor=planner, reason="Added at the line")  # its own user and reason; the other none
    when = dt.datetime(2026, 12, 8, 7, 0, tzinfo=dt.UTC)
    WorkOrderOperation.objects.bulk_create([*by_simple_history, *copied])

    WorkOrderOperation.history.bulk_history_create(
        by_simple_history, default_user=manager, default_change_reason="Routing", default_date=when
    )
    bulk_history_copy(
        WorkOrderOperation, copied, default_user=manager, default_change_reason="Routing", default_date=when
    )

    assert history_rows(WorkOrderOperation, copied) == history_rows(WorkOrderOperation, by_simple_history)
    reasons = [
        (row["history_user_id"], row["history_change_reason"])
        for row in history_rows(WorkOrderOperation, copied)
    ]
    assert reasons == [(planner.pk, "Added at the line"), (manager.pk, "Routing")]
    assert {WorkOrderOperation.history.get(id=row.pk).history_date for row in copied} == {when}


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's copy; elsewhere simple-history's")
def test_history_copied_records_each_row_as_the_database_holds_it_in_the_order_given(ops, planner):
    rows = new_operations(ops, count=3)
    WorkOrderOperation.objects.bulk_create(rows)
    WorkOrderOperation.objects.filter(pk=rows[1].pk).update(name="Renamed by the database")

    bulk_history_copy(WorkOrderOperation, list(reversed(rows)), default_user=planner)

    written = list(WorkOrderOperation.history.filter(id__in=[row.pk for row in rows]).order_by("history_id"))
    assert [row.id for row in written] == [row.pk for row in reversed(rows)]
    assert written[1].name == "Renamed by the database"
    assert {row.history_type for row in written} == {"+"}


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's copy; elsewhere simple-history's")
def test_history_copied_for_a_row_that_is_not_there_fails_and_writes_none(ops, planner):
    rows = new_operations(ops, count=2)
    WorkOrderOperation.objects.bulk_create(rows[:1])
    rows[1].pk = 10**9
    before = WorkOrderOperation.history.count()

    with pytest.raises(DatabaseError), transaction.atomic():
        bulk_history_copy(WorkOrderOperation, rows, default_user=planner)

    assert WorkOrderOperation.history.count() == before


@pytest.mark.parametrize("model", [ProgressReport, WorkOrderOperation, WorkOrder, FloorReport])
def test_the_models_written_this_way_have_no_save_receivers_but_history_and_permission_caches(model):
    """A save written in one statement sends no pre_save/post_save: a receiver added for one of these models
    would silently miss their hot writes. Add it here knowingly (and write those saves through the ORM)."""
    allowed = {
        "post_save",
        "_on_change",
    }  # simple_history's post_save; config.auth's (permission tables only)
    for signal in (pre_save, post_save):
        sync_receivers, async_receivers = signal._live_receivers(model)
        names = {
            getattr(receiver, "__name__", repr(receiver)) for receiver in [*sync_receivers, *async_receivers]
        }
        assert names <= allowed, f"{model.__name__}: {signal} has {names - allowed}"


@pytest.fixture
def operator_user(db):
    from tests.factories import UserFactory

    return UserFactory(username="oscar", role="operator")
