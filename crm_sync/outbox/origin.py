"""Where the change being made right now came from: here (UI, API, admin) or another system's message.

Change-data-capture systems stamp every change with its origin so that two systems linked both ways do not
ping-pong: a change the CRM sent us is recorded with origin "crm:<slug>" and is not sent back to that CRM.
The inbound processor sets the origin around a message's effect; the outbox reads it. A context variable,
so that threads and (future) async code each see their own.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

_current: ContextVar[Any] = ContextVar("orderbridge_change_origin", default=None)
_received_at: ContextVar[dt.datetime | None] = ContextVar("orderbridge_change_received_at", default=None)


@contextmanager
def acting_for(system: Any, *, received_at: dt.datetime | None = None) -> Iterator[None]:
    """Every outbox event written inside this block comes from `system` (an ExternalSystem), caused by a
    message our hook received at `received_at` (where the events' end-to-end latency starts)."""
    token = _current.set(system)
    received_token = _received_at.set(received_at)
    try:
        yield
    finally:
        _received_at.reset(received_token)
        _current.reset(token)


def current_system() -> Any:
    return _current.get()


def caused_at(now: dt.datetime) -> dt.datetime:
    """When the change being recorded started: the hook's receipt of its message, or now (made here)."""
    return _received_at.get() or now


def label(system: Any) -> str:
    return f"{system.kind}:{system.slug}" if system is not None else ""
