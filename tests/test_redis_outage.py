"""While the shared cache (Redis) is unreachable, pages still answer: what the cache only spares (permission
sets, KPI figures, rate-limit counts, the floor's work centers) is worked out again instead of a 500. The
CRM hook's own case: tests/crm_sync/inbound/test_redis_down.py; the floor's report:
tests/production/floor/test_report_cost.py."""

from __future__ import annotations

import pytest
from django.urls import reverse

from orders.sales import transitions
from orders.tracking import services as tracking
from tests.crm_sync.inbound.test_redis_down import redis_down  # noqa: F401 - a fixture
from tests.factories import make_order

pytestmark = pytest.mark.django_db


@pytest.fixture
def link(sales, planner):
    order = transitions.order_release(actor=planner, order=make_order(owner=sales, confirmed=True))
    return tracking.tracking_link_create(actor=sales, order=order, expires_in_days=30)


def test_a_customer_opens_a_tracking_link(client, link, redis_down):  # noqa: F811 - the imported fixture
    assert client.get(tracking.tracking_path(link)).status_code == 200


def test_a_guessed_tracking_token_is_still_a_404(client, redis_down):  # noqa: F811 - the imported fixture
    assert client.get(reverse("tracking:track", kwargs={"token": "guess.abc"})).status_code == 404


def test_a_planner_opens_the_kpi_dashboard(client, planner, redis_down):  # noqa: F811 - the imported fixture
    client.force_login(planner)

    assert client.get(reverse("production:kpi_dashboard")).status_code == 200


def test_a_planner_opens_the_plan(client, planner, redis_down):  # noqa: F811 - the imported fixture
    client.force_login(planner)

    assert client.get(reverse("production:planner")).status_code == 200
