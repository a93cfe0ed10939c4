"""Imported orders carry a promised time and a release time (production not before) to the minute."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from orders.models import ImportJobStatus, SalesOrder
from tests.factories import in_days
from tests.orders.imports.test_import import HEADERS, catalog, csv_bytes, errors_of, imported, row, validated

pytestmark = pytest.mark.django_db
__all__ = ["catalog"]  # the fixture, used by name

TIMED = [*HEADERS, "promised_date", "promised_time", "start_not_before"]


def timed_row(promised_time="", start_not_before="", promised_date=None):
    promised = in_days(40).isoformat() if promised_date is None else promised_date
    return [*row(), promised, promised_time, start_not_before]


def test_an_imported_order_keeps_its_promised_time_and_release_time_to_the_minute(sales, catalog):
    start = f"{in_days(5).isoformat()} 07:45"

    imported(sales, csv_bytes([timed_row("14:30", start)], headers=TIMED), filename="orders.csv")

    order = SalesOrder.objects.get()
    zone = timezone.get_default_timezone()
    assert order.promised_time == dt.time(14, 30)
    assert order.start_not_before == dt.datetime.combine(in_days(5), dt.time(7, 45), tzinfo=zone)


def test_an_imported_promise_without_a_time_is_due_by_the_end_of_its_day(sales, catalog):
    imported(sales, csv_bytes([timed_row()], headers=TIMED), filename="orders.csv")

    order = SalesOrder.objects.get()
    assert (order.promised_time, order.start_not_before) == (None, None)


def test_unreadable_times_are_named_by_row_and_column_and_nothing_is_saved(sales, catalog):
    job = validated(
        sales, csv_bytes([timed_row("half past two", "soon")], headers=TIMED), filename="orders.csv"
    )

    assert job.status == ImportJobStatus.INVALID
    assert {(2, "promised_time"), (2, "start_not_before")} <= errors_of(job)
    assert not SalesOrder.objects.exists()


def test_a_promised_time_without_a_promised_date_is_refused_on_its_column(sales, catalog):
    job = validated(sales, csv_bytes([timed_row("09:00", promised_date="")], headers=TIMED), filename="o.csv")

    assert job.status == ImportJobStatus.INVALID
    assert (2, "promised_time") in errors_of(job)
