"""Fixed-window request counters and blocks in the shared cache, for pages anyone on the internet may call.

A window is a fixed interval of its stated length (a clock minute, a clock hour), counted under a key that
names its start, so it ends on time whatever the cache backend does: Django's file and database caches
implement incr as get + set, which gives the key the default timeout (300 s) and renews it on every request
(a minute's window then lasts five minutes and slides; an hour's count is forgotten after five quiet
minutes). So each count also sets its key's lifetime to the window's end, and a block stores the moment it
ends and is checked against the clock, not left to the cache's expiry.

While the shared cache is unreachable nothing is counted and nobody is blocked (a warning is logged): the
pages stay open rather than answering 500; what they guard (tracking tokens, 128 random bits) does not rest
on the limit alone.
"""

from __future__ import annotations

import logging
import time

from django.core.cache import cache

from config import shared_cache

logger = logging.getLogger("orderbridge")


def count(key: str, *, window_seconds: int, cost: int = 1) -> int:
    """Add `cost` to `key`'s count in the current window; return the window's count so far."""
    now = time.time()
    start = int(now // window_seconds) * window_seconds
    cache_key = f"ratelimit:{key}:{start}"
    lifetime = max(int(start + window_seconds - now) + 1, 1)  # to the window's end, never 0 (= forever)
    # add sets the counter only if absent, incr is atomic in Redis: concurrent processes count correctly.
    cache.add(cache_key, 0, timeout=lifetime)
    try:
        total = cache.incr(cache_key, cost)
    except ValueError:  # expired between add and incr: the window has just ended, count in the new one
        cache.set(cache_key, cost, timeout=lifetime)
        return cost
    cache.touch(cache_key, timeout=lifetime)  # file and database caches' incr reset it to 300 s
    return total


def over_limit(key: str, *, limit: int, window_seconds: int, cost: int = 1) -> bool:
    """Count `cost` against `key` in the current window; True once the window's count exceeds `limit`
    (with a limit of 60 a minute, the 61st request of a clock minute is the first refused)."""
    try:
        return count(key, window_seconds=window_seconds, cost=cost) > limit
    except Exception as exc:  # any backend's "unreachable" (redis.ConnectionError, OSError, timeouts)
        logger.warning("shared cache unreachable; %s not counted: %s", key, exc)
        return False


def block(key: str, *, seconds: int) -> None:
    """Block `key` for `seconds` from now (a later block replaces an earlier one)."""
    shared_cache.set(f"ratelimit:block:{key}", time.time() + seconds, timeout=seconds + 1)


def is_blocked(key: str) -> bool:
    """True while a block of `key` lasts (read only)."""
    until = shared_cache.get(f"ratelimit:block:{key}")
    return isinstance(until, int | float) and until > time.time()
