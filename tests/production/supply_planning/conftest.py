"""A plant with one assembly line (ASSY, all week) and a product AL-FRAME whose BOM goes two levels down:
frame → sub-assembly SUB-ARM (1 per frame) → profile AL-6063 (2 per arm, bought, lead time 10 days)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from production.materials import (
    Item,
    ItemKind,
    MovementKind,
    PurchaseLineInput,
    PurchaseOrder,
    default_location,
    movement_record,
    purchase_order_create,
)
from tests.factories import ProductFactory, UserFactory
from tests.production.conftest import make_routing, make_work_center
from tests.production.materials.factories import ItemFactory, make_bom


@pytest.fixture
def buyer(db):
    return UserFactory(username="bea", role="purchasing")


@pytest.fixture
def assy(planner):
    return make_work_center(planner, "ASSY")


@pytest.fixture
def frame(planner, assy):
    """The catalog product (an hour per piece at ASSY) and its items."""
    product = ProductFactory(sku="AL-FRAME")
    make_routing(planner, product, [(assy, 0, "60")])
    finished = ItemFactory(code="AL-FRAME", kind=ItemKind.FINISHED_PRODUCT, product=product)
    arm = ItemFactory(code="SUB-ARM", kind=ItemKind.SUB_ASSEMBLY)
    profile = ItemFactory(
        code="AL-6063", kind=ItemKind.RAW_MATERIAL, unit="m", lead_time_days=10, supplier="Alu AG"
    )
    make_bom(finished, [{"component": arm, "quantity": 1}])
    make_bom(arm, [{"component": profile, "quantity": 2}])
    return product


@pytest.fixture
def profile(frame) -> Item:
    return Item.objects.get(code="AL-6063")


def stock(item: Item, quantity: str) -> None:
    movement_record(
        item=item,
        location=default_location(),
        kind=MovementKind.ADJUSTMENT,
        quantity=Decimal(quantity),
        actor=None,
        reason="count",
    )


def purchase(buyer, item: Item, quantity: str, *, days: int) -> PurchaseOrder:
    return purchase_order_create(
        supplier="Alu AG",
        lines=[PurchaseLineInput(item=item, quantity=Decimal(quantity), expected_date=in_days_date(days))],
        actor=buyer,
    )


def in_days_date(days: int) -> dt.date:
    return timezone.localdate() + dt.timedelta(days=days)
