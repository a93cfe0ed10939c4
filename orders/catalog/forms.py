"""Form inputs for a product family's spec attributes (order lines, change requests).

Every spec input is optional for the form: the services validate values against the family's schema
(required, enum, min/max, pattern) and their messages come back onto these inputs. Required ones are only
marked (the orders_ui template filters read `spec_required` and `unit`).
"""

from __future__ import annotations

from typing import Any

from django import forms

# Form field names of spec inputs: SPEC_PREFIX + the attribute's name.
SPEC_PREFIX = "spec__"


class SpecInput:
    """What a spec input carries besides its value."""

    spec_required: bool = False
    unit: str = ""
    spec_name: str = ""


class SpecChoiceField(SpecInput, forms.TypedChoiceField):
    pass


class SpecBooleanField(SpecInput, forms.BooleanField):
    pass


class SpecIntegerField(SpecInput, forms.IntegerField):
    pass


class SpecTextField(SpecInput, forms.CharField):
    pass


class SpecNumberField(SpecInput, forms.FloatField):
    """A JSON Schema number: 3 stays 3 (not 3.0), so that values read as people typed them."""

    # The stubs' FloatField.to_python overrides IntegerField's (-> int | None) with the same ignore.
    def to_python(self, value: Any) -> float | None:  # type: ignore[override]
        number = super().to_python(value)
        return int(number) if number is not None and number.is_integer() else number


SpecFormField = SpecChoiceField | SpecBooleanField | SpecIntegerField | SpecTextField | SpecNumberField


def spec_form_field(meta: dict[str, Any]) -> SpecFormField:
    """One input for a spec attribute as `orders.catalog.spec_fields` describes it."""
    common: dict[str, Any] = {"label": meta["label"], "required": False, "help_text": meta["description"]}
    attrs: dict[str, Any] = {}
    field: SpecFormField
    if meta["enum"]:
        mapping = {str(value): value for value in meta["enum"]}
        field = SpecChoiceField(
            choices=[("", "—"), *((str(value), label) for value, label in meta["choices"])],
            coerce=mapping.__getitem__,
            empty_value=None,
            **common,
        )
    elif meta["type"] == "boolean":
        field = SpecBooleanField(**common)
    elif meta["type"] in ("number", "integer"):
        for bound in ("minimum", "maximum"):
            if meta[bound] is not None:
                attrs[bound[:3]] = meta[bound]
        if meta["type"] == "integer":
            field = SpecIntegerField(widget=forms.NumberInput(attrs=attrs), **common)
        else:
            field = SpecNumberField(widget=forms.NumberInput(attrs={**attrs, "step": "any"}), **common)
    else:
        field = SpecTextField(**common)
    # Required outright, or when another attribute has a value (the hint says when).
    field.spec_required = meta["required"] or bool(meta.get("required_when"))
    field.unit = meta["unit"]
    field.spec_name = meta["name"]
    return field
