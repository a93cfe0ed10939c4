"""Template context every page may use."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest


def branding(request: HttpRequest) -> dict[str, str]:
    return {"company_name": settings.COMPANY_NAME}
