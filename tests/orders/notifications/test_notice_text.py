"""A notice reads in its reader's language, stops asking once nobody needs to act, and reads cleanly."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.utils import translation

from config.kernel import publish
from config.kernel.events import OrderAtRisk
from orders import change_requests as crs
from orders.models import Notification, SalesOrder
from orders.notifications.services import render_text
from production.scheduling.models import why_message
from tests.factories import make_order
from tests.orders.change_requests.cr_helpers import make_line, released_order, submitted

pytestmark = pytest.mark.django_db

MORE = [{"op": "set_quantity", "line_no": 1, "quantity": "12"}]


@pytest.fixture
def approvers(planner, manager):
    permission = Permission.objects.filter(
        codename="approve_changerequest", content_type__app_label="orders"
    ).first() or Permission.objects.create(
        codename="approve_changerequest",
        name="Can approve change requests",
        content_type=ContentType.objects.get_for_model(SalesOrder),
    )
    for role in ("planner", "production_manager"):
        Group.objects.get(name=role).permissions.add(permission)
    return [planner, manager]


def waiting_notices(cr) -> list[Notification]:
    return list(
        Notification.objects.filter(
            event="change_request.submitted", params__change_request=cr.number, read_at__isnull=True
        )
    )


def test_waits_for_your_approval_is_settled_once_the_request_is_approved(sales, planner, manager, approvers):
    order = released_order(sales, planner, make_line(planner))
    cr = submitted(sales, order, MORE)
    assert waiting_notices(cr)
    cr = crs.change_request_approve(actor=planner, change_request=cr, comment="ok")
    if cr.status == "submitted":
        crs.change_request_approve(actor=manager, change_request=cr, comment="ok")
    assert waiting_notices(cr) == []


def test_waits_for_your_approval_is_settled_once_the_request_is_withdrawn(sales, planner, approvers):
    order = released_order(sales, planner, make_line(planner))
    cr = submitted(sales, order, MORE)
    crs.change_request_withdraw(actor=sales, change_request=cr, comment="not needed")
    assert waiting_notices(cr) == []


def params(**overrides) -> dict:
    base = {
        "order": "SO-1",
        "customer": "Acme Co., Ltd.",
        "change_request": "CR-000001",
        "exception": "Machine breakdown",
        "severity": "Medium",
        "work_order": "WO-1",
        "reason": "Spindle",
        "exception_kind": "machine_breakdown",
        "severity_code": "medium",
    }
    return {**base, **overrides}


def test_a_customer_name_ending_in_a_full_stop_gets_no_second_one():
    with translation.override("en"):
        _title, body = render_text("order.held", params())
    assert "Ltd.." not in body and "Acme Co., Ltd. Reason" in body


def test_an_exception_notice_names_kind_and_severity_in_chinese():
    with translation.override("zh-hans"):
        title, body = render_text("production.exception_raised", params())
    assert "Machine breakdown" not in title and "设备故障" in title
    assert "Medium" not in body


def test_an_old_exception_notice_without_codes_still_reads_in_chinese():
    old = params(exception_kind="", severity_code="")
    with translation.override("zh-hans"):
        title, body = render_text("production.exception_raised", old)
    assert "Machine breakdown" not in title and "Medium" not in body


def test_an_at_risk_notice_reads_its_reason_in_the_readers_language(sales):
    order = make_order(owner=sales)
    why = why_message({"kind": "wait", "hours": 3.5, "work_center": "COAT"})
    # As the scheduler publishes it, from a worker whose language happens to be Chinese.
    with translation.override("zh-hans"):
        publish(
            OrderAtRisk(
                order=order,
                reason="waits 3.5 h for work center COAT",
                reason_message=why.stored(),
                projected_date="2027-01-06",
                promised_date="2026-12-23",
                tardiness_minutes=600,
                schedule_version=1,
            )
        )
    notice = Notification.objects.get(recipient=sales, event="order.at_risk")

    with translation.override("en"):
        _title, english = render_text(notice.event, notice.params)
    with translation.override("zh-hans"):
        _title, chinese = render_text(notice.event, notice.params)

    assert "waits 3.5 h for work center COAT" in english
    assert "waits" not in chinese and "COAT" in chinese
