"""Where an operation's QR code points: the operator page of the shop floor (production.floor).

The operator page is `floor:operation` (`/floor/operations/<operation pk>/`), served by production.floor.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest
from django.urls import reverse

from production.work_orders import WorkOrderOperation


def operation_path(operation: WorkOrderOperation) -> str:
    return reverse("floor:operation", args=[operation.pk])


def operation_url(operation: WorkOrderOperation, *, request: HttpRequest | None = None) -> str:
    """The absolute URL a phone opens when it scans the operation's QR code: ORDERBRIDGE_PUBLIC_URL when
    set (behind a proxy, the request's host is not what phones reach), else the request's scheme and host,
    else ORDERBRIDGE_SITE_URL (no request: a task or a command)."""
    path = operation_path(operation)
    if settings.PUBLIC_URL:
        return f"{settings.PUBLIC_URL}{path}"
    if request is not None:
        return request.build_absolute_uri(path)
    return f"{settings.SITE_URL}{path}"
