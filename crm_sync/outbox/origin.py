"""Where the change being made right now came from: here (UI, API, admin) or another system's message.

Change-data-capture systems stamp every change with its origin so that two systems linked both ways do not
ping-pong: a change the CRM sent us is recorded with origin "crm:<slug>" and is not sent back to that CRM.
The inbound processor sets the origin around a message's effect; the outbox reads it. A context variable,
so that threads and (future) async code each see their own.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

_current: ContextVar[Any] = ContextVar("orderbridge_change_origin", default=None)


@contextmanager
def acting_for(system: Any) -> Iterator[None]:
    """Every outbox event written inside this block comes from `system` (an ExternalSystem)."""
    token = _current.set(system)
    try:
        yield
    finally:
        _current.reset(token)


def current_system() -> Any:
    return _current.get()


def label(system: Any) -> str:
    return f"{system.kind}:{system.slug}" if system is not None else ""
