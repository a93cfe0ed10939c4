"""Change requests: the workflow, the approval matrix, apply in one transaction, supersession, bad input."""

from decimal import Decimal

import pytest

from config.kernel.errors import Conflict, Forbidden, StaleObject, TransitionNotAllowed, ValidationFailed
from orders import change_requests as crs
from orders import sales as order_services
from orders.models import ChangeRequest, ChangeRequestDecision, OrderStatus
from orders.sales import transitions
from tests.factories import in_days, make_order
from tests.orders.change_requests.cr_helpers import (
    approved,
    fresh,
    make_line,
    released_order,
    report,
    submitted,
)

pytestmark = pytest.mark.django_db

MORE = [{"op": "set_quantity", "line_no": 1, "quantity": "12"}]


@pytest.fixture
def order(sales, planner):
    return released_order(sales, planner, make_line(planner))


def test_a_released_order_is_locked_for_direct_edits_and_points_to_a_change_request(sales, order):
    with pytest.raises(Conflict) as refused:
        order_services.order_update(
            actor=sales, order=order, expected_version=order.version, data={"remarks": "x"}
        )
    assert refused.value.code == "order_locked" and "change request" in refused.value.message


def test_a_draft_or_confirmed_order_needs_no_change_request(sales):
    draft = make_order(owner=sales)
    with pytest.raises(Conflict) as refused:
        crs.change_request_create(actor=sales, order=draft, base_revision=1, reason="r", changes=MORE)
    assert refused.value.code == "order_editable"
    assert not ChangeRequest.objects.exists()


def test_sales_creates_a_draft_with_a_number_and_a_decision_row(sales, order):
    cr = crs.change_request_create(
        actor=sales, order=order, base_revision=1, reason="Customer called", changes=MORE
    )
    assert cr.number.startswith("CR-") and cr.status == "draft" and cr.origin == "ui"
    assert cr.changes == [{"op": "set_quantity", "line_no": 1, "quantity": "12"}]
    assert list(cr.decisions.values_list("action", flat=True)) == ["created"]


def test_a_reason_is_required(sales, order):
    with pytest.raises(ValidationFailed) as refused:
        crs.change_request_create(actor=sales, order=order, base_revision=1, reason=" ", changes=MORE)
    assert "reason" in refused.value.fields


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"op": "set_quantity", "line_no": 1, "quantity": "0"}, "changes[0].quantity"),
        ({"op": "set_quantity", "line_no": 1, "quantity": "-3"}, "changes[0].quantity"),
        ({"op": "set_quantity", "line_no": 1, "quantity": "many"}, "changes[0].quantity"),
        ({"op": "set_quantity", "line_no": 9, "quantity": "3"}, "changes[0].line_no"),
        ({"op": "set_date", "field": "shipped_at", "value": "2030-01-01"}, "changes[0].field"),
        ({"op": "set_date", "field": "promised_date", "value": "2001-01-01"}, "changes[0].value"),
        (
            {"op": "set_spec", "line_no": 1, "spec_values": {"material": "wood"}},
            "changes[0].spec_values.material",
        ),
        ({"op": "add_line", "product": "NOPE", "quantity": "2"}, "changes[0].product"),
        ({"op": "teleport"}, "changes[0].op"),
        ({"op": "resume"}, "changes[0].op"),
    ],
)
def test_invalid_changes_are_refused_with_the_field_named_and_nothing_stored(sales, order, change, field):
    with pytest.raises(ValidationFailed) as refused:
        crs.change_request_create(actor=sales, order=order, base_revision=1, reason="r", changes=[change])
    assert field in refused.value.fields
    assert not ChangeRequest.objects.exists()


def test_an_empty_change_list_is_refused(sales, order):
    with pytest.raises(ValidationFailed) as refused:
        crs.change_request_create(actor=sales, order=order, base_revision=1, reason="r", changes=[])
    assert "changes" in refused.value.fields


def test_removing_every_line_is_refused_cancel_instead(sales, order):
    with pytest.raises(ValidationFailed) as refused:
        crs.change_request_create(
            actor=sales,
            order=order,
            base_revision=1,
            reason="r",
            changes=[{"op": "remove_line", "line_no": 1}],
        )
    assert "changes" in refused.value.fields


def test_a_change_on_an_old_revision_is_refused_as_stale(sales, order):
    with pytest.raises(StaleObject):
        crs.change_request_create(actor=sales, order=order, base_revision=0, reason="r", changes=MORE)


def test_customer_service_may_not_request_changes(service_agent, order):
    with pytest.raises(Forbidden):
        crs.change_request_create(actor=service_agent, order=order, base_revision=1, reason="r", changes=MORE)


def test_another_sales_person_cannot_change_an_order_they_do_not_see(other_sales, order):
    with pytest.raises(Forbidden):
        crs.change_request_create(actor=other_sales, order=order, base_revision=1, reason="r", changes=MORE)


def test_submitting_stores_the_impact_and_the_time(sales, order):
    cr = submitted(sales, order, MORE)
    assert cr.status == "submitted" and cr.submitted_at is not None
    assert cr.impact["available"] is True and cr.impact["lines"][0]["action"] == "grow"
    assert cr.impact["diff"] == [
        {
            "op": "set_quantity",
            "subject": "line 1",
            "field": "quantity",
            "old": "10",
            "new": "12",
            "line_no": 1,
        }
    ]
    assert cr.needs_manager is False


def test_a_planner_approves_when_no_work_has_started(sales, planner, order):
    cr = submitted(sales, order, MORE)
    cr = crs.change_request_approve(actor=planner, change_request=cr, comment="ok")
    assert (cr.status, cr.decided_by, cr.planner_approved_by) == ("approved", planner, planner)
    assert cr.decided_at is not None


def test_nobody_approves_their_own_change_request(planner, order):
    cr = submitted(planner, order, MORE)
    with pytest.raises(Forbidden):
        crs.change_request_approve(actor=planner, change_request=cr)
    assert fresh(cr).status == "submitted"


def test_sales_cannot_approve(sales, other_sales, planner, order):
    cr = submitted(planner, order, MORE)
    with pytest.raises(Forbidden):
        crs.change_request_approve(actor=sales, change_request=cr)


def test_started_work_needs_the_planner_and_then_a_production_manager(sales, planner, manager, order):
    report(planner, order.work_orders.get(), good=2)
    cr = submitted(sales, order, MORE)
    assert cr.needs_manager and cr.impact["manager_reasons"] == ["work_started"]
    cr = crs.change_request_approve(actor=planner, change_request=cr)
    assert cr.status == "submitted" and cr.planner_approved_by == planner
    other_planner = type(planner).objects.create(username="pia")
    other_planner.groups.add(*planner.groups.all())
    with pytest.raises(Forbidden):
        crs.change_request_approve(actor=other_planner, change_request=cr)
    cr = crs.change_request_approve(actor=manager, change_request=cr)
    assert (cr.status, cr.manager_approved_by, cr.decided_by) == ("approved", manager, manager)
    roles = list(cr.decisions.filter(action="approved").values_list("role", flat=True))
    assert roles == ["planner", "manager"]


def test_the_matrix_is_configurable(sales, planner, order, settings):
    settings.CHANGE_REQUEST_MANAGER_WHEN_WORK_STARTED = False
    report(planner, order.work_orders.get(), good=2)
    cr = submitted(sales, order, MORE)
    assert not cr.needs_manager
    assert crs.change_request_approve(actor=planner, change_request=cr).status == "approved"


def test_rejection_needs_a_comment_and_is_recorded(sales, planner, order):
    cr = submitted(sales, order, MORE)
    with pytest.raises(ValidationFailed) as refused:
        crs.change_request_reject(actor=planner, change_request=cr, comment="")
    assert "comment" in refused.value.fields
    cr = crs.change_request_reject(actor=planner, change_request=cr, comment="No capacity this month")
    assert cr.status == "rejected" and cr.decided_by == planner
    decision = cr.decisions.get(action="rejected")
    assert (decision.actor, decision.comment, decision.role) == (planner, "No capacity this month", "planner")


def test_the_requester_withdraws_before_the_decision_but_not_after(sales, planner, order):
    cr = submitted(sales, order, MORE)
    with pytest.raises(Forbidden):
        crs.change_request_withdraw(actor=planner, change_request=cr)
    assert crs.change_request_withdraw(actor=sales, change_request=cr, comment="Solved").status == "withdrawn"
    second = approved(sales, planner, order, MORE)
    with pytest.raises(TransitionNotAllowed):
        crs.change_request_withdraw(actor=sales, change_request=second)


def test_applying_changes_the_order_raises_its_revision_and_keeps_its_number(sales, planner, order):
    cr = approved(
        sales,
        planner,
        order,
        [*MORE, {"op": "set_date", "field": "promised_date", "value": in_days(40).isoformat()}],
    )
    cr = crs.change_request_apply(actor=planner, change_request=cr)
    order_after = fresh(order)
    assert (order_after.number, order_after.revision, order_after.promised_date) == (
        order.number,
        2,
        in_days(40),
    )
    assert order_after.lines.get().quantity == Decimal(12)
    assert (cr.status, cr.applied_revision, cr.applied_by) == ("applied", 2, planner)
    assert cr.submitted_at <= cr.decided_at <= cr.applied_at
    assert order_after.history.first().history_change_reason == f"{cr.number}: Customer called"


def test_applying_writes_the_integration_event(sales, planner, order):
    from crm_sync.models import OutboxEvent

    cr = crs.change_request_apply(actor=planner, change_request=approved(sales, planner, order, MORE))
    event = OutboxEvent.objects.get(type="order.change_applied")
    assert (event.data["change_request_number"], event.data["revision"]) == (cr.number, 2)
    assert event.data["lines"][0]["quantity"] == "12.000"


def test_only_an_approved_change_request_is_applied(sales, planner, order):
    cr = submitted(sales, order, MORE)
    with pytest.raises(TransitionNotAllowed):
        crs.change_request_apply(actor=planner, change_request=cr)
    assert fresh(order).revision == 1


def test_of_two_change_requests_the_second_to_apply_is_superseded(sales, planner, order):
    first = approved(sales, planner, order, MORE)
    second = approved(sales, planner, order, [{"op": "set_quantity", "line_no": 1, "quantity": "20"}])
    crs.change_request_apply(actor=planner, change_request=first)
    assert fresh(second).status == "superseded"
    with pytest.raises(TransitionNotAllowed):
        crs.change_request_apply(actor=planner, change_request=second)
    assert fresh(order).lines.get().quantity == Decimal(12)


def test_a_change_request_found_stale_at_apply_is_superseded_and_refused(sales, planner, order):
    cr = approved(sales, planner, order, MORE)
    # The order moved on without this CR knowing (e.g. a change applied by another path).
    type(order).objects.filter(pk=order.pk).update(revision=2)
    with pytest.raises(Conflict) as refused:
        crs.change_request_apply(actor=planner, change_request=cr)
    assert refused.value.code == "superseded"
    assert fresh(cr).status == "superseded"
    assert fresh(order).lines.get().quantity == Decimal(10)


def test_a_superseded_change_request_is_rebased_as_a_new_draft(sales, planner, order):
    first = approved(sales, planner, order, MORE)
    second = submitted(sales, order, [{"op": "set_quantity", "line_no": 1, "quantity": "20"}])
    crs.change_request_apply(actor=planner, change_request=first)
    copy = crs.change_request_rebase(actor=sales, change_request=second)
    assert (copy.status, copy.base_revision, copy.rebased_from, copy.changes) == (
        "draft",
        2,
        fresh(second),
        second.changes,
    )
    assert crs.change_request_submit(actor=sales, change_request=copy).status == "submitted"


def test_hold_through_a_change_request_holds_the_order(sales, planner, order):
    cr = crs.change_request_apply(
        actor=planner, change_request=approved(sales, planner, order, [{"op": "hold"}])
    )
    assert fresh(order).status == OrderStatus.ON_HOLD and cr.status == "applied"


@pytest.mark.parametrize(("op", "event_type"), [("hold", "order.held"), ("cancel", "order.cancelled")])
def test_a_hold_or_cancel_by_change_request_sends_the_same_event_as_the_direct_transition(
    sales, planner, manager, order, op, event_type
):
    from crm_sync.models import OutboxEvent

    # A cancel of a released order needs the production manager's approval too (the cancel rule).
    cr = approved(sales, planner, order, [{"op": op}], manager=manager)
    cr = crs.change_request_apply(actor=planner, change_request=cr)
    events = list(OutboxEvent.objects.filter(order_id=order.pk).order_by("sequence"))
    assert [event.type for event in events[-2:]] == ["order.change_applied", event_type]
    status_event = events[-1]
    assert (status_event.actor_id, status_event.reason) == (planner.pk, f"{cr.number}: Customer called")
    assert (status_event.data["status"], status_event.data["change_request_number"]) == (
        fresh(order).status,
        cr.number,
    )


def test_a_resume_by_change_request_sends_order_resumed_as_the_direct_transition_does(sales, planner, order):
    from crm_sync.models import OutboxEvent

    transitions.order_hold(actor=planner, order=order, reason="Waiting for steel")
    cr = crs.change_request_apply(
        actor=planner, change_request=approved(sales, planner, order, [{"op": "resume"}])
    )
    types = list(
        OutboxEvent.objects.filter(order_id=order.pk).order_by("sequence").values_list("type", flat=True)
    )
    assert types[-2:] == ["order.change_applied", "order.resumed"]
    assert (fresh(order).status, cr.status) == (OrderStatus.RELEASED, "applied")


def test_the_mes_acknowledgement_is_recorded_once(sales, planner, order):
    import datetime as dt

    from django.utils import timezone

    cr = crs.change_request_apply(actor=planner, change_request=approved(sales, planner, order, MORE))
    at = timezone.now() + dt.timedelta(minutes=3)
    assert crs.change_request_mark_acknowledged(change_request_id=cr.pk, at=at) is True
    assert (
        crs.change_request_mark_acknowledged(change_request_id=cr.pk, at=at + dt.timedelta(hours=1)) is False
    )
    assert fresh(cr).acknowledged_at == at
    assert ChangeRequestDecision.objects.filter(change_request=cr, action="acknowledged").count() == 1


def test_events_are_published_for_submit_and_decision(sales, planner, order):
    from config.kernel import bus as events

    seen = []
    handler = events.subscribe(lambda event: seen.append((event.type, dict(event.data))))
    try:
        cr = submitted(sales, order, MORE)
        crs.change_request_reject(actor=planner, change_request=cr, comment="no")
    finally:
        events.unsubscribe(handler)
    types = [name for name, _ in seen]
    assert types == ["change_request.submitted", "change_request.rejected"]
    assert seen[0][1]["needs_manager"] is False and seen[1][1]["decided_by_id"] == planner.pk


def test_the_order_timeline_shows_the_change_request_with_its_diff_and_decisions(sales, planner, order):
    from orders.sales import order_history

    cr = crs.change_request_apply(actor=planner, change_request=approved(sales, planner, order, MORE))
    entries = [entry for entry in order_history(order=fresh(order)) if entry.subject == cr.number]
    assert [entry.reason.split(":")[0] for entry in entries] == [
        "Applied",
        "Approved",
        "Submitted",
        "Created",
    ]
    assert entries[0].changes == [("line 1 · quantity", "10", "12")]
    assert entries[0].user == planner.username


def test_an_order_held_before_release_needs_no_change_request(sales):
    held = transitions.order_hold(actor=sales, order=make_order(owner=sales, confirmed=True), reason="Wait")
    with pytest.raises(Conflict) as refused:
        crs.change_request_create(actor=sales, order=held, base_revision=1, reason="r", changes=MORE)
    assert refused.value.code == "order_editable"
