"""Deciding what a change request left open on the shop floor
(production.changes.change_disposition_decide).

A cancel holds started work pending its disposition; a quantity cut below what is made holds the work order
whose whole remaining quantity became surplus. A planner or production manager later decides each open
row: to stock (the held work order is completed as made), scrap (it is cancelled) or, for parts made to the
old spec, rework or scrap (a scrapped part is made again).
"""

from decimal import Decimal

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from config.kernel.errors import Conflict, Forbidden, ValidationFailed
from crm_sync.models import OutboxEvent
from orders import change_requests as crs
from orders.models import OrderStatus
from orders.sales import transitions
from production import work_orders
from production.changes import change_disposition_decide
from production.changes.models import ChangeDisposition, DispositionKind
from production.work_orders import WorkOrderStatus
from tests.orders.change_requests.cr_helpers import approved, finish, fresh, make_line, released_order, report

pytestmark = pytest.mark.django_db


def work(order):
    return list(fresh(order).work_orders.order_by("number"))


@pytest.fixture
def cancelled_with_started_work(sales, planner, manager):
    """An order cancelled by a CR while one work order had made 2: that one is held pending disposition."""
    order = released_order(sales, planner, make_line(planner, lot_size="5"))
    started, _unstarted = work(order)
    report(planner, started, good=2)
    cr = approved(sales, planner, order, [{"op": "cancel"}], manager=manager, disposition="scrap")
    crs.change_request_apply(actor=manager, change_request=cr)
    return fresh(order), fresh(started), ChangeDisposition.objects.get()


@pytest.fixture
def surplus_held(sales, planner, manager):
    """10 in two lots cut to 3 after 5 and 2 were made: the second lot is all surplus and held."""
    order = released_order(sales, planner, make_line(planner, lot_size="5"))
    first, second = work(order)
    report(planner, first, good=5)
    report(planner, second, good=2)
    changes = [{"op": "set_quantity", "line_no": 1, "quantity": "3"}]
    cr = approved(sales, planner, order, changes, manager=manager, disposition="stock")
    crs.change_request_apply(actor=planner, change_request=cr)
    return fresh(order), fresh(first), fresh(second)


def test_work_held_by_a_cancel_is_an_open_disposition(cancelled_with_started_work):
    _order, started, pending = cancelled_with_started_work
    assert started.status == WorkOrderStatus.ON_HOLD
    assert list(work_orders.open_dispositions()) == [pending]
    assert pending.decision_choices == ("stock", "scrap")


def test_scrapping_cancelled_work_cancels_the_held_work_order_and_records_who_when_and_why(
    cancelled_with_started_work, planner
):
    _order, started, pending = cancelled_with_started_work
    change_disposition_decide(actor=planner, disposition=pending, decision="scrap", reason="Bent panels")
    decided = fresh(pending)
    assert (decided.decision, decided.decided_by, decided.decision_reason) == (
        "scrap",
        planner,
        "Bent panels",
    )
    assert decided.decided_at is not None and not work_orders.open_dispositions().exists()
    assert fresh(started).status == WorkOrderStatus.CANCELLED
    last = fresh(started).history.first()
    assert last.history_user == planner and "Bent panels" in last.history_change_reason
    assert decided.history.first().history_user == planner


def test_keeping_cancelled_work_as_stock_completes_the_held_work_order_as_made(
    cancelled_with_started_work, manager
):
    order, started, pending = cancelled_with_started_work
    change_disposition_decide(actor=manager, disposition=pending, decision="stock", reason="Sell later")
    held = fresh(started)
    assert (held.status, held.completed_at is not None) == (WorkOrderStatus.COMPLETED, True)
    assert fresh(order).status == OrderStatus.CANCELLED  # a cancelled order stays cancelled


def test_work_kept_as_stock_counts_as_done_in_the_orders_progress(cancelled_with_started_work, manager):
    _order, started, pending = cancelled_with_started_work
    assert started.percent_complete < 100
    change_disposition_decide(actor=manager, disposition=pending, decision="stock", reason="Sell later")
    assert fresh(started).percent_complete == 100


def test_a_surplus_lot_is_held_and_the_lot_still_needed_keeps_its_settled_surplus(surplus_held):
    _order, first, second = surplus_held
    assert (first.status, second.status) == (WorkOrderStatus.IN_PROGRESS, WorkOrderStatus.ON_HOLD)
    settled = ChangeDisposition.objects.get(work_order=first)
    assert (settled.decision, settled.decided_at is not None) == ("stock", True)
    (open_row,) = work_orders.open_dispositions()
    assert (open_row.work_order, open_row.kind, open_row.quantity) == (second, "surplus", Decimal(2))


def test_the_last_held_lot_decided_completes_the_order_when_the_rest_is_done(surplus_held, planner):
    order, first, second = surplus_held
    finish(planner, first)
    assert fresh(order).status == OrderStatus.IN_PRODUCTION  # the held lot is still open
    pending = work_orders.open_dispositions().get()
    change_disposition_decide(actor=planner, disposition=pending, decision="scrap", reason="Not needed")
    assert fresh(second).status == WorkOrderStatus.CANCELLED
    assert fresh(order).status == OrderStatus.COMPLETED


def test_the_mes_gets_the_orders_work_orders_after_a_decision(cancelled_with_started_work, planner):
    order, started, pending = cancelled_with_started_work
    change_disposition_decide(actor=planner, disposition=pending, decision="scrap", reason="Bent panels")
    event = OutboxEvent.objects.get(order_id=order.pk, type="production.disposition_decided")
    statuses = {row["number"]: row["status"] for row in event.data["work_orders"]}
    assert statuses[started.number] == WorkOrderStatus.CANCELLED
    assert (event.data["decision"], event.data["work_order_number"]) == ("scrap", started.number)
    assert event.actor_id == planner.pk


def test_a_scrapped_part_made_to_the_old_spec_is_made_again(sales, planner, manager):
    order = released_order(sales, planner, make_line(planner))
    (started,) = work(order)
    changes = [{"op": "set_spec", "line_no": 1, "spec_values": {"finish": "anodised"}}]
    cr = approved(sales, planner, order, changes)  # nothing made yet: no disposition asked
    report(planner, started, good=4)  # meanwhile the plant made 4 to the old spec
    crs.change_request_apply(actor=manager, change_request=cr)
    pending = work_orders.open_dispositions().get()
    assert (pending.kind, pending.quantity, pending.decision_choices) == (
        DispositionKind.WRONG_SPEC,
        Decimal(4),
        ("rework", "scrap"),
    )
    change_disposition_decide(actor=planner, disposition=pending, decision="scrap", reason="Wrong finish")
    assert [(wo.quantity, wo.status) for wo in work(order)] == [
        (Decimal(10), WorkOrderStatus.IN_PROGRESS),
        (Decimal(4), WorkOrderStatus.PLANNED),
    ]


def test_sales_cannot_decide_a_disposition(cancelled_with_started_work, sales):
    _order, started, pending = cancelled_with_started_work
    with pytest.raises(Forbidden):
        change_disposition_decide(actor=sales, disposition=pending, decision="scrap", reason="Mine")
    assert fresh(pending).is_open and fresh(started).status == WorkOrderStatus.ON_HOLD


def test_a_decision_the_kind_does_not_allow_is_refused_naming_the_choices_and_nothing_changes(
    cancelled_with_started_work, planner
):
    _order, started, pending = cancelled_with_started_work
    with pytest.raises(ValidationFailed) as refused:
        change_disposition_decide(actor=planner, disposition=pending, decision="rework", reason="Try")
    assert list(refused.value.fields) == ["decision"]
    assert "stock" in refused.value.fields["decision"][0] and "scrap" in refused.value.fields["decision"][0]
    assert fresh(pending).is_open and fresh(started).status == WorkOrderStatus.ON_HOLD
    assert not OutboxEvent.objects.filter(type="production.disposition_decided").exists()


def test_a_decision_needs_a_reason(cancelled_with_started_work, planner):
    _order, started, pending = cancelled_with_started_work
    with pytest.raises(ValidationFailed) as refused:
        change_disposition_decide(actor=planner, disposition=pending, decision="scrap", reason="  ")
    assert list(refused.value.fields) == ["reason"]
    assert fresh(pending).is_open and fresh(started).status == WorkOrderStatus.ON_HOLD


def test_a_decided_disposition_cannot_be_decided_again(cancelled_with_started_work, planner, manager):
    _order, started, pending = cancelled_with_started_work
    change_disposition_decide(actor=planner, disposition=pending, decision="scrap", reason="Bent")
    with pytest.raises(Conflict) as refused:
        change_disposition_decide(actor=manager, disposition=pending, decision="stock", reason="Keep")
    assert refused.value.code == "already_decided"
    assert (fresh(pending).decision, fresh(pending).decided_by) == ("scrap", planner)
    assert fresh(started).status == WorkOrderStatus.CANCELLED


# --- the planner page ---------------------------------------------------------------------------------
def test_the_planner_page_lists_open_dispositions_with_the_choices_of_their_kind(
    client, cancelled_with_started_work, planner
):
    _order, started, pending = cancelled_with_started_work
    client.force_login(planner)
    page = client.get(reverse("production:planner")).content.decode()
    assert f'data-testid="disposition-{pending.pk}"' in page and started.number in page
    assert '<option value="scrap" selected>' in page and 'value="rework"' not in page


def test_a_planner_decides_on_the_planner_page_and_is_sent_back_with_a_message(
    client, cancelled_with_started_work, planner
):
    _order, started, pending = cancelled_with_started_work
    client.force_login(planner)
    url = reverse("production:disposition_decide", args=[pending.pk])
    response = client.post(url, {"decision": "scrap", "reason": "Bent panels"}, follow=True)
    assert f"Disposition of work order {started.number} decided." in response.content.decode()
    assert fresh(started).status == WorkOrderStatus.CANCELLED


def test_a_bad_decision_on_the_page_shows_the_error_and_saves_nothing(
    client, cancelled_with_started_work, planner
):
    _order, started, pending = cancelled_with_started_work
    client.force_login(planner)
    url = reverse("production:disposition_decide", args=[pending.pk])
    response = client.post(url, {"decision": "scrap", "reason": ""}, follow=True)
    assert "This field is required." in response.content.decode()
    assert fresh(pending).is_open and fresh(started).status == WorkOrderStatus.ON_HOLD


def test_sales_and_outsiders_neither_see_nor_post_decisions(
    client, cancelled_with_started_work, sales, outsider
):
    _order, _started, pending = cancelled_with_started_work
    url = reverse("production:disposition_decide", args=[pending.pk])
    for user in (sales, outsider):
        client.force_login(user)
        assert client.post(url, {"decision": "scrap", "reason": "x"}).status_code == 403
    assert fresh(pending).is_open


def test_the_planner_page_shows_the_chinese_labels(client, cancelled_with_started_work, planner):
    client.force_login(planner)
    page = client.get(reverse("production:planner"), HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "待处置" in page and "报废" in page


# --- the API ------------------------------------------------------------------------------------------
def api(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_the_api_lists_open_dispositions_and_decides_one(cancelled_with_started_work, manager):
    _order, started, pending = cancelled_with_started_work
    listed = api(manager).get("/api/v1/dispositions/?open=1").json()
    assert [row["id"] for row in listed["results"]] == [pending.pk]
    assert listed["results"][0]["decision_choices"] == ["stock", "scrap"]
    response = api(manager).post(
        f"/api/v1/dispositions/{pending.pk}/decide/", {"decision": "stock", "reason": "Sell later"}
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["decision"], body["decided_by"], body["is_open"]) == ("stock", manager.username, False)
    assert fresh(started).status == WorkOrderStatus.COMPLETED


def test_the_api_answers_a_bad_decision_in_its_one_error_format(cancelled_with_started_work, planner):
    _order, _started, pending = cancelled_with_started_work
    response = api(planner).post(f"/api/v1/dispositions/{pending.pk}/decide/", {"decision": "melt"})
    assert response.status_code == 400
    assert set(response.json()["error"]["fields"]) == {"decision", "reason"}


def test_the_api_refuses_sales_a_decision(cancelled_with_started_work, sales):
    _order, _started, pending = cancelled_with_started_work
    response = api(sales).post(
        f"/api/v1/dispositions/{pending.pk}/decide/", {"decision": "scrap", "reason": "x"}
    )
    assert response.status_code == 403 and fresh(pending).is_open


# --- the admin ----------------------------------------------------------------------------------------
def test_the_admin_lists_dispositions_read_only_and_filters_the_open_ones(
    client, cancelled_with_started_work, admin_user
):
    _order, started, _pending = cancelled_with_started_work
    client.force_login(admin_user)
    listing = client.get(reverse("admin:production_changedisposition_changelist") + "?decided=no")
    assert listing.status_code == 200 and started.number in listing.content.decode()
    decided = client.get(reverse("admin:production_changedisposition_changelist") + "?decided=yes")
    assert started.number not in decided.content.decode()
    assert client.get(reverse("admin:production_changedisposition_add")).status_code == 403


def test_the_mes_reads_the_scrapped_work_order_as_cancelled_in_b2mml(surplus_held, planner):
    from crm_sync import b2mml

    order, first, second = surplus_held
    pending = work_orders.open_dispositions().get()
    change_disposition_decide(actor=planner, disposition=pending, decision="scrap", reason="Not needed")
    event = OutboxEvent.objects.get(order_id=order.pk, type="production.disposition_decided")
    schedule = b2mml.schedule_read(b2mml.schedule_for_event(event.as_cloudevent()))
    states = {request["id"]: request["state"] for request in schedule["requests"]}
    assert states == {first.number: "Running", second.number: "Cancelled"}


def test_a_work_order_pending_disposition_offers_no_resume_but_a_pointer_to_the_decision(
    client, cancelled_with_started_work, planner
):
    order, started, _pending = cancelled_with_started_work
    client.force_login(planner)
    planner_page = client.get(reverse("production:planner")).content.decode()
    order_page = client.get(reverse("orders:order_detail", args=[order.number])).content.decode()
    for page in (planner_page, order_page):
        assert 'data-testid="pending-disposition"' in page
        assert (
            f'name="number" value="{started.number}"><input type="hidden" name="action" value="resume"'
            not in page
        )


def test_sales_read_the_dispositions_of_their_own_orders_only(
    cancelled_with_started_work, sales, other_sales
):
    _order, _started, pending = cancelled_with_started_work
    assert [row["id"] for row in api(sales).get("/api/v1/dispositions/").json()["results"]] == [pending.pk]
    assert api(other_sales).get("/api/v1/dispositions/").json()["results"] == []


def test_a_work_order_pending_disposition_cannot_be_resumed_by_hand(surplus_held, planner):
    _order, _first, second = surplus_held
    with pytest.raises(Conflict) as error:
        work_orders.work_order_transition(actor=planner, work_order=second, name="resume")
    assert error.value.code == "pending_disposition"
    assert fresh(second).status == WorkOrderStatus.ON_HOLD


def test_resuming_the_whole_order_leaves_work_pending_disposition_on_hold(surplus_held, planner):
    order, _first, second = surplus_held
    order = transitions.order_hold(actor=planner, order=order, reason="Customer audit")
    transitions.order_resume(actor=planner, order=order)
    assert fresh(order).status != OrderStatus.ON_HOLD
    assert fresh(second).status == WorkOrderStatus.ON_HOLD
    assert list(work_orders.work_orders_pending_disposition()) == [second.pk]


def test_a_cancel_stops_started_work_that_has_made_nothing_instead_of_holding_it(sales, planner, manager):
    order = released_order(sales, planner, make_line(planner))
    [started] = work(order)
    work_orders.work_order_transition(actor=planner, work_order=started, name="release")
    work_orders.progress_report_create(
        actor=planner, operation=started.operations.get(sequence=10), message_id="scrap-1", scrap_quantity=1
    )
    cr = approved(sales, planner, order, [{"op": "cancel"}], manager=manager)
    crs.change_request_apply(actor=manager, change_request=cr)
    assert fresh(started).status == WorkOrderStatus.CANCELLED
    assert not ChangeDisposition.objects.exists()
