"""A fixed-window request counter in the shared cache, for pages that anyone on the internet may call."""

from __future__ import annotations

from django.core.cache import cache


def over_limit(key: str, *, limit: int, window_seconds: int, cost: int = 1) -> bool:
    """Count `cost` against `key` in the current window; True once the window's count exceeds `limit`.

    cache.add sets the counter only if absent (with the window as its lifetime), incr is atomic in Redis:
    concurrent requests of several processes count correctly.
    """
    cache_key = f"ratelimit:{key}"
    cache.add(cache_key, 0, timeout=window_seconds)
    try:
        count = cache.incr(cache_key, cost)
    except ValueError:  # expired between add and incr: start a new window
        cache.set(cache_key, cost, timeout=window_seconds)
        count = cost
    return count > limit


def is_blocked(key: str, *, limit: int) -> bool:
    """True if the counter of `key` is already past `limit` (read only)."""
    return (cache.get(f"ratelimit:{key}") or 0) > limit
