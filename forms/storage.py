"""How form data is stored: exact decimals as JSON strings, read back as Decimals by the schema.

JSON columns cannot hold a Decimal without passing it through float, so money and every other
number with a fraction is written as its exact decimal string and turned back into a Decimal on
read, guided by the version's schema. SQL reads the same strings with `(data->>'预算')::numeric`.
Pure functions: no Django.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any


def dump(data: Any) -> Any:
    """Typed data (Decimals, dates) → plain JSON (strings for both)."""
    if isinstance(data, dict):
        return {key: dump(value) for key, value in data.items()}
    if isinstance(data, (list, tuple)):
        return [dump(value) for value in data]
    if isinstance(data, Decimal):
        return format(data, "f")
    if isinstance(data, date):
        return data.isoformat()
    if isinstance(data, float):
        raise TypeError("浮点数不能作为金额或数值保存，请使用 Decimal / numbers must be Decimal, not float")
    return data


def _is_number(schema: dict) -> bool:
    kind = schema.get("type")
    kinds = kind if isinstance(kind, list) else [kind]
    return "number" in kinds or schema.get("x-field") in {"money", "percent"}


def load(schema: dict, stored: Any) -> Any:
    """Stored JSON → typed data: strings under number-typed schema nodes become Decimals."""
    if not isinstance(schema, dict):
        return stored
    if isinstance(stored, dict):
        props = schema.get("properties", {})
        return {key: load(props.get(key, {}), value) for key, value in stored.items()}
    if isinstance(stored, list):
        items = schema.get("items", {})
        return [load(items, value) for value in stored]
    if isinstance(stored, str) and _is_number(schema):
        try:
            return Decimal(stored)
        except InvalidOperation:
            return stored
    if isinstance(stored, int) and not isinstance(stored, bool) and _is_number(schema):
        return Decimal(stored)
    return stored


def drop_empty(data: Any) -> Any:
    """ "Not filled" has one spelling: empty strings, blanks and nulls are removed, as the HTML form does."""
    if isinstance(data, dict):
        return {k: drop_empty(v) for k, v in data.items() if not _empty(v)}
    if isinstance(data, list):
        return [drop_empty(v) for v in data]
    return data


def _empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())
