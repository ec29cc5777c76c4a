"""Runtime values: checking what a record holds, and showing values to people and to JSON.

The DSL's values are ``Decimal`` (never float), ``str``, ``bool``, ``None``, ``date``, ``timedelta`` (whole days)
and lists of these. Records are checked where a field is read, against the field's catalogue type:

* ``int`` becomes ``Decimal`` exactly; ``float`` is refused (``E601``) because ``0.1`` as a float is not 0.1 and
  a rule on money must not silently change its answer — read JSON with ``parse_float=Decimal``;
* a ``datetime`` in a date field is reduced to its date; other mismatches are ``E602``.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from dsl.errors import DslEvalError
from dsl.printer import format_decimal
from dsl.types import DslType, ListType

__all__ = ["coercer", "format_value", "iso_duration", "to_json"]


def _number(name: str) -> Any:
    def coerce(value: Any) -> Decimal:
        if value.__class__ is Decimal:
            return value  # type: ignore[no-any-return]
        if isinstance(value, int) and not isinstance(value, bool):
            return Decimal(value)
        if isinstance(value, Decimal):
            return Decimal(value)
        if isinstance(value, float):
            raise DslEvalError("E601", {"name": name, "value": repr(value)})
        raise DslEvalError(
            "E602", {"name": name, "expected": "数值", "expected_en": "number", "value": repr(value)}
        )

    return coerce


def _date(name: str) -> Any:
    def coerce(value: Any) -> date:
        if isinstance(value, datetime):
            return value.date()
        if isinstance(value, date):
            return value
        raise DslEvalError(
            "E602", {"name": name, "expected": "日期", "expected_en": "date", "value": repr(value)}
        )

    return coerce


def _duration(name: str) -> Any:
    def coerce(value: Any) -> timedelta:
        if isinstance(value, timedelta):
            return value
        raise DslEvalError(
            "E602", {"name": name, "expected": "时长", "expected_en": "duration", "value": repr(value)}
        )

    return coerce


def _bool(name: str) -> Any:
    def coerce(value: Any) -> bool:
        if isinstance(value, bool):
            return value
        raise DslEvalError(
            "E602", {"name": name, "expected": "是/否", "expected_en": "boolean", "value": repr(value)}
        )

    return coerce


def _list(name: str, item: Any) -> Any:
    def coerce(value: Any) -> list[Any]:
        if not isinstance(value, list | tuple):
            raise DslEvalError(
                "E602", {"name": name, "expected": "列表", "expected_en": "list", "value": repr(value)}
            )
        if item is None:
            return list(value)
        return [None if v is None else item(v) for v in value]

    return coerce


_SCALARS = {"number": (_number, Decimal), "date": (_date, date), "duration": (_duration, timedelta)}


def coercer(kind: DslType, name: str) -> tuple[Any, type | None]:
    """``(coerce, exact_class)`` for reading a value of type ``kind``; coerce is only called when the value is not
    None and not already exactly ``exact_class`` (the fast path stays a single class test). ``(None, None)`` means
    values pass through unchecked (text, objects, any)."""
    if kind.kind in _SCALARS:
        make, cls = _SCALARS[kind.kind]
        return make(name), cls
    if kind.kind == "bool":
        return _bool(name), bool
    if isinstance(kind, ListType):
        inner, _ = (
            coercer(kind.item, name)
            if kind.item.kind in ("number", "date", "duration", "bool")
            else (None, None)
        )
        return _list(name, inner), None
    return None, None


def iso_duration(value: timedelta) -> str:
    """ISO 8601 duration in days (``P30D``; ``-P5D`` for negative), as the CLI and JSON traces print it."""
    return f"-P{-value.days}D" if value.days < 0 else f"P{value.days}D"


def to_json(value: Any) -> Any:
    """A JSON-able form: Decimal → string, date → ISO, duration → ISO 8601, lists recursively."""
    if isinstance(value, Decimal):
        return format_decimal(value)
    if isinstance(value, bool) or value is None or isinstance(value, str | int):
        return value
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, timedelta):
        return iso_duration(value)
    if isinstance(value, list | tuple):
        return [to_json(v) for v in value]
    if isinstance(value, dict):
        return {str(k): to_json(v) for k, v in value.items()}
    return str(value)


def format_value(value: Any, lang: str = "zh") -> str:
    """How a value is shown in an explanation: 是/否/空, plain decimals (long fractions shortened with ≈), 30天."""
    zh = lang == "zh"
    if value is True:
        return "是" if zh else "true"
    if value is False:
        return "否" if zh else "false"
    if value is None:
        return "空" if zh else "null"
    if isinstance(value, Decimal):
        exponent = value.as_tuple().exponent
        if isinstance(exponent, int) and exponent < -6:
            return "≈" + format_decimal(value.quantize(Decimal("0.0001")).normalize())
        return format_decimal(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, timedelta):
        return f"{value.days}天" if zh else f"{value.days} days"
    if isinstance(value, str):
        return f"“{value}”" if zh else f'"{value}"'
    if isinstance(value, list | tuple):
        return "[" + ", ".join(format_value(v, lang) for v in value) + "]"
    return str(value)
