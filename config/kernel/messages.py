"""System text stored as a code plus parameters, rendered in the reader's language.

A history reason or a decision comment the system writes ("Superseded: order … is at revision 2", "Release
to production") is stored as `msg:{"code": …, "params": {…}}` (`Message.stored`), never as text in the
language of whoever's action caused it; `message_text` renders it again for each reader. Each app defines
its messages once (`define`, at import: a module the app's services import), as lazy translatable
templates.

Rows stored before this existed hold free text: `message_text` shows them as they are, through the
catalogue when they are one of its English texts ("Confirm" reads 确认 on a Chinese page).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypedDict, Union

from django.utils import translation
from django.utils.functional import Promise
from django.utils.translation import gettext

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

PREFIX = "msg:"
Param = Union[str, int, "Message"]

_TEMPLATES: dict[str, StrOrPromise] = {}


@dataclass(frozen=True)
class Message:
    """A defined message and its parameters (a parameter may itself be a message)."""

    code: str
    params: Mapping[str, Param] = field(default_factory=dict)

    def stored(self) -> str:
        return PREFIX + json.dumps(self._plain(), ensure_ascii=False, sort_keys=True)

    def _plain(self) -> dict[str, object]:
        params = {
            key: ({"msg": value._plain()} if isinstance(value, Message) else value)
            for key, value in self.params.items()
        }
        return {"code": self.code, "params": params}

    def __str__(self) -> str:
        """The text in the active language."""
        template = _TEMPLATES.get(self.code)
        # Numbers stay numbers: an ngettext_lazy template picks its plural form from one.
        values = {key: value if isinstance(value, int) else str(value) for key, value in self.params.items()}
        if template is None:
            return " ".join([self.code, *map(str, values.values())])
        try:
            return str(template % values)
        except (KeyError, TypeError, ValueError):
            return str(template)


def define(code: str, template: StrOrPromise) -> str:
    """Register a message's template (a lazy translatable text with %(name)s parameters); returns its code."""
    _TEMPLATES[code] = template
    return code


def defined(code: str) -> bool:
    return code in _TEMPLATES


def message(code: str, **params: Param) -> Message:
    if code not in _TEMPLATES:
        raise KeyError(f"undefined message {code!r}")
    return Message(code, params)


def _load(plain: object) -> Message | None:
    if not isinstance(plain, dict) or not isinstance(plain.get("code"), str):
        return None
    params: dict[str, Param] = {}
    for key, value in (plain.get("params") or {}).items():
        nested = _load(value.get("msg")) if isinstance(value, dict) else None
        params[str(key)] = nested if nested is not None else (value if isinstance(value, int) else str(value))
    return Message(plain["code"], params)


def parse(stored: str) -> Message | None:
    """The message a stored text holds; None for free text."""
    if not stored.startswith(PREFIX):
        return None
    try:
        return _load(json.loads(stored[len(PREFIX) :]))
    except ValueError:
        return None


def message_text(stored: str | None) -> str:
    """A stored reason or comment for reading, in the active language (see the module's docstring)."""
    if not stored:
        return ""
    parsed = parse(stored)
    if parsed is not None:
        return str(parsed)
    # Free text: a person's own words, or a system text stored before messages had codes.
    return gettext(stored)


def english(reason: StrOrPromise | Message) -> str:
    """A reason as the system's English text: what events carry to the CRM, the MES and the logs."""
    with translation.override("en"):
        return str(reason)


class EventReasons(TypedDict):
    reason: str
    reason_message: str


def event_reasons(reason: StrOrPromise | Message) -> EventReasons:
    """An event's `reason` (English) and `reason_message` (the stored message; "" for a person's words)."""
    return {
        "reason": english(reason),
        "reason_message": reason.stored() if isinstance(reason, Message) else "",
    }


def as_stored(reason: StrOrPromise | Message) -> str:
    """What a history row or a comment keeps of a reason: a message's code and parameters, or the text.

    A catalogue text without parameters (a lazy `_("File uploaded")`) is kept as its English text, not in
    the language of whoever acted: `message_text` reads it back through the catalogue for each reader.
    """
    if isinstance(reason, Message):
        return reason.stored()
    if isinstance(reason, Promise):
        return english(reason)
    return str(reason)
