"""The plan of what a change does to work under way: one planner per change operation."""

from decimal import Decimal

from orders.change_requests import OPERATIONS
from production.changes import PLANNERS
from production.changes.plans import lots


def test_every_change_operation_has_its_production_planner():
    assert set(PLANNERS) == set(OPERATIONS)


def test_lots_follow_production_lot_splitting():
    assert lots(Decimal(250), Decimal(100)) == [Decimal(100), Decimal(100), Decimal(50)]
    assert lots(Decimal(80), None) == [Decimal(80)]


def test_a_change_that_adds_nothing_plans_no_lot():
    assert lots(Decimal(0), Decimal(100)) == []
