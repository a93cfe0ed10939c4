"""A floor plant with one released work order of 10 pieces, two operations (CUT, then BEND), and an operator
with badge 1001 / PIN 2468."""

import pytest

from orders.sales import transitions
from production import floor, master_data, work_orders
from production.master_data import Plant, PlantMode
from production.work_orders import WorkOrderOperation
from tests.factories import ProductFactory, UserFactory, make_order
from tests.production.conftest import make_routing, make_work_center

PIN = "2468"


@pytest.fixture(autouse=True)
def _forget_floor_centers():
    """The floor's work centers are cached across requests: a rolled-back test's must not outlive it."""
    yield
    master_data.floor_centers_forget()


@pytest.fixture
def floor_plant(admin_user):
    return master_data.plant_save(
        actor=admin_user, plant=Plant(code="P1", name="Plant 1", mode=PlantMode.FLOOR), reason="test"
    )


@pytest.fixture
def operator(db):
    user = UserFactory(username="olivia", role="operator", first_name="Olivia")
    floor.operator_badge_set(user=user, badge="1001", pin=PIN)
    return user


@pytest.fixture
def reasons(db):
    scrap = floor.ReasonCode.objects.create(
        code="S-DIM",
        kind=floor.ReasonKind.SCRAP,
        name_en="Dimension out of tolerance",
        name_zh_hans="尺寸超差",
    )
    rework = floor.ReasonCode.objects.create(
        code="R-BUR", kind=floor.ReasonKind.REWORK, name_en="Burr to remove", name_zh_hans="去毛刺"
    )
    return scrap, rework


@pytest.fixture
def released(sales, planner, floor_plant):
    """A work order of the floor plant, released to the floor by the planner."""
    cut, bend = make_work_center(planner, "CUT"), make_work_center(planner, "BEND")
    product = ProductFactory()
    make_routing(planner, product, [(cut, 0, "1"), (bend, 0, "1")])
    order = transitions.order_release(
        actor=planner, order=make_order(owner=sales, product=product, confirmed=True)
    )
    work_order = order.work_orders.get()
    work_orders.work_order_transition(actor=planner, work_order=work_order, name="release")
    return work_order


@pytest.fixture
def ops(released):
    return list(WorkOrderOperation.objects.filter(work_order=released).order_by("sequence"))
