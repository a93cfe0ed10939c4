"""The active reason codes, as every report with scrap or rework checks its reasons: kept in the shared cache
(Redis in production: every web process sees one truth), forgotten whenever a reason code is written.

Reason codes are written in the admin (and by the demo), not through a service: ProductionConfig.ready
connects reason_codes_forget to their saves and deletes, so that no writer can miss it.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import transaction

from production.floor.models import ReasonCode

# Long enough to spare the reads, short enough that a write missed by the cache (a bulk update) is seen soon.
TIMEOUT_SECONDS = 300


def _cache_key() -> str:
    return f"production:floor-reasons:{settings.DATABASES['default']['NAME']}"


def active_reason_ids() -> dict[tuple[str, str], int]:
    """The active reason codes' ids by (kind, code)."""
    key = _cache_key()
    found = cache.get(key)
    if found is None:
        rows = ReasonCode.objects.filter(is_active=True).values_list("kind", "code", "pk")
        found = {(kind, code): pk for kind, code, pk in rows}
        cache.set(key, found, timeout=TIMEOUT_SECONDS)
    return found


def reason_codes_forget(**kwargs: Any) -> None:
    """After a reason code was written (a signal's receiver): now (this transaction reads it) and after
    commit (a report that read the old list meanwhile does not keep it)."""
    key = _cache_key()
    cache.delete(key)
    transaction.on_commit(lambda: cache.delete(key))
