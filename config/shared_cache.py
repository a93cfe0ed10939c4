"""The shared cache (Redis in production) for what is only kept to spare work: reads and writes that carry
on while the cache is unreachable. A Redis outage then costs the work again (queries, rendering), never a
refused request: `get` answers `default` (a miss), `set` and `delete` log and return False.

Not for what must not go unseen (a revoked permission's version bump): those call the cache directly and
let its error refuse the change.
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.cache import cache

logger = logging.getLogger("orderbridge")


def get(key: str, default: Any = None) -> Any:
    try:
        return cache.get(key, default)
    except Exception as exc:  # any backend's "unreachable" (redis.ConnectionError, OSError, timeouts)
        logger.warning("shared cache unreachable; %s read without it: %s", key, exc)
        return default


def set(key: str, value: Any, timeout: float | None) -> bool:
    try:
        cache.set(key, value, timeout)
    except Exception as exc:
        logger.warning("shared cache unreachable; %s not kept: %s", key, exc)
        return False
    return True


def delete(key: str) -> bool:
    try:
        cache.delete(key)
    except Exception as exc:
        logger.warning("shared cache unreachable; %s not forgotten: %s", key, exc)
        return False
    return True
