"""The active reason codes, as every report with scrap or rework checks its reasons: kept per process under
a version held in the shared cache (config.process_cache), bumped by every save and delete of a reason code
(the admin's and the demo's included), so every web process reads again at its next report.

While Redis is unreachable the list is read from the database on each report: an outage costs a query,
never a refused report. A bulk update (no signal) is seen within MAX_AGE_SECONDS.
"""

from __future__ import annotations

from config.process_cache import VersionedProcessCache
from production.floor.models import ReasonCode

MAX_AGE_SECONDS = 300.0

_reasons = VersionedProcessCache(key="production:floor-reasons:version", max_age_seconds=MAX_AGE_SECONDS)
_reasons.watch([ReasonCode], uid="production_floor_reasons")


def active_reason_ids() -> dict[tuple[str, str], int]:
    """The active reason codes' ids by (kind, code); shared by the process's callers: read, never change."""
    found: dict[tuple[str, str], int] = _reasons.get("active", _load)
    return found


def _load() -> dict[tuple[str, str], int]:
    rows = ReasonCode.objects.filter(is_active=True).values_list("kind", "code", "pk")
    return {(kind, code): pk for kind, code, pk in rows}
