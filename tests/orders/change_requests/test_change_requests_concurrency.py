"""Real parallel transactions on PostgreSQL: of two approvers exactly one decides; of two CRs one applies."""

from decimal import Decimal

import pytest

from config.kernel.errors import Conflict
from orders import change_requests as crs
from orders.models import ChangeRequest, ChangeRequestDecision
from tests.factories import UserFactory
from tests.orders.change_requests.cr_helpers import approved, fresh, make_line, released_order, submitted
from tests.orders.sales.test_concurrency import _in_threads
from tests.services import require_postgresql

pytestmark = [pytest.mark.django_db(transaction=True, serialized_rollback=True), pytest.mark.services]


@pytest.fixture(autouse=True)
def _no_broker(monkeypatch):
    # Applying asks for a reschedule after commit; these tests are about the decision, not the plan.
    from production import tasks

    monkeypatch.setattr(tasks.reschedule, "apply_async", lambda *args, **kwargs: None)


def test_two_approvers_deciding_at_once_exactly_one_lands():
    require_postgresql()
    sales = UserFactory(username="sally", role="sales")
    planners = [UserFactory(username=f"planner{i}", role="planner") for i in range(2)]
    order = released_order(sales, planners[0], make_line(planners[0]))
    cr = submitted(sales, order, [{"op": "set_quantity", "line_no": 1, "quantity": "12"}])

    def decide(index):
        if index == 0:
            return crs.change_request_approve(actor=planners[0], change_request=cr.pk).status
        return crs.change_request_reject(actor=planners[1], change_request=cr.pk, comment="no").status

    results, errors = _in_threads(2, decide)
    assert len(results) == 1 and len(errors) == 1
    assert isinstance(errors[0], Conflict)
    assert fresh(cr).status == results[0]
    assert (
        ChangeRequestDecision.objects.filter(change_request=cr, action__in=["approved", "rejected"]).count()
        == 1
    )


def test_of_two_change_requests_applied_at_once_the_second_is_superseded():
    require_postgresql()
    sales = UserFactory(username="sally", role="sales")
    planner = UserFactory(username="pat", role="planner")
    order = released_order(sales, planner, make_line(planner))
    first = approved(sales, planner, order, [{"op": "set_quantity", "line_no": 1, "quantity": "12"}])
    second = approved(sales, planner, order, [{"op": "set_quantity", "line_no": 1, "quantity": "20"}])

    def apply(index):
        return crs.change_request_apply(actor=planner, change_request=(first, second)[index].pk).number

    results, errors = _in_threads(2, apply)
    assert len(results) == 1 and len(errors) == 1 and isinstance(errors[0], Conflict)
    statuses = sorted(ChangeRequest.objects.values_list("status", flat=True))
    assert statuses == ["applied", "superseded"]
    winner = ChangeRequest.objects.get(status="applied")
    assert fresh(order).revision == 2
    assert fresh(order).lines.get().quantity == Decimal(winner.changes[0]["quantity"])
