"""The tracking page's limits are fixed windows of their stated length on every cache backend we run on:
the default file cache, Redis, and the tests' local memory."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
import time_machine
from django.urls import reverse

from orders.sales import transitions
from orders.tracking import services as tracking
from tests.factories import make_order
from tests.services import require_redis

pytestmark = pytest.mark.django_db

# The start of a clock hour (so of a clock minute too): the windows are aligned to it.
HOUR = dt.datetime(2026, 12, 7, 10, 0, 0, tzinfo=dt.UTC)
LOCMEM = {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}


@pytest.fixture(params=["file", "redis", "locmem"])
def backend(request, settings, tmp_path):
    if request.param == "file":
        settings.CACHES = {
            "default": {
                "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
                "LOCATION": str(tmp_path),
            }
        }
    elif request.param == "redis":
        # A prefix of its own: other tests' workers share the Redis database.
        settings.CACHES = {
            "default": {
                "BACKEND": "django.core.cache.backends.redis.RedisCache",
                "LOCATION": require_redis(),
                "KEY_PREFIX": f"test-ratelimit-{uuid.uuid4().hex}",
            }
        }
    yield request.param
    settings.CACHES = {"default": LOCMEM}  # the shared teardown clears the cache: never all of Redis


@pytest.fixture
def link(sales, planner):
    order = transitions.order_release(actor=planner, order=make_order(owner=sales, confirmed=True))
    return tracking.tracking_link_create(actor=sales, order=order, expires_in_days=30)


def at(seconds: float):
    return time_machine.travel(HOUR + dt.timedelta(seconds=seconds), tick=False)


def status(client, link) -> int:
    return client.get(tracking.tracking_path(link)).status_code


def guess(client, number: int) -> int:
    return client.get(reverse("tracking:track", kwargs={"token": f"guess{number}.abc"})).status_code


def test_the_request_after_the_minute_limit_is_refused(client, link, settings, backend):
    settings.TRACKING_RATE_PER_MINUTE = 3

    with at(0):
        statuses = [status(client, link) for _ in range(4)]

    assert statuses == [200, 200, 200, 429]


def test_the_minute_window_ends_after_60_seconds_not_300(client, link, settings, backend):
    settings.TRACKING_RATE_PER_MINUTE = 2
    with at(0):
        assert [status(client, link) for _ in range(3)] == [200, 200, 429]

    with at(62):
        assert status(client, link) == 200


def test_requests_while_refused_do_not_stretch_the_minute_window(client, link, settings, backend):
    settings.TRACKING_RATE_PER_MINUTE = 2
    with at(0):
        assert [status(client, link) for _ in range(3)] == [200, 200, 429]
    with at(30):
        assert status(client, link) == 429
    with at(59):
        assert status(client, link) == 429

    with at(60):
        assert status(client, link) == 200


def test_the_20th_bad_token_of_an_hour_blocks_the_21st_request(client, link, settings, backend):
    settings.TRACKING_BAD_TOKENS_PER_HOUR = 20
    with at(0):
        guesses = [guess(client, number) for number in range(20)]

        assert guesses == [404] * 20
        assert guess(client, 20) == 429
        assert status(client, link) == 429  # a real link too: the client is blocked, not the token


def test_the_bad_token_block_lasts_the_hour_not_five_minutes(client, link, settings, backend):
    settings.TRACKING_BAD_TOKENS_PER_HOUR = 3
    with at(0):
        [guess(client, number) for number in range(3)]

    with at(6 * 60):
        assert status(client, link) == 429
    with at(59 * 60):
        assert status(client, link) == 429
    with at(60 * 60 + 1):
        assert status(client, link) == 200


def test_bad_tokens_spread_over_the_hour_add_up(client, link, settings, backend):
    # Quiet spells longer than five minutes between guesses must not reset the hour's count.
    settings.TRACKING_BAD_TOKENS_PER_HOUR = 3
    for number, minute in enumerate((0, 10, 20)):
        with at(minute * 60):
            assert guess(client, number) == 404

    with at(21 * 60):
        assert status(client, link) == 429
