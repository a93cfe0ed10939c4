"""A released order with a work order at the MES, and a CRM that takes every event (the simulator)."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.utils import timezone

from orders.sales import transitions
from production import work_orders
from tests.crm_sync.factories import ExternalSystemFactory
from tests.factories import ProductFactory, in_days, make_order
from tests.production.conftest import make_routing, make_work_center

# An hour from now: the order is made at about the real time (its events' deliveries are due when the
# simulator, which checks signatures against its clock, is sent them for real).
T0 = timezone.now().replace(microsecond=0) + dt.timedelta(hours=1)


@pytest.fixture
def interval(settings):
    settings.CRM_PROGRESS_INTERVAL_SECONDS = 60
    settings.PROJECTION_SHIFT_HOURS = 24
    return 60


@pytest.fixture
def crm_system(crm):
    return ExternalSystemFactory(name="CRM", slug="crm", base_url=crm.url)


@pytest.fixture
def order(sales, planner, crm_system, interval):
    """Released, one line of 10, a work order of two operations (CUT 50 min planned, WELD 15), at the MES."""
    with time_machine.travel(T0 - dt.timedelta(hours=1), tick=False):
        cut = make_work_center(planner, "CUT")
        weld = make_work_center(planner, "WELD")
        product = ProductFactory()
        make_routing(planner, product, [(cut, 30, "2"), (weld, 0, "1.5")])
        order = make_order(owner=sales, product=product, confirmed=True, promised_date=in_days(60))
        order = transitions.order_release(actor=planner, order=order)
        work_order = order.work_orders.get()
        work_orders.work_order_transition(actor=planner, work_order=work_order, name="release")
    return order
