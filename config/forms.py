"""Form building blocks every app's forms share."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from typing import TYPE_CHECKING

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

DATE_INPUT = {"type": "date"}


def date_form_field(label: StrOrPromise) -> forms.DateField:
    """An optional date with the browser's date picker."""
    return forms.DateField(
        label=label, required=False, widget=forms.DateInput(attrs=DATE_INPUT, format="%Y-%m-%d")
    )


def add_errors(form: forms.Form, field: str | None, messages: Iterable[StrOrPromise]) -> None:
    """Put `messages` on `field` (None: the form's own errors), each once."""
    # A schema may report the same problem more than once (e.g. one "required" error per missing key).
    shown: Collection[object] = form.errors.get(field or NON_FIELD_ERRORS, [])
    for message in dict.fromkeys(messages):
        if message not in shown:
            form.add_error(field, message)
