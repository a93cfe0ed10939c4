"""Login lock-out per user name + address (django-axes) and, with its own higher limit, per address alone.

Axes applies one failure limit to every lock-out parameter. Here the address-wide count has its own:
when an address has failed AXES_ADDRESS_FAILURE_LIMIT times within the cool-off, whatever user names it
tried, its failure count reads as at least the per-user limit, so axes refuses every login from it until
the cool-off has passed (a password sprayed across many user names is stopped, not just slowed).
"""

from __future__ import annotations

from typing import Any

from axes.attempts import get_cool_off_threshold
from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_failure_limit
from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import Sum
from django.http import HttpRequest


def address_failures(request: HttpRequest) -> int:
    """Failed logins from this request's address within the cool-off, across all user names."""
    ip_address = getattr(request, "axes_ip_address", None)
    if not ip_address:
        return 0
    attempts = AccessAttempt.objects.filter(
        ip_address=ip_address, attempt_time__gte=get_cool_off_threshold(request)
    )
    return attempts.aggregate(total=Sum("failures_since_start"))["total"] or 0


class AddressLockoutHandler(AxesDatabaseHandler):
    def get_failures(self, request: Any, credentials: dict[str, Any] | None = None) -> int:
        failures: int = super().get_failures(request, credentials)
        if address_failures(request) >= settings.AXES_ADDRESS_FAILURE_LIMIT:
            return max(failures, get_failure_limit(request, credentials))
        return failures
