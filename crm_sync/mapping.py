"""Field mapping between another system's payload shape and ours, configured as JSON by an admin.

A mapping is a dict whose keys are target paths (dotted, e.g. "order.ref") and whose values say where
the value comes from in the source:

- "our.path"                               copy the value at that dotted path (missing → left out)
- {"from": "path", "map": {...}, "default": v}   copy through a value map (their status codes ↔ ours);
                                            an unmapped value takes `default`, or stays as it is
- {"const": v}                              a fixed value
- {"each": "path.to.list", "fields": {...}} a list, each item mapped by the nested mapping

The same function maps outbound (source = our CloudEvent, target = their shape) and inbound
(source = their message, target = our fields), so one vocabulary serves both directions.
"""

from __future__ import annotations

from typing import Any

_MISSING = object()


class MappingError(ValueError):
    pass


def get_path(source: Any, path: str) -> Any:
    current = source
    for part in path.split(".") if path else []:
        if isinstance(current, dict) and part in current:
            current = current[part]
        elif isinstance(current, list) and part.isdigit() and int(part) < len(current):
            current = current[int(part)]
        else:
            return _MISSING
    return current


def _set_path(target: dict[str, Any], path: str, value: Any) -> None:
    parts = path.split(".")
    for part in parts[:-1]:
        target = target.setdefault(part, {})
        if not isinstance(target, dict):
            raise MappingError(f"{path}: {part} is both a value and an object")
    target[parts[-1]] = value


def _value(rule: Any, source: Any, where: str) -> Any:
    if isinstance(rule, str):
        return get_path(source, rule)
    if not isinstance(rule, dict):
        raise MappingError(f"{where}: a rule is a path or an object")
    if "const" in rule:
        return rule["const"]
    if "each" in rule:
        items = get_path(source, rule["each"])
        if items is _MISSING:
            return _MISSING
        if not isinstance(items, list):
            raise MappingError(f"{where}: {rule['each']} is not a list")
        return [apply_mapping(rule.get("fields") or {}, item) for item in items]
    if "from" in rule:
        value = get_path(source, rule["from"])
        if value is _MISSING:
            return rule.get("default", _MISSING)
        table = rule.get("map")
        if table is not None:
            key = value if isinstance(value, str) else str(value)
            return table.get(key, rule.get("default", value))
        return value
    raise MappingError(f"{where}: a rule needs 'from', 'each' or 'const'")


def apply_mapping(mapping: dict[str, Any], source: Any) -> dict[str, Any]:
    """Build the target document from `source` by the mapping; keys whose source is missing are left out."""
    if not isinstance(mapping, dict):
        raise MappingError("a mapping is an object of target path → rule")
    target: dict[str, Any] = {}
    for path, rule in mapping.items():
        value = _value(rule, source, path)
        if value is not _MISSING:
            _set_path(target, path, value)
    return target


def mapping_errors(mapping: Any) -> list[str]:
    """Problems in a mapping's shape, found without a source document (for admin validation)."""
    problems: list[str] = []

    def walk(node: Any, where: str) -> None:
        if not isinstance(node, dict):
            problems.append(f"{where or 'mapping'}: must be an object")
            return
        for path, rule in node.items():
            here = f"{where}.{path}" if where else path
            if isinstance(rule, str):
                continue
            if not isinstance(rule, dict) or not ({"from", "each", "const"} & rule.keys()):
                problems.append(f"{here}: a rule is a path or an object with 'from', 'each' or 'const'")
            elif "each" in rule:
                walk(rule.get("fields") or {}, here)
            elif "map" in rule and not isinstance(rule["map"], dict):
                problems.append(f"{here}: 'map' must be an object")

    if not isinstance(mapping, dict):
        return ["the field mapping must be an object"]
    for direction in ("outbound", "inbound"):
        if direction in mapping:
            walk(mapping[direction], direction)
    unknown = set(mapping) - {"outbound", "inbound"}
    problems.extend(f"{key}: unknown section (use outbound, inbound)" for key in sorted(unknown))
    return problems
