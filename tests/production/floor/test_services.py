"""The floor's reports go through the production services: idempotent by the phone's id, refusing
over-reporting, held work and an empty predecessor with nothing saved, and flagging implausible device
times."""

import datetime as dt
import uuid
from decimal import Decimal

import pytest
from django.utils import timezone

from config.kernel import Conflict, ValidationFailed
from production import floor, master_data, work_orders
from production.floor import FloorInput, floor_report_submit, occurred_at
from production.master_data import PlantMode
from production.work_orders import OperationStatus, ProgressReport, WorkOrderOperation, WorkOrderStatus

pytestmark = pytest.mark.django_db


def fresh(op):
    return WorkOrderOperation.objects.select_related("work_order").get(pk=op.pk)


def report(op, **fields):
    return FloorInput(client_id=fields.pop("client_id", uuid.uuid4()), operation_id=op.pk, **fields)


def test_a_report_is_recorded_as_a_progress_report_of_the_operator(operator, ops, reasons):
    answer, created = floor_report_submit(
        actor=operator,
        data=report(ops[0], action="report", good=Decimal(4), scrap=Decimal(1), scrap_reason="S-DIM"),
    )

    assert created
    progress = ProgressReport.objects.get()
    assert (progress.good_quantity, progress.scrap_quantity, progress.created_by) == (4, 1, operator)
    assert answer["operation"]["remaining"] == "5"
    assert floor.FloorReport.objects.get().scrap_reason.code == "S-DIM"


def test_a_report_sent_twice_counts_once_and_returns_the_first_answer(operator, ops):
    data = report(ops[0], action="report", good=Decimal(3))

    first, created = floor_report_submit(actor=operator, data=data)
    again, created_again = floor_report_submit(actor=operator, data=data)

    assert (created, created_again) == (True, False)
    assert again == first
    assert fresh(ops[0]).good_quantity == 3
    assert ProgressReport.objects.count() == 1


def test_more_good_than_ordered_is_refused_and_nothing_is_saved(operator, ops):
    with pytest.raises(ValidationFailed) as error:
        floor_report_submit(actor=operator, data=report(ops[0], action="report", good=Decimal(11)))

    assert error.value.code == "over_reported"
    assert "good_quantity" in error.value.fields
    assert not floor.FloorReport.objects.exists()
    assert not ProgressReport.objects.exists()


def test_a_held_work_order_takes_no_report(operator, planner, ops, released):
    work_orders.work_order_transition(actor=planner, work_order=released, name="hold", reason="material late")

    with pytest.raises(Conflict) as error:
        floor_report_submit(actor=operator, data=report(ops[0], action="report", good=Decimal(1)))

    assert "On hold" in error.value.message
    assert not floor.FloorReport.objects.exists()


def test_an_operation_whose_predecessor_handed_on_nothing_takes_no_report(operator, ops):
    with pytest.raises(Conflict) as error:
        floor_report_submit(actor=operator, data=report(ops[1], action="report", good=Decimal(1)))

    assert error.value.code == "predecessor_empty"
    assert not ProgressReport.objects.exists()


def test_a_partial_quantity_releases_the_next_operation_for_that_much(operator, ops):
    floor_report_submit(actor=operator, data=report(ops[0], action="report", good=Decimal(4)))

    answer, _ = floor_report_submit(actor=operator, data=report(ops[1], action="report", good=Decimal(4)))
    assert answer["operation"]["remaining"] == "0"
    with pytest.raises(Conflict):
        floor_report_submit(actor=operator, data=report(ops[1], action="report", good=Decimal(1)))


def test_start_then_finish_all_remaining_completes_the_operation(operator, ops):
    floor_report_submit(actor=operator, data=report(ops[0], action="start"))
    floor_report_submit(actor=operator, data=report(ops[0], action="report", good=Decimal(10), finished=True))

    op = fresh(ops[0])
    assert op.status == OperationStatus.COMPLETED
    assert op.work_order.status == WorkOrderStatus.IN_PROGRESS
    assert op.good_quantity == 10


def test_finish_all_remaining_counts_the_rest_when_it_lands_after_reports_queued_before_it(operator, ops):
    # Offline, the phone showed 10 remaining and queued 2 good, 1 good, then "finish: all remaining good".
    floor_report_submit(actor=operator, data=report(ops[0], action="report", good=Decimal(2)))
    floor_report_submit(actor=operator, data=report(ops[0], action="report", good=Decimal(1)))

    answer, created = floor_report_submit(
        actor=operator, data=report(ops[0], action="report", all_remaining=True)
    )

    op = fresh(ops[0])
    assert created and answer["operation"]["remaining"] == "0"
    assert (op.status, op.good_quantity) == (OperationStatus.COMPLETED, 10)
    assert floor.FloorReport.objects.get(client_id=answer["client_id"]).good_quantity == 7


def test_finish_all_remaining_straight_after_the_scan_starts_and_completes_a_pending_operation(operator, ops):
    floor_report_submit(actor=operator, data=report(ops[0], action="report", all_remaining=True))

    op = fresh(ops[0])
    assert (op.status, op.good_quantity) == (OperationStatus.COMPLETED, 10)
    assert op.actual_start is not None and op.actual_end is not None


def test_finish_all_remaining_with_scrap_counts_the_scrap_out_of_the_rest(operator, ops, reasons):
    floor_report_submit(
        actor=operator,
        data=report(ops[0], action="report", all_remaining=True, scrap=Decimal(2), scrap_reason="S-DIM"),
    )

    op = fresh(ops[0])
    assert (op.good_quantity, op.scrap_quantity, op.status) == (8, 2, OperationStatus.COMPLETED)


def test_scrap_needs_a_reason_from_the_list(operator, ops):
    with pytest.raises(ValidationFailed) as error:
        floor_report_submit(actor=operator, data=report(ops[0], action="report", scrap=Decimal(1)))

    assert "scrap_reason" in error.value.fields


def test_a_device_time_far_in_the_past_is_flagged_and_the_time_received_taken(operator, ops):
    long_ago = timezone.now() - dt.timedelta(days=3)

    answer, _ = floor_report_submit(
        actor=operator, data=report(ops[0], action="report", good=Decimal(1), device_time=long_ago)
    )

    row = floor.FloorReport.objects.get()
    assert row.time_flagged and answer["time_flagged"]
    assert row.device_time == long_ago
    assert row.occurred_at == row.received_at
    assert ProgressReport.objects.get().reported_at == row.received_at


def test_a_device_time_of_two_hours_ago_is_kept_as_the_actual_time(operator, ops):
    earlier = timezone.now() - dt.timedelta(hours=2)

    floor_report_submit(
        actor=operator, data=report(ops[0], action="report", good=Decimal(1), device_time=earlier)
    )

    assert ProgressReport.objects.get().reported_at == earlier
    assert not floor.FloorReport.objects.get().time_flagged


def test_a_shift_of_reports_sent_after_eight_hours_offline_all_land_at_their_device_times(operator, ops):
    # Start, a partial report and a finish made on the phone 8½, 6 and 1 hours ago, sent now.
    now = timezone.now()
    times = [now - dt.timedelta(hours=hours) for hours in (8.5, 6, 1)]
    queued = [
        report(ops[0], action="start", device_time=times[0]),
        report(ops[0], action="report", good=Decimal(4), device_time=times[1]),
        report(ops[0], action="report", all_remaining=True, device_time=times[2]),
    ]

    for data in queued:
        floor_report_submit(actor=operator, data=data)

    op = fresh(ops[0])
    assert (op.actual_start, op.actual_end, op.good_quantity) == (times[0], times[2], 10)
    assert not floor.FloorReport.objects.filter(time_flagged=True).exists()
    assert (
        list(ProgressReport.objects.order_by("reported_at").values_list("reported_at", flat=True))
        == times[1:]
    )


def test_a_device_time_before_the_operation_started_is_not_believed():
    now = timezone.now()
    started = now - dt.timedelta(hours=1)

    when, flagged = occurred_at(device_time=now - dt.timedelta(hours=3), received_at=now, not_before=started)

    assert flagged and when == now


def test_a_work_order_of_an_mes_plant_is_not_reported_on_the_floor(admin_user, operator, ops, floor_plant):
    floor_plant.mode = PlantMode.MES
    master_data.plant_save(actor=admin_user, plant=floor_plant, reason="back to the MES")

    with pytest.raises(Conflict) as error:
        floor_report_submit(actor=operator, data=report(ops[0], action="start"))

    assert error.value.code == "reported_by_mes"


def test_a_badge_signs_in_only_with_its_pin(operator):
    assert floor.badge_user(badge="1001", pin="2468") == operator
    assert floor.badge_user(badge="1001", pin="0000") is None
    assert floor.badge_user(badge="9999", pin="2468") is None


def test_a_pin_is_stored_hashed(operator):
    assert "2468" not in floor.OperatorBadge.objects.get().pin_hash


def test_an_exception_with_a_photo_is_raised_on_the_work_order(operator, ops, tmp_path, settings):
    import io

    from PIL import Image

    settings.MEDIA_ROOT = tmp_path
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), "red").save(buffer, format="JPEG")

    floor_report_submit(
        actor=operator,
        data=report(
            ops[0],
            action="exception",
            exception_kind="machine_breakdown",
            description="Press stopped",
            photo=buffer.getvalue(),
        ),
    )

    row = floor.FloorReport.objects.get()
    assert row.exception.work_order == ops[0].work_order
    assert row.photo.name.endswith(".jpg")


def test_a_photo_that_is_not_an_image_is_refused(operator, ops):
    with pytest.raises(ValidationFailed) as error:
        floor_report_submit(
            actor=operator,
            data=report(
                ops[0], action="exception", exception_kind="machine_breakdown", photo=b"not an image"
            ),
        )

    assert "photo" in error.value.fields
    assert not work_orders.ProductionException.objects.exists()


def test_a_lot_and_its_inspection_are_recorded(operator, ops):
    floor_report_submit(actor=operator, data=report(ops[0], action="report", good=Decimal(5)))

    floor_report_submit(
        actor=operator,
        data=report(
            ops[0], action="lot", lot_number="L-77", lot_quantity=Decimal(5), inspection_result="pass"
        ),
    )

    lot = work_orders.Lot.objects.get(number="L-77")
    assert lot.inspections.get().inspector == operator


def test_the_demo_makes_a_plant_reason_codes_and_operators_who_sign_in_with_their_pin(admin_user):
    import random

    from orders.demo import DemoContext

    now = timezone.now()
    ctx = DemoContext(actors={"admin": admin_user}, products={}, rng=random.Random(3), now=now, start=now)

    floor.floor_demo(ctx)

    assert master_data.Plant.objects.get().mode == PlantMode.MES  # ORDERBRIDGE_PLANT_MODE's default
    assert floor.ReasonCode.objects.filter(kind=floor.ReasonKind.SCRAP).count() == 3
    pin = str(ctx.counts["operator badge 1001, PIN"])
    assert floor.badge_user(badge="1001", pin=pin).username == "operator1"


def test_the_mes_is_not_sent_the_work_orders_of_a_floor_plant(sales, planner, floor_plant):
    from crm_sync.models import OutboxEvent
    from orders.sales import transitions
    from tests.factories import ProductFactory, make_order
    from tests.production.conftest import make_routing, make_work_center

    product = ProductFactory()
    make_routing(planner, product, [(make_work_center(planner, "CUT"), 0, "1")])

    order = transitions.order_release(
        actor=planner, order=make_order(owner=sales, product=product, confirmed=True)
    )

    event = OutboxEvent.objects.get(order=order, type="order.released")
    assert event.data["work_orders"] == []


def test_the_mes_is_sent_the_work_orders_of_an_mes_plant(sales, planner):
    from crm_sync.models import OutboxEvent
    from orders.sales import transitions
    from tests.factories import ProductFactory, make_order
    from tests.production.conftest import make_routing, make_work_center

    product = ProductFactory()
    make_routing(planner, product, [(make_work_center(planner, "CUT"), 0, "1")])

    order = transitions.order_release(
        actor=planner, order=make_order(owner=sales, product=product, confirmed=True)
    )

    event = OutboxEvent.objects.get(order=order, type="order.released")
    assert [item["sku"] for item in event.data["work_orders"]] == [product.sku]
