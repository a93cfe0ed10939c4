"""`manage.py setup_demo`: the shop floor depends only on the seed and the moment it is loaded."""

import datetime as dt
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command
from django.db import transaction

from production.work_orders import ProgressReport, WorkOrder

pytestmark = pytest.mark.django_db

LOADED_AT = dt.datetime(2026, 6, 1, 10, tzinfo=dt.UTC)


def shop_floor(seed: int) -> tuple[list, list]:
    """Load 12 orders with `seed` at LOADED_AT, read the work orders and reports, and roll back."""
    with transaction.atomic(), time_machine.travel(LOADED_AT, tick=False):
        call_command("setup_demo", "--seed", str(seed), "--orders", "12", stdout=StringIO())
        # Numbers come from database sequences, which a rollback does not rewind: compare the rest.
        work_orders = list(
            WorkOrder.objects.order_by("number").values_list(
                "product__sku", "quantity", "status", "percent_complete", "completed_at"
            )
        )
        reports = list(
            ProgressReport.objects.order_by("reported_at", "operation__sequence").values_list(
                "operation__name", "good_quantity", "scrap_quantity", "rework_quantity", "reported_at"
            )
        )
        transaction.set_rollback(True)
    return work_orders, reports


def test_the_same_seed_gives_the_same_shop_floor_and_another_seed_another():
    first, second, other = shop_floor(7), shop_floor(7), shop_floor(8)

    assert first[1]
    assert first == second
    assert first != other
