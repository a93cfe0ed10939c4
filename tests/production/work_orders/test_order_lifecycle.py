"""The order follows its work orders by itself: in production with the first real start, completed when all
of them are completed or closed by a decision (as the system actor, with the reason). Nothing else
completes it but a production manager's override (tests/orders/sales/test_lifecycle_overrides.py)."""

import pytest

from config.kernel import message_text
from crm_sync.models import OutboxEvent
from orders import change_requests
from orders.models import OrderStatus, SalesOrder
from orders.notifications.models import Notification
from production import work_orders
from production.work_orders import SYSTEM_USERNAME, WorkOrderStatus
from tests.orders.change_requests.cr_helpers import approved, finish, make_line, released_order, report

pytestmark = pytest.mark.django_db


def fresh(instance):
    return type(instance).objects.get(pk=instance.pk)


@pytest.fixture
def order(sales, planner):
    """Released, two work orders of one line each, nothing made."""
    return released_order(sales, planner, make_line(planner), lines=2)


def two(order):
    return list(order.work_orders.order_by("number"))


def test_the_first_real_start_of_a_work_order_puts_the_order_in_production_as_the_system(planner, order):
    first, _second = two(order)

    report(planner, first, good=3)

    order = fresh(order)
    assert order.status == OrderStatus.IN_PRODUCTION and order.production_started_at is not None
    last = order.history.first()
    assert last.history_user.username == SYSTEM_USERNAME
    assert message_text(last.history_change_reason) == f"Production started (work order {first.number})"


def test_releasing_a_work_order_to_the_mes_is_no_start(planner, order):
    first, _second = two(order)

    work_orders.work_order_transition(actor=planner, work_order=first, name="release")

    assert fresh(order).status == OrderStatus.RELEASED


def test_one_of_two_work_orders_completed_leaves_the_order_in_production(planner, order):
    first, _second = two(order)

    finish(planner, first)

    assert fresh(order).status == OrderStatus.IN_PRODUCTION


def test_the_last_work_order_completed_completes_the_order_automatically_and_tells_the_owner(
    sales, planner, order
):
    first, second = two(order)
    finish(planner, first)

    finish(planner, second)

    order = fresh(order)
    assert order.status == OrderStatus.COMPLETED
    last = order.history.first()
    assert (last.history_user.username, message_text(last.history_change_reason)) == (
        SYSTEM_USERNAME,
        "All work orders completed",
    )
    notice = Notification.objects.get(recipient=sales, event="order.completed")
    assert "completed automatically" in notice.body


def test_a_planner_cancelling_the_last_open_work_order_completes_the_order_made_so_far(planner, order):
    first, second = two(order)
    finish(planner, first)

    work_orders.work_order_transition(actor=planner, work_order=second, name="cancel", reason="Not needed")

    order = fresh(order)
    assert order.status == OrderStatus.COMPLETED
    assert (
        message_text(order.history.first().history_change_reason)
        == f"All work orders closed ({second.number} cancelled)"
    )


def test_work_orders_all_cancelled_complete_nothing(planner, order):
    first, second = two(order)
    report(planner, first, good=1)

    for work_order in (first, second):
        work_orders.work_order_transition(actor=planner, work_order=work_order, name="cancel", reason="Stop")

    assert {fresh(w).status for w in (first, second)} == {WorkOrderStatus.CANCELLED}
    assert fresh(order).status == OrderStatus.IN_PRODUCTION


def test_the_door_knows_what_is_unfinished(planner, order):
    first, second = two(order)
    finish(planner, first)

    work = work_orders.order_work(SalesOrder.objects.get(pk=order.pk))

    assert (work.started, work.finished) == (True, False)
    assert [(w.number, w.status, w.done, w.planned) for w in work.unfinished] == [
        (second.number, WorkOrderStatus.PLANNED, 0, second.quantity)
    ]


def test_a_change_request_removing_the_last_unfinished_line_completes_the_order_after_it(
    sales, planner, order, django_capture_on_commit_callbacks
):
    first, _second = two(order)
    finish(planner, first)
    cr = approved(sales, planner, order, [{"op": "remove_line", "line_no": 2}])

    with django_capture_on_commit_callbacks(execute=True):
        change_requests.change_request_apply(actor=planner, change_request=cr)

    order = fresh(order)
    assert order.status == OrderStatus.COMPLETED
    assert (
        message_text(order.history.first().history_change_reason)
        == f"All work orders closed (change request {cr.number})"
    )
    types = list(
        OutboxEvent.objects.filter(order_id=order.pk).order_by("sequence").values_list("type", flat=True)
    )
    assert types.index("order.change_applied") < types.index("order.completed")
