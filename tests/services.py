"""Real services for tests: PostgreSQL, Redis, Chromium.

Absent → the test skips with the reason; under ORDERBRIDGE_REQUIRE_SERVICES=1 (CI) → it fails.
"""

from __future__ import annotations

import os
import shutil
import socket
from urllib.parse import urlparse

import pytest
from django.db import connection

REQUIRED = os.environ.get("ORDERBRIDGE_REQUIRE_SERVICES", "") == "1"
REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/15")
CHROMIUM = os.environ.get("ORDERBRIDGE_CHROMIUM", "/usr/bin/chromium")


def unavailable(reason: str) -> None:
    if REQUIRED:
        pytest.fail(f"{reason} (ORDERBRIDGE_REQUIRE_SERVICES=1)")
    pytest.skip(reason)


def _port_open(url: str, default_port: int) -> bool:
    parsed = urlparse(url)
    try:
        with socket.create_connection(
            (parsed.hostname or "127.0.0.1", parsed.port or default_port), timeout=1
        ):
            return True
    except OSError:
        return False


def require_postgresql() -> None:
    if connection.vendor != "postgresql":
        unavailable("needs PostgreSQL: set DATABASE_URL=postgres://...")


def require_redis() -> str:
    if not _port_open(REDIS_URL, 6379):
        unavailable(f"needs Redis at {REDIS_URL}")
    return REDIS_URL


def require_chromium() -> str:
    if not (os.path.exists(CHROMIUM) or shutil.which("chromium")):
        unavailable("needs Debian's chromium (apt-get install chromium)")
    return CHROMIUM if os.path.exists(CHROMIUM) else shutil.which("chromium")
