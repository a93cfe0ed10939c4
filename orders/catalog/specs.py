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


def spec_fields(schema: dict) -> list[dict]:
    """The attributes of a schema in display order, with a label in the active language.

    A property may carry `x-title` ({"zh-hans": "材质"}) beside its English `title`.
    """
    language = (get_language() or "en").lower()
    required = set(schema.get("required") or [])
    fields = []
    for name, prop in (schema.get("properties") or {}).items():
        titles = prop.get("x-title") or {}
        fields.append(
            {
                "name": name,
                "label": titles.get(language) or prop.get("title") or name,
                "type": prop.get("type", "string"),
                "enum": prop.get("enum"),
                "minimum": prop.get("minimum"),
                "maximum": prop.get("maximum"),
                "unit": prop.get("x-unit", ""),
                "description": prop.get("description", ""),
                "required": name in required,
                "default": prop.get("default"),
            }
        )
    return fields


def spec_display(schema: dict, values: dict) -> list[tuple[str, Any]]:
    """(label, value) pairs for reading an order line's spec attributes."""
    labels = {field["name"]: field for field in spec_fields(schema)}
    shown = []
    for name, value in (values or {}).items():
        field = labels.get(name)
        label = field["label"] if field else name
        unit = field["unit"] if field else ""
        shown.append((label, f"{value} {unit}".strip() if unit else value))
    return shown
