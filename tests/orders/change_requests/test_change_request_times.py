"""A released order's promised time and release time (production not before) change through a change
request, to the minute; the next plan keeps them."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from config.kernel.errors import ValidationFailed
from orders import change_requests as crs
from orders.models import ChangeRequest
from production.scheduling import build_problem
from tests.factories import in_days
from tests.orders.change_requests.cr_helpers import approved, fresh, make_line, released_order

pytestmark = pytest.mark.django_db


@pytest.fixture
def order(sales, planner):
    return released_order(sales, planner, make_line(planner), promised_date=in_days(20))


def plant_time(days, hour, minute):
    return dt.datetime.combine(in_days(days), dt.time(hour, minute), tzinfo=timezone.get_default_timezone())


def test_a_change_request_sets_the_promised_time_to_the_minute(sales, planner, order):
    cr = approved(sales, planner, order, [{"op": "set_time", "field": "promised_time", "value": "15:45"}])

    crs.change_request_apply(actor=planner, change_request=cr)

    assert fresh(order).promised_time == dt.time(15, 45)


def test_a_change_request_sets_when_production_may_start_and_the_plan_keeps_it(sales, planner, order):
    moment = plant_time(3, 9, 10)
    cr = approved(
        sales,
        planner,
        order,
        [{"op": "set_time", "field": "start_not_before", "value": moment.strftime("%Y-%m-%d %H:%M")}],
    )

    crs.change_request_apply(actor=planner, change_request=cr)
    now = timezone.now().replace(second=0, microsecond=0)
    built = build_problem(now=now)

    assert fresh(order).start_not_before == moment
    assert {job.release for job in built.problem.jobs} == {int((moment - now).total_seconds() // 60)}


def test_an_empty_value_clears_the_promised_time(sales, planner, order):
    order.promised_time = dt.time(10, 0)
    order.save(update_fields=["promised_time"])
    cr = approved(sales, planner, order, [{"op": "set_time", "field": "promised_time", "value": ""}])

    crs.change_request_apply(actor=planner, change_request=cr)

    assert fresh(order).promised_time is None


def test_the_diff_shows_the_old_and_new_time(sales, planner, order):
    cr = approved(sales, planner, order, [{"op": "set_time", "field": "promised_time", "value": "08:30"}])

    (row,) = crs.change_diff(order=fresh(order), changes=cr.changes)

    assert (row["field"], row["old"], row["new"]) == ("promised time", "—", "08:30")


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"op": "set_time", "field": "shipped_at", "value": "10:00"}, "changes[0].field"),
        ({"op": "set_time", "field": "promised_time", "value": "half ten"}, "changes[0].value"),
        ({"op": "set_time", "field": "start_not_before", "value": "tomorrow"}, "changes[0].value"),
    ],
)
def test_unreadable_times_are_refused_with_the_field_named_and_nothing_stored(sales, order, change, field):
    with pytest.raises(ValidationFailed) as refused:
        crs.change_request_create(actor=sales, order=order, base_revision=1, reason="r", changes=[change])

    assert field in refused.value.fields
    assert not ChangeRequest.objects.exists()
