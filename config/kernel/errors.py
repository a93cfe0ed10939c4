"""One error type for business failures, shared by every app and every door (UI, API, admin, tasks)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


class ApplicationError(Exception):
    """A business rule refused an action. `code` is machine-readable; `fields` names bad inputs; `links`
    points where the action can be done instead ({"change_request_api": "/api/v1/change-requests/"})."""

    status_code = 400
    default_code = "invalid"

    def __init__(
        self,
        message: StrOrPromise,
        *,
        code: str | None = None,
        fields: Mapping[str, Sequence[StrOrPromise]] | None = None,
        links: Mapping[str, StrOrPromise] | None = None,
    ) -> None:
        super().__init__(message)
        self.message: str = str(message)
        self.code: str = code or self.default_code
        self.fields: dict[str, list[str]] = {
            key: [str(m) for m in msgs] for key, msgs in (fields or {}).items()
        }
        self.links: dict[str, str] = {key: str(url) for key, url in (links or {}).items()}

    def __str__(self) -> str:
        return self.message

    def text(self, *, skip: Sequence[str] = ()) -> str:
        """The message and its field messages, each once, for a message bar: "Please correct… (A. B.)".

        `skip`: fields whose message the page shows otherwise (a stale version's own banner)."""
        details: list[str] = []
        for key, field_messages in self.fields.items():
            if key not in skip:
                details.extend(message for message in field_messages if message not in details)
        return f"{self.message} ({' '.join(details)})" if details else self.message


class ValidationFailed(ApplicationError):
    status_code = 400
    default_code = "invalid"


class Conflict(ApplicationError):
    """The request is well formed but the object's state or version forbids it."""

    status_code = 409
    default_code = "conflict"


class StaleObject(Conflict):
    default_code = "stale"


class TransitionNotAllowed(Conflict):
    default_code = "transition_not_allowed"


class Forbidden(ApplicationError):
    status_code = 403
    default_code = "forbidden"
