"""One spelling for every piece of configuration: canonical key order, and the exact-number rules at the database.

Export must be byte-identical however the database returned the JSON (PostgreSQL's ``jsonb`` reorders keys), so
every mapping is written in a fixed order: known keys in the order a reader expects, fields in the form's UI order,
everything else sorted.

Numbers: the bundle holds ``Decimal``. A JSON column cannot hold a Decimal, so on the way in a form's numbers are
stored as JSON numbers — only when the shortest float text equals the decimal exactly, which keeps the digits the
administrator wrote — and a type's thresholds as exact decimal strings (the convention ``projects.config`` accepts).
On the way out both become ``Decimal`` again.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from projects.config import CONFIG_KEYS, FORM_ROLES, LEDGER_TARGETS

__all__ = [
    "canonical_bundle",
    "canonical_config",
    "canonical_form",
    "config_from_stored",
    "config_to_stored",
    "form_from_stored",
    "form_to_stored",
    "inexact_numbers",
]

TOP_KEYS = ("taizhang_bundle", "org", "description", "forms", "project_types")
FORM_KEYS = ("code", "name", "purpose", "project_type_code", "schema", "ui_schema")
TYPE_KEYS = ("code", "base", "config")
SCHEMA_KEYS = (
    "$schema",
    "$id",
    "type",
    "x-field",
    "title",
    "description",
    "format",
    "x-scale",
    "enum",
    "x-enum-labels",
    "const",
    "minimum",
    "exclusiveMinimum",
    "maximum",
    "exclusiveMaximum",
    "multipleOf",
    "minLength",
    "maxLength",
    "pattern",
    "x-pattern-message",
    "minItems",
    "maxItems",
    "uniqueItems",
    "x-max-size",
    "x-accept",
    "readOnly",
    "default",
    "x-disclosure",
    "x-sensitivity",
    "items",
    "properties",
    "required",
    "additionalProperties",
    "$defs",
)
_SCHEMA_CHILDREN = ("items", "additionalProperties", "not", "if", "then", "else", "contains")
_SCHEMA_LISTS = ("allOf", "anyOf", "oneOf", "prefixItems")
UI_KEYS = ("order", "sections", "fields", "validations")
UI_FIELD_KEYS = (
    "widget",
    "display",
    "help",
    "placeholder",
    "visible_if",
    "required_if",
    "computed",
    "page_size",
    "rows",
    "item",
)
FLOW_KEYS = ("code", "name", "transition", "no_approver", "skip_repeated", "resume_at_returner", "steps")
STEP_KEYS = ("code", "name", "when", "approvers", "mode", "ratio", "sla", "on_timeout", "next")


def _ordered(mapping: Mapping[str, Any], first: Iterable[str]) -> list[str]:
    """``first`` (those present) in its order, then the remaining keys sorted by code point."""
    head = [k for k in dict.fromkeys(first) if k in mapping]
    taken = set(head)
    return head + sorted(k for k in mapping if k not in taken)


def _sorted_deep(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _sorted_deep(value[k]) for k in sorted(value)}
    if isinstance(value, list):
        return [_sorted_deep(v) for v in value]
    return value


def _ui_order(ui: Mapping[str, Any]) -> list[str]:
    """Field names in the order the form shows them: ``order``, then each section's fields."""
    names: list[str] = []
    if isinstance(ui.get("order"), list):
        names += [n for n in ui["order"] if isinstance(n, str)]
    for section in ui.get("sections") or []:
        if isinstance(section, Mapping) and isinstance(section.get("fields"), list):
            names += [n for n in section["fields"] if isinstance(n, str)]
    return list(dict.fromkeys(names))


def _schema(node: Any, ui: Mapping[str, Any] | None = None) -> Any:
    """A JSON Schema node in canonical order; ``ui`` (the node's UI schema) orders its ``properties``."""
    if not isinstance(node, Mapping):
        return node
    ui = ui if isinstance(ui, Mapping) else {}
    out: dict[str, Any] = {}
    for key in _ordered(node, SCHEMA_KEYS):
        value = node[key]
        if key in ("properties", "$defs") and isinstance(value, Mapping):
            fields = ui.get("fields") if isinstance(ui.get("fields"), Mapping) else {}
            required = [n for n in node.get("required") or [] if isinstance(n, str)]
            first = [*_ui_order(ui), *required] if key == "properties" else []
            out[key] = {
                name: _schema(
                    value[name], (fields.get(name) or {}).get("item") if key == "properties" else None
                )
                for name in _ordered(value, first)
            }
        elif key == "items" and isinstance(value, Mapping):
            out[key] = _schema(value, ui)  # a group's rows are ordered by its UI ``item``
        elif key in _SCHEMA_CHILDREN:
            out[key] = _schema(value)
        elif key in _SCHEMA_LISTS and isinstance(value, list):
            out[key] = [_schema(v) for v in value]
        elif key in ("enum", "const", "default", "required", "examples"):
            out[key] = value
        else:
            out[key] = _sorted_deep(value)
    return out


def _ui(ui: Any, names: list[str]) -> Any:
    """A UI schema in canonical order; ``names`` orders its per-field options."""
    if not isinstance(ui, Mapping):
        return ui
    out: dict[str, Any] = {}
    for key in _ordered(ui, UI_KEYS):
        value = ui[key]
        if key == "fields" and isinstance(value, Mapping):
            out[key] = {name: _ui_field(value[name]) for name in _ordered(value, names)}
        elif key == "sections" and isinstance(value, list):
            out[key] = [
                {k: s[k] for k in _ordered(s, ("title", "fields"))} if isinstance(s, Mapping) else s
                for s in value
            ]
        elif key == "validations" and isinstance(value, list):
            out[key] = [
                {k: _sorted_deep(v[k]) for k in _ordered(v, ("rule", "message", "fields"))}
                if isinstance(v, Mapping)
                else v
                for v in value
            ]
        else:
            out[key] = _sorted_deep(value) if key != "order" else value
    return out


def _ui_field(options: Any) -> Any:
    if not isinstance(options, Mapping):
        return options
    out: dict[str, Any] = {}
    for key in _ordered(options, UI_FIELD_KEYS):
        value = options[key]
        if key == "item" and isinstance(value, Mapping):
            row_names = value.get("order") if isinstance(value.get("order"), list) else []
            out[key] = _ui(value, [n for n in row_names if isinstance(n, str)])
        else:
            out[key] = _sorted_deep(value)
    return out


def canonical_form(entry: Mapping[str, Any]) -> dict[str, Any]:
    """A form entry (code, name, purpose, schema, ui_schema) in canonical order."""
    ui = entry.get("ui_schema") if isinstance(entry.get("ui_schema"), Mapping) else {}
    schema = entry.get("schema")
    names = _ui_order(ui)
    if isinstance(schema, Mapping) and isinstance(schema.get("properties"), Mapping):
        required = [n for n in schema.get("required") or [] if isinstance(n, str)]
        names = _ordered(schema["properties"], [*names, *required])
    out: dict[str, Any] = {}
    for key in _ordered(entry, FORM_KEYS):
        if key == "schema":
            out[key] = _schema(entry[key], ui)
        elif key == "ui_schema":
            out[key] = _ui(entry[key], names)
        else:
            out[key] = _sorted_deep(entry[key])
    return out


def canonical_config(config: Mapping[str, Any]) -> dict[str, Any]:
    """A project type's configuration (or an override's delta) in canonical order."""
    out: dict[str, Any] = {}
    for key in _ordered(config, CONFIG_KEYS):
        value = config[key]
        if key == "stages" and isinstance(value, list):
            out[key] = [
                {k: _sorted_deep(s[k]) for k in _ordered(s, ("code", "name", "required_forms"))}
                if isinstance(s, Mapping)
                else s
                for s in value
            ]
        elif key == "forms" and isinstance(value, Mapping):
            out[key] = {k: value[k] for k in _ordered(value, FORM_ROLES)}
        elif key == "field_map" and isinstance(value, Mapping):
            out[key] = {k: value[k] for k in _ordered(value, LEDGER_TARGETS)}
        elif key == "indicators" and isinstance(value, list):
            out[key] = [
                {k: _sorted_deep(i[k]) for k in _ordered(i, ("name", "expr", "format"))}
                if isinstance(i, Mapping)
                else i
                for i in value
            ]
        elif key == "extend_forms" and isinstance(value, Mapping):
            out[key] = {role: _extension(value[role]) for role in _ordered(value, FORM_ROLES)}
        elif key == "flows" and isinstance(value, list):
            out[key] = [_flow(f) for f in value]
        elif key in ("public_fields",):
            out[key] = value
        else:
            out[key] = _sorted_deep(value)
    return out


def _flow(flow: Any) -> Any:
    """An approval flow with its keys, its steps' keys and its approvers' keys in reading order."""
    if not isinstance(flow, Mapping):
        return flow
    return {
        k: [_step(s) for s in flow[k]]
        if k == "steps" and isinstance(flow[k], list)
        else _sorted_deep(flow[k])
        for k in _ordered(flow, FLOW_KEYS)
    }


def _step(step: Any) -> Any:
    if not isinstance(step, Mapping):
        return step
    return {
        k: [_ordered_approver(a) for a in step[k]]
        if k == "approvers" and isinstance(step[k], list)
        else _sorted_deep(step[k])
        for k in _ordered(step, STEP_KEYS)
    }


def _ordered_approver(approver: Any) -> Any:
    if not isinstance(approver, Mapping):
        return approver
    return {k: approver[k] for k in _ordered(approver, ("role", "org", "user"))}


def _extension(ext: Any) -> Any:
    if not isinstance(ext, Mapping):
        return ext
    out: dict[str, Any] = {}
    for key in _ordered(ext, ("properties", "required", "ui")):
        value = ext[key]
        if key == "properties" and isinstance(value, Mapping):
            out[key] = {name: _schema(value[name]) for name in value}
        elif key == "required":
            out[key] = value
        else:
            out[key] = _sorted_deep(value)
    return out


def canonical_bundle(data: Mapping[str, Any]) -> dict[str, Any]:
    """A whole bundle in canonical order (entries keep their list order)."""
    out: dict[str, Any] = {}
    for key in _ordered(data, TOP_KEYS):
        value = data[key]
        if key == "forms" and isinstance(value, list):
            out[key] = [canonical_form(f) if isinstance(f, Mapping) else f for f in value]
        elif key == "project_types" and isinstance(value, list):
            out[key] = [
                {
                    k: canonical_config(t[k]) if k == "config" and isinstance(t[k], Mapping) else t[k]
                    for k in _ordered(t, TYPE_KEYS)
                }
                if isinstance(t, Mapping)
                else t
                for t in value
            ]
        else:
            out[key] = _sorted_deep(value)
    return out


# -- numbers at the database boundary ------------------------------------------------------------------------------


def _exact_float(value: Decimal) -> float | None:
    """The float whose shortest text is this decimal's value, or None when no float is exact."""
    as_float = float(value)
    return as_float if Decimal(repr(as_float)) == value else None


def inexact_numbers(value: Any, path: str = "") -> list[str]:
    """Paths of decimals a JSON number column cannot hold exactly (more than ~15 significant digits)."""
    from .yamlio import join_path

    found: list[str] = []
    if isinstance(value, Decimal) and _exact_float(value) is None:
        found.append(path)
    elif isinstance(value, Mapping):
        for k, v in value.items():
            found += inexact_numbers(v, join_path(path, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            found += inexact_numbers(v, join_path(path, i))
    return found


def _numbers_to_json(value: Any) -> Any:
    if isinstance(value, Decimal):
        exact = _exact_float(value)
        if exact is None:
            raise ValueError(f"{value} 不能精确保存为 JSON 数字")
        return exact
    if isinstance(value, Mapping):
        return {k: _numbers_to_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_numbers_to_json(v) for v in value]
    return value


def _numbers_from_json(value: Any) -> Any:
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, Mapping):
        return {k: _numbers_from_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_numbers_from_json(v) for v in value]
    return value


def form_to_stored(schema_or_ui: Any) -> Any:
    """A schema or UI schema as the JSON column stores it (exact floats for decimals)."""
    return _numbers_to_json(schema_or_ui)


def form_from_stored(stored: Any) -> Any:
    return _numbers_from_json(stored)


def config_to_stored(config: Mapping[str, Any]) -> dict[str, Any]:
    """A type configuration as stored: thresholds as exact decimal strings, other decimals as exact floats."""
    out = {k: v for k, v in config.items() if k != "thresholds"}
    out = _numbers_to_json(out)
    thresholds = config.get("thresholds")
    if isinstance(thresholds, Mapping):
        out["thresholds"] = {
            k: format(v, "f") if isinstance(v, Decimal) else _numbers_to_json(v)
            for k, v in thresholds.items()
        }
    elif "thresholds" in config:
        out["thresholds"] = _numbers_to_json(thresholds)
    return {k: out[k] for k in config}


def config_from_stored(stored: Mapping[str, Any]) -> dict[str, Any]:
    """A stored configuration as bundle data: numeric threshold strings become Decimals again."""
    out = _numbers_from_json(dict(stored))
    thresholds = out.get("thresholds")
    if isinstance(thresholds, dict):
        for name, value in thresholds.items():
            if isinstance(value, str):
                try:
                    number = Decimal(value.strip())
                except InvalidOperation:
                    continue
                if number.is_finite():
                    thresholds[name] = number
    return out
