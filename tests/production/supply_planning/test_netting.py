"""MRP netting (pure): gross requirements less stock and supply in time order, lead time, minimum and
multiple order quantities, sub-assemblies netted before their components."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from production.supply_planning import ItemPolicy, NettingInput, net_requirements
from production.supply_planning.netting import Component

TODAY = dt.date(2026, 12, 1)


def day(n: int) -> dt.date:
    return TODAY + dt.timedelta(days=n)


def test_stock_and_supply_cover_what_they_can_and_the_rest_is_ordered_a_lead_time_ahead():
    data = NettingInput(
        today=TODAY,
        policies={1: ItemPolicy(item=1, code="AL-6063", lead_time_days=5)},
        on_hand={1: Decimal(10)},
        receipts={1: [(day(8), Decimal(20))]},
        gross={1: [(day(6), Decimal(15), 101), (day(10), Decimal(30), 102)]},
    )
    [first, second] = net_requirements(data)
    assert (first.need_date, first.order_date, first.net_requirement, first.quantity) == (
        day(6),
        day(1),
        Decimal(5),
        Decimal(5),
    )
    # A receipt due after the need does not cover it; the later need gets it: 10-15+5=0, +20-30 = -10.
    assert (second.need_date, second.net_requirement, second.orders) == (day(10), Decimal(10), (102,))


def test_an_order_is_rounded_up_to_the_minimum_then_to_the_multiple():
    data = NettingInput(
        today=TODAY,
        policies={1: ItemPolicy(item=1, code="BOLT", minimum=Decimal(100), multiple=Decimal(30))},
        gross={1: [(day(3), Decimal(7), 1)]},
    )
    [suggestion] = net_requirements(data)
    assert suggestion.quantity == Decimal(120)  # 100 rounded up to a multiple of 30


def test_the_surplus_of_a_rounded_order_covers_the_next_need():
    data = NettingInput(
        today=TODAY,
        policies={1: ItemPolicy(item=1, code="BOLT", multiple=Decimal(50))},
        gross={1: [(day(3), Decimal(7), 1), (day(4), Decimal(40), 2), (day(5), Decimal(10), 3)]},
    )
    assert [(s.need_date, s.quantity) for s in net_requirements(data)] == [(day(3), 50), (day(5), 50)]


def test_an_order_whose_date_is_past_is_late():
    data = NettingInput(
        today=TODAY,
        policies={1: ItemPolicy(item=1, code="AL-6063", lead_time_days=10)},
        gross={1: [(day(3), Decimal(1), 1)]},
    )
    assert net_requirements(data)[0].late is True


def test_a_sub_assemblys_planned_order_becomes_its_components_need():
    data = NettingInput(
        today=TODAY,
        policies={
            1: ItemPolicy(item=1, code="SUB-ARM", lead_time_days=2, purchased=False),
            2: ItemPolicy(item=2, code="AL-6063", lead_time_days=1),
        },
        on_hand={1: Decimal(3)},
        gross={1: [(day(10), Decimal(5), 7)]},
        structure={1: [Component(item=2, per_unit=Decimal(2))]},
    )
    arm, profile = net_requirements(data)
    assert (arm.code, arm.quantity, arm.order_date) == ("SUB-ARM", Decimal(2), day(8))
    assert (profile.code, profile.quantity, profile.need_date) == ("AL-6063", Decimal(4), day(8))
