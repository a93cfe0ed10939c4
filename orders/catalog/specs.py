"""Structured spec attributes: validation against a product family's JSON Schema (draft 2020-12)."""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any, cast

from django.utils.translation import get_language
from django.utils.translation import gettext as _
from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError
from jsonschema.exceptions import ValidationError as SchemaValidationError

SUPPORTED_TYPES = {"string", "number", "integer", "boolean"}


def schema_errors(schema: Any) -> list[str]:
    """Problems with a family's spec schema itself; empty when it is usable."""
    if not isinstance(schema, dict):
        return [_("The spec schema must be a JSON object.")]
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as exc:
        return [_("Invalid JSON Schema: %(error)s") % {"error": exc.message}]
    if schema and schema.get("type", "object") != "object":
        return [_("The spec schema must describe an object (type: object).")]
    errors = []
    for name, prop in (schema.get("properties") or {}).items():
        if prop.get("type") not in SUPPORTED_TYPES:
            errors.append(
                _("Property %(name)s must have a type among string, number, integer, boolean.")
                % {"name": name}
            )
    return errors


def _message(error: SchemaValidationError) -> str:
    # Typed `Any | Unset` by jsonschema; every error iter_errors reports has its schema value set.
    validator, value = error.validator, cast(Any, error.validator_value)
    if validator == "required":
        return _("This field is required.")
    if validator == "enum":
        return _("Choose one of: %(choices)s.") % {"choices": ", ".join(str(v) for v in value)}
    if validator == "type":
        return _("Must be of type %(type)s.") % {"type": value}
    if validator in ("minimum", "exclusiveMinimum"):
        return _("Must be at least %(limit)s.") % {"limit": value}
    if validator in ("maximum", "exclusiveMaximum"):
        return _("Must be at most %(limit)s.") % {"limit": value}
    if validator == "minLength":
        return _("Must have at least %(limit)s characters.") % {"limit": value}
    if validator == "maxLength":
        return _("Must have at most %(limit)s characters.") % {"limit": value}
    if validator == "pattern":
        return _("Does not match the required format %(pattern)s.") % {"pattern": value}
    if validator == "additionalProperties":
        return _("Unknown spec attribute.")
    return error.message


@lru_cache(maxsize=256)
def _compiled(schema_json: str) -> Draft202012Validator:
    return Draft202012Validator(json.loads(schema_json))


def _validator(schema: dict) -> Draft202012Validator:
    # One compiled validator per distinct schema, not one per line checked (an import checks thousands).
    # Keyed by the schema's content, so a family whose schema changes gets a new one.
    return _compiled(json.dumps(schema, default=str))


def spec_value_errors(schema: dict, values: Any) -> dict[str, list[str]]:
    """Errors keyed by spec attribute name ("" for the object as a whole)."""
    if not isinstance(values, dict):
        return {"": [_("Spec attributes must be a JSON object.")]}
    if not schema:
        return {}
    errors: dict[str, list[str]] = {}
    for error in sorted(_validator(schema).iter_errors(values), key=lambda e: list(e.absolute_path)):
        if error.validator == "required":
            # jsonschema reports a missing key on the parent object; name the missing attribute instead.
            missing = [name for name in error.validator_value if name not in (error.instance or {})]
            # jsonschema reports one error per missing key, each carrying the whole list: name each once.
            for name in missing:
                if _message(error) not in errors.get(name, []):
                    errors.setdefault(name, []).append(_message(error))
            continue
        if error.validator == "additionalProperties":
            allowed = set((schema.get("properties") or {}).keys())
            for name in error.instance:
                if name not in allowed:
                    errors.setdefault(name, []).append(_message(error))
            continue
        key = ".".join(str(part) for part in error.absolute_path)
        errors.setdefault(key, []).append(_message(error))
    return errors


def _language() -> str:
    return (get_language() or "en").lower()


def _localized(texts: Any, fallback: str) -> str:
    """`texts` ({"en": …, "zh-hans": …}) in the active language, else English, else `fallback`."""
    if not isinstance(texts, dict):
        return fallback
    return str(texts.get(_language()) or texts.get("en") or fallback)


def value_label(prop: dict, value: Any) -> str:
    """An allowed value of a property as people read it, in the active language.

    A property may carry `x-enum-labels` ({"steel_dc01": {"en": "Steel DC01", "zh-hans": "冷轧钢 DC01"}});
    a value without a label reads as itself (a code only the API and export code columns show).
    """
    labels = prop.get("x-enum-labels") or {}
    return _localized(labels.get(str(value)), str(value))


def _conditions(schema: dict) -> dict[str, list[tuple[str, Any]]]:
    """Attributes required only when another has a value: {"ral_colour": [("finish", "powder_coat")]}.

    Read from `if`/`then` (top level or in `allOf`) where `if` names constant values.
    """
    found: dict[str, list[tuple[str, Any]]] = {}
    for part in [schema, *(schema.get("allOf") or [])]:
        condition, then = part.get("if"), part.get("then")
        if not isinstance(condition, dict) or not isinstance(then, dict):
            continue
        consts = [
            (name, prop["const"])
            for name, prop in (condition.get("properties") or {}).items()
            if isinstance(prop, dict) and "const" in prop
        ]
        for name in then.get("required") or []:
            found.setdefault(name, []).extend(consts)
    return found


def spec_fields(schema: dict) -> list[dict]:
    """The attributes of a schema in display order, with labels in the active language.

    A property may carry `x-title` ({"zh-hans": "材质"}) beside its English `title`, `x-description`
    beside its `description`, `x-enum-labels` for its allowed values (see value_label) and `examples`
    (the import template's example row takes the first).
    """
    required = set(schema.get("required") or [])
    conditions = _conditions(schema)
    properties = schema.get("properties") or {}
    fields = []
    for name, prop in properties.items():
        titles = prop.get("x-title") or {}
        enum = prop.get("enum")
        description = _localized(prop.get("x-description"), prop.get("description", ""))
        required_when = [
            _("Required when %(attribute)s is %(value)s.")
            % {
                "attribute": _localized((properties.get(other) or {}).get("x-title"), "")
                or (properties.get(other) or {}).get("title")
                or other,
                "value": value_label(properties.get(other) or {}, value),
            }
            for other, value in conditions.get(name, [])
        ]
        fields.append(
            {
                "name": name,
                "label": titles.get(_language()) or prop.get("title") or name,
                "type": prop.get("type", "string"),
                "enum": enum,
                "choices": [(value, value_label(prop, value)) for value in enum] if enum else None,
                "minimum": prop.get("minimum"),
                "maximum": prop.get("maximum"),
                "unit": prop.get("x-unit", ""),
                "description": description or " ".join(required_when),
                "required": name in required,
                # Required only when another attribute has a value (marked, and said in the hint).
                "required_when": required_when,
                "default": prop.get("default"),
                "examples": prop.get("examples") or [],
            }
        )
    return fields


def spec_value_label(schema: dict, name: str, value: Any) -> Any:
    """One spec value for reading: its label if the schema gives one, else the value itself."""
    prop = (schema.get("properties") or {}).get(name)
    if not prop or isinstance(value, bool) or not prop.get("x-enum-labels"):
        return value
    return value_label(prop, value)


def spec_display(schema: dict, values: dict) -> list[tuple[str, Any]]:
    """(label, value) pairs for reading an order line's spec attributes, values by their labels."""
    labels = {field["name"]: field for field in spec_fields(schema)}
    shown = []
    for name, value in (values or {}).items():
        field = labels.get(name)
        label = field["label"] if field else name
        unit = field["unit"] if field else ""
        readable = spec_value_label(schema, name, value)
        shown.append((label, f"{readable} {unit}".strip() if unit else readable))
    return shown


def spec_text(schema: dict, values: dict) -> str:
    """A line's spec attributes on one line of text: "Material: Steel DC01, Finish: Powder coat"."""

    def readable(value: Any) -> Any:
        return (_("Yes") if value else _("No")) if isinstance(value, bool) else value

    return ", ".join(f"{label}: {readable(value)}" for label, value in spec_display(schema, values))
