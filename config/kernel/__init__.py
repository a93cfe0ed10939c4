"""The shared kernel every app uses: domain events and their bus, the error type, `stamp`, `require`.

Apps import from here (`from config.kernel import publish, OrderReleased, require`), never from each
other's internals.
"""

from config.kernel import events
from config.kernel.bus import deferred, publish, publish_many, subscribe, unsubscribe
from config.kernel.errors import (
    ApplicationError,
    Conflict,
    Forbidden,
    StaleObject,
    TransitionNotAllowed,
    ValidationFailed,
)
from config.kernel.history import stamp
from config.kernel.messages import (
    Message,
    as_stored,
    define,
    english,
    event_reasons,
    message,
    message_text,
)
from config.kernel.names import localized, unit_label
from config.kernel.permissions import Actor, Policy, actor_name, allowed, refused, require

__all__ = [
    "Actor",
    "ApplicationError",
    "Conflict",
    "Forbidden",
    "Message",
    "Policy",
    "StaleObject",
    "TransitionNotAllowed",
    "ValidationFailed",
    "actor_name",
    "allowed",
    "as_stored",
    "deferred",
    "define",
    "english",
    "event_reasons",
    "events",
    "localized",
    "message",
    "message_text",
    "publish",
    "publish_many",
    "refused",
    "require",
    "stamp",
    "subscribe",
    "unit_label",
    "unsubscribe",
]
