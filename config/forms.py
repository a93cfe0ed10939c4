"""Form building blocks every app's forms share."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from typing import TYPE_CHECKING, Any

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS
from django.forms.utils import flatatt
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

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


class LightSelect(forms.Select):
    """forms.Select writing its options in Python rather than through one template include each.

    The same HTML for flat choices, at a fraction of the cost when there are hundreds of them (the order
    list's customer filter renders every customer on each request). Grouped choices fall back to Select.
    """

    def render(
        self, name: str, value: Any, attrs: dict[str, Any] | None = None, renderer: Any = None
    ) -> SafeString:
        choices = list(self.choices)
        if any(isinstance(label, list | tuple) for _value, label in choices):
            return super().render(name, value, attrs, renderer)
        final = self.build_attrs(self.attrs, attrs)
        final["name"] = name
        chosen = set(self.format_value(value))
        parts: list[str] = [format_html("<select{}>", flatatt(final))]
        taken = False
        for option_value, label in choices:
            text = "" if option_value is None else str(option_value)
            selected = not taken and text in chosen
            taken = taken or selected
            flag = mark_safe(" selected") if selected else ""
            parts.append(format_html('<option value="{}"{}>{}</option>', text, flag, label))
        parts.append("</select>")
        return mark_safe("\n".join(parts))  # noqa: S308 - every part is built by format_html
