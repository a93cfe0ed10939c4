"""Work orders follow their order: made on release, held, resumed, cancelled with it; progress rolls up."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from config.kernel.errors import Forbidden, TransitionNotAllowed, ValidationFailed
from orders.models import OrderStatus
from orders.sales import transitions
from production import work_orders
from production.work_orders import SYSTEM_USERNAME, OperationStatus, WorkOrderStatus, order_progress
from tests.factories import ProductFactory, make_order
from tests.production.conftest import make_routing, make_work_center

pytestmark = pytest.mark.django_db


def fresh(instance):
    """Read again (protected FSM fields refuse refresh_from_db)."""
    return type(instance).objects.get(pk=instance.pk)


@pytest.fixture
def line_setup(planner):
    cut = make_work_center(planner, "CUT")
    weld = make_work_center(planner, "WELD", units=2)
    product = ProductFactory()
    routing = make_routing(planner, product, [(cut, 30, "2"), (weld, 0, "1.5")])
    return product, routing, cut, weld


def released(sales, planner, product, **kwargs):
    order = make_order(owner=sales, product=product, confirmed=True, **kwargs)
    return transitions.order_release(actor=planner, order=order)


def test_releasing_an_order_makes_a_work_order_per_line_with_the_routing_operations(
    sales, planner, line_setup
):
    product, _, cut, weld = line_setup
    order = released(sales, planner, product, lines=2)
    work_orders = list(order.work_orders.order_by("number"))
    assert [wo.number for wo in work_orders] == [f"{order.number}-01", f"{order.number}-02"]
    first = work_orders[0]
    assert (first.quantity, first.order_revision, first.status) == (Decimal("10"), 1, WorkOrderStatus.PLANNED)
    ops = list(first.operations.order_by("sequence"))
    assert [(op.work_center, op.planned_minutes) for op in ops] == [(cut, 30 + 2 * 10), (weld, 15)]


def test_a_quantity_above_the_lot_size_is_split_into_several_work_orders(sales, planner):
    center = make_work_center(planner, "PRESS")
    product = ProductFactory()
    make_routing(planner, product, [(center, 10, "1")], lot_size="4")
    order = released(sales, planner, product)  # one line of 10
    assert sorted(order.work_orders.values_list("quantity", flat=True)) == [
        Decimal(2),
        Decimal(4),
        Decimal(4),
    ]


def test_a_product_without_routing_gets_a_work_order_waiting_for_its_routing(sales, planner):
    product = ProductFactory()
    order = released(sales, planner, product)
    work_order = order.work_orders.get()
    assert work_order.routing_missing and not work_order.operations.exists()
    make_routing(planner, product, [(make_work_center(planner, "LATE"), 5, "1")])
    work_order = fresh(work_order)
    assert not work_order.routing_missing and work_order.operations.count() == 1


def test_holding_and_resuming_the_order_holds_and_resumes_its_work_orders(sales, planner, line_setup):
    order = released(sales, planner, line_setup[0])
    transitions.order_hold(actor=planner, order=order, reason="Customer asked to wait")
    assert set(order.work_orders.values_list("status", flat=True)) == {WorkOrderStatus.ON_HOLD}
    transitions.order_resume(actor=planner, order=order)
    assert set(order.work_orders.values_list("status", flat=True)) == {WorkOrderStatus.PLANNED}


def test_cancelling_the_order_cancels_its_work_orders_with_the_reason(sales, planner, manager, line_setup):
    order = released(sales, planner, line_setup[0])
    transitions.order_cancel(actor=manager, order=order, reason="Customer withdrew")
    work_order = order.work_orders.get()
    assert work_order.status == WorkOrderStatus.CANCELLED
    last = work_order.history.first()
    assert last.history_user == manager and "Customer withdrew" in last.history_change_reason


def _release_work_orders(planner, order):
    for work_order in order.work_orders.all():
        work_orders.work_order_transition(actor=planner, work_order=work_order, name="release")


def test_the_first_progress_report_puts_the_order_in_production(sales, planner, line_setup):
    order = released(sales, planner, line_setup[0])
    _release_work_orders(planner, order)
    op = order.work_orders.get().operations.order_by("sequence").first()
    work_orders.progress_report_create(actor=planner, operation=op, message_id="m-1", good_quantity=5)
    order = fresh(order)
    op = fresh(op)
    assert order.status == OrderStatus.IN_PRODUCTION
    assert op.status == OperationStatus.STARTED and op.actual_start is not None
    assert order.history.first().history_user.username == SYSTEM_USERNAME


def test_finishing_every_operation_completes_the_work_order_and_the_order(sales, planner, line_setup):
    order = released(sales, planner, line_setup[0])
    _release_work_orders(planner, order)
    work_order = order.work_orders.get()
    for index, op in enumerate(work_order.operations.order_by("sequence")):
        work_orders.progress_report_create(
            actor=planner, operation=op, message_id=f"m-{index}", good_quantity=10, operation_finished=True
        )
    work_order = fresh(work_order)
    order = fresh(order)
    assert work_order.status == WorkOrderStatus.COMPLETED and work_order.percent_complete == 100
    assert order.status == OrderStatus.COMPLETED and order.completed_at is not None


def test_a_report_that_says_when_the_operation_began_sets_its_actual_start(sales, planner, line_setup):
    order = released(sales, planner, line_setup[0])
    _release_work_orders(planner, order)
    op = order.work_orders.get().operations.order_by("sequence").first()
    began, finished = timezone.now() - dt.timedelta(hours=3), timezone.now() - dt.timedelta(hours=1)
    work_orders.progress_report_create(
        actor=planner,
        operation=op,
        message_id="m-1",
        good_quantity=10,
        operation_finished=True,
        reported_at=finished,
        started_at=began,
    )
    op = fresh(op)
    assert (op.actual_start, op.actual_end) == (began, finished)


def test_a_start_after_the_report_is_refused_naming_the_field(sales, planner, line_setup):
    order = released(sales, planner, line_setup[0])
    _release_work_orders(planner, order)
    op = order.work_orders.get().operations.order_by("sequence").first()
    with pytest.raises(ValidationFailed) as error:
        work_orders.progress_report_create(
            actor=planner,
            operation=op,
            message_id="m-1",
            good_quantity=1,
            reported_at=timezone.now() - dt.timedelta(hours=1),
            started_at=timezone.now(),
        )
    assert "started_at" in error.value.fields
    assert fresh(op).status == OperationStatus.PENDING


def test_progress_rolls_up_by_planned_minutes_into_the_order_percent(sales, planner, line_setup):
    order = released(sales, planner, line_setup[0])  # ops of 50 and 15 minutes
    _release_work_orders(planner, order)
    first = order.work_orders.get().operations.order_by("sequence").first()
    work_orders.progress_report_create(actor=planner, operation=first, message_id="m-1", good_quantity=5)
    # Half of the 50-minute operation out of 65 planned minutes.
    assert order_progress(order=order) == Decimal("38.46")


def test_a_repeated_progress_message_changes_nothing(sales, planner, line_setup):
    order = released(sales, planner, line_setup[0])
    _release_work_orders(planner, order)
    op = order.work_orders.get().operations.order_by("sequence").first()
    work_orders.progress_report_create(actor=planner, operation=op, message_id="m-1", good_quantity=3)
    _, created = work_orders.progress_report_create(
        actor=planner, operation=op, message_id="m-1", good_quantity=3
    )
    op = fresh(op)
    assert not created and op.good_quantity == 3


def test_progress_on_a_work_order_not_released_to_the_mes_is_refused(sales, planner, line_setup):
    order = released(sales, planner, line_setup[0])
    op = order.work_orders.get().operations.first()
    with pytest.raises(TransitionNotAllowed):
        work_orders.progress_report_create(actor=planner, operation=op, message_id="m-1", good_quantity=1)


def test_sales_cannot_report_progress(sales, planner, line_setup):
    order = released(sales, planner, line_setup[0])
    _release_work_orders(planner, order)
    op = order.work_orders.get().operations.first()
    with pytest.raises(Forbidden):
        work_orders.progress_report_create(actor=sales, operation=op, message_id="m-1", good_quantity=1)


def test_sales_cannot_hold_a_work_order(sales, planner, line_setup):
    order = released(sales, planner, line_setup[0])
    with pytest.raises(Forbidden):
        work_orders.work_order_transition(
            actor=sales, work_order=order.work_orders.get(), name="hold", reason="x"
        )


def _finish(planner, work_order):
    for index, op in enumerate(work_order.operations.order_by("sequence")):
        work_orders.progress_report_create(
            actor=planner, operation=op, message_id=f"f-{index}", good_quantity=10, operation_finished=True
        )


def test_a_breakdown_or_shortage_on_a_work_order_closes_when_the_work_order_completes(
    sales, planner, line_setup
):
    order = released(sales, planner, line_setup[0])
    _release_work_orders(planner, order)
    work_order = order.work_orders.get()
    breakdown = work_orders.exception_raise(actor=planner, kind="machine_breakdown", work_order=work_order)
    shortage = work_orders.exception_raise(actor=planner, kind="material_shortage", work_order=work_order)

    _finish(planner, work_order)

    assert fresh(breakdown).resolved_at is not None
    assert "work order" in fresh(shortage).resolution


def test_a_quality_hold_stays_open_after_its_work_order_completes(sales, planner, line_setup):
    order = released(sales, planner, line_setup[0])
    _release_work_orders(planner, order)
    work_order = order.work_orders.get()
    hold = work_orders.exception_raise(actor=planner, kind="quality_hold", work_order=work_order)

    _finish(planner, work_order)

    assert fresh(hold).resolved_at is None
