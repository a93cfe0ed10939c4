"""Master data in the reader's language: names kept in English and Chinese, units by their code.

A product, product family or operation has a `name` and an optional `name_zh`; pages show the Chinese one to
a Chinese reader when it is given, the English one otherwise. Units are stored as codes ("pcs") and read
through the catalogue (件).
"""

from __future__ import annotations

from django.utils.translation import get_language, pgettext_lazy

UNITS = {
    "pcs": pgettext_lazy("unit", "pcs"),
    "set": pgettext_lazy("unit", "set"),
    "m": pgettext_lazy("unit", "m"),
    "kg": pgettext_lazy("unit", "kg"),
    "box": pgettext_lazy("unit", "box"),
    "roll": pgettext_lazy("unit", "roll"),
}


def localized(english: str, chinese: str) -> str:
    """The Chinese name on a Chinese page when there is one, else the English name."""
    if chinese and (get_language() or "").lower().startswith("zh"):
        return chinese
    return english


def unit_label(code: str) -> str:
    """A unit code as the reader says it ("pcs" → 件); a unit the plant added reads as its code."""
    return str(UNITS.get(code, code))
