"""What the system writes about change requests is read in the reader's language, said once."""

from __future__ import annotations

import pytest
from django.utils import translation

from orders import change_requests as crs
from orders.models import ChangeRequestDecision
from orders.sales import diff_row_display, order_history
from tests.orders.change_requests.cr_helpers import approved, make_line, released_order, submitted

pytestmark = pytest.mark.django_db

MORE = [{"op": "set_quantity", "line_no": 1, "quantity": "12"}]


def superseded_history_reason(order, number: str) -> str:
    entries = order_history(order=order)
    decided = ("Superseded", "已失效")
    return next(e.reason for e in entries if e.subject == number and e.reason.startswith(decided))


def test_a_superseded_request_says_superseded_once(sales, planner):
    order = released_order(sales, planner, make_line(planner))
    first = approved(sales, planner, order, MORE)
    waiting = submitted(sales, order, [{"op": "set_quantity", "line_no": 1, "quantity": "15"}])
    crs.change_request_apply(actor=planner, change_request=first)
    with translation.override("en"):
        reason = superseded_history_reason(order, waiting.number)
    assert reason.count("Superseded") == 1
    assert f"{first.number} was applied first" in reason


def test_the_supersession_written_in_english_reads_in_chinese(sales, planner):
    order = released_order(sales, planner, make_line(planner))
    first = approved(sales, planner, order, MORE)
    waiting = submitted(sales, order, [{"op": "set_quantity", "line_no": 1, "quantity": "15"}])
    with translation.override("en"):
        crs.change_request_apply(actor=planner, change_request=first)
    comment = ChangeRequestDecision.objects.get(change_request=waiting, action="superseded").comment
    assert comment.startswith("msg:")
    with translation.override("zh-hans"):
        reason = superseded_history_reason(order, waiting.number)
    assert "revision" not in reason and "applied first" not in reason


def test_an_order_transition_without_a_reason_reads_in_the_readers_language(sales, planner):
    order = released_order(sales, planner, make_line(planner))
    with translation.override("zh-hans"):
        reasons = {entry.reason for entry in order_history(order=order)}
    assert {"确认", "下达生产"} <= reasons


def test_a_proposed_change_reads_in_chinese_though_proposed_on_an_english_page(sales, planner):
    order = released_order(sales, planner, make_line(planner))
    with translation.override("en"):
        cr = submitted(sales, order, MORE)
    with translation.override("zh-hans"):
        row = diff_row_display(cr.impact["diff"][0], {})
    assert "line" not in row["subject"] and row["field"] != "quantity"


def test_an_old_english_diff_row_still_reads_in_chinese():
    old = {"op": "set_quantity", "subject": "line 1", "field": "quantity", "old": "10", "new": "12"}
    with translation.override("zh-hans"):
        row = diff_row_display(old, {})
    assert "line" not in row["subject"] and row["field"] != "quantity"


def test_the_step_created_reads_as_a_step_not_as_a_date_column():
    from orders.change_requests.models import DecisionAction

    with translation.override("zh-hans"):
        assert str(DecisionAction.CREATED.label) == "已创建"
