"""The routings each process keeps for releases: every committed change of a routing, its operations or a work
center is seen at the next release, in this process and (through the shared cache's version) in every other
one; a rolled-back change never."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.cache import cache
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from orders.sales import transitions
from production import master_data
from production.master_data import Operation, Routing
from tests.factories import ProductFactory, make_order
from tests.production.conftest import make_routing, make_work_center

pytestmark = pytest.mark.django_db


def release(sales, planner, product):
    order = make_order(owner=sales, product=product, confirmed=True)
    return transitions.order_release(actor=planner, order=order)


def planned(order) -> list[tuple[str, int]]:
    """(work center, planned minutes) of the order's first work order's operations."""
    work_order = order.work_orders.order_by("number").first()
    return [
        (operation.work_center.code, operation.planned_minutes)
        for operation in work_order.operations.select_related("work_center").order_by("sequence")
    ]


@pytest.fixture
def product(planner, django_capture_on_commit_callbacks):
    """A product whose two-step routing is committed (its commit callbacks run)."""
    with django_capture_on_commit_callbacks(execute=True):
        product = ProductFactory()
        make_routing(
            planner,
            product,
            [(make_work_center(planner, "CUT"), 30, "2"), (make_work_center(planner, "WELD"), 0, "1")],
        )
    return product


def test_a_release_reads_no_routing_once_the_process_has_it(sales, planner, product):
    first = release(sales, planner, product)
    order = make_order(owner=sales, product=product, confirmed=True)

    with CaptureQueriesContext(connection) as queries:
        transitions.order_release(actor=planner, order=order)

    assert not [q for q in queries.captured_queries if "production_routing" in q["sql"]]
    assert planned(order) == planned(first) == [("CUT", 30 + 2 * 10), ("WELD", 10)]


def test_operations_changed_after_a_release_are_used_by_the_next_release(
    sales, planner, product, django_capture_on_commit_callbacks
):
    before = planned(release(sales, planner, product))
    routing = Routing.objects.get(product=product)
    with django_capture_on_commit_callbacks(execute=True):
        master_data.routing_set_operations(
            actor=planner,
            routing=routing,
            operations=[
                {
                    "sequence": 10,
                    "name": "Cut",
                    "work_center": make_work_center(planner, "LASER"),
                    "setup_minutes": Decimal(5),
                    "run_minutes_per_unit": Decimal(1),
                }
            ],
        )

    after = planned(release(sales, planner, product))

    assert [code for code, _ in before] == ["CUT", "WELD"]
    assert after == [("LASER", 5 + 10)]


def test_a_routing_made_inactive_is_not_used_by_the_next_release(sales, planner, product):
    release(sales, planner, product)
    routing = Routing.objects.get(product=product)
    routing.is_active = False
    routing.save()

    work_order = release(sales, planner, product).work_orders.get()

    assert work_order.routing_missing and not work_order.operations.exists()


def test_a_change_another_process_made_is_seen_through_the_shared_version(sales, planner, product):
    release(sales, planner, product)
    # Another process: its signal replaced the version in the shared cache, not in this process.
    Operation.objects.filter(routing__product=product, sequence=10).update(setup_minutes=0)  # no signal
    cache.set("production:routings:version", "set-by-another-process", timeout=None)

    order = release(sales, planner, product)

    assert planned(order) == [("CUT", 2 * 10), ("WELD", 10)]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_routing_changed_in_a_rolled_back_transaction_is_never_used(sales, planner):
    product = ProductFactory()
    make_routing(planner, product, [(make_work_center(planner, "CUT"), 30, "2")])
    release(sales, planner, product)  # read and cached
    with pytest.raises(RuntimeError), transaction.atomic():
        Operation.objects.filter(routing__product=product).update(setup_minutes=0)
        operation = Operation.objects.get(routing__product=product)
        operation.name = "Changed"
        operation.save()
        assert planned(release(sales, planner, product)) == [("CUT", 20)]  # its own change, seen
        raise RuntimeError("rolled back")

    assert planned(release(sales, planner, product)) == [("CUT", 30 + 20)]
